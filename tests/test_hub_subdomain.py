"""Unit tests of the forwarder for named servers and ``subdomain_host``: the state that carries the
server name, the target path, and the user's own host built from the hub's configuration only.

The real hub runs in tests/test_hub_named.py (named servers) and tests/test_hub_subdomain_real.py
(``subdomain_host``: the sign-in on the user's own host, another hub user refused, forged
``Host`` and ``X-Forwarded-*`` headers); here are the edge cases a hub cannot easily produce
(other hooks, odd names, a hook answering outside the hub's domain, bad settings).
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import httpx
import pytest

from jupyterlab_oidc.core.signin.state import make_state, server_of_state, user_of_state
from jupyterlab_oidc.hub.__main__ import parse_args
from jupyterlab_oidc.hub.forward import ForwardRefused, callback_target, owner_of
from jupyterlab_oidc.hub.subdomain import hook, subdomain_host, user_origin

HOST = "https://hub.example.org:8443"

# ---------------------------------------------------------------- the state


@pytest.mark.parametrize("server", ["work", "gpu-1", "Ünïcode", "a.b", "with space"])
def test_the_state_carries_the_named_server(server: str) -> None:
    state = make_state("alice", server)
    assert user_of_state(state) == "alice" and server_of_state(state) == server
    assert state.count(".") == 2


def test_a_state_without_server_is_the_default_server_and_stays_in_the_old_form() -> None:
    state = make_state("alice")
    assert state.count(".") == 1 and server_of_state(state) == ""
    assert make_state("alice", "").count(".") == 1 and "." not in make_state()


def test_a_forwarder_that_knows_only_users_still_reads_the_user_of_a_named_servers_state() -> None:
    # The old parser: the user is the part before the first separator.
    state = make_state("alice", "work")
    assert owner_of(f"code=c&state={state}") == "alice"


@pytest.mark.parametrize(
    "middle",
    ["", "d29yaw==", "d29yaw=", "d29y+w", "Lw", "Li4", "LgA", "%%%"],
    ids=["empty", "padded", "half-padded", "plus", "slash", "dot-dot", "control", "not-base64"],
)
def test_a_state_with_an_invalid_server_is_refused(middle: str) -> None:
    state = f"{make_state('alice').split('.')[0]}.{middle}.{'n' * 43}"
    assert server_of_state(state) is None
    with pytest.raises(ForwardRefused):
        callback_target(f"code=c&state={quote(state)}", "/jh/")


# ---------------------------------------------------------------- named servers


@pytest.mark.parametrize(
    ("server", "environment", "path"),
    [
        ("work", None, "/jh/user/alice/work/oidc/callback"),
        ("work", "dev", "/jh/user/alice/work/oidc/callback/dev"),
        ("with space", None, "/jh/user/alice/with%20space/oidc/callback"),
        ("", None, "/jh/user/alice/oidc/callback"),
    ],
    ids=["named", "named-per-environment", "escaped", "default"],
)
def test_a_named_servers_callback_goes_to_that_server(server: str, environment: str | None, path: str) -> None:
    state = make_state("alice", server)
    target = callback_target(f"code=c&state={state}", "/jh/", environment)
    assert target == f"{path}?code=c&state={state}"


# ---------------------------------------------------------------- subdomain_host


@pytest.mark.parametrize(
    ("name", "hook_name", "origin"),
    [
        ("alice", "idna", "https://alice.hub.example.org:8443"),
        ("Bob", "legacy", "https://bob.hub.example.org:8443"),
        ("dave@example.org", "legacy", "https://dave_40example.org.hub.example.org:8443"),
        ("ünï", "idna", "https://xn--n-nga1b.hub.example.org:8443"),
    ],
)
def test_the_users_host_is_the_hubs_own_label_under_the_subdomain_host(name: str, hook_name: str, origin: str) -> None:
    assert user_origin(subdomain_host(HOST), name, hook(hook_name)) == origin


def test_under_subdomain_host_the_target_is_absolute_on_the_users_host() -> None:
    state = make_state("alice", "work")
    origin = lambda name: user_origin(subdomain_host(HOST), name, hook("idna"))
    target = callback_target(f"code=c&state={state}", "/", "prod", origin)
    assert target == f"https://alice.hub.example.org:8443/user/alice/work/oidc/callback/prod?code=c&state={state}"


@pytest.mark.parametrize(
    "value",
    [
        "hub.example.org",
        "ftp://hub.example.org",
        "https://hub.example.org/path",
        "https://hub.example.org?x",
        "https://hub.example.org#x",
        "https://u:p@hub.example.org",
        "https://127.0.0.1",
        "https://hub.example.org:x",
        "https://hub..example.org",
        "https://hub_example\\.org",
    ],
)
def test_a_subdomain_host_must_be_scheme_host_and_port(value: str) -> None:
    with pytest.raises(ValueError):
        subdomain_host(value)


def test_a_hook_answer_outside_the_hubs_domain_is_refused() -> None:
    evil = lambda name, domain, kind: "evil.example"
    with pytest.raises(ValueError):
        user_origin(subdomain_host(HOST), "alice", evil)
    state = make_state("alice")
    with pytest.raises(ForwardRefused, match="no valid host"):
        callback_target(f"code=c&state={state}", "/", None, lambda name: user_origin(subdomain_host(HOST), name, evil))
    with pytest.raises(ForwardRefused, match="host is not valid"):
        callback_target(f"code=c&state={state}", "/", None, lambda name: "https://a.example/x")


def test_the_service_options_for_subdomains() -> None:
    args = parse_args(
        [],
        environ={
            "JUPYTERLAB_OIDC_HUB_SUBDOMAIN_HOST": "https://Hub.Example.org:8443/",
            "JUPYTERLAB_OIDC_HUB_SUBDOMAIN_HOOK": "legacy",
        },
    )
    assert (args.subdomain_host, args.subdomain_hook) == ("https://hub.example.org:8443", "legacy")
    assert parse_args([], environ={}).subdomain_host == ""
    with pytest.raises(SystemExit):
        parse_args(["--subdomain-host", "https://hub.example.org/jh/"], environ={})


@pytest.mark.parametrize("value", ["custom", "IDNA", "idna "])
def test_a_subdomain_hook_from_the_environment_that_the_service_does_not_know_is_a_usage_error(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args([], environ={"JUPYTERLAB_OIDC_HUB_SUBDOMAIN_HOOK": value})
    assert (
        exited.value.code == 2
        and "JUPYTERLAB_OIDC_HUB_SUBDOMAIN_HOOK must be one of idna, legacy" in capsys.readouterr().err
    )


def test_the_http_layer_redirects_to_the_users_host_whatever_the_request_says() -> None:
    from jupyterhub.services.auth import HubOAuth
    from tornado.httpserver import HTTPServer
    from tornado.testing import bind_unused_port

    from jupyterlab_oidc.hub.service import make_app

    class Alice(HubOAuth):
        def get_user(self, handler: object, *, sync: bool = True) -> object:
            model = {"name": "alice", "kind": "user", "scopes": ["access:services!service=oidc-callback"]}

            async def answer() -> object:
                return model

            return model if sync else answer()

    auth = Alice(
        api_token="t",
        oauth_client_id="service-oidc-callback",
        base_url="/services/oidc-callback/",
        hub_prefix="/hub/",
        access_scopes={"access:services!service=oidc-callback"},
    )
    host = subdomain_host(HOST)
    app = make_app("/services/oidc-callback/", "/", auth, b"k" * 32, lambda name: user_origin(host, name, hook("idna")))
    state = make_state("alice", "work")

    async def run() -> httpx.Response:
        sock, port = bind_unused_port()
        server = HTTPServer(app)
        server.add_sockets([sock])
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                return await client.get(
                    f"/services/oidc-callback/callback/prod?code=c&state={state}",
                    headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"},
                )
        finally:
            server.stop()

    response = asyncio.run(run())
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"https://alice.hub.example.org:8443/user/alice/work/oidc/callback/prod?code=c&state={state}"
    )
