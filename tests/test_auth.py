"""Every /oidc route is authenticated like the rest of Jupyter (XSRF included), but the callback."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

ROUTES = [
    ("GET", "environments"),
    ("GET", "status"),
    ("GET", "jwks"),
    ("POST", "login"),
    ("POST", "await"),
    ("POST", "cancel"),
    ("POST", "token"),
    ("POST", "refresh"),
    ("POST", "logout"),
]


@pytest.fixture
def server_url(http_server: Any, jp_http_port: int, jp_base_url: str) -> str:
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}"


@pytest.fixture
def jupyter_token(jp_serverapp: Any) -> str:
    return str(jp_serverapp.identity_provider.token)


@pytest.mark.parametrize(("method", "endpoint"), ROUTES)
async def test_route_refuses_requests_without_jupyter_credentials(
    server_url: str, method: str, endpoint: str, jp_serverapp: Any
) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.request(method, f"{server_url}oidc/{endpoint}", json={})
    assert response.status_code == 403


async def test_callback_needs_no_jupyter_login_but_a_known_state(server_url: str, jp_serverapp: Any) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{server_url}oidc/callback", params={"state": "x", "code": "y"})
    assert response.status_code == 400
    assert "state_mismatch" in response.text


async def test_cookie_session_without_xsrf_header_is_refused(server_url: str, jupyter_token: str) -> None:
    async with httpx.AsyncClient() as client:
        await client.get(f"{server_url}login")
        xsrf = client.cookies.get("_xsrf")
        login = await client.post(f"{server_url}login", data={"password": jupyter_token, "_xsrf": xsrf})
        assert login.status_code in (200, 302)
        refused = await client.post(f"{server_url}oidc/login", json={"login_hint": "a@example.com"})
        accepted = await client.post(
            f"{server_url}oidc/login", json={"login_hint": "a@example.com"}, headers={"X-XSRFToken": xsrf or ""}
        )
    assert refused.status_code == 403
    assert accepted.status_code == 200, accepted.text
