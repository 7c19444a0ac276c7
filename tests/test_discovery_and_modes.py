"""Discovery modes (auto, hybrid, manual) and redirect modes (server, local)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import pytest

from .idp import CLIENT_ID, provider_login

ALICE = "alice@example.com"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_auto_discovery_finds_every_endpoint(broker: Any, idp: Any) -> None:
    env = broker.settings.environment("prod")
    assert env.discovery_mode == "auto"
    metadata = await broker.discovery.metadata(env)
    assert metadata.token_url == idp.url("/token")
    assert metadata.revocation_url and metadata.end_session_url and metadata.jwks_uri


async def test_jwks_route_serves_public_keys_only(api: Any) -> None:
    result = await api("GET", "jwks", params={"environment": "prod"})
    assert result.status == 200
    assert result.body["jwks"]["keys"] and all("d" not in key for key in result.body["jwks"]["keys"])
    assert result.body["discovery"]["jwks_uri"].endswith("/jwks")


@pytest.fixture
def hybrid_environments(idp: Any) -> dict[str, Any]:
    return {
        "prod": {
            "issuer": idp.issuer,
            "client_id": CLIENT_ID,
            "end_session_url": "https://logout.example.com/bye",
        }
    }


@pytest.fixture
def manual_environments(idp: Any) -> dict[str, Any]:
    return {
        "prod": {
            "client_id": CLIENT_ID,
            "authorization_url": idp.url("/auth"),
            "token_url": idp.url("/token"),
            "userinfo_url": idp.url("/me"),
            "jwks_uri": idp.url("/jwks"),
        }
    }


class TestHybrid:
    @pytest.fixture
    def oidc_environments(self, hybrid_environments: dict[str, Any]) -> dict[str, Any]:
        return hybrid_environments

    async def test_explicit_endpoints_override_discovered_ones(self, sign_in: Any, api: Any, broker: Any) -> None:
        assert broker.settings.environment("prod").discovery_mode == "hybrid"
        assert (await sign_in(ALICE)).status == 200
        result = await api("POST", "logout", {})
        assert result.body["end_session_url"].startswith("https://logout.example.com/bye?")


class TestManual:
    @pytest.fixture
    def oidc_environments(self, manual_environments: dict[str, Any]) -> dict[str, Any]:
        return manual_environments

    async def test_sign_in_works_without_discovery(self, sign_in: Any, broker: Any, idp: Any) -> None:
        assert broker.settings.environment("prod").discovery_mode == "manual"
        result = await sign_in(ALICE)
        assert result.status == 200, result.body
        assert result.body["session"]["email"] == ALICE


class TestBrokenDiscovery:
    @pytest.fixture
    def oidc_environments(self) -> dict[str, Any]:
        return {"prod": {"issuer": f"http://127.0.0.1:{free_port()}", "client_id": CLIENT_ID}}

    async def test_unreachable_issuer_is_discovery_failed(self, api: Any) -> None:
        result = await api("POST", "login", {"login_hint": ALICE})
        assert result.status == 502
        assert result.body["error"] == "discovery_failed"
        assert "issuer" in result.body["message"]


class TestLocalRedirect:
    @pytest.fixture
    def local_port(self) -> int:
        return free_port()

    @pytest.fixture
    def jp_server_config(self, jp_server_config: Any, local_port: int) -> Any:
        jp_server_config.OIDCLogin.redirect_mode = "local"
        jp_server_config.OIDCLogin.redirect_port = local_port
        return jp_server_config

    async def test_local_port_redirect_completes_a_sign_in(self, api: Any, browser: Any, local_port: int) -> None:
        started = await api("POST", "login", {"login_hint": ALICE})
        prefix = f"http://localhost:{local_port}/callback"
        callback = await provider_login(browser, started.body["url"], None, prefix)
        page = await browser.get(callback)
        assert page.status_code == 200 and "Signed in as alice@example.com" in page.text
        result = await api("POST", "await", {"state": started.body["state"]})
        assert result.body["session"]["email"] == ALICE

    async def test_local_listener_stops_when_no_sign_in_waits(self, api: Any, local_port: int) -> None:
        started = await api("POST", "login", {"login_hint": ALICE})
        await api("POST", "cancel", {"state": started.body["state"]})
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient() as client:
                for _ in range(20):  # the listener closes right after the cancel settles
                    await client.get(f"http://localhost:{local_port}/callback")
                    await asyncio.sleep(0.05)
