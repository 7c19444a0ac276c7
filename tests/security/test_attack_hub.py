"""One hub user against another through the hub-wide callback forwarder, on a real JupyterHub.

The attack: hub user A starts a sign-in on A's own server with the victim's email as
``login_hint`` and sends the victim the provider's link. The victim, a user B of the same
hub, signs in at the provider, which sends B's browser to the forwarder with A's state and a
code for B's account. A forwarder that routes by state alone delivers that code to A's
server, which holds the PKCE verifier and would redeem it: A signed in as B.

The forwarder logs the browser in with the hub's OAuth and forwards only to the server of
the hub user the browser is: B gets a 403 page there, A's server is never contacted (no
token request at the provider, A's sign-in still waits for its callback).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from ..hub_helpers import forward_status
from ..hub_support import BASE_URL, PASSWORD, Hub, HubUser

pytestmark = pytest.mark.timeout(180)

PAIRS = [("alice", "bob"), ("bob", "alice")]  # alice: legacy redirect URI; bob: per-environment one


def _pending(user: HubUser, state: str) -> dict[str, Any]:
    (pending,) = [p for p in user.oidc("GET", "status").body["pending"] if p["state"] == state]
    return pending


def _lure(attacker: HubUser, victim: HubUser) -> tuple[dict[str, Any], str]:
    """The attacker starts a sign-in in their own browser for the victim's email; the victim
    signs in at the provider. Returns the attacker's login answer and the provider's redirect
    (the attacker's state, a code for the victim)."""
    browser = attacker.browser()
    try:
        started, authorization_url = attacker.start_in_browser(browser, login_hint=victim.email)
    finally:
        browser.close()
    redirect = victim.at_provider(authorization_url, as_email=victim.email)
    assert redirect.startswith(attacker.hub.service_url)
    return started, redirect


def _assert_nothing_reached(
    hub: Hub,
    attacker: HubUser,
    victim: HubUser,
    started: dict[str, Any],
    page: httpx.Response,
    codes_before: int,
    log_from: int,
) -> None:
    assert page.status_code == 403 and forward_status(page) == "other_hub_user"
    assert "started by another hub user" in page.text and "Nothing was sent" in page.text
    assert "location" not in page.headers
    # The browser never went to the attacker's server, nor was it told to.
    for response in [*page.history, page]:
        assert not str(response.url).startswith(attacker.url)
        assert not response.headers.get("location", "").startswith(f"{BASE_URL}user/{attacker.name}/")
    # The attacker's server saw nothing: no code exchange, its sign-in still waits, no session.
    assert hub.idp.token_calls("authorization_code") == codes_before
    assert not _pending(attacker, started["state"])["callback_received"]
    assert victim.email not in [s["email"] for s in attacker.sessions()]
    assert f"{BASE_URL}user/{attacker.name}/oidc/callback" not in hub.log_tail(10**7)[log_from:]
    attacker.oidc("POST", "cancel", {"state": started["state"]})


@pytest.mark.security_case("hub-forward-other-users-state")
@pytest.mark.parametrize(("attacker", "victim"), PAIRS, ids=["legacy-path", "environment-path"])
def test_callback_with_another_users_state_is_refused_at_the_forwarder(hub: Hub, attacker: str, victim: str) -> None:
    a, b = hub.users_running(attacker, victim)
    started, redirect = _lure(a, b)
    codes_before, log_from = hub.idp.token_calls("authorization_code"), len(hub.log_tail(10**7))
    browser = b.browser()  # the victim's own browser, logged in to the hub
    try:
        page = browser.get(redirect, follow_redirects=True)
    finally:
        browser.close()
    _assert_nothing_reached(hub, a, b, started, page, codes_before, log_from)


@pytest.mark.security_case("hub-forward-other-users-state-after-hub-login")
def test_callback_with_another_users_state_is_refused_after_the_victims_hub_login(hub: Hub) -> None:
    a, b = hub.users_running("alice", "bob")
    started, redirect = _lure(a, b)
    codes_before, log_from = hub.idp.token_calls("authorization_code"), len(hub.log_tail(10**7))
    browser = httpx.Client(timeout=60, follow_redirects=True)  # the victim, not logged in to the hub yet
    try:
        login = browser.get(redirect)
        assert urlsplit(str(login.url)).path == f"{BASE_URL}hub/login"
        xsrf = next(c.value for c in browser.cookies.jar if c.name == "_xsrf" and c.path.startswith(f"{BASE_URL}hub"))
        page = browser.post(str(login.url), data={"username": b.name, "password": PASSWORD, "_xsrf": xsrf})
    finally:
        browser.close()
    _assert_nothing_reached(hub, a, b, started, page, codes_before, log_from)
