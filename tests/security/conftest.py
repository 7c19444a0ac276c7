"""Fixtures of the security suite: a misbehaving provider next to the real one, snapshots.

Environments in every test here:

``prod``  the misbehaving provider (tests/misbehaving_provider.py), the default environment
``dev``   the same misbehaving provider, second environment (no session unless a test makes one)
``real``  the real dev provider (oidc-provider, profile ``id_token``)
``real_b`` a second real provider process (profile ``userinfo``), for mix-up attacks
``real_noemail`` the real provider without the ``email`` scope

The store is a file (``store="file"``) unless a test's ``oidc`` marker says otherwise, so
"nothing stored" is checked on disk too.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from ..idp import CLIENT_ID, IdentityProvider, get_idp
from ..misbehaving_provider import MisbehavingProvider
from ..support import PROJECT_IDS

# Hypothesis keeps caches in ./.hypothesis by default; not in the repository.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "jupyterlab-oidc-hypothesis"))


@pytest.fixture(scope="session")
def _bad_provider() -> Iterator[MisbehavingProvider]:
    provider = MisbehavingProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def bad_idp(_bad_provider: MisbehavingProvider) -> Iterator[MisbehavingProvider]:
    """The misbehaving provider, honest at the start of every test."""
    _bad_provider.come_back()
    _bad_provider.reset()
    yield _bad_provider
    _bad_provider.come_back()
    _bad_provider.reset()


@pytest.fixture
def real_b() -> IdentityProvider:
    """A second real provider process (another issuer) for mix-up tests."""
    provider = get_idp("userinfo", 300)
    provider.reset_stats()
    return provider


@pytest.fixture
def oidc_marker(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("oidc")
    return {"store": "file", **(marker.kwargs if marker else {})}


@pytest.fixture
def oidc_environments(bad_idp: MisbehavingProvider, idp: IdentityProvider) -> dict[str, Any]:
    real_b = get_idp("userinfo", 300)
    return {
        "prod": {"issuer": bad_idp.issuer, "client_id": CLIENT_ID, "project_ids": PROJECT_IDS},
        "dev": {"issuer": bad_idp.issuer, "client_id": CLIENT_ID},
        "real": {"issuer": idp.issuer, "client_id": CLIENT_ID, "project_ids": PROJECT_IDS},
        "real_b": {"issuer": real_b.issuer, "client_id": CLIENT_ID},
        "real_noemail": {"issuer": idp.issuer, "client_id": CLIENT_ID, "scopes": "openid profile offline_access"},
    }


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "oidc" / "sessions.json"


@dataclass(frozen=True)
class Snapshot:
    """Everything that must not change: sessions (all fields, tokens included) and the store file."""

    sessions: dict[str, dict[str, Any]]
    store_bytes: bytes | None

    @classmethod
    def take(cls, broker: Any, store_path: Path) -> Snapshot:
        return cls(
            sessions={key: s.to_record() for key, s in broker.sessions.items()},
            store_bytes=store_path.read_bytes() if store_path.exists() else None,
        )


@pytest.fixture
def snapshot(broker: Any, store_path: Path) -> Any:
    """``snapshot()`` → :class:`Snapshot` of the broker's sessions and the store file now."""
    return lambda: Snapshot.take(broker, store_path)


@pytest.fixture
def jp_server_config(jp_server_config: Any) -> Any:
    """The suite's server, without the terminals extension pytest-jupyter adds (faster start)."""
    jp_server_config["ServerApp"]["jpserver_extensions"]["jupyter_server_terminals"] = False
    return jp_server_config
