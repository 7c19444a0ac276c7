"""The kernel side of the ``jupyterlab-oidc`` comm, against a frontend played over jupyter_client.

The real JupyterLab bridge (TypeScript) is tested in the browser; here the kernel half is
checked with real subshells: a cell that blocks the main thread gets its answer through the
comm, a frontend without subshells or a silent one leads to HTTP, pushes update the cache.
These kernels have the kernel secret, so they pull over HTTP by default; the comm-pull tests
switch that off with ``JUPYTERLAB_OIDC_PULL=comm`` (docs/kernel-protocol.md §2).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from .kernel_support import ALICE, BOB, COMM_PRELUDE, FakeFrontend, JupyterServer, RealKernel

#: Pull through a live comm although the kernel has the secret (the switch the helper honours).
PULL_OVER_COMM = 'import os\nos.environ["JUPYTERLAB_OIDC_PULL"] = "comm"\n'


def _prelude(wait: float = 5, pull: str = "comm") -> str:
    return (PULL_OVER_COMM if pull == "comm" else "") + COMM_PRELUDE.replace("WAIT", str(wait))


@pytest.fixture(autouse=True)
def default_pull_route(fresh_kernel: RealKernel) -> Iterator[None]:
    """The kernel is shared with other tests: each test here starts and ends with the default route."""
    fresh_kernel.run('import os\nos.environ.pop("JUPYTERLAB_OIDC_PULL", None)')
    yield
    fresh_kernel.run('import os\nos.environ.pop("JUPYTERLAB_OIDC_PULL", None)')


def _until(condition: str, seconds: float = 2) -> str:
    """Cell code that waits (briefly) for ``condition``: pushes are handled on another thread."""
    return f"_end = time.monotonic() + {seconds}\nwhile not ({condition}) and time.monotonic() < _end:\n    time.sleep(0.01)\n"


def test_a_blocked_cell_gets_tokens_through_the_comm_when_the_frontend_uses_a_subshell(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    # Given a frontend that answers on its own subshell
    server.sign_in(ALICE)
    frontend = FakeFrontend(server, fresh_kernel)
    # When a cell keeps the main thread busy and pulls five times
    cell = frontend.run(
        _prelude()
        + """
live = client.comm.live
emails = []
for _ in range(5):
    client.forget()
    emails.append(get_token().email)
result({"live": live, "emails": emails, "http": len(http_pulls), "hello": client.comm.frontend})
"""
    )
    # Then the answers reached the waiting cell through the comm, not HTTP
    assert cell.value["live"] is True
    assert cell.value["emails"] == [ALICE] * 5 and cell.value["http"] == 0
    assert [m["type"] for m in frontend.received] == ["token_request"] * 5
    assert frontend.hello is not None and frontend.hello["v"] == 1 and frontend.hello["type"] == "hello"
    assert frontend.hello["kernel"]["subshells"] is True
    frontend.close()


def test_without_subshells_the_kernel_pulls_over_http_and_still_takes_updates(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    server.sign_in(ALICE)
    frontend = FakeFrontend(server, fresh_kernel, subshells=False)
    # ``ready`` goes to the main shell: it waits until the cell ends, so the comm is not live.
    cell = frontend.run(_prelude(wait=1) + "result([client.comm.live, get_token().email, len(http_pulls)])")
    assert cell.value == [False, ALICE, 1]
    after = frontend.run("result([client.comm.attached, client.comm.live])")
    assert after.value == [True, False]


def test_a_silent_frontend_falls_back_to_http_when_its_comm_request_times_out(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    server.sign_in(ALICE)
    frontend = FakeFrontend(server, fresh_kernel, answer=False)
    cell = frontend.run(
        _prelude()
        + """
from jupyterlab_oidc.kernel.comm_channel import ChannelUnavailable
events = []
_request = client.comm.request
def _recorded(message, **kw):
    events.append("comm " + message["type"])
    try:
        return _request(message, **kw)
    except ChannelUnavailable as e:
        events.append("comm gave up: " + str(e))
        raise
client.comm.request = _recorded
_pull = client.http.token
client.http.token = lambda *a, **k: events.append("http") or _pull(*a, **k)
client.forget()
email = get_token().email
result([email, events, client.comm.live])
"""
    )
    email, events, live = cell.value
    # The pull asked the frontend first, waited for the comm's own timeout, then used HTTP
    assert email == ALICE and live is False
    assert events == ["comm token_request", "comm gave up: the frontend did not answer within 1.5 s", "http"]
    assert [m["type"] for m in frontend.received] == ["token_request"]
    frontend.close()


def test_token_updates_pushed_by_the_frontend_replace_and_drop_the_cached_token(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    # Given a live comm and a token the frontend got from the server
    server.sign_in(ALICE)
    frontend = FakeFrontend(server, fresh_kernel)
    frontend.run(_prelude() + "assert client.comm.live")
    token = server.oidc("POST", "token", {"environment": "prod"}).body
    digest = hashlib.sha256(token["access_token"].encode()).hexdigest()
    # When it pushes the token (sign-in), the kernel serves it without asking anyone
    frontend.push("sign_in", token=token)
    cell = frontend.run(
        _until("client.cached(('prod', None), 1) is not None") + "import hashlib\nt = get_token(min_valid=1)\n"
        "result([hashlib.sha256(t.access_token.encode()).hexdigest(), len(http_pulls)])"
    )
    assert cell.value == [digest, 0]
    assert frontend.received == []
    # When it pushes a sign-out, the cached token is gone (the push runs on the subshell)
    frontend.push("sign_out")
    cell = frontend.run(
        _until("client.cached(('prod', None), 0) is None") + "result(client.cached(('prod', None), 0) is None)"
    )
    assert cell.value is True
    frontend.close()


def test_typed_errors_from_the_frontend_are_rebuilt_in_the_kernel(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    frontend = FakeFrontend(server, fresh_kernel)
    cell = frontend.run(
        _prelude()
        + """
from jupyterlab_oidc import NotAuthenticatedError
try:
    get_token()
except NotAuthenticatedError as e:
    result([e.code, len(http_pulls), "OpenID Connect panel" in str(e)])
"""
    )
    assert cell.value == ["not_authenticated", 0, True]
    frontend.close()


def test_oidcauth_sign_in_goes_through_the_frontend_when_it_answers(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    frontend = FakeFrontend(server, fresh_kernel)
    started = frontend.run(
        _prelude()
        + "from jupyterlab_oidc import OIDCAuth\nauth = OIDCAuth()\nurl = auth.start_login('bob@example.com')"
    )
    assert [(m["type"], m["path"]) for m in frontend.received] == [("call", "login")]
    [display] = [d for d in started.displays if "text/plain" in d]
    server.complete_login(display["text/plain"].removeprefix("Sign in: "))
    cell = frontend.run("result(auth.await_callback().email)")
    assert cell.value == BOB
    assert ("call", "await") in [(m["type"], m.get("path")) for m in frontend.received]
    frontend.close()


def test_with_the_secret_a_pull_in_a_running_cell_goes_over_http_and_a_rotation_still_arrives_by_push(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    # Given a live comm in a kernel that has the kernel secret (the default route)
    server.sign_in(ALICE)
    frontend = FakeFrontend(server, fresh_kernel)
    pushed: list[str] = []

    def rotate_on_marker(msg: dict[str, Any]) -> None:
        frontend.on_iopub(msg)
        if msg["msg_type"] == "stream" and "PULLED" in msg["content"]["text"] and not pushed:
            # the server rotates the token; the frontend pushes it into the running cell
            assert server.oidc("POST", "refresh", {"environment": "prod"}).status == 200
            token = server.oidc("POST", "token", {"environment": "prod", "min_valid": 0}).body
            pushed.append(hashlib.sha256(token["access_token"].encode()).hexdigest())
            frontend.push("refresh", token=token)

    # When a running cell drops its cache and pulls, then waits for news without pulling
    code = (
        _prelude(pull="default")
        + """
import hashlib, sys
assert client.comm.live
client.forget()
pulled = hashlib.sha256(get_token().access_token.encode()).hexdigest()
print("PULLED", flush=True)
sys.stdout.flush()
def _now():
    t = client.cached(("prod", None), 0)
    return hashlib.sha256(t.access_token.encode()).hexdigest() if t else None
_end = time.monotonic() + 10
while _now() == pulled and time.monotonic() < _end:
    time.sleep(0.01)
result([pulled, _now(), len(http_pulls)])
"""
    )
    cell = fresh_kernel.wait(fresh_kernel.start(code), 60, on_message=rotate_on_marker)
    assert cell.error is None, cell.error
    pulled, now, http = cell.value
    # Then the pull went over HTTP (no token_request on the comm), and the rotation was pushed
    assert http == 1 and frontend.received == []
    assert pushed and now == pushed[0] and now != pulled
    frontend.close()
