"""Fixtures: the real dev OpenID provider, a real Jupyter server with the extension, and
helpers that play the person at the provider's login page.

Mark a test ``@pytest.mark.oidc(profile="userinfo", access_ttl=10, **OIDCLogin traits)`` to
choose the provider profile and the server configuration.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from .idp import CLIENT_ID, IdentityProvider, bind_browser, provider_login, start_idp

pytest_plugins = ["pytest_jupyter.jupyter_server"]

PROJECT_IDS = {"spatial_engine": "360000000000000001"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "oidc(profile, access_ttl, **traits): provider profile and OIDCLogin config")


_providers: dict[tuple[str, int, str], IdentityProvider] = {}


@pytest.fixture(scope="session", autouse=True)
def _stop_providers() -> Iterator[None]:
    yield
    for provider in _providers.values():
        provider.stop()


def get_idp(profile: str = "id_token", access_ttl: int = 300, owner: str = "") -> IdentityProvider:
    """One provider process per (profile, access token lifetime, owner), shared by the session.

    Long-lived harnesses (the kernel tests' server, the hub) pass an ``owner``: their
    sessions refresh in the background, which must not show up in other tests' counts.
    """
    key = (profile, access_ttl, owner)
    if key not in _providers or _providers[key].process.poll() is not None:
        _providers[key] = start_idp(profile=profile, access_ttl=access_ttl)
    return _providers[key]


@pytest.fixture
def oidc_marker(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("oidc")
    return dict(marker.kwargs) if marker else {}


@pytest.fixture
def idp(oidc_marker: dict[str, Any]) -> IdentityProvider:
    provider = get_idp(oidc_marker.get("profile", "id_token"), oidc_marker.get("access_ttl", 300))
    provider.reset_stats()
    return provider


@pytest.fixture
def oidc_environments(idp: IdentityProvider) -> dict[str, Any]:
    return {
        "prod": {"issuer": idp.issuer, "client_id": CLIENT_ID, "project_ids": PROJECT_IDS},
        "dev": {"issuer": idp.issuer, "client_id": CLIENT_ID, "display_name": "Development"},
    }


@pytest.fixture
def jp_server_config(oidc_marker: dict[str, Any], oidc_environments: dict[str, Any], tmp_path: Any) -> Config:
    traits = {k: v for k, v in oidc_marker.items() if k not in ("profile", "access_ttl")}
    return Config(
        {
            "ServerApp": {"jpserver_extensions": {"jupyterlab_oidc": True}},
            "OIDCLogin": {
                "environments": oidc_environments,
                "default_environment": "prod",
                "store_path": str(tmp_path / "oidc" / "sessions.json"),
                **traits,
            },
        }
    )


@pytest.fixture
def broker(jp_serverapp: Any) -> Any:
    """The extension's broker inside the test server (for white-box checks only)."""
    return jp_serverapp.web_app.settings["jupyterlab_oidc_broker"]


@dataclass
class Reply:
    """An API answer: status and JSON body, whatever the status."""

    status: int
    body: Any
    headers: Any = None


@pytest.fixture
def api(jp_fetch: Any) -> Any:
    """``await api("POST", "login", {...})`` → ``Reply``; never raises on HTTP errors."""

    async def call(method: str, endpoint: str, body: dict[str, Any] | None = None, **kwargs: Any) -> Reply:
        if method != "GET":
            kwargs["body"] = json.dumps(body if body is not None else {})
        try:
            response = await jp_fetch("oidc", endpoint, method=method, **kwargs)
        except HTTPClientError as e:
            response = e.response
            assert response is not None, f"no response: {e}"
        raw = response.body.decode() if response.body else ""
        return Reply(response.code, json.loads(raw) if raw.startswith(("{", "[")) else raw, response.headers)

    return call


@pytest.fixture
def browser(jp_asyncio_loop: Any) -> Iterator[httpx.AsyncClient]:
    """The user's browser at the provider: an HTTP client with a cookie jar."""
    client = httpx.AsyncClient(timeout=20)
    yield client
    jp_asyncio_loop.run_until_complete(client.aclose())


@pytest.fixture
def callback_prefix(jp_http_port: int, jp_base_url: str) -> str:
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}oidc/callback"


@pytest.fixture
def jupyter_token(jp_serverapp: Any) -> str:
    """The test server's token: what the owner's browser logs in to Jupyter with."""
    return str(jp_serverapp.identity_provider.token)


@pytest.fixture
def begin_sign_in(api: Any, browser: httpx.AsyncClient, jupyter_token: str) -> Any:
    """``started, url = await begin_sign_in({...})``: ``POST login``, then the owner's browser
    opens the start link (binding cookie) and ``url`` is the provider page it was sent to."""

    async def run(body: dict[str, Any]) -> tuple[Reply, str]:
        started = await api("POST", "login", body)
        assert started.status == 200, started.body
        return started, await bind_browser(browser, started.body["start_url"], jupyter_token)

    return run


@pytest.fixture
def sign_in(api: Any, browser: httpx.AsyncClient, callback_prefix: str, begin_sign_in: Any) -> Any:
    """Full sign-in through the REST API: start, play the person, follow the callback, await.

    ``as_email`` signs in as someone other than ``login_hint``. Returns the await ``Reply``.
    """

    async def run(
        login_hint: str,
        as_email: str | None = None,
        environment: str | None = None,
        application: str | None = None,
    ) -> Reply:
        if as_email:
            browser.cookies.clear()  # someone else at the keyboard: no provider session
        started, url = await begin_sign_in(
            {"environment": environment, "application": application, "login_hint": login_hint}
        )
        callback = await provider_login(browser, url, as_email, callback_prefix)
        page = await browser.get(callback)
        assert "text/html" in page.headers["content-type"]
        return await api("POST", "await", {"state": started.body["state"]})

    return run


def token_fields(body: Any) -> set[str]:
    """Names of token fields anywhere in a JSON body."""
    names = {"access_token", "refresh_token", "id_token"}
    if isinstance(body, dict):
        return {k for k in body if k in names} | set().union(*(token_fields(v) for v in body.values()))
    if isinstance(body, list):
        return set().union(*(token_fields(v) for v in body))
    return set()


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
