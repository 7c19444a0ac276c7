"""Unit tests of the kernel helper: TokenStore, comm messages, the token cache, kernel routes."""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from jupyterlab_oidc.errors import NotAuthenticatedError, OIDCError
from jupyterlab_oidc.kernel import Environment, TokenStore, messages
from jupyterlab_oidc.kernel.client import TokenClient, token_sha256
from jupyterlab_oidc.kernel.http_channel import ServerEndpoint
from jupyterlab_oidc.server.kernel_access import server_url

from .idp import ALICE, wait_until
from .support import token_fields

# ---------------------------------------------------------------------------- TokenStore


def test_token_store_keeps_the_satorbis_positional_fields_and_defaults() -> None:
    store = TokenStore("a", "r", "i", "Bearer", 123.0)
    assert (store.access_token, store.refresh_token, store.id_token, store.token_type, store.expires_at) == (
        "a",
        "r",
        "i",
        "Bearer",
        123.0,
    )
    empty = TokenStore()
    assert empty.is_empty and empty.is_expired and empty.token_type == "Bearer" and empty.refresh_token is None


def test_token_store_repr_never_shows_a_token() -> None:
    store = TokenStore("secret-access", "secret-refresh", "secret-id", expires_at=time.time() + 60, email=ALICE)
    assert "secret" not in repr(store) and "secret" not in str(store)
    assert ALICE in repr(store) and "<hidden>" in repr(store)


@pytest.mark.parametrize(
    ("expires_in", "expired"), [(-1, True), (60, False), (None, False)], ids=["past", "future", "no-expiry"]
)
def test_token_store_is_expired(expires_in: float | None, expired: bool) -> None:
    store = TokenStore("a", expires_at=None if expires_in is None else time.time() + expires_in)
    assert store.is_expired is expired


def test_decode_jwt_payload_reads_the_claims_without_verifying() -> None:
    key = RSAKey.generate_key(2048)
    token = jwt.encode({"alg": "RS256"}, {"sub": "user-alice", "scope": "openid"}, key)
    assert TokenStore(token).decode_jwt_payload() == {"sub": "user-alice", "scope": "openid"}
    assert TokenStore.decode_jwt_payload_str(token)["sub"] == "user-alice"


@pytest.mark.parametrize("token", ["opaque-token", "a.b.c", "", "x.e30"], ids=["opaque", "garbage", "empty", "short"])
def test_decode_jwt_payload_of_a_non_jwt_is_a_value_error(token: str) -> None:
    with pytest.raises(ValueError):
        TokenStore.decode_jwt_payload_str(token)


def test_update_from_raw_takes_a_provider_response_and_keeps_what_it_omits() -> None:
    store = TokenStore("old", "refresh-1", "id-1")
    before = time.time()
    store.update_from_raw({"access_token": "new", "expires_in": 300, "token_type": "bearer", "scope": "openid"})
    assert store.access_token == "new" and store.refresh_token == "refresh-1" and store.id_token == "id-1"
    assert before + 299 <= (store.expires_at or 0) <= time.time() + 300 and store.lifetime == 300
    assert store.scope == "openid"


CAP_TABLE = [
    # expires in, lifetime, server's refresh_margin, min_valid → valid?
    pytest.param(9, 10, None, 60, True, id="00-capped-at-half-lifetime"),
    pytest.param(4, 10, None, 60, False, id="01-under-half-lifetime"),
    pytest.param(100, 3600, 60, 60, True, id="02-long-token"),
    pytest.param(59, 3600, 60, 60, False, id="03-just-under-the-margin"),
    pytest.param(30, 3600, 60, 10, True, id="04-small-min-valid"),
    pytest.param(1, 10, None, 0, True, id="05-zero-min-valid"),
    pytest.param(-1, 10, None, 0, False, id="06-expired"),
]


@pytest.mark.parametrize(("expires_in", "lifetime", "margin", "min_valid", "valid"), CAP_TABLE)
def test_min_valid_is_capped_at_the_servers_refresh_margin(
    expires_in: float, lifetime: float, margin: float | None, min_valid: float, valid: bool
) -> None:
    store = TokenStore("a", expires_at=time.time() + expires_in, lifetime=lifetime, refresh_margin=margin)
    assert store.valid_for(min_valid) is valid


def test_environment_is_a_string_enum() -> None:
    assert Environment("dev") is Environment.DEV and Environment.PROD == "prod" and str(Environment.DEV) == "dev"


# ---------------------------------------------------------------------------- comm messages

TOKEN = {"access_token": "a", "expires_at": 2e9}
VALID_MESSAGES = [
    {"v": 1, "type": "ready"},
    {"v": 1, "type": "token_reply", "id": "1", "token": TOKEN},
    {"v": 1, "type": "token_update", "reason": "refresh", "environment": "prod", "token": TOKEN},
    {"v": 1, "type": "token_update", "reason": "sign_out", "environment": "prod", "token": None},
    {"v": 1, "type": "call_reply", "id": "1", "status": 202, "body": {"status": "pending"}},
    {"v": 1, "type": "error", "id": "1", "error": "not_authenticated", "message": "sign in"},
    {"v": 1, "type": "error", "error": "unavailable"},
]
INVALID_MESSAGES = [
    pytest.param([1], id="not-an-object"),
    pytest.param({"type": "ready"}, id="no-version"),
    pytest.param({"v": 2, "type": "ready"}, id="future-version"),
    pytest.param({"v": True, "type": "ready"}, id="boolean-version"),
    pytest.param({"v": 1, "type": "token_request"}, id="kernel-only-type"),
    pytest.param({"v": 1, "type": "token_reply", "token": TOKEN}, id="reply-without-id"),
    pytest.param({"v": 1, "type": "token_reply", "id": "1"}, id="reply-without-token"),
    pytest.param({"v": 1, "type": "token_reply", "id": "1", "token": {"expires_at": 1}}, id="token-without-access"),
    pytest.param({"v": 1, "type": "token_reply", "id": "1", "token": {"access_token": "a"}}, id="token-without-expiry"),
    pytest.param(
        {"v": 1, "type": "token_update", "reason": "later", "environment": "prod", "token": TOKEN}, id="bad-reason"
    ),
    pytest.param({"v": 1, "type": "token_update", "reason": "refresh", "token": TOKEN}, id="update-without-env"),
    pytest.param(
        {"v": 1, "type": "token_update", "reason": "sign_out", "environment": "p", "token": TOKEN},
        id="sign-out-with-token",
    ),
    pytest.param({"v": 1, "type": "call_reply", "id": "1", "status": "200"}, id="string-status"),
    pytest.param({"v": 1, "type": "error", "id": "1"}, id="error-without-code"),
]


@pytest.mark.parametrize("message", VALID_MESSAGES, ids=lambda m: f"{m['type']}")
def test_valid_frontend_messages_parse(message: dict[str, Any]) -> None:
    assert messages.parse(message) is message


@pytest.mark.parametrize("message", INVALID_MESSAGES)
def test_invalid_frontend_messages_are_protocol_errors(message: Any) -> None:
    with pytest.raises(messages.ProtocolError):
        messages.parse(message)


def test_kernel_messages_carry_version_type_and_id() -> None:
    request = messages.token_request("prod", None, 60)
    assert request["v"] == 1 and request["type"] == "token_request" and len(request["id"]) == 32
    assert messages.token_request(None, None, 60)["id"] != request["id"]
    assert messages.call("POST", "login", {"login_hint": ALICE})["path"] == "login"
    hello = messages.hello({"language": "python"}, "1.0")
    assert hello["versions"] == [1] and hello["kernel"]["language"] == "python"
    json.dumps([request, hello])


def test_only_the_oidc_rest_routes_can_be_relayed() -> None:
    with pytest.raises(messages.ProtocolError):
        messages.call("POST", "kernel/token")
    with pytest.raises(messages.ProtocolError):
        messages.call("DELETE", "../api/kernels")


# ---------------------------------------------------------------------------- token cache


class CountingEvent(threading.Event):
    """A ``threading.Event`` that counts the threads waiting on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = 0
        self._count = threading.Lock()

    def wait(self, timeout: float | None = None) -> bool:
        with self._count:
            self.waiting += 1
        try:
            return super().wait(timeout)
        finally:
            with self._count:
                self.waiting -= 1


class StubHTTP:
    """Stands in for HTTPChannel: counts pulls, answers like ``POST oidc/kernel/token``.

    ``hold_until`` (a condition) keeps a pull open until it is true, so other callers
    really arrive while it is in flight (see :func:`waiting_callers`).
    """

    available = True

    def __init__(self, lifetime: float = 10, error: dict[str, Any] | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.lifetime, self.error = lifetime, error
        self.lock = threading.Lock()
        self.current = "token-0"
        self.hold_until: Any = None

    def token(
        self,
        environment: str | None,
        application: str | None,
        min_valid: float,
        force: bool = False,
        rejected: str | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            self.calls.append({"environment": environment, "force": force, "rejected": rejected})
            if force and (rejected is None or rejected == token_sha256(self.current)):
                self.current = f"token-{len(self.calls)}"
        if self.hold_until is not None:
            assert wait_until(self.hold_until), "the other callers never joined the pull in flight"
        if self.error:
            raise OIDCError.from_json(self.error)
        return {
            "access_token": self.current,
            "expires_at": time.time() + self.lifetime,
            "lifetime": self.lifetime,
            "refresh_margin": self.lifetime / 2,
            "environment": environment or "prod",
            "application": application,
            "email": ALICE,
            "signed_in_at": 1000.0,
        }


def waiting_callers(client: TokenClient, key: tuple[str | None, str | None], count: int) -> Any:
    """A condition: ``count`` callers wait for the pull of ``key`` that is in flight."""

    def condition() -> bool:
        pull = client._pulls.get(key)
        return pull is not None and isinstance(pull.done, CountingEvent) and pull.done.waiting >= count

    return condition


@pytest.fixture
def counting_pulls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pulls in flight use a :class:`CountingEvent`, so a test sees who waits for them."""
    from jupyterlab_oidc.kernel import client as client_module

    original = client_module._Pull.__init__

    def init(self: Any) -> None:
        original(self)
        self.done = CountingEvent()

    monkeypatch.setattr(client_module._Pull, "__init__", init)


@pytest.fixture
def sessions_checked_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sessions file is looked at on every call (no 50 ms wait between looks)."""
    monkeypatch.setattr("jupyterlab_oidc.kernel.client.SESSIONS_CHECK_SECONDS", 0.0)


def make_client(http: StubHTTP, sessions_file: str = "") -> TokenClient:
    client = TokenClient(ServerEndpoint(sessions_file=sessions_file), use_comm=False)
    client.http = http  # type: ignore[assignment]
    return client


def test_a_cached_token_is_returned_without_a_pull() -> None:
    http = StubHTTP()
    client = make_client(http)
    first = client.get_token()
    assert all(client.get_token() is first for _ in range(100))
    assert client.get_token("prod") is first  # the default environment, learnt from the reply
    assert len(http.calls) == 1


def test_concurrent_callers_in_one_kernel_share_one_pull(counting_pulls: None) -> None:
    http = StubHTTP()
    client = make_client(http)
    http.hold_until = waiting_callers(client, ("prod", None), 7)  # the pull ends once 7 others wait for it
    results: list[TokenStore] = []
    threads = [threading.Thread(target=lambda: results.append(client.get_token("prod"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(http.calls) == 1 and len({id(r) for r in results}) == 1


def test_server_errors_reach_every_waiting_caller_as_typed_errors(counting_pulls: None) -> None:
    http = StubHTTP(error={"error": "not_authenticated", "message": "Sign in from the OIDC panel"})
    client = make_client(http)
    http.hold_until = waiting_callers(client, ("prod", None), 3)
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            client.get_token("prod")
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 4 and all(isinstance(e, NotAuthenticatedError) for e in errors)
    assert len(http.calls) == 1


def test_a_refused_token_is_replaced_once_however_many_callers_saw_it_refused() -> None:
    http = StubHTTP(lifetime=300)
    client = make_client(http)
    old = client.get_token("prod")
    rejected = token_sha256(old.access_token)
    new = client.refresh("prod", rejected=rejected)
    again = client.refresh("prod", rejected=rejected)
    assert new.access_token != old.access_token and again is new
    assert [c["force"] for c in http.calls] == [False, True]


def test_a_sign_out_in_the_sessions_file_drops_the_cached_token(
    tmp_path: Any, sessions_checked_every_call: None
) -> None:
    sessions = tmp_path / "sessions.json"
    sessions.write_text(
        json.dumps({"v": 1, "default_environment": "prod", "sessions": {"prod": {"signed_in_at": 1000.0}}})
    )
    http = StubHTTP(lifetime=300)
    client = make_client(http, str(sessions))
    first = client.get_token()
    assert client.get_token() is first
    sessions.write_text(json.dumps({"v": 1, "sessions": {}}))
    os.utime(sessions, ns=(time.time_ns(), time.time_ns() + 1000))
    assert client.cached(("prod", None), 0) is None


def test_a_new_sign_in_in_the_sessions_file_drops_the_previous_persons_token(
    tmp_path: Any, sessions_checked_every_call: None
) -> None:
    sessions = tmp_path / "sessions.json"
    sessions.write_text(json.dumps({"v": 1, "sessions": {"prod": {"signed_in_at": 1000.0}}}))
    client = make_client(StubHTTP(lifetime=300), str(sessions))
    client.get_token("prod")
    sessions.write_text(json.dumps({"v": 1, "sessions": {"prod": {"signed_in_at": 2000.0}}}))
    os.utime(sessions, ns=(time.time_ns(), time.time_ns() + 1000))
    assert client.cached(("prod", None), 0) is None


def test_pushed_updates_replace_and_drop_cached_tokens() -> None:
    client = make_client(StubHTTP())
    client._on_update(
        {
            "reason": "sign_in",
            "environment": "prod",
            "token": {"access_token": "pushed", "expires_at": time.time() + 300},
        }
    )
    assert client.cached(("prod", None), 60).access_token == "pushed"  # type: ignore[union-attr]
    older = {"access_token": "older", "expires_at": time.time() + 100}
    client._on_update({"reason": "refresh", "environment": "prod", "token": older})
    assert client.cached(("prod", None), 60).access_token == "pushed"  # type: ignore[union-attr]
    client._on_update({"reason": "sign_out", "environment": "prod", "token": None})
    assert client.cached(("prod", None), 0) is None


class StubComm:
    """Stands in for a live CommChannel: answers ``token_request`` like the bridge, counts them."""

    live = True

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def ensure_open(self) -> None:
        pass

    def request(self, message: dict[str, Any], timeout: float = 1.5) -> dict[str, Any]:
        self.requests.append(message)
        token = {"access_token": "from-the-comm", "expires_at": time.time() + 300, "environment": "prod"}
        return {"v": 1, "type": "token_reply", "id": message["id"], "token": token}


@pytest.mark.parametrize(
    ("live", "http", "force", "switch", "comm"),
    [
        (True, True, False, "", False),  # the kernel secret: HTTP, whatever the comm
        (True, True, False, "comm", True),  # JUPYTERLAB_OIDC_PULL=comm
        (True, True, True, "comm", False),  # a forced refresh says which token was refused: HTTP
        (True, False, False, "", True),  # no secret (remote kernel, JupyterLite): the comm
        (True, False, True, "", True),
        (False, True, False, "comm", False),  # no live comm: HTTP
        (False, False, False, "", False),
    ],
)
def test_the_pull_route_is_http_with_the_secret_and_the_comm_without(
    live: bool, http: bool, force: bool, switch: str, comm: bool
) -> None:
    from jupyterlab_oidc.kernel.pull_route import pull_over_comm

    assert pull_over_comm(live, http, force, {"JUPYTERLAB_OIDC_PULL": switch}) is comm


@pytest.mark.parametrize(("switch", "over_comm"), [(None, False), ("comm", True)])
def test_a_kernel_with_the_secret_pulls_over_http_unless_told_to_use_the_comm(
    monkeypatch: pytest.MonkeyPatch, switch: str | None, over_comm: bool
) -> None:
    if switch is None:
        monkeypatch.delenv("JUPYTERLAB_OIDC_PULL", raising=False)
    else:
        monkeypatch.setenv("JUPYTERLAB_OIDC_PULL", switch)
    http, comm = StubHTTP(), StubComm()
    client = make_client(http)
    client.comm = comm  # type: ignore[assignment]
    token = client.get_token("prod")
    assert (token.access_token == "from-the-comm") is over_comm
    assert (len(comm.requests), len(http.calls)) == ((1, 0) if over_comm else (0, 1))
    # pushes still reach the cache either way
    pushed = {"access_token": "pushed", "expires_at": time.time() + 900}
    client._on_update({"reason": "refresh", "environment": "prod", "token": pushed})
    assert client.get_token("prod").access_token == "pushed"


def test_a_kernel_without_the_secret_pulls_through_a_live_comm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JUPYTERLAB_OIDC_PULL", raising=False)
    http, comm = StubHTTP(), StubComm()
    http.available = False  # type: ignore[misc]
    client = make_client(http)
    client.comm = comm  # type: ignore[assignment]
    assert client.get_token("prod").access_token == "from-the-comm"
    assert len(comm.requests) == 1 and http.calls == []


def test_no_server_and_no_frontend_is_a_clear_config_error() -> None:
    client = TokenClient(ServerEndpoint(), use_comm=False)
    with pytest.raises(OIDCError, match="Start the kernel from JupyterLab"):
        client.get_token()


# ---------------------------------------------------------------------------- server side


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("", "http://127.0.0.1:8888/a%40b/"),
        ("0.0.0.0", "http://127.0.0.1:8888/a%40b/"),
        ("localhost", "http://127.0.0.1:8888/a%40b/"),
        ("::", "http://127.0.0.1:8888/a%40b/"),
        ("10.1.2.3", "http://10.1.2.3:8888/a%40b/"),
        ("::1", "http://[::1]:8888/a%40b/"),
        ("jupyter.internal", "http://jupyter.internal:8888/a%40b/"),
    ],
)
def test_server_url_uses_loopback_unless_one_concrete_address_is_bound(ip: str, expected: str) -> None:
    assert server_url(ip, 8888, "/a%40b/") == expected


async def test_the_extension_exports_the_server_url_and_a_secret(
    jp_serverapp: Any, jp_http_port: int, jp_base_url: str
) -> None:
    access = jp_serverapp.web_app.settings["jupyterlab_oidc_kernel_access"]
    access.export()
    assert os.environ["JUPYTERLAB_OIDC_SERVER_URL"] == f"http://127.0.0.1:{jp_http_port}{jp_base_url}"
    assert os.environ["JUPYTERLAB_OIDC_KERNEL_SECRET"] == access.secret and len(access.secret) >= 43


async def test_the_kernel_token_route_answers_with_the_secret_and_never_the_refresh_token(
    jp_serverapp: Any, jp_fetch: Any, sign_in: Any
) -> None:
    await sign_in(ALICE)
    secret = jp_serverapp.web_app.settings["jupyterlab_oidc_kernel_access"].secret
    response = await jp_fetch(
        "oidc",
        "kernel",
        "token",
        method="POST",
        body="{}",
        headers={"X-JupyterLab-OIDC-Kernel": secret, "Authorization": ""},
    )
    body = json.loads(response.body)
    assert body["email"] == ALICE and body["refresh_margin"] > 0 and body["lifetime"] > 0
    assert token_fields(body) == {"access_token", "id_token"}


@pytest.mark.oidc(kernel_refresh_token=True)
async def test_the_kernel_token_route_includes_the_refresh_token_when_the_admin_allows_it(
    jp_serverapp: Any, jp_fetch: Any, sign_in: Any
) -> None:
    await sign_in(ALICE)
    secret = jp_serverapp.web_app.settings["jupyterlab_oidc_kernel_access"].secret
    response = await jp_fetch(
        "oidc", "kernel", "token", method="POST", body="{}", headers={"X-JupyterLab-OIDC-Kernel": secret}
    )
    assert "refresh_token" in token_fields(json.loads(response.body))


async def test_the_kernel_route_works_when_unauthenticated_access_is_off(
    jp_serverapp: Any, jp_fetch: Any, sign_in: Any
) -> None:
    jp_serverapp.web_app.settings["allow_unauthenticated_access"] = False
    secret = jp_serverapp.web_app.settings["jupyterlab_oidc_kernel_access"].secret
    response = await jp_fetch(
        "oidc", "kernel", "status", method="GET", headers={"X-JupyterLab-OIDC-Kernel": secret, "Authorization": ""}
    )
    assert response.code == 200 and "environments" in json.loads(response.body)


# ---------------------------------------------------------------------------- comm channel (stubbed kernel)


class FakeComm:
    """Records what the kernel side sends; ``deliver`` plays a frontend message."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs, self.sent, self.opened, self.closed = kwargs, [], None, False
        self._on_msg: Any = None
        self._on_close: Any = None
        #: ``answer(sent)`` → the frontend's reply to each message sent (None: it stays quiet).
        self.answer: Any = None

    def on_msg(self, callback: Any) -> None:
        self._on_msg = callback

    def on_close(self, callback: Any) -> None:
        self._on_close = callback

    def open(self, data: dict[str, Any]) -> None:
        self.opened = data

    def send(self, data: dict[str, Any]) -> None:
        self.sent.append(data)
        if self.answer is not None:  # the frontend answers on its own thread, after the send
            reply = self.answer
            threading.Thread(target=lambda: self._reply(reply(data))).start()

    def _reply(self, data: dict[str, Any] | None) -> None:
        if data is not None:
            self._on_msg({"content": {"data": data}})

    def close(self) -> None:
        self.closed = True

    def deliver(self, data: dict[str, Any], on_thread: bool = True) -> None:
        msg = {"content": {"data": data}}
        if on_thread:
            thread = threading.Thread(target=self._on_msg, args=(msg,))
            thread.start()
            thread.join()
        else:
            self._on_msg(msg)


@pytest.fixture
def fake_kernel(monkeypatch: pytest.MonkeyPatch) -> list[FakeComm]:
    """A running 'ipykernel' as CommChannel sees it, and the comms it creates."""
    import sys
    import types

    import comm

    created: list[FakeComm] = []

    class Kernel:
        _supports_kernel_subshells = True
        shell_channel_thread = object()

        @classmethod
        def initialized(cls) -> bool:
            return True

        @classmethod
        def instance(cls) -> Kernel:
            return cls()

    module = types.ModuleType("ipykernel.kernelbase")
    module.Kernel = Kernel  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ipykernel.kernelbase", module)
    monkeypatch.setattr(comm, "create_comm", lambda **kw: created.append(FakeComm(**kw)) or created[-1])
    return created


def test_the_comm_is_live_only_when_ready_arrives_beside_the_main_thread(fake_kernel: list[FakeComm]) -> None:
    from jupyterlab_oidc.kernel.comm_channel import CommChannel

    channel = CommChannel(lambda _u: None)
    channel.ensure_open()
    [comm] = fake_kernel
    assert comm.kwargs["target_name"] == "jupyterlab-oidc" and comm.opened["type"] == "hello"
    assert comm.opened["kernel"]["subshells"] is True
    comm.deliver({"v": 1, "type": "ready"}, on_thread=False)  # main thread: waited behind the cell
    assert channel.attached and not channel.live
    comm.deliver({"v": 1, "type": "ready"})  # a subshell thread
    assert channel.live


def test_a_comm_request_is_answered_from_another_thread_and_a_silent_one_times_out(fake_kernel: list[FakeComm]) -> None:
    from jupyterlab_oidc.kernel import comm_channel

    channel = comm_channel.CommChannel(lambda _u: None)
    channel.ensure_open()
    [comm] = fake_kernel
    comm.deliver({"v": 1, "type": "ready"})
    # A frontend that answers each request from another thread once it was sent
    comm.answer = lambda sent: {"v": 1, "type": "token_reply", "id": sent["id"], "token": TOKEN}
    assert channel.request(messages.token_request("prod", None, 60))["token"] == TOKEN
    # A frontend that goes quiet: the request ends by its own timeout
    comm.answer = None
    with pytest.raises(comm_channel.ChannelUnavailable, match="did not answer within 0.2 s"):
        channel.request(messages.token_request("prod", None, 60), timeout=0.2)
    assert [m["type"] for m in comm.sent] == ["token_request", "token_request"]
    assert comm.closed and not channel.live  # gave up on that frontend: HTTP from now on


def test_a_closed_comm_releases_waiting_requests(fake_kernel: list[FakeComm]) -> None:
    from jupyterlab_oidc.kernel import comm_channel

    channel = comm_channel.CommChannel(lambda _u: None)
    channel.ensure_open()
    [comm] = fake_kernel
    comm.deliver({"v": 1, "type": "ready"})
    # The frontend closes the comm instead of answering (a tab closed while a cell waits)
    comm.answer = lambda _sent: comm._on_close({})
    # Released by the close (its message), not by the request's timeout (an hour)
    with pytest.raises(comm_channel.ChannelUnavailable, match="closed the comm"):
        channel.request(messages.token_request("prod", None, 60), timeout=3600)


def test_malformed_and_unknown_comm_messages_are_ignored(fake_kernel: list[FakeComm]) -> None:
    from jupyterlab_oidc.kernel.comm_channel import CommChannel

    updates: list[dict[str, Any]] = []
    channel = CommChannel(updates.append)
    channel.ensure_open()
    [comm] = fake_kernel
    for data in ({"v": 9, "type": "ready"}, {"type": "token_update"}, "nonsense", {"v": 1, "type": "launch"}):
        comm.deliver(data)  # type: ignore[arg-type]
    assert not channel.attached and updates == []
    comm.deliver({"v": 1, "type": "token_update", "reason": "sign_out", "environment": "prod", "token": None})
    assert updates and updates[0]["reason"] == "sign_out"
