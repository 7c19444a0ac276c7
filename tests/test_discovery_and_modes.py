"""Discovery modes (auto, hybrid, manual) and redirect modes (server, local)."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey

from jupyterlab_oidc.core.discovery import JWKS_REFETCH_COOLDOWN_SECONDS, Discovery
from jupyterlab_oidc.core.settings import EnvironmentConfig
from jupyterlab_oidc.errors import DiscoveryFailedError

from .idp import ALICE, CLIENT_ID, provider_login


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

    async def test_local_port_redirect_completes_a_sign_in(
        self, api: Any, begin_sign_in: Any, browser: Any, local_port: int
    ) -> None:
        started, url = await begin_sign_in({"login_hint": ALICE})
        prefix = f"http://localhost:{local_port}/callback"
        callback = await provider_login(browser, url, None, prefix)
        # The listener sends the browser on to the server's own callback (where its binding cookie is).
        page = await browser.get(callback, follow_redirects=True)
        assert page.status_code == 200 and "Signed in as alice@example.com" in page.text
        result = await api("POST", "await", {"state": started.body["state"]})
        assert result.body["session"]["email"] == ALICE

    async def test_local_listener_stops_when_no_sign_in_waits(self, api: Any, local_port: int) -> None:
        url = f"http://localhost:{local_port}/callback"

        async def listening() -> bool:
            try:
                async with httpx.AsyncClient() as client:
                    await client.get(url)
                return True
            except httpx.ConnectError:
                return False

        async def until(want: bool, what: str) -> None:
            deadline = asyncio.get_running_loop().time() + 20
            while await listening() is not want:
                assert asyncio.get_running_loop().time() < deadline, what
                await asyncio.sleep(0.05)

        # Given a sign-in that waits: the listener is up
        started = await api("POST", "login", {"login_hint": ALICE})
        await until(True, "the local listener never came up for the sign-in")
        # When it is cancelled, the listener closes (nothing waits any more)
        await api("POST", "cancel", {"state": started.body["state"]})
        await until(False, "the local listener stayed up after the cancel")
        assert not await listening()


# ---------------------------------------------------------------- provider URLs, issuer, JWKS cooldown (units)

UNIT_ISSUER = "https://id.example.com"
UNIT_KEY = ECKey.generate_key("P-256", parameters={"kid": "k1"}).as_dict(private=False)


class StubHTTP:
    """Answers discovery and JWKS from dicts; counts requests by label."""

    def __init__(self, **document: Any) -> None:
        self.document = {
            "issuer": UNIT_ISSUER,
            "authorization_endpoint": f"{UNIT_ISSUER}/authorize",
            "token_endpoint": f"{UNIT_ISSUER}/token",
            "jwks_uri": f"{UNIT_ISSUER}/jwks",
            **document,
        }
        self.calls: Counter[str] = Counter()

    async def get_json(self, label: str, url: str, **kwargs: Any) -> dict[str, Any]:
        self.calls[label] += 1
        await asyncio.sleep(0)
        return self.document if label == "discovery" else {"keys": [UNIT_KEY]}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def unit_metadata(env: EnvironmentConfig | None = None, **document: Any) -> Any:
    env = env or EnvironmentConfig(name="prod", client_id="lab", issuer=UNIT_ISSUER)
    return asyncio.run(Discovery(StubHTTP(**document), 3600).metadata(env))  # type: ignore[arg-type]


BAD_URLS = [
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd",
    "http://evil.example/authorize",
    "http://127.0.0.1.evil.example/",
    "//evil.example/x",
    "/relative",
    "https://",
    " javascript:alert(1)",
    "https://id.example.com/a\nb",
    "ftp://id.example.com/",
]
URL_FIELDS = [
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "revocation_endpoint",
    "end_session_endpoint",
]


@pytest.mark.parametrize("field", URL_FIELDS)
@pytest.mark.parametrize("url", BAD_URLS)
def test_discovered_endpoint_that_is_not_https_is_refused_naming_the_field(field: str, url: str) -> None:
    with pytest.raises(DiscoveryFailedError) as e:
        unit_metadata(**{field: url})
    assert e.value.details["field"] == field and field in e.value.message


@pytest.mark.parametrize("field", ["authorization_url", "end_session_url", "jwks_uri", "revocation_url"])
@pytest.mark.parametrize("url", ["javascript:alert(1)", "http://evil.example/x", "data:,x"])
def test_configured_endpoint_that_is_not_https_is_refused_naming_the_field(field: str, url: str) -> None:
    env = EnvironmentConfig(name="prod", client_id="lab", issuer=UNIT_ISSUER, endpoints={field: url})
    with pytest.raises(DiscoveryFailedError) as e:
        unit_metadata(env)
    assert e.value.details["field"] == field and field in e.value.message


@pytest.mark.parametrize("value", [42, ["https://id.example.com/x"], {"url": "https://id.example.com/x"}])
def test_discovered_endpoint_that_is_not_a_string_is_refused(value: Any) -> None:
    with pytest.raises(DiscoveryFailedError, match="end_session_endpoint"):
        unit_metadata(end_session_endpoint=value)


@pytest.mark.parametrize(
    "url",
    [
        "https://logout.example.com/bye",
        "http://127.0.0.1:4444/x",
        "http://127.9.9.9/x",
        "http://[::1]:80/x",
        "http://localhost:8080/x",
        "HTTPS://ID.EXAMPLE.COM/x",
    ],
)
def test_https_and_loopback_http_endpoints_are_accepted(url: str) -> None:
    assert unit_metadata(end_session_endpoint=url).end_session_url == url


def test_plain_http_issuer_that_is_not_loopback_is_refused() -> None:
    env = EnvironmentConfig(name="prod", client_id="lab", issuer="http://id.example.com")
    with pytest.raises(DiscoveryFailedError) as e:
        unit_metadata(env, issuer="http://id.example.com")
    assert e.value.details["field"] == "issuer"


def test_issuer_is_the_discovery_documents_own_value_with_its_trailing_slash() -> None:
    assert unit_metadata(issuer=UNIT_ISSUER + "/").issuer == UNIT_ISSUER + "/"
    assert unit_metadata().issuer == UNIT_ISSUER
    for other in (UNIT_ISSUER + "//", UNIT_ISSUER + "/tenant", "https://ID.example.com", UNIT_ISSUER[:-1]):
        with pytest.raises(DiscoveryFailedError, match="names issuer"):
            unit_metadata(issuer=other)


def test_unknown_kid_refetches_the_jwks_at_most_once_per_cooldown() -> None:
    http, clock = StubHTTP(), FakeClock()
    discovery = Discovery(http, 3600, clock=clock)  # type: ignore[arg-type]
    env = EnvironmentConfig(name="prod", client_id="lab", issuer=UNIT_ISSUER)
    other = EnvironmentConfig(name="dev", client_id="lab", issuer=UNIT_ISSUER)

    async def run() -> list[int]:
        seen = []
        await discovery.key_set(env)
        await discovery.key_set(env, refresh=True)  # an unknown kid: refetched
        seen.append(http.calls["jwks"])
        await asyncio.gather(*(discovery.key_set(env, refresh=True) for _ in range(50)))  # a flood
        seen.append(http.calls["jwks"])
        await discovery.key_set(other, refresh=True)  # per environment
        seen.append(http.calls["jwks"])
        clock.now += JWKS_REFETCH_COOLDOWN_SECONDS + 1
        await discovery.key_set(env, refresh=True)
        seen.append(http.calls["jwks"])
        return seen

    assert asyncio.run(run()) == [2, 2, 3, 4]


def test_concurrent_first_fetches_share_one_jwks_request() -> None:
    http = StubHTTP()
    discovery = Discovery(http, 3600)  # type: ignore[arg-type]
    env = EnvironmentConfig(name="prod", client_id="lab", issuer=UNIT_ISSUER)

    async def run() -> None:
        await discovery.metadata(env)
        await asyncio.gather(*(discovery.key_set(env) for _ in range(20)))

    asyncio.run(run())
    assert http.calls["jwks"] == 1
