"""Every /oidc route is authenticated like the rest of Jupyter (XSRF included), but the callback.

The cases are generated from the server's route table: a route added there is covered here
without editing this file. A route that is meant to be reachable without a Jupyter login
must be listed in ``OPEN_BY_DESIGN`` with the reason.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tornado import web

from jupyterlab_oidc.protocol import KERNEL_HEADER
from jupyterlab_oidc.server.handlers import CallbackHandler
from jupyterlab_oidc.server.kernel_handlers import KernelHandler
from jupyterlab_oidc.server.routes import route_table

#: No Jupyter login by design: the provider's redirect (browser binding + state + PKCE protect it).
OPEN_BY_DESIGN = {CallbackHandler: "the provider's redirect"}
VERBS = ("get", "post", "put", "patch", "delete")


def concrete(path: str) -> str:
    """A request path for a route pattern (named groups get a sample value)."""
    import re

    return re.sub(r"\(\?P<\w+>[^)]*\)", "prod", path).removeprefix("/")


def verbs(handler: type[web.RequestHandler]) -> list[str]:
    """The HTTP methods ``handler`` implements itself (not tornado's 405 defaults)."""
    return [v.upper() for v in VERBS if getattr(handler, v) is not getattr(web.RequestHandler, v)]


ROUTES = [(method, concrete(path), handler) for path, handler in route_table() for method in verbs(handler)]
JUPYTER_ROUTES = [
    pytest.param(m, p, id=f"{m} {p}")
    for m, p, h in ROUTES
    if h not in OPEN_BY_DESIGN and not issubclass(h, KernelHandler)
]
KERNEL_ROUTES = [pytest.param(m, p, id=f"{m} {p}") for m, p, h in ROUTES if issubclass(h, KernelHandler)]
UNSAFE_ROUTES = [p for p in JUPYTER_ROUTES if p.values[0] != "GET"]


def test_the_route_table_yields_every_route_and_verb() -> None:
    # Guards the generator itself: the table has more than the handful of routes we began with.
    assert len(JUPYTER_ROUTES) >= 15 and len(KERNEL_ROUTES) >= 2
    assert ("GET", "oidc/userinfo") in [tuple(p.values) for p in JUPYTER_ROUTES]
    assert ("POST", "oidc/preflight") in [tuple(p.values) for p in JUPYTER_ROUTES]


@pytest.fixture
def server_url(http_server: Any, jp_http_port: int, jp_base_url: str) -> str:
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}"


def refused(response: httpx.Response) -> bool:
    """403, or (for a page route) a redirect to Jupyter's login page; never an answer."""
    if response.status_code == 302:
        return "/login" in response.headers.get("location", "")
    return response.status_code == 403


@pytest.mark.parametrize(("method", "endpoint"), JUPYTER_ROUTES)
async def test_route_refuses_requests_without_jupyter_credentials(server_url: str, method: str, endpoint: str) -> None:
    async with httpx.AsyncClient() as client:
        body = {} if method != "GET" else None
        response = await client.request(method, f"{server_url}{endpoint}", json=body, follow_redirects=False)
    assert refused(response), (response.status_code, response.text[:200])


async def logged_in(client: httpx.AsyncClient, server_url: str, jupyter_token: str) -> str:
    """Log ``client`` in through Jupyter's login form, as a browser does; answers the XSRF token."""
    await client.get(f"{server_url}login")
    xsrf = client.cookies.get("_xsrf") or ""
    login = await client.post(f"{server_url}login", data={"password": jupyter_token, "_xsrf": xsrf})
    assert login.status_code in (200, 302)
    return xsrf


@pytest.mark.parametrize(("method", "endpoint"), UNSAFE_ROUTES)
async def test_route_refuses_a_cookie_login_with_a_wrong_xsrf_token(
    server_url: str, jupyter_token: str, method: str, endpoint: str
) -> None:
    async with httpx.AsyncClient() as client:
        await logged_in(client, server_url, jupyter_token)
        response = await client.request(
            method, f"{server_url}{endpoint}", json={}, headers={"X-XSRFToken": "not-the-token"}
        )
    assert response.status_code == 403, response.text[:200]


@pytest.mark.parametrize(("method", "endpoint"), KERNEL_ROUTES)
async def test_kernel_route_refuses_a_wrong_or_missing_kernel_secret(
    server_url: str, jupyter_token: str, method: str, endpoint: str
) -> None:
    async with httpx.AsyncClient() as client:
        body = {} if method != "GET" else None
        for headers in ({}, {KERNEL_HEADER: "wrong"}, {"Authorization": f"token {jupyter_token}"}):
            response = await client.request(method, f"{server_url}{endpoint}", json=body, headers=headers)
            assert response.status_code == 403, (headers.keys(), response.text[:200])
            assert response.json()["error"] == "forbidden"


async def test_callback_needs_no_jupyter_login_but_a_known_state(server_url: str, jp_serverapp: Any) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{server_url}oidc/callback", params={"state": "x", "code": "y"})
    assert response.status_code == 400
    assert "state_mismatch" in response.text


async def test_cookie_session_without_xsrf_header_is_refused(server_url: str, jupyter_token: str) -> None:
    async with httpx.AsyncClient() as client:
        xsrf = await logged_in(client, server_url, jupyter_token)
        refused_ = await client.post(f"{server_url}oidc/login", json={"login_hint": "a@example.com"})
        accepted = await client.post(
            f"{server_url}oidc/login", json={"login_hint": "a@example.com"}, headers={"X-XSRFToken": xsrf}
        )
    assert refused_.status_code == 403
    assert accepted.status_code == 200, accepted.text
