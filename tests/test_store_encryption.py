"""The encrypted file store (``c.OIDCLogin.store_encryption_keys``, ``JUPYTERLAB_OIDC_CRYPT_KEY``):
MultiFernet, new writes with the first key, reads with any, a plaintext store encrypted on its
first write, a wrong or missing key a clear error that leaves the file as it was, an invalid
key a config error naming the setting. Real file store, real server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken
from traitlets import TraitError
from traitlets.config import Config

from jupyterlab_oidc.core.sessions import Session
from jupyterlab_oidc.core.store import FileStore
from jupyterlab_oidc.errors import ConfigError, StoreError
from jupyterlab_oidc.server.config import OIDCLogin

from .idp import ALICE

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def _session(refresh_token: str = "refresh-secret-1") -> Session:
    return Session(
        environment="prod",
        application=None,
        issuer="http://idp",
        client_id="c",
        sub="s",
        email=ALICE,
        access_token="access-secret-1",
        refresh_token=refresh_token,
        expires_at=1.0,
        signed_in_at=1.0,
        refreshed_at=1.0,
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "oidc" / "sessions.json"


def _token(path: Path) -> bytes:
    document = json.loads(path.read_text())
    assert set(document) == {"version", "fernet"}
    return document["fernet"].encode()


def test_new_writes_use_the_first_key(path: Path) -> None:
    FileStore(str(path), [NEW, OLD]).save({"prod": _session()})
    text = path.read_text()
    assert "refresh-secret-1" not in text and "access-secret-1" not in text and ALICE not in text
    assert json.loads(Fernet(NEW).decrypt(_token(path)))["sessions"]["prod"]["refresh_token"] == "refresh-secret-1"
    with pytest.raises(InvalidToken):
        Fernet(OLD).decrypt(_token(path))


def test_reads_accept_any_key_and_the_next_write_rotates(path: Path) -> None:
    FileStore(str(path), [OLD]).save({"prod": _session()})
    rotating = FileStore(str(path), f"{NEW};{OLD}")  # the JUPYTERLAB_OIDC_CRYPT_KEY form
    sessions = rotating.load()
    assert sessions["prod"].refresh_token == "refresh-secret-1"
    rotating.save(sessions)
    assert FileStore(str(path), [NEW]).load()["prod"] == _session()


def test_a_plaintext_store_is_encrypted_on_its_first_write(path: Path) -> None:
    FileStore(str(path)).save({"prod": _session()})
    assert json.loads(path.read_text())["sessions"]["prod"]["refresh_token"] == "refresh-secret-1"
    store = FileStore(str(path), [NEW])
    sessions = store.load()
    assert sessions["prod"] == _session()
    store.save(sessions)
    assert "refresh-secret-1" not in path.read_text()
    assert FileStore(str(path), [NEW]).load()["prod"] == _session()


@pytest.mark.parametrize("keys", [[OLD], []], ids=["wrong-key", "no-key"])
def test_a_store_no_configured_key_opens_is_a_clear_error_and_stays_as_it_was(path: Path, keys: list[str]) -> None:
    FileStore(str(path), [NEW]).save({"prod": _session()})
    before = path.read_bytes()
    store = FileStore(str(path), keys)
    with pytest.raises(StoreError, match="encrypted") as e:
        store.load()
    assert "store_encryption_keys" in e.value.message
    assert e.value.details["path"] == str(path)
    store.save({"prod": _session("refresh-secret-2")})  # a later sign-in must not overwrite it
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["sessions.json"]  # not moved aside
    assert FileStore(str(path), [NEW]).load()["prod"].refresh_token == "refresh-secret-1"


def test_hex_keys_are_accepted(path: Path) -> None:
    key = "ab" * 32  # openssl rand -hex 32
    FileStore(str(path), [key]).save({"prod": _session()})
    assert FileStore(str(path), [key]).load()["prod"] == _session()


@pytest.mark.parametrize("bad", ["not-a-key", "c2hvcnQ=", OLD[:-4]], ids=["text", "short", "truncated"])
def test_an_invalid_key_is_a_config_error_naming_the_setting(path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match=r"store_encryption_keys: key 2 of 2") as e:
        FileStore(str(path), [NEW, bad])
    assert bad not in e.value.message
    with pytest.raises(TraitError, match="store_encryption_keys") as t:
        OIDCLogin(config=Config({"OIDCLogin": {"store_encryption_keys": [bad]}}))
    assert bad not in str(t.value)


def test_keys_default_from_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERLAB_OIDC_CRYPT_KEY", f" {NEW} ;{OLD};")
    assert OIDCLogin().to_settings().store_encryption_keys == [NEW, OLD]
    monkeypatch.setenv("JUPYTERLAB_OIDC_CRYPT_KEY", "nope")
    with pytest.raises(TraitError, match="store_encryption_keys"):
        _ = OIDCLogin().store_encryption_keys
    configured = OIDCLogin(config=Config({"OIDCLogin": {"store_encryption_keys": [OLD]}}))
    assert configured.store_encryption_keys == [OLD]  # config wins over the variable


# ---------------------------------------------------------------- a real server


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "oidc" / "sessions.json"  # the plugin's c.OIDCLogin.store_path


@pytest.mark.oidc(store="file", store_encryption_keys=[NEW])
async def test_a_signed_in_server_writes_only_ciphertext(sign_in: Any, broker: Any, store_path: Path) -> None:
    assert (await sign_in(ALICE)).status == 200
    session = broker.sessions["prod"]
    text = store_path.read_text()
    for secret in (session.access_token, session.refresh_token, session.id_token, ALICE):
        assert secret not in text
    assert FileStore(str(store_path), [NEW]).load()["prod"].refresh_token == session.refresh_token


@pytest.fixture
def store_of_another_key(store_path: Path) -> bytes:
    FileStore(str(store_path), [OLD]).save({"prod": _session()})
    return store_path.read_bytes()


@pytest.mark.oidc(store="file", store_encryption_keys=[NEW])
async def test_a_server_without_the_key_reports_it_and_leaves_the_store(
    store_of_another_key: bytes, api: Any, sign_in: Any, store_path: Path
) -> None:
    status = (await api("GET", "status")).body
    assert status["store_error"]["error"] == "store_error"
    assert "store_encryption_keys" in status["store_error"]["message"]
    assert status["sessions"] == []
    assert (await sign_in(ALICE)).status == 200  # the server keeps working, in memory
    assert store_path.read_bytes() == store_of_another_key
