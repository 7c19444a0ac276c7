"""Attacks on the local callback listener (``redirect_mode=local``): any page the browser
loads can reach ``localhost``, so the listener trusts nothing but its own host names and
exchanges nothing itself."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ..idp import ALICE
from ..test_discovery_and_modes import free_port

REAL = "real"


@pytest.fixture
def local_port() -> int:
    return int(free_port())


@pytest.fixture
def jp_server_config(jp_server_config: Any, local_port: int) -> Any:
    jp_server_config.OIDCLogin.redirect_mode = "local"
    jp_server_config.OIDCLogin.redirect_port = local_port
    return jp_server_config


@pytest.mark.security_case("local-listener-dns-rebinding")
async def test_dns_rebinding_host_header_is_refused_by_the_local_listener(
    api: Any, local_port: int, idp: Any, broker: Any
) -> None:
    # A page at http://evil.example:PORT whose name now resolves to 127.0.0.1 reaches the
    # listener with its own Host header and a state it guessed or saw.
    started = await api("POST", "login", {"environment": REAL, "login_hint": ALICE})
    async with httpx.AsyncClient() as page:
        answer = await page.get(
            f"http://127.0.0.1:{local_port}/callback/{REAL}",
            params={"state": started.body["state"], "code": "x"},
            headers={"Host": f"evil.example:{local_port}"},
        )
    assert answer.status_code == 400 and 'data-status="invalid_request"' in answer.text
    assert "location" not in answer.headers
    assert idp.token_calls("authorization_code") == 0
    assert broker.pending[started.body["state"]].accepts_callback()


@pytest.mark.security_case("local-listener-headers")
async def test_local_listener_pages_carry_the_callback_pages_security_headers(api: Any, local_port: int) -> None:
    from jupyterlab_oidc.core.pages import PAGE_HEADERS

    await api("POST", "login", {"environment": REAL, "login_hint": ALICE})
    async with httpx.AsyncClient() as page:
        answer = await page.get(f"http://localhost:{local_port}/callback/{REAL}?state=unknown&code=x")
    assert answer.status_code == 400
    for name, value in PAGE_HEADERS.items():
        assert answer.headers.get(name) == value, name
