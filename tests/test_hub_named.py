"""Named servers behind a real JupyterHub (``c.JupyterHub.allow_named_servers = True``): the state
carries the server name (``JUPYTERHUB_SERVER_NAME``) and the callback forwarder sends the
provider's redirect to ``/user/{name}/{server}/oidc/callback[/{environment}]``, for the
browser's own hub user only.

``subdomain_host`` runs against a real hub in tests/test_hub_subdomain_real.py (each user on
``{name}.hub.localhost``, a named server there too); the forwarder's URL building for
subdomains is unit-tested in tests/test_hub_subdomain.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from unittest import mock
from urllib.parse import quote, urlsplit

import pytest

from jupyterlab_oidc.core.signin.state import server_of_state, user_of_state

from . import hub_support
from .hub_helpers import forwarded, params
from .hub_support import BASE_URL, Hub, HubUser
from .idp import get_idp

pytestmark = pytest.mark.timeout(240)

SERVER = "work"
NAMED_SERVERS = "\nc.JupyterHub.allow_named_servers = True\n"


class NamedServer(HubUser):
    """A hub user's named server ``/user/{name}/{server}/``: the same token and browser, another URL."""

    def __init__(self, hub: Hub, name: str, server: str) -> None:
        super().__init__(hub, name)
        self.server = server
        self.url = f"{hub.url}user/{quote(name, safe='@~')}/{quote(server, safe='@~')}/"

    def server_ready(self) -> bool:
        server = self._model()["servers"].get(self.server)
        return bool(server and server["ready"])

    def start_server(self) -> None:
        response = self.hub.api("POST", f"users/{quote(self.name, safe='')}/servers/{quote(self.server, safe='')}")
        assert response.status_code in (201, 202), response.text
        self.hub._wait(self.server_ready, 90, f"{self.name}'s server {self.server}", interval=0.5)


@pytest.fixture(scope="module")
def named_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub of tests/hub_support.py with named servers allowed; no server runs until asked."""
    if shutil.which("node") is None:
        pytest.skip("node is needed for configurable-http-proxy")
    with mock.patch.object(hub_support, "HUB_CONFIG", hub_support.HUB_CONFIG + NAMED_SERVERS):
        running = Hub(tmp_path_factory.mktemp("hub-named"), get_idp("id_token", 300, owner="hub-named"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def servers(named_hub: Hub) -> Iterator[dict[str, NamedServer]]:
    """alice's and bob's server ``work`` (alice: legacy redirect URI, bob: per environment), started together."""
    from concurrent.futures import ThreadPoolExecutor

    def start(name: str) -> NamedServer:
        server = NamedServer(named_hub, name, SERVER)
        server.start_server()
        return server

    with ThreadPoolExecutor(2) as pool:
        started = dict(zip(("alice", "bob"), pool.map(start, ("alice", "bob")), strict=True))
    yield started
    for server in started.values():
        server.close()


@pytest.mark.parametrize("name", ["alice", "bob"], ids=["legacy-redirect-uri", "per-environment-redirect-uri"])
def test_a_named_servers_sign_in_comes_back_to_that_server(
    named_hub: Hub, servers: dict[str, NamedServer], name: str
) -> None:
    server = servers[name]
    browser = server.browser()  # logged in to the hub, and to the named server (its own OAuth client)
    try:
        started, authorization_url = server.start_in_browser(browser)
        # The state names the user and the server (JUPYTERHUB_SERVER_NAME reached the extension)
        assert user_of_state(started["state"]) == name and server_of_state(started["state"]) == SERVER
        assert params(started["url"])["redirect_uri"] == server.redirect_uri()  # the hub service
        page = browser.get(server.at_provider(authorization_url))
    finally:
        browser.close()
    # The forwarder sent the browser to the named server's callback, which finished the sign-in
    environment = "/prod" if name == "bob" else ""
    target = forwarded(page, named_hub).headers["location"]
    assert target.startswith(f"{BASE_URL}user/{name}/{SERVER}/oidc/callback{environment}?")
    assert page.status_code == 200 and str(page.url).startswith(f"{server.url}oidc/callback")
    result = server.oidc("POST", "await", {"state": started["state"]})
    assert result.status == 200, result.body
    assert [s["email"] for s in server.sessions()] == [server.email]


@pytest.mark.security_case("hub-named-server-other-user")
def test_another_hub_users_browser_cannot_bring_a_named_servers_callback(
    named_hub: Hub, servers: dict[str, NamedServer]
) -> None:
    # Given a sign-in started on alice's named server, and its provider redirect in bob's browser
    alice, bob = servers["alice"], servers["bob"]
    own = alice.browser()
    try:
        started, authorization_url = alice.start_in_browser(own)
        redirect = alice.at_provider(authorization_url)
    finally:
        own.close()
    other = bob.browser()
    try:
        page = other.get(redirect)
    finally:
        other.close()
    # Then the forwarder refuses it and alice's server never sees the code
    assert page.status_code == 403 and 'data-status="other_hub_user"' in page.text
    assert not any(urlsplit(str(r.url)).path.startswith(alice.url.split(named_hub.origin)[1]) for r in page.history)
    assert alice.oidc("POST", "await", {"state": started["state"], "wait_seconds": 0}).status == 202
