"""The file store: 0600, atomic, restored after a restart, and clear errors when unusable."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from jupyterlab_oidc.core.broker import Broker
from jupyterlab_oidc.core.sessions import Session
from jupyterlab_oidc.core.store import FileStore
from jupyterlab_oidc.errors import StoreError

from .idp import ALICE


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "oidc" / "sessions.json"


@pytest.mark.oidc(store="file")
async def test_file_store_is_readable_by_the_owner_only(sign_in: Any, store_path: Path) -> None:
    await sign_in(ALICE)
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store_path.parent.stat().st_mode) == 0o700


@pytest.mark.oidc(store="file")
async def test_file_store_survives_a_server_restart(sign_in: Any, broker: Broker, idp: Any) -> None:
    await sign_in(ALICE)
    await broker.stop()
    # A new broker over the same configuration is what a restarted server builds.
    restarted = Broker(broker.settings, base_url=broker.base_url)
    restarted.start()
    try:
        assert [s.email for s in restarted.sessions.values()] == [ALICE]
        refreshed = await restarted.refresh("prod")
        assert idp.userinfo(refreshed.access_token).status_code == 200
    finally:
        await restarted.stop()


async def test_memory_store_writes_no_file(sign_in: Any, store_path: Path) -> None:
    await sign_in(ALICE)
    assert not store_path.exists()


@pytest.fixture
def corrupt_store(store_path: Path) -> Path:
    store_path.parent.mkdir(mode=0o700, parents=True)
    store_path.write_text("{ this is not json")
    store_path.chmod(0o600)
    return store_path


@pytest.mark.oidc(store="file")
async def test_corrupt_store_file_is_a_clear_error_and_the_server_keeps_working(
    corrupt_store: Path, api: Any, sign_in: Any
) -> None:
    status = await api("GET", "status")
    assert status.status == 200
    assert status.body["store_error"]["error"] == "store_error"
    assert "corrupt" in status.body["store_error"]["message"]
    aside = [p for p in corrupt_store.parent.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1 and aside[0].read_text() == "{ this is not json"
    assert (await sign_in(ALICE)).status == 200


def _session() -> Session:
    return Session(
        environment="prod",
        application=None,
        issuer="http://idp",
        client_id="c",
        sub="s",
        email=ALICE,
        access_token="at",
        refresh_token="rt",
        expires_at=1.0,
    )


def test_store_refuses_a_file_other_users_can_read(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    FileStore(str(path)).save({"prod": _session()})
    path.chmod(0o644)
    with pytest.raises(StoreError, match="chmod 600"):
        FileStore(str(path)).load()


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to create a file owned by someone else")
def test_store_refuses_a_file_owned_by_another_user(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    FileStore(str(path)).save({"prod": _session()})
    os.chown(path, 65534, 65534)
    store = FileStore(str(path))
    with pytest.raises(StoreError, match="another user"):
        store.load()
    store.save({})
    assert json.loads(path.read_text())["sessions"]["prod"]["refresh_token"] == "rt"


def test_store_round_trips_every_field(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    session = _session()
    FileStore(str(path)).save({"prod": session})
    assert FileStore(str(path)).load()["prod"] == session


def test_store_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    for _ in range(3):
        FileStore(str(path)).save({"prod": _session()})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sessions.json"]


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702, 0o1777], ids=["world", "group", "others", "sticky-world"])
def test_store_refuses_a_directory_others_can_write_and_leaves_its_files(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "oidc" / "sessions.json"
    FileStore(str(path)).save({"prod": _session()})
    stale = path.parent / ".sessions-left.tmp"
    stale.write_text("{}")
    os.utime(stale, (1, 1))  # old enough to be removed by a store that trusts its directory
    path.parent.chmod(mode)
    before = {p.name: p.read_bytes() for p in path.parent.iterdir()}
    store = FileStore(str(path))
    with pytest.raises(StoreError, match=rf"{path.parent}.*chmod 700 {path.parent}") as e:
        store.load()
    assert e.value.details["directory"] == str(path.parent)
    store.save({})
    with pytest.raises(StoreError, match="chmod 700"):
        FileStore(str(path)).save({})
    assert {p.name: p.read_bytes() for p in path.parent.iterdir()} == before


def test_store_accepts_a_directory_others_can_only_read(tmp_path: Path) -> None:
    path, session = tmp_path / "oidc" / "sessions.json", _session()
    FileStore(str(path)).save({"prod": session})
    path.parent.chmod(0o755)
    assert FileStore(str(path)).load()["prod"] == session


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to create a directory owned by someone else")
def test_store_refuses_a_directory_owned_by_another_user(tmp_path: Path) -> None:
    path = tmp_path / "oidc" / "sessions.json"
    FileStore(str(path)).save({"prod": _session()})
    os.chown(path.parent, 65534, 65534)
    with pytest.raises(StoreError, match="another user"):
        FileStore(str(path)).load()
