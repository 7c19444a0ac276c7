"""Attacks on the sign-in flow itself, against a real Jupyter server and the real dev provider.

Each test plays one attack and asserts it fails: the code is never exchanged (the
provider's token endpoint counts no call), nothing is stored, and the owner's sign-in is
left as it was.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from ..idp import ALICE, provider_login

REAL = "real"


@pytest.fixture
def victim_browser(jp_asyncio_loop: Any) -> Any:
    """Another person's browser: no Jupyter login here, no binding cookie, its own provider session."""
    client = httpx.AsyncClient(timeout=20)
    yield client
    jp_asyncio_loop.run_until_complete(client.aclose())


@pytest.mark.security_case("login-link-sent-to-victim")
async def test_sign_in_link_completed_by_another_browser_is_refused(
    api: Any, victim_browser: Any, callback_prefix: str, idp: Any, broker: Any, snapshot: Any
) -> None:
    # The attacker starts a sign-in on their own server with the victim's email and mails
    # the provider URL; the victim signs in and their browser brings the code back here.
    before = snapshot()
    started = await api("POST", "login", {"environment": REAL, "login_hint": ALICE})
    callback = await provider_login(victim_browser, started.body["url"], None, callback_prefix)
    page = await victim_browser.get(callback)
    assert page.status_code == 403
    assert 'data-status="browser_mismatch"' in page.text
    assert idp.token_calls("authorization_code") == 0, "the code was exchanged"
    assert snapshot() == before
    # The attacker's server still waits: the refusal consumed nothing it could use later...
    pending = (await api("POST", "await", {"state": started.body["state"], "wait_seconds": 0})).status
    assert pending == 202
    # ...and the code is useless to a browser with a cookie of its own invention.
    victim_browser.cookies.set(f"oidc-bind-{'0' * 16}", "forged")
    assert (await victim_browser.get(callback)).status_code == 403
    assert idp.token_calls("authorization_code") == 0


@pytest.mark.security_case("start-link-without-jupyter-login")
async def test_start_link_opened_without_the_owners_jupyter_login_is_refused(
    api: Any, victim_browser: Any, idp: Any
) -> None:
    # A sign-in started from a kernel cell prints a start link; sent by email to someone
    # else, it must not bind their browser to the owner's sign-in.
    started = await api("POST", "login", {"environment": REAL, "login_hint": ALICE})
    answer = await victim_browser.get(started.body["start_url"], follow_redirects=False)
    assert answer.status_code in (302, 403)
    if answer.status_code == 302:  # to Jupyter's login page, never to the provider
        assert urlsplit(answer.headers["location"]).path.endswith("/login")
    assert not [c for c in victim_browser.cookies.jar if c.name.startswith("oidc-bind-")]
    assert idp.stats()["authorization"] == 0


@pytest.mark.security_case("binding-cookie-of-another-sign-in")
async def test_binding_cookie_of_another_sign_in_does_not_complete_this_one(
    api: Any, begin_sign_in: Any, browser: Any, callback_prefix: str, idp: Any, broker: Any
) -> None:
    # The attacker's own, bound sign-in gives them a valid cookie; they present its value
    # under the name of the victim-started sign-in.
    own, _ = await begin_sign_in({"environment": REAL, "login_hint": ALICE})
    other = await api("POST", "login", {"environment": REAL, "login_hint": ALICE})
    cookies = {c.name: c.value for c in browser.cookies.jar if c.name.startswith("oidc-bind-")}
    assert len(cookies) == 1
    callback = await provider_login(browser, other.body["url"], None, callback_prefix)
    state = other.body["state"]
    from jupyterlab_oidc.core.signin.binding import cookie_name

    path = urlsplit(callback).path
    browser.cookies.set(cookie_name(state), next(iter(cookies.values())), path=path)
    page = await browser.get(callback)
    assert page.status_code == 403 and 'data-status="browser_mismatch"' in page.text
    assert idp.token_calls("authorization_code") == 0
    assert own.body["state"] in broker.pending


@pytest.mark.security_case("mix-up-redirect-path")
async def test_code_delivered_at_another_environments_redirect_path_is_refused(
    begin_sign_in: Any, browser: Any, jp_http_port: int, jp_base_url: str, idp: Any, snapshot: Any
) -> None:
    # Mix-up: a hostile provider configured as environment "prod" sends a code issued for
    # the honest "real" sign-in back through prod's redirect URI (or the shared legacy one).
    before = snapshot()
    started, url = await begin_sign_in({"environment": REAL, "login_hint": ALICE})
    base = f"http://127.0.0.1:{jp_http_port}{jp_base_url}oidc/callback"
    callback = await provider_login(browser, url, None, base)
    assert urlsplit(callback).path.endswith("/oidc/callback/real")
    query = urlsplit(callback).query
    for wrong in (f"{base}/prod?{query}", f"{base}?{query}"):
        page = await browser.get(wrong)
        assert page.status_code == 400 and 'data-status="redirect_mismatch"' in page.text, wrong
    assert idp.token_calls("authorization_code") == 0
    assert snapshot() == before
    # The honest answer at the right path still completes the waiting sign-in.
    assert (await browser.get(callback)).status_code == 200


@pytest.mark.security_case("cancel-during-exchange")
@pytest.mark.parametrize("ending", ["cancel", "timeout"])
async def test_cancel_or_timeout_during_the_code_exchange_stores_nothing(
    ending: str, api: Any, begin_sign_in: Any, browser: Any, callback_prefix: str, broker: Any, idp: Any, snapshot: Any
) -> None:
    before = snapshot()
    started, url = await begin_sign_in({"environment": REAL, "login_hint": ALICE})
    state = started.body["state"]
    callback = await provider_login(browser, url, None, callback_prefix)
    exchange = broker.http.post_form

    async def exchange_then_end(label: str, *args: Any, **kwargs: Any) -> Any:
        answer = await exchange(label, *args, **kwargs)
        if label == "code exchange":  # the user gives up while the provider answers
            if ending == "cancel":
                await broker.cancel(state)
            else:
                broker._expire(state)
        return answer

    broker.http.post_form = exchange_then_end
    try:
        page = await browser.get(callback)
    finally:
        broker.http.post_form = exchange
    assert idp.token_calls("authorization_code") == 1
    code = "login_cancelled" if ending == "cancel" else "login_timeout"
    assert f'data-status="{code}"' in page.text
    assert (await api("POST", "await", {"state": state})).body["error"] == code
    assert snapshot() == before
    # The tokens obtained for the abandoned sign-in are handed back to the provider.
    for _ in range(100):
        if idp.stats()["revocation"] >= 1:
            break
        await asyncio.sleep(0.05)
    assert idp.stats()["revocation"] >= 1


@pytest.mark.security_case("kernel-refresh-token-to-browser")
@pytest.mark.oidc(kernel_refresh_token=True)
async def test_kernel_refresh_token_setting_never_hands_the_refresh_token_to_the_browser(
    sign_in: Any, api: Any, jp_serverapp: Any, jp_http_port: int, jp_base_url: str
) -> None:
    assert (await sign_in(ALICE, environment=REAL)).status == 200
    browser_reply = await api("POST", "token", {"environment": REAL})
    assert browser_reply.status == 200 and "refresh_token" not in browser_reply.body
    access = jp_serverapp.web_app.settings["jupyterlab_oidc_kernel_access"]
    from jupyterlab_oidc.protocol import KERNEL_HEADER

    async with httpx.AsyncClient() as kernel:
        reply = await kernel.post(
            f"http://127.0.0.1:{jp_http_port}{jp_base_url}oidc/kernel/token",
            json={"environment": REAL},
            headers={KERNEL_HEADER: access.secret},
        )
    assert reply.status_code == 200 and reply.json()["refresh_token"]


async def test_start_link_opened_at_another_host_name_comes_back_to_that_host(
    api: Any, browser: Any, jp_http_port: int, jp_base_url: str, jupyter_token: str, idp: Any
) -> None:
    # A kernel starts the sign-in through 127.0.0.1; the person's browser uses localhost.
    # The provider must send the browser back to the host its binding cookie belongs to.
    from ..idp import bind_browser

    started = await api("POST", "login", {"environment": REAL, "login_hint": ALICE})
    assert started.body["start_path"].startswith(f"{jp_base_url}oidc/start?state=")
    at_localhost = f"http://localhost:{jp_http_port}{started.body['start_path']}"
    url = await bind_browser(browser, at_localhost, jupyter_token)
    prefix = f"http://localhost:{jp_http_port}{jp_base_url}oidc/callback"
    callback = await provider_login(browser, url, None, prefix)
    page = await browser.get(callback)
    assert page.status_code == 200, page.text
    assert idp.token_calls("authorization_code") == 1
