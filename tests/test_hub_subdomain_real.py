"""``c.JupyterHub.subdomain_host`` behind a real JupyterHub: each user's server on a host of its
own (``alice.hub.localhost``), the callback forwarder on its own too
(``oidc-callback--service.hub.localhost``, JupyterHub 5's ``idna`` hook), the real proxy routing
by host, real single-user servers with the extension, and the dev provider.

What runs for real: a sign-in started on the user's own host (default server, per-environment
redirect URI, named server, a name the hook hashes: ``dave@example.org`` on
``u-daveexam--….hub.localhost``) comes back through the forwarder, which answers an absolute
URL on that host; a person in Chromium does the same from the panel; another hub user's browser
bringing the owner's callback is refused (403 ``other_hub_user``); a forged ``Host`` or
``X-Forwarded-*`` never moves the target; and a forwarder not told the subdomain host still
gets there, through the hub's own redirects.

The hub is ``http://hub.localhost:{port}``. Names under ``.localhost`` are loopback (RFC 6761
§6.3) and browsers resolve them so (Chromium does it itself); this machine's glibc resolver
does not. So the test process, which plays the browser, resolves names ending in
``.localhost`` to 127.0.0.1 (``localhost_names``), as a browser does; the hub, the proxy, the
single-user servers and the forwarder are left alone: they reach each other by IP (the hub's
API, the proxy's API and targets, the servers' and the service's bind addresses, the
provider's issuer) and only put the names into URLs and ``Host`` routes. No system file is
touched. The dev provider accepts redirect URIs on names under ``.localhost`` as loopback
(dev/idp/provider.mjs).
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import quote, urlsplit

import httpx
import pytest

from jupyterlab_oidc.core.signin.state import server_of_state, user_of_state

from .hub_helpers import (
    forward_status,
    forwarded,
    login_to_forwarder,
    params,
    result_status,
    sign_in_with_chromium,
)
from .hub_support import BASE_URL, DIRECT, SERVICE, Hub, HubUser, free_port
from .idp import get_idp

pytestmark = pytest.mark.timeout(240)

DOMAIN = "hub.localhost"
SUBDOMAINS = """
c.JupyterHub.subdomain_host = {host!r}
c.JupyterHub.allow_named_servers = True
"""
# dave@example.org (hashed by the idna hook: u-daveexam--….hub.localhost) signs in through the
# forwarder too, per environment, instead of on his own redirect URI.
DAVE_THROUGH_THE_FORWARDER = """
_redirect_uri = redirect_uri
c.Spawner.environment["JUPYTERLAB_OIDC_REDIRECT_URI"] = lambda spawner: (
    _redirect_uri(spawner) or {service_url!r} + "callback/{{environment}}"
)
"""
# The forwarder, told the hub's subdomain host and hook as docs/jupyterhub.md says.
TELL_THE_FORWARDER = """
c.JupyterHub.services[0]["environment"] = {
    "JUPYTERLAB_OIDC_HUB_SUBDOMAIN_HOST": c.JupyterHub.subdomain_host,
    "JUPYTERLAB_OIDC_HUB_SUBDOMAIN_HOOK": "idna",
}
"""


_getaddrinfo = socket.getaddrinfo


def loopback_name(host: object) -> bool:
    """``localhost`` or a name under it (RFC 6761 §6.3)."""
    name = (host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)).lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def resolve(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    """What a browser does with ``*.localhost``: 127.0.0.1, without asking DNS; other names as usual."""
    return _getaddrinfo("127.0.0.1" if loopback_name(host) else host, port, *args, **kwargs)


@pytest.fixture(scope="module")
def localhost_names() -> Iterator[None]:
    """The test process (the browser's side only; the hub's processes are not touched)
    resolves names under ``.localhost`` to 127.0.0.1."""
    with mock.patch("socket.getaddrinfo", resolve):
        yield


def user_host(name: str) -> str:
    from jupyterhub.utils import subdomain_hook_idna

    return str(subdomain_hook_idna(name, DOMAIN, "user"))


class SubdomainUser(HubUser):
    """A hub user's server on the user's own host: ``http://{host}:{port}/jh/user/{name}/[{server}/]``."""

    def __init__(self, hub: Hub, name: str, server: str = "") -> None:
        super().__init__(hub, name)
        self.server = server
        self.origin = f"http://{user_host(name)}:{hub.port}"
        named = f"{quote(server, safe='@~')}/" if server else ""
        self.url = f"{self.origin}{BASE_URL}user/{quote(name, safe='@~')}/{named}"

    def redirect_uri(self, environment: str = "prod") -> str:
        """alice: the legacy URI; bob and dave (DAVE_THROUGH_THE_FORWARDER): per environment."""
        return super().redirect_uri() if self.name == "alice" else f"{self.hub.service_url}callback/{environment}"

    def server_ready(self) -> bool:
        server = self._model()["servers"].get(self.server)
        return bool(server and server["ready"])

    def start_server(self) -> None:
        named = f"/servers/{quote(self.server, safe='')}" if self.server else "/server"
        response = self.hub.api("POST", f"users/{quote(self.name, safe='')}{named}")
        assert response.status_code in (201, 202), response.text
        self.hub._wait(self.server_ready, 90, f"{self.name}'s server {self.server!r}", interval=0.5)


def start_subdomain_hub(root: Path, owner: str, extra: str = TELL_THE_FORWARDER) -> Hub:
    """A hub of tests/hub_support.py at ``http://hub.localhost:{port}`` with ``subdomain_host``."""
    from jupyterhub.utils import subdomain_hook_idna

    if shutil.which("node") is None:
        pytest.skip("node is needed for configurable-http-proxy")
    port, service = free_port(), subdomain_hook_idna(SERVICE, DOMAIN, "service")
    return Hub(
        root,
        get_idp("id_token", 300, owner=owner),
        port=port,
        host=DOMAIN,
        service_host=service,
        extra=SUBDOMAINS.format(host=f"http://{DOMAIN}:{port}")
        + DAVE_THROUGH_THE_FORWARDER.format(service_url=f"http://{service}:{port}{BASE_URL}services/{SERVICE}/")
        + extra,
    )


@pytest.fixture(scope="module")
def subdomain_hub(tmp_path_factory: pytest.TempPathFactory, localhost_names: None) -> Iterator[Hub]:
    running = start_subdomain_hub(tmp_path_factory.mktemp("hub-subdomain"), "hub-subdomain")
    try:
        yield running
    finally:
        running.stop()


SERVERS = {"alice": ("alice", ""), "bob": ("bob", ""), "alice/work": ("alice", "work"), DIRECT: (DIRECT, "")}


@pytest.fixture(scope="module")
def users(subdomain_hub: Hub) -> Iterator[dict[str, SubdomainUser]]:
    """alice (legacy redirect URI), bob and dave@example.org (per environment) and alice's named
    server ``work``, started together."""
    from concurrent.futures import ThreadPoolExecutor

    def start(key: str) -> SubdomainUser:
        user = SubdomainUser(subdomain_hub, *SERVERS[key])
        user.start_server()
        return user

    with ThreadPoolExecutor(len(SERVERS)) as pool:
        started = dict(zip(SERVERS, pool.map(start, SERVERS), strict=True))
    yield started
    for user in started.values():
        user.close()


def query(url: str) -> str:
    return urlsplit(url).query


@pytest.mark.parametrize(
    "key", list(SERVERS), ids=["legacy-redirect-uri", "per-environment-redirect-uri", "named-server", "hashed-host"]
)
def test_a_sign_in_on_the_users_own_host_comes_back_through_the_forwarder_to_that_host(
    subdomain_hub: Hub, users: dict[str, SubdomainUser], key: str
) -> None:
    user = users[key]
    browser = user.browser()  # logged in to the hub at hub.localhost, and to the server on its own host
    try:
        started, authorization_url = user.start_in_browser(browser)
        # Started on the user's own host; the state names the user (and the named server)
        assert urlsplit(started["start_url"]).netloc == urlsplit(user.origin).netloc
        assert user_of_state(started["state"]) == user.name and server_of_state(started["state"]) == user.server
        # The provider sends the browser to the forwarder on the service's own host
        assert params(started["url"])["redirect_uri"] == user.redirect_uri()
        assert urlsplit(user.redirect_uri()).hostname == f"{SERVICE}--service.{DOMAIN}"
        redirect = user.at_provider(authorization_url)
        page = browser.get(redirect)
    finally:
        browser.close()
    # The forwarder (after the hub's OAuth at hub.localhost) sent it on to the user's own host
    environment = "" if user.name == "alice" else "/prod"
    target = forwarded(page, subdomain_hub).headers["location"]
    assert target == f"{user.url}oidc/callback{environment}?{query(redirect)}"
    assert urlsplit(str(page.url)).netloc == urlsplit(user.origin).netloc
    assert page.status_code == 200 and result_status(page) == "signed_in", page.text[:300]
    result = user.oidc("POST", "await", {"state": started["state"]})
    assert result.status == 200, result.body
    assert [s["email"] for s in user.sessions()] == [user.email]


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian's chromium is not installed")
def test_a_person_in_chromium_signs_in_on_their_own_host(subdomain_hub: Hub, users: dict[str, SubdomainUser]) -> None:
    # Chromium resolves names under .localhost itself (no test-side resolver here)
    bob = users["bob"]
    bob.oidc("POST", "logout", {})
    seen = sign_in_with_chromium(bob)
    assert "error" not in seen, seen
    assert seen["result"] == "Signed in as bob@example.com" and seen["card_email"] == "bob@example.com"
    # The provider's tab went through the forwarder on its host, then on to bob's host
    urls = seen["popup_urls"]
    service = max(i for i, url in enumerate(urls) if url.startswith(f"{subdomain_hub.service_url}callback/prod?"))
    assert urls[service + 1].startswith(f"{bob.url}oidc/callback/prod?")
    assert urlsplit(bob.url).hostname == "bob.hub.localhost"
    assert [s["email"] for s in bob.sessions()] == ["bob@example.com"]


def _pending(user: HubUser, state: str) -> dict[str, Any]:
    pending: list[dict[str, Any]] = [p for p in user.oidc("GET", "status").body["pending"] if p["state"] == state]
    assert len(pending) == 1, pending
    return pending[0]


@pytest.mark.security_case("hub-subdomain-other-user")
def test_another_hub_users_browser_cannot_bring_a_sign_in_to_the_owners_host(
    subdomain_hub: Hub, users: dict[str, SubdomainUser]
) -> None:
    # Given: alice starts a sign-in on her own host with bob's email and sends bob the link; bob signs in
    alice, bob = users["alice"], users["bob"]
    own = alice.browser()
    try:
        started, authorization_url = alice.start_in_browser(own, login_hint=bob.email)
    finally:
        own.close()
    redirect = bob.at_provider(authorization_url, as_email=bob.email)
    assert redirect.startswith(subdomain_hub.service_url)
    codes_before = subdomain_hub.idp.token_calls("authorization_code")
    # When: bob's browser, logged in to the hub as bob, brings alice's state and bob's code
    browser = bob.browser()
    try:
        page = browser.get(redirect)
    finally:
        browser.close()
    # Then: the forwarder refuses, and nothing reaches alice's host
    assert page.status_code == 403 and forward_status(page) == "other_hub_user"
    assert "location" not in page.headers
    for response in [*page.history, page]:
        assert urlsplit(str(response.url)).hostname != user_host("alice")
        assert user_host("alice") not in response.headers.get("location", "")
    assert subdomain_hub.idp.token_calls("authorization_code") == codes_before
    assert not _pending(alice, started["state"])["callback_received"]
    assert bob.email not in [s["email"] for s in alice.sessions()]
    alice.oidc("POST", "cancel", {"state": started["state"]})


FORGED = {
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Port": "443",
    "Forwarded": "host=evil.example;proto=https",
}


@pytest.mark.security_case("hub-subdomain-forged-host")
@pytest.mark.parametrize("path", ["through-the-proxy", "at-the-forwarder"])
def test_a_callback_with_a_forged_host_goes_to_the_users_configured_host_only(
    subdomain_hub: Hub, users: dict[str, SubdomainUser], path: str
) -> None:
    # Given: alice's browser, logged in to the hub and the forwarder, with her provider's redirect
    alice = users["alice"]
    browser = alice.browser()
    try:
        login_to_forwarder(browser, alice)
        started, authorization_url = alice.start_in_browser(browser)
        redirect = alice.at_provider(authorization_url)
        # When: the callback arrives with a forged Host (a port of the attacker's; the proxy
        # still routes it to the service by name) or, at the forwarder's own address, an
        # attacker's host, and forged X-Forwarded-* / Forwarded headers either way
        service_host = urlsplit(subdomain_hub.service_url).hostname
        if path == "through-the-proxy":
            answer = browser.get(redirect, headers={"Host": f"{service_host}:1", **FORGED}, follow_redirects=False)
        else:
            cookies = "; ".join(f"{c.name}={c.value}" for c in browser.cookies.jar if c.domain == service_host)
            direct = subdomain_hub.service_bind_url + urlsplit(redirect).path + "?" + query(redirect)
            with httpx.Client(timeout=30) as raw:
                answer = raw.get(direct, headers={"Host": "evil.example", "Cookie": cookies, **FORGED})
        # Then: the forwarder sends it to alice's host as configured, nowhere else
        assert answer.status_code == 303, answer.text[:300]
        assert answer.headers["location"] == f"{alice.url}oidc/callback?{query(redirect)}"
        page = browser.get(answer.headers["location"])
    finally:
        browser.close()
    assert result_status(page) == "signed_in"
    assert alice.oidc("POST", "await", {"state": started["state"]}).status == 200


def test_a_forwarder_not_told_the_subdomain_host_still_gets_there_through_the_hubs_own_redirects(
    tmp_path_factory: pytest.TempPathFactory, localhost_names: None
) -> None:
    # Given a hub with subdomain_host whose forwarder was not told (no JUPYTERLAB_OIDC_HUB_SUBDOMAIN_*)
    hub = start_subdomain_hub(tmp_path_factory.mktemp("hub-subdomain-untold"), "hub-subdomain-untold", extra="")
    try:
        alice = SubdomainUser(hub, "alice")
        alice.start_server()
        browser = alice.browser()
        try:
            started, authorization_url = alice.start_in_browser(browser)
            redirect = alice.at_provider(authorization_url)
            page = browser.get(redirect)
        finally:
            browser.close()
        # Then the forwarder answers a path on its own host, and the hub sends the browser on
        # (/jh/hub/user/alice/…, then alice's host): two more hops, the same sign-in
        target = forwarded(page, hub).headers["location"]
        assert target == f"{BASE_URL}user/alice/oidc/callback?{query(redirect)}"
        after = [*page.history[page.history.index(forwarded(page, hub)) :], page]
        service = urlsplit(hub.service_url).hostname
        assert [urlsplit(str(r.url)).hostname for r in after] == [service, service, DOMAIN, user_host("alice")]
        assert result_status(page) == "signed_in"
        assert alice.oidc("POST", "await", {"state": started["state"]}).status == 200
        alice.close()
    finally:
        hub.stop()
