"""Behind a real JupyterHub: sign-in per user through the hub-wide callback service (legacy and
per-environment redirect URIs), the service's own hub login, isolation between users, the
forwarder under attack, the file store across a server restart, and a kernel in the user's
server (see tests/hub_support.py for the hub). The attack of one hub user on another through
the forwarder is in tests/security/test_attack_hub.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from .hub_helpers import (
    forward_status,
    forwarded,
    login_to_forwarder,
    params,
    relative_hub_path,
    result_status,
    sign_in_with_chromium,
    state_for,
)
from .hub_support import BASE_URL, DIRECT, PASSWORD, SERVICE, Hub, HubUser

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def alice_browser(hub: Hub) -> Iterator[httpx.Client]:
    """Alice's browser, logged in to the hub and to the forwarder (for the forwarder's checks)."""
    alice = hub.user("alice")
    browser = alice.browser()
    login_to_forwarder(browser, alice)
    yield browser
    browser.close()


# ------------------------------------------------------------------ sign-in through the hub service


def test_alice_signs_in_through_the_hub_service(hub: Hub) -> None:
    alice = hub.user("alice")
    browser = alice.browser()  # her browser, logged in to the hub (not yet to the forwarder)
    try:
        started, authorization_url = alice.start_in_browser(browser)
        assert params(started["url"])["redirect_uri"] == hub.service_url  # the legacy redirect URI
        redirect = alice.at_provider(authorization_url)
        assert redirect.startswith(hub.service_url)
        page = browser.get(redirect)
    finally:
        browser.close()
    # First the hub's OAuth (no prompt: oauth_no_confirm), back to the same URL, then on.
    first = page.history[0]
    assert (
        first.status_code == 302 and urlsplit(first.headers["location"]).path == f"{BASE_URL}hub/api/oauth2/authorize"
    )
    forward = forwarded(page, hub)
    assert params(str(forward.url)) == params(redirect)  # the query came back intact
    location = forward.headers["location"]
    assert relative_hub_path(location) and location.startswith(f"{BASE_URL}user/alice/oidc/callback?")
    assert params(location) == params(redirect)  # the query, unchanged
    assert page.status_code == 200 and result_status(page) == "signed_in"
    assert "alice@example.com" in page.text
    result = alice.oidc("POST", "await", {"state": started["state"]})
    assert result.status == 200 and result.body["session"]["email"] == "alice@example.com"
    assert [s["email"] for s in alice.sessions()] == ["alice@example.com"]
    # The forwarder logged the path only; the user's server masks the code itself.
    code = params(redirect)["code"]
    assert code not in hub.log_tail(10**7) and started["state"] not in hub.log_tail(10**7)


def test_bob_signs_in_on_his_environments_own_path(hub: Hub) -> None:
    bob = hub.user("bob")
    browser = bob.browser()
    try:
        started, authorization_url = bob.start_in_browser(browser)
        assert params(started["url"])["redirect_uri"] == f"{hub.service_url}callback/prod"
        page = browser.get(bob.at_provider(authorization_url))
    finally:
        browser.close()
    location = forwarded(page, hub).headers["location"]
    assert relative_hub_path(location) and location.startswith(f"{BASE_URL}user/bob/oidc/callback/prod?")
    assert page.status_code == 200 and result_status(page) == "signed_in"
    result = bob.oidc("POST", "await", {"state": started["state"]})
    assert result.status == 200 and result.body["session"]["email"] == "bob@example.com"


def test_a_browser_not_logged_in_to_the_hub_logs_in_first_and_then_signs_in(hub: Hub) -> None:
    alice = hub.user("alice")
    browser = httpx.Client(timeout=60, follow_redirects=True)  # no hub login yet
    try:
        started, authorization_url = alice.start_in_browser(browser)
        redirect = alice.at_provider(authorization_url)
        login = browser.get(redirect)
        # The forwarder sent it to the hub's OAuth, which sent it to the hub's login form.
        assert login.status_code == 200 and urlsplit(str(login.url)).path == f"{BASE_URL}hub/login"
        assert str(login.history[0].url) == redirect and login.history[0].status_code == 302
        assert not any(str(r.url).startswith(alice.url) for r in [*login.history, login])
        assert params(redirect)["code"] not in str(login.url)  # the code waits in the forwarder
        pending = {p["state"]: p for p in alice.oidc("GET", "status").body["pending"]}
        assert not pending[started["state"]]["callback_received"]  # nothing reached her server yet
        xsrf = next(c.value for c in browser.cookies.jar if c.name == "_xsrf" and c.path.startswith(f"{BASE_URL}hub"))
        page = browser.post(str(login.url), data={"username": "alice", "password": PASSWORD, "_xsrf": xsrf})
    finally:
        browser.close()
    location = forwarded(page, hub).headers["location"]
    assert location.startswith(f"{BASE_URL}user/alice/oidc/callback?") and params(location) == params(redirect)
    assert page.status_code == 200 and result_status(page) == "signed_in"
    result = alice.oidc("POST", "await", {"state": started["state"]})
    assert result.status == 200 and result.body["session"]["email"] == "alice@example.com"


def test_bob_signs_in_concurrently_and_gets_his_own(hub: Hub) -> None:
    alice, bob = hub.users_running("alice", "bob")
    with ThreadPoolExecutor(2) as pool:
        (alice_result, alice_page), (bob_result, bob_page) = pool.map(HubUser.sign_in, [alice, bob])
    assert forwarded(alice_page, hub).headers["location"].startswith(f"{BASE_URL}user/alice/oidc/callback?")
    assert forwarded(bob_page, hub).headers["location"].startswith(f"{BASE_URL}user/bob/oidc/callback/prod?")
    assert alice_result["session"]["email"] == "alice@example.com"
    assert bob_result["session"]["email"] == "bob@example.com"
    assert [s["email"] for s in alice.sessions()] == ["alice@example.com"]
    assert [s["email"] for s in bob.sessions()] == ["bob@example.com"]
    for user in (alice, bob):
        token = user.oidc("POST", "token", {})
        assert token.status == 200 and "refresh_token" not in token.body
        assert hub.idp.userinfo(token.body["access_token"]).json()["email"] == user.email


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian's chromium is not installed")
def test_bob_signs_in_through_the_panel_in_chromium(hub: Hub) -> None:
    bob = hub.user("bob")
    bob.oidc("POST", "logout", {})
    seen = sign_in_with_chromium(bob)
    assert "error" not in seen, seen
    assert seen["result"] == "Signed in as bob@example.com" and seen["card_email"] == "bob@example.com"
    # The provider's tab went through the hub service (and the hub's OAuth), then on to his server.
    urls = seen["popup_urls"]
    service = max(i for i, url in enumerate(urls) if url.startswith(f"{hub.service_url}callback/prod?"))
    assert urls[service + 1].startswith(f"{bob.url}oidc/callback/prod?")
    assert [s["email"] for s in bob.sessions()] == ["bob@example.com"]


# ------------------------------------------------------------------ isolation


@pytest.mark.parametrize(
    ("method", "endpoint"),
    [
        ("GET", "status"),
        ("POST", "token"),
        ("POST", "refresh"),
        ("POST", "login"),
        ("POST", "logout"),
        ("GET", "environments"),
        ("POST", "kernel/token"),
        ("GET", "kernel/status"),
    ],
)
def test_a_users_hub_token_opens_nothing_on_another_users_server(hub: Hub, method: str, endpoint: str) -> None:
    alice, bob = hub.users_running("alice", "bob")
    bob.ensure_signed_in()
    for intruder, victim in ((alice, bob), (bob, alice)):
        reply = victim.oidc(method, endpoint, {} if method == "POST" else None, token=intruder.token)
        assert reply.status in (302, 403), (endpoint, reply.status, reply.body)
        assert "email" not in str(reply.body) and "access_token" not in str(reply.body)
    assert [s["email"] for s in bob.sessions()] == ["bob@example.com"]  # logout as alice did nothing


def test_a_users_hub_login_cookie_opens_nothing_on_another_users_server(hub: Hub) -> None:
    alice, bob = hub.users_running("alice", "bob")
    bob.ensure_signed_in()
    browser = alice.browser()
    try:
        own = browser.get(f"{alice.url}oidc/status")
        assert own.status_code == 200 and own.json()["sessions"][0]["email"] == "alice@example.com"
        # Her cookies on his API: no cookie of his server, so no user; API routes never redirect.
        other = browser.get(f"{bob.url}oidc/status")
        assert other.status_code == 403 and "bob@example.com" not in other.text
        # Opening his server: its OAuth handshake asks the hub, which refuses her.
        page = browser.get(bob.url)
        assert page.status_code == 403 and all(r.status_code in (302, 303) for r in page.history)
        assert urlsplit(str(page.url)).path.startswith(f"{BASE_URL}hub/")  # it stayed on the hub
        server_cookies = {c.name.removeprefix("__Host-") for c in browser.cookies.jar}
        assert "jupyterhub-user-alice" in server_cookies and "jupyterhub-user-bob" not in server_cookies
        other = browser.get(f"{bob.url}oidc/status")
        assert other.status_code == 403 and "bob@example.com" not in other.text
    finally:
        browser.close()
    anonymous = httpx.get(f"{bob.url}oidc/status", follow_redirects=False)
    assert anonymous.status_code in (302, 403) and "bob@example.com" not in anonymous.text


def test_a_state_minted_for_bob_is_useless_at_alice_and_a_foreign_code_useless_at_bob(hub: Hub) -> None:
    alice, bob = hub.users_running("alice", "bob")
    browser = bob.browser()
    try:
        bob_started, _ = bob.start_in_browser(browser)
        bob_state = bob_started["state"]
        # Presented at alice's own callback: her server never minted it.
        page = browser.get(f"{alice.url}oidc/callback", params={"code": "x", "state": bob_state})
        assert page.status_code in (400, 403) and result_status(page) in ("state_mismatch", "browser_mismatch")
        # Alice's real code with bob's state, in bob's own browser: the forwarder lets bob through
        # to his server, which exchanges it with bob's PKCE verifier: refused by the provider.
        alice_started = alice.start_login()
        alice_redirect = alice.at_provider(alice_started["url"])
        crafted = {**params(alice_redirect), "state": bob_state}
        page = browser.get(bob.redirect_uri(), params=crafted)
        assert str(page.url).startswith(f"{bob.url}oidc/callback")
        assert page.status_code >= 400 and result_status(page) != "signed_in"
    finally:
        browser.close()
    failed = bob.oidc("POST", "await", {"state": bob_state})
    assert failed.status >= 400 and failed.body["error"] in ("provider_error", "invalid_id_token")
    assert "alice@example.com" not in [s["email"] for s in bob.sessions()]
    alice.oidc("POST", "cancel", {"state": alice_started["state"]})


# ------------------------------------------------------------------ the forwarder under attack

ALICE_STATE = state_for("alice")
EVIL = "https://evil.example/steal"
CRAFTED = {
    "no-state": "code=abc",
    "empty-state": "code=abc&state=",
    "state-without-user": "code=abc&state=n0nce",
    "dotdot-user": f"code=abc&state={state_for('..')}",
    "dotdot-slash-user": f"code=abc&state={state_for('../admin')}",
    "slash-user": f"code=abc&state={state_for('alice/../../hub/admin')}",
    "encoded-slash-user": f"code=abc&state={state_for('alice%2F..%2Fhub')}",
    "backslash-user": f"code=abc&state={state_for('alice' + chr(92) + 'evil')}",
    "control-char-user": f"code=abc&state={state_for('alice' + chr(10) + 'Location: //evil')}",
    "question-user": f"code=abc&state={state_for('alice?next=//evil')}",
    "hash-user": f"code=abc&state={state_for('alice#frag')}",
    "absolute-url-user": f"code=abc&state={state_for(EVIL)}",
    "scheme-relative-user": f"code=abc&state={state_for('//evil.example')}",
    "huge-state": f"code=abc&state={'A' * 5000}.x",
    "huge-query": f"state={ALICE_STATE}&junk={'x' * 10000}",
    "two-states": f"code=abc&state={ALICE_STATE}&state={state_for('bob')}",
    "newline-after-user": "code=abc&state=YWxpY2UK.x",  # 'alice\n'
    "plus-in-prefix": "code=abc&state=YWxpY2U%2B.x",  # not base64url
    "padded-prefix": "code=abc&state=YWxpY2U%3D.x",
    "non-canonical-prefix": "code=abc&state=YWxpY2V.x",  # decodes to 'alice' too
    "double-encoded-slash": f"code=abc&state={state_for('alice%252Fbob')}",
    "not-utf8": "code=abc&state=%ff%fe.x",
    "too-many-fields": "&".join(f"f{i}=1" for i in range(50)) + f"&state={ALICE_STATE}",
}


@pytest.mark.parametrize("query", list(CRAFTED.values()), ids=list(CRAFTED))
@pytest.mark.parametrize("path", ["", "callback/prod"])
def test_the_forwarder_refuses_crafted_states(hub: Hub, alice_browser: httpx.Client, query: str, path: str) -> None:
    # Before any login, and in a logged-in browser alike.
    for client in (httpx, alice_browser):
        response = client.get(f"{hub.service_url}{path}?{query}", follow_redirects=False)
        assert response.status_code == 400, response.headers.get("location")
        assert "location" not in response.headers and forward_status(response) == "forward_refused"
        assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "segment",
    ["%2F", "a%2Fb", "a%5Cb", "%2E%2E", "%2E", "%00", "a%0D%0Ab", "%C2%85", "x" * 300],
    ids=["slash", "encoded-slash", "backslash", "dotdot", "dot", "nul", "crlf", "c1-control", "too-long"],
)  # (not UTF-8, "%ff": the proxy itself answers 500 before anything reaches the forwarder)
def test_the_forwarder_refuses_environments_that_are_not_one_segment(
    hub: Hub, alice_browser: httpx.Client, segment: str
) -> None:
    response = alice_browser.get(
        f"{hub.service_url}callback/{segment}?code=abc&state={ALICE_STATE}", follow_redirects=False
    )
    if segment.startswith("%2E") and response.status_code == 303:
        # The proxy (WHATWG URL parsing) resolves %2E segments before the forwarder sees them.
        assert urlsplit(response.headers["location"]).path == f"{BASE_URL}user/alice/oidc/callback"
        return
    assert response.status_code == 400 and "location" not in response.headers


@pytest.mark.parametrize(
    ("segment", "target"),
    [("prod", "prod"), ("dev%20eu", "dev%20eu"), ("a+b", "a%2Bb"), ("%C3%A9t%C3%A9", "%C3%A9t%C3%A9")],
)
def test_an_environment_is_forwarded_as_one_requoted_segment(
    hub: Hub, alice_browser: httpx.Client, segment: str, target: str
) -> None:
    response = alice_browser.get(
        f"{hub.service_url}callback/{segment}?code=abc&state={ALICE_STATE}", follow_redirects=False
    )
    assert response.status_code == 303
    assert urlsplit(response.headers["location"]).path == f"{BASE_URL}user/alice/oidc/callback/{target}"


URLS_IN_PARAMETERS = {
    "next": f"code=abc&state={ALICE_STATE}&next={quote(EVIL)}",
    "redirect_uri": f"redirect_uri={quote(EVIL)}&code=abc&state={ALICE_STATE}",
    "scheme-relative": f"code=abc&state={ALICE_STATE}&url=//evil.example/x",
    "backslashes": f"code=abc&state={ALICE_STATE}&url=/\\evil.example",
    "in-code": f"code={quote(EVIL)}&state={ALICE_STATE}",
    "in-iss": f"code=abc&state={ALICE_STATE}&iss=//evil.example",
    "in-error-uri": f"error=access_denied&error_uri={quote(EVIL)}&state={ALICE_STATE}",
    "crlf": f"code=abc%0d%0aLocation:%20{quote(EVIL)}&state={ALICE_STATE}",
    "fragment-in-value": f"code=abc%23//evil.example&state={ALICE_STATE}",
    "slash-after-nonce": f"code=abc&state={ALICE_STATE}%2F..%2F..%2Fhub",
}


@pytest.mark.parametrize("query", list(URLS_IN_PARAMETERS.values()), ids=list(URLS_IN_PARAMETERS))
@pytest.mark.parametrize(
    ("path", "target"), [("", "callback"), ("callback", "callback"), ("callback/prod", "callback/prod")]
)
def test_urls_in_any_parameter_do_not_move_the_forward(
    hub: Hub, alice_browser: httpx.Client, query: str, path: str, target: str
) -> None:
    response = alice_browser.get(
        f"{hub.service_url}{path}?{query}",
        follow_redirects=False,
        headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert relative_hub_path(location), location
    assert urlsplit(location).path == f"{BASE_URL}user/alice/oidc/{target}"
    assert "#" not in location and "\r" not in location and "\n" not in location
    assert params(location) == {k: v[0] for k, v in parse_qs(query).items()}  # same values, re-encoded


def test_a_foreign_host_header_does_not_move_the_forward(hub: Hub, alice_browser: httpx.Client) -> None:
    response = alice_browser.get(
        f"{hub.service_url}?code=abc&state={ALICE_STATE}", headers={"Host": "evil.example"}, follow_redirects=False
    )
    assert response.status_code == 303 and relative_hub_path(response.headers["location"])


@pytest.mark.parametrize(
    "path",
    [
        "/%2F%2Fevil.example",
        "//evil.example/",
        "/..%2F..%2Fhub",
        "/callback/prod/extra",
        "/callback//prod",
        "/oauth_callback/x",
    ],
)
def test_paths_below_the_forwarder_are_not_routes(hub: Hub, alice_browser: httpx.Client, path: str) -> None:
    response = alice_browser.get(
        f"{hub.service_url.rstrip('/')}{path}?code=abc&state={ALICE_STATE}", follow_redirects=False
    )
    assert response.status_code == 404 and "location" not in response.headers


def test_a_state_of_an_unknown_user_goes_nowhere(hub: Hub, alice_browser: httpx.Client) -> None:
    query = {"code": "abc", "state": state_for("nobody")}
    response = alice_browser.get(hub.service_url, params=query, follow_redirects=False)
    assert response.status_code == 403 and "location" not in response.headers
    assert forward_status(response) == "other_hub_user"
    # Not logged in: the hub's login first, which stays on the hub.
    anonymous = httpx.get(hub.service_url, params=query, follow_redirects=True)
    assert urlsplit(str(anonymous.url)).path == f"{BASE_URL}hub/login"
    assert all(urlsplit(str(r.url)).netloc == urlsplit(hub.url).netloc for r in [*anonymous.history, anonymous])


def test_the_forwarder_sets_no_cookie_before_the_hub_login_but_its_oauth_state(hub: Hub) -> None:
    health = httpx.get(f"{hub.service_url}health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    idle = httpx.get(hub.service_url)
    assert idle.status_code == 200 and forward_status(idle) == "idle"
    refused = httpx.get(f"{hub.service_url}?code=abc")
    code, state = "c0de-SECRET", f"{ALICE_STATE}-SECRET"
    login = httpx.get(hub.service_url, params={"code": code, "state": state})
    assert login.status_code == 302
    location = login.headers["location"]
    assert urlsplit(location).path == f"{BASE_URL}hub/api/oauth2/authorize"
    assert params(location)["client_id"] == f"service-{SERVICE}" and code not in location and state not in location
    (cookie,) = login.headers.get_list("set-cookie")
    assert cookie.startswith(f"service-{SERVICE}-oauth-state=") and "HttpOnly" in cookie
    assert f"Path={BASE_URL}services/{SERVICE}/" in cookie
    for response in (health, idle, refused):
        assert "set-cookie" not in response.headers
    for response in (health, idle, refused, login):
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"


# ------------------------------------------------------------------ a server's own redirect URI behind the hub


def test_without_the_service_a_server_computes_its_callback_from_the_hub_public_url(hub: Hub) -> None:
    dave = hub.user(DIRECT)
    assert dave.url == f"{hub.url}user/dave@example.org/"
    started = dave.start_login()
    assert params(started["url"])["redirect_uri"] == f"{dave.url}oidc/callback"
    dave.oidc("POST", "cancel", {"state": started["state"]})
    result, page = dave.sign_in()
    assert result["session"]["email"] == dave.email and not page.history  # straight to his server
    # His state names him too, so the forwarder finds his server (escaped as the hub does).
    browser = dave.browser()
    try:
        forward = browser.get(hub.service_url, params={"code": "x", "state": state_for(DIRECT)})
    finally:
        browser.close()
    assert forwarded(forward, hub).headers["location"].startswith(f"{BASE_URL}user/dave@example.org/oidc/callback?")
    assert result_status(forward) in ("state_mismatch", "browser_mismatch")  # his server never minted it


# ------------------------------------------------------------------ file store across a restart


def test_alice_stays_signed_in_across_a_server_restart(hub: Hub) -> None:
    alice = hub.user("alice")
    alice.ensure_signed_in()
    store = Path(hub.root) / "home" / "alice" / ".local" / "share" / "jupyter" / "jupyterlab_oidc" / "sessions.json"
    assert store.exists() and (os.stat(store).st_mode & 0o777) == 0o600
    alice.stop_server()
    alice.start_server()
    assert [s["email"] for s in alice.sessions()] == ["alice@example.com"]
    token = alice.oidc("POST", "token", {"min_valid": 0})
    assert token.status == 200, token.body
    assert hub.idp.userinfo(token.body["access_token"]).json()["email"] == "alice@example.com"


# ------------------------------------------------------------------ kernels behind the hub

KERNEL_CELL = """
import json, os, urllib.request, urllib.error
from jupyterlab_oidc import get_token
token = get_token()
print("email", token.email)

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

def status(url, headers):
    try:
        with urllib.request.build_opener(NoRedirect).open(urllib.request.Request(url, headers=headers)) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code

own = os.environ["JUPYTERLAB_OIDC_SERVER_URL"]
hub_token = {"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"]}
kernel_secret = {"X-JupyterLab-OIDC-Kernel": os.environ["JUPYTERLAB_OIDC_KERNEL_SECRET"]}
print("own", status(own + "oidc/status", hub_token))
print("other-hub-token", status(BOB + "oidc/status", hub_token))
print("other-kernel-secret", status(BOB + "oidc/kernel/status", kernel_secret))
print("server-url", own)
"""


def test_a_kernel_in_alices_server_gets_her_token_and_not_bobs(hub: Hub) -> None:
    alice, bob = hub.users_running("alice", "bob")
    alice.ensure_signed_in()
    bob.ensure_signed_in()
    kernel_id = alice.start_kernel()
    try:
        out = alice.run_cell(kernel_id, f"BOB = {bob.url!r}\n{KERNEL_CELL}")
    finally:
        alice.request("DELETE", f"api/kernels/{kernel_id}")
    lines = dict(line.split(" ", 1) for line in out.strip().splitlines())
    assert lines["email"] == "alice@example.com"
    assert lines["own"] == "200"  # her kernel's hub token works on her own server, behind /jh/user/alice/
    assert lines["other-hub-token"] in ("302", "403") and lines["other-kernel-secret"] == "403"
    assert lines["server-url"].endswith(f"{BASE_URL}user/alice/")
