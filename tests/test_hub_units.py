"""The hub forwarder without a hub: its decision table (target, environment, browser user), its
HTTP layer with a stub hub login, command line, logs and footprint. (The settings a single-user
server takes from JupyterHub's environment and the documented examples: test_hub_config.py.)"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from jupyterlab_oidc.core.signin.state import make_state
from jupyterlab_oidc.hub import (
    ForwardRefused,
    OtherUsersSignIn,
    callback_target,
    check_browser_user,
    environment_segment,
    hub_base_url,
    owner_of,
    state_user,
)
from jupyterlab_oidc.hub.__main__ import cookie_secret, parse_args

#: What JupyterHub gives a managed service, enough to start (the hub API is never reached here).
SERVICE_ENV = {
    "JUPYTERHUB_API_TOKEN": "service-token",
    "JUPYTERHUB_CLIENT_ID": "service-oidc-callback",
    "JUPYTERHUB_API_URL": "http://127.0.0.1:9/hub/api",
    "JUPYTERHUB_SERVICE_NAME": "oidc-callback",
}


def b64(user: str) -> str:
    return base64.urlsafe_b64encode(user.encode()).rstrip(b"=").decode()


# ------------------------------------------------------------------ the decision


@pytest.mark.parametrize(
    ("user", "path"),
    [
        ("alice", "/user/alice/"),
        ("bob@example.com", "/user/bob@example.com/"),  # escaped as JupyterHub escapes it
        ("ünïcode", "/user/%C3%BCn%C3%AFcode/"),
        ("a b+c~d", "/user/a%20b%2Bc~d/"),
        ("semi;colon", "/user/semi%3Bcolon/"),
    ],
)
def test_a_state_of_make_state_is_forwarded_to_its_users_callback(user: str, path: str) -> None:
    state = make_state(user)
    target = callback_target(f"code=abc&state={state}&iss=https%3A%2F%2Fidp.example", "/")
    assert urlsplit(target).path == f"{path}oidc/callback"
    assert dict(parse_qsl(urlsplit(target).query)) == {"code": "abc", "state": state, "iss": "https://idp.example"}


@pytest.mark.parametrize("base", ["/", "/jh/", "/a/b/", "/hub%40prefix/", "/jh"])
def test_the_target_sits_under_the_hub_base_url(base: str) -> None:
    target = callback_target(f"state={make_state('alice')}", hub_base_url(base))
    assert target.startswith(f"{hub_base_url(base)}user/alice/oidc/callback?")


@pytest.mark.parametrize(
    "state",
    [
        "",
        "n0nce",
        ".x",
        f"{b64('alice')}.",
        f"{b64('..')}.x",
        f"{b64('.')}.x",
        f"{b64('a/b')}.x",
        f"{b64('a%2Fb')}.x",
        f"{b64('a' + chr(92) + 'b')}.x",
        f"{b64('alice' + chr(10))}.x",
        f"{b64('alice' + chr(0x2028))}.x",
        f"{b64('alice' + chr(0x85))}.x",
        f"{b64('a?b')}.x",
        f"{b64('a#b')}.x",
        f"{b64('https://evil.example')}.x",
        f"{b64('//evil.example')}.x",
        f"{b64('x' * 256)}.x",
        "YWxpY2U+.x",
        "YWxpY2U=.x",
        "YWxpY2U==.x",
        "YWxpY2V.x",
        "YWxpY2U/.x",
        "!!!.x",
        "A" * 5000 + ".x",
    ],
    ids=[
        "empty",
        "no-user",
        "empty-user",
        "no-nonce",
        "dotdot",
        "dot",
        "slash",
        "encoded-slash",
        "backslash",
        "trailing-newline",
        "line-separator",
        "c1-control",
        "question",
        "hash",
        "absolute-url",
        "scheme-relative",
        "too-long",
        "plus",
        "padding",
        "double-padding",
        "non-canonical-bits",
        "std-b64-slash",
        "not-b64",
        "huge",
    ],
)
def test_states_that_name_no_valid_user_are_refused(state: str) -> None:
    assert state_user(state) is None
    with pytest.raises(ForwardRefused, match="names no JupyterHub user|no state"):
        callback_target(f"code=abc&state={state}", "/")


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("code=abc", "no state"),
        (f"state={make_state('alice')}&state={make_state('bob')}", "more than one state"),
        (f"state={make_state('alice')}&junk={'x' * 9000}", "too long"),
        ("state=%ff%fe.x", "cannot be decoded"),
        ("&".join(f"f{i}=1" for i in range(40)), "too many fields"),
    ],
    ids=["no-state", "two-states", "too-long", "not-utf8", "too-many-fields"],
)
def test_queries_that_cannot_be_forwarded_are_refused(query: str, reason: str) -> None:
    with pytest.raises(ForwardRefused, match=reason):
        callback_target(query, "/")


@pytest.mark.parametrize(
    "extra",
    [
        "next=https://evil.example/",
        "redirect_uri=//evil.example",
        "url=/%5Cevil.example",
        "x=%0d%0aLocation:%20//e",
        "code=%23//evil.example",
        "iss=javascript:alert(1)",
        "https://evil.example=1",
    ],
)
def test_other_parameters_never_move_the_target(extra: str) -> None:
    target = callback_target(f"state={make_state('alice')}&{extra}", "/jh/")
    assert urlsplit(target).path == "/jh/user/alice/oidc/callback" and not urlsplit(target).netloc
    assert not any(c in target for c in "#\\\r\n") and "//" not in target


@pytest.mark.parametrize(
    ("environment", "segment"),
    [
        ("prod", "/prod"),
        ("dev eu", "/dev%20eu"),
        ("a+b", "/a%2Bb"),
        ("été", "/%C3%A9t%C3%A9"),
        ("a?b#c", "/a%3Fb%23c"),
        ("a%2Fb", "/a%252Fb"),
        ("..x", "/..x"),
        ("~", "/~"),
    ],
)
def test_an_environment_becomes_one_requoted_path_segment(environment: str, segment: str) -> None:
    assert environment_segment(environment) == segment
    target = callback_target(f"code=abc&state={make_state('alice')}", "/jh/", environment)
    assert urlsplit(target).path == f"/jh/user/alice/oidc/callback{segment}"
    assert callback_target(f"state={make_state('alice')}", "/", None).startswith("/user/alice/oidc/callback?")


@pytest.mark.parametrize(
    "environment",
    ["", ".", "..", "a/b", "/", "a\\b", "a\nb", "a\x00", "a\x85", "a\u2028", "x" * 256],
    ids=[
        "empty",
        "dot",
        "dotdot",
        "slash",
        "only-slash",
        "backslash",
        "newline",
        "nul",
        "c1",
        "line-separator",
        "too-long",
    ],
)
def test_environments_that_are_not_one_segment_are_refused(environment: str) -> None:
    with pytest.raises(ForwardRefused, match="environment"):
        environment_segment(environment)
    with pytest.raises(ForwardRefused, match="environment"):
        callback_target(f"code=abc&state={make_state('alice')}", "/", environment)


def test_the_owner_is_the_user_named_in_the_state() -> None:
    assert owner_of(f"code=abc&state={make_state('bob@example.com')}") == "bob@example.com"
    with pytest.raises(ForwardRefused, match="no state"):
        owner_of("code=abc")


@pytest.mark.parametrize("browser_user", ["bob", "Alice", "alice ", "", "admin", "alice\n"])
def test_only_the_user_named_in_the_state_may_bring_its_callback(browser_user: str) -> None:
    check_browser_user("alice", "alice")
    with pytest.raises(OtherUsersSignIn, match="another hub user") as refused:
        check_browser_user("alice", browser_user)
    assert refused.value.status == 403 and isinstance(refused.value, ForwardRefused)


def _serve_with(model: dict[str, object] | None, paths: list[str]) -> list[httpx.Response]:
    """The forwarder's app in this process, the hub's answer about the browser stubbed."""
    from jupyterhub.services.auth import HubOAuth
    from tornado.httpserver import HTTPServer
    from tornado.testing import bind_unused_port

    from jupyterlab_oidc.hub.service import make_app

    class Stub(HubOAuth):
        def get_user(self, handler: object, *, sync: bool = True) -> object:
            async def answer() -> object:
                return model

            return model if sync else answer()

    auth = Stub(
        api_token="t",
        oauth_client_id="service-oidc-callback",
        base_url="/services/oidc-callback/",
        hub_prefix="/jh/hub/",
        access_scopes={"access:services!service=oidc-callback"},
    )

    async def run() -> list[httpx.Response]:
        sock, port = bind_unused_port()
        server = HTTPServer(make_app("/services/oidc-callback/", "/jh/", auth, b"k" * 32))
        server.add_sockets([sock])
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                return [await client.get(path) for path in paths]
        finally:
            server.stop()

    return asyncio.run(run())


def _user(
    name: str, kind: str = "user", scopes: tuple[str, ...] = ("access:services!service=oidc-callback",)
) -> dict[str, object]:
    return {"name": name, "kind": kind, "scopes": list(scopes)}


def test_the_http_layer_forwards_only_the_browsers_own_users_callback() -> None:
    alice, bob = make_state("alice"), make_state("bob")
    own, other, env, bad = _serve_with(
        _user("alice"),
        [
            f"/services/oidc-callback/?code=c&state={alice}",
            f"/services/oidc-callback/callback?code=c&state={bob}",
            f"/services/oidc-callback/callback/dev%20eu?code=c&state={alice}",
            "/services/oidc-callback/?code=c",
        ],
    )
    assert own.status_code == 303 and own.headers["location"] == f"/jh/user/alice/oidc/callback?code=c&state={alice}"
    assert env.status_code == 303 and env.headers["location"].startswith("/jh/user/alice/oidc/callback/dev%20eu?")
    assert other.status_code == 403 and 'data-status="other_hub_user"' in other.text and "location" not in other.headers
    assert "Nothing was sent" in other.text
    assert bad.status_code == 400 and 'data-status="forward_refused"' in bad.text
    for response in (own, other, env, bad):
        assert response.headers["referrer-policy"] == "no-referrer" and response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("model", "status", "page"),
    [
        (None, 302, None),
        (_user("alice", kind="service"), 403, "other_hub_user"),
        (_user("alice", scopes=("self",)), 403, "service_not_allowed"),
    ],
    ids=["not-logged-in", "a-service-named-alice", "no-access-scope"],
)
def test_the_http_layer_sends_strangers_to_the_hub_and_refuses_the_rest(
    model: dict[str, object] | None, status: int, page: str | None
) -> None:
    (response,) = _serve_with(model, [f"/services/oidc-callback/callback/prod?code=SECRET&state={make_state('alice')}"])
    assert response.status_code == status
    if page is None:
        location = response.headers["location"]
        assert location.startswith("/jh/hub/api/oauth2/authorize?") and "SECRET" not in location
        assert response.headers["set-cookie"].startswith("service-oidc-callback-oauth-state=")
    else:
        assert f'data-status="{page}"' in response.text and "location" not in response.headers


@pytest.mark.parametrize(
    "base",
    [
        "jh/",
        "//evil.example/",
        "/\\evil.example/",
        "http://evil.example/",
        "/a//b/",
        "/a?b/",
        "/a#b/",
        "/a b/",
        "/a/../",
        "/./",
        "/jh/\n",
        "/jh\n/",
    ],
)
def test_a_hub_base_url_must_be_a_plain_path(base: str) -> None:
    with pytest.raises(ValueError, match="not a hub base URL"):
        hub_base_url(base)


# ------------------------------------------------------------------ command line, logs, footprint


def test_help_names_the_jupyterhub_environment() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jupyterlab_oidc.hub", "--help"], capture_output=True, text=True, check=True
    )
    for name in (
        "JUPYTERHUB_SERVICE_URL",
        "JUPYTERHUB_SERVICE_PREFIX",
        "JUPYTERHUB_BASE_URL",
        "--hub-base-url",
        "JUPYTERHUB_CLIENT_ID",
        "JUPYTERLAB_OIDC_HUB_COOKIE_SECRET",
        "access:services!service=",
        "oauth_no_confirm",
    ):
        assert name in result.stdout


def test_defaults_come_from_the_managed_service_environment() -> None:
    environ = {
        "JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:10202",
        "JUPYTERHUB_SERVICE_PREFIX": "/jh/services/oidc-callback/",
        "JUPYTERHUB_BASE_URL": "/jh/",
    }
    args = parse_args([], environ)
    assert (args.ip, args.port, args.prefix, args.hub_base_url) == (
        "127.0.0.1",
        10202,
        "/jh/services/oidc-callback/",
        "/jh/",
    )
    assert parse_args(["--ip", "0.0.0.0", "--port", "8182"], environ).ip == "0.0.0.0"


def test_a_bad_base_url_stops_the_service_at_start() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jupyterlab_oidc.hub", "--hub-base-url", "//evil.example/"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "not a hub base URL" in result.stderr


def test_outside_a_hub_the_service_says_it_needs_the_hubs_oauth() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERHUB_")}
    result = subprocess.run([sys.executable, "-m", "jupyterlab_oidc.hub"], capture_output=True, text=True, env=env)
    assert result.returncode == 2
    assert (
        "JUPYTERHUB_API_TOKEN and JUPYTERHUB_CLIENT_ID not set" in result.stderr and "managed service" in result.stderr
    )


def test_the_cookie_secret_comes_from_the_environment_or_is_random() -> None:
    assert cookie_secret({"JUPYTERLAB_OIDC_HUB_COOKIE_SECRET": "ab" * 32}) == bytes([0xAB]) * 32
    first, second = cookie_secret({}), cookie_secret({})
    assert len(first) == 32 and first != second
    for bad, reason in (("zz" * 32, "not hex"), ("ab" * 16, "shorter than 32 bytes")):
        with pytest.raises(ValueError, match=reason):
            cookie_secret({"JUPYTERLAB_OIDC_HUB_COOKIE_SECRET": bad})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_service_logs_paths_never_codes_or_states_and_stops_on_sigterm() -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab_oidc.hub", "--port", str(port), "--log-level", "DEBUG"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **SERVICE_ENV, "JUPYTERHUB_SERVICE_URL": ""},
    )
    url = f"http://127.0.0.1:{port}/services/oidc-callback/"
    try:
        _wait_for(f"{url}health", process)
        secrets = [
            "c0de-SECRET-1",
            f"{b64('alice')}.St4te-SECRET-2",
            "c0de-SECRET-3",
            "n0-user-St4te-SECRET-4",
            "c0de-SECRET-5",
            f"{b64('bob')}.St4te-SECRET-6",
        ]
        login = httpx.get(url, params={"code": secrets[0], "state": secrets[1]})
        assert login.status_code == 302  # to the hub's OAuth: no browser login yet
        assert not [s for s in secrets if s in login.headers["location"]]
        assert httpx.get(f"{url}callback", params={"code": secrets[2], "state": secrets[3]}).status_code == 400
        assert httpx.get(f"{url}callback/prod", params={"code": secrets[4], "state": secrets[5]}).status_code == 302
        assert httpx.get(f"{url}nowhere", params={"code": secrets[0]}).status_code == 404
        assert httpx.get(f"{url}oauth_callback", params={"code": secrets[0], "state": secrets[1]}).status_code == 403
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert "302 GET /services/oidc-callback/ " in stderr and "400 GET /services/oidc-callback/callback " in stderr
    assert "302 GET /services/oidc-callback/callback/prod " in stderr
    assert not [s for s in secrets if s in stderr], stderr


def _wait_for(url: str, process: subprocess.Popen[str], **kwargs: object) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(url, **kwargs)  # type: ignore[arg-type]
            return
        except httpx.HTTPError:
            assert time.monotonic() < deadline and process.poll() is None, "the service did not start"
            time.sleep(0.1)


def test_under_internal_ssl_the_service_serves_https_to_clients_with_a_hub_certificate(tmp_path: Path) -> None:
    certipy = pytest.importorskip("certipy")  # JupyterHub makes its internal_ssl certificates with it
    store = certipy.Certipy(store_dir=str(tmp_path))
    store.create_ca("ca")
    store.create_signed_pair("service", "ca", alt_names=["IP:127.0.0.1", "DNS:localhost"])
    store.create_signed_pair("proxy", "ca")
    service, proxy = store.store.get_record("service")["files"], store.store.get_record("proxy")["files"]
    port = _free_port()
    env = {
        **os.environ,
        **SERVICE_ENV,
        "JUPYTERHUB_SERVICE_URL": f"https://127.0.0.1:{port}",
        "JUPYTERHUB_SSL_KEYFILE": service["key"],
        "JUPYTERHUB_SSL_CERTFILE": service["cert"],
        "JUPYTERHUB_SSL_CLIENT_CA": service["ca"],
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab_oidc.hub"], env=env, stderr=subprocess.PIPE, text=True
    )
    url = f"https://127.0.0.1:{port}/services/oidc-callback/health"
    try:
        with_cert = ssl.create_default_context(cafile=service["ca"])
        with_cert.load_cert_chain(proxy["cert"], proxy["key"])
        _wait_for(url, process, verify=with_cert)
        assert httpx.get(url, verify=with_cert).json() == {"status": "ok"}
        with pytest.raises(httpx.HTTPError):
            httpx.get(url, verify=service["ca"])  # no client certificate: the handshake fails
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    assert "forwarding https://127.0.0.1" in stderr


def _modules(imports: str) -> set[str]:
    code = f"import sys, json, {imports}; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    return set(
        json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    )


def test_the_decision_needs_no_web_framework_and_the_service_only_the_hubs_own_packages() -> None:
    assert not _modules("jupyterlab_oidc.hub.forward") & {"tornado", "jupyterhub", "jupyter_server", "traitlets"}
    loaded = _modules("jupyterlab_oidc.hub.service, jupyterlab_oidc.hub.__main__")
    assert "jupyterhub" in loaded  # its service OAuth, from the hub's own environment
    assert not loaded & {"jupyter_server", "jupyter_client", "jupyterlab", "httpx", "joserfc"}
