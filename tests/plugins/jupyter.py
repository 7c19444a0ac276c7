"""Plugin: a real Jupyter server with the extension (pytest-jupyter), its REST API, and the
owner's browser driven through a sign-in (``begin_sign_in``, ``sign_in``: the one driver)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from ..idp import CLIENT_ID, IdentityProvider, bind_browser, open_sign_in_link
from ..support import PROJECT_IDS, Reply


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
        return Reply.of(response.code, response.body.decode() if response.body else "", response.headers)

    return call


@pytest.fixture
def rest(
    jp_http_port: int, jp_base_url: str, jp_auth_header: dict[str, str], jp_asyncio_loop: Any
) -> Iterator[httpx.AsyncClient]:
    """An HTTP client for the REST API with room for many parallel requests (``api`` allows 10)."""
    client = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{jp_http_port}{jp_base_url}oidc/",
        headers=jp_auth_header,
        timeout=30,
        limits=httpx.Limits(max_connections=200),
    )
    yield client
    jp_asyncio_loop.run_until_complete(client.aclose())


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
def sign_in(api: Any, browser: httpx.AsyncClient, callback_prefix: str, jupyter_token: str) -> Any:
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
        started = await api(
            "POST", "login", {"environment": environment, "application": application, "login_hint": login_hint}
        )
        assert started.status == 200, started.body
        page = await open_sign_in_link(browser, started.body["start_url"], jupyter_token, callback_prefix, as_email)
        assert "text/html" in page.headers["content-type"]
        return await api("POST", "await", {"state": started.body["state"]})

    return run
