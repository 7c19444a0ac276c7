"""Audit events through jupyter_events: a full journey against the dev provider records every
event on the server's own event logger (routed as docs/operations.md shows), and no emitted
event carries a token, code, verifier, nonce or state."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from traitlets.config import Config

from jupyterlab_oidc.core.audit import KINDS, SIGN_IN_METHODS, sub_sha256
from jupyterlab_oidc.protocol import KERNEL_HEADER
from jupyterlab_oidc.server.events import SCHEMA_IDS, register_schemas, schema_paths

from .idp import ALICE, BOB, USERS, provider_login
from .support import query_of, until

#: Fields an event may carry besides jupyter_events' own ``__…__`` capsule.
ALLOWED_FIELDS = {
    "action",
    "environment",
    "application",
    "issuer",
    "email",
    "sub_sha256",
    "duration_seconds",
    "error_code",
    "method",
    "count",
}


class Capture(logging.Handler):
    """A log handler as an operator would route events (``c.EventLogger.handlers``): keeps each
    event exactly as written, the JSON line."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]

    def of(self, kind: str, action: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        return [
            e
            for e in self.events
            if e["__schema__"] == SCHEMA_IDS[kind]
            and (action is None or e["action"] == action)
            and all(e.get(k) == v for k, v in fields.items())
        ]


@pytest.fixture
def capture() -> Capture:
    return Capture()


@pytest.fixture
def jp_server_config(jp_server_config: Config, capture: Capture) -> Config:
    """The plugin's server config, plus the event routing of docs/operations.md."""
    jp_server_config.EventLogger.handlers = [capture]
    return jp_server_config


def test_schemas_are_package_files_and_register() -> None:
    from jupyter_events import EventLogger

    logger = EventLogger()
    register_schemas(logger)
    register_schemas(logger)  # a second server in the process: no error
    assert set(SCHEMA_IDS) == set(KINDS)
    for kind, path in schema_paths().items():
        assert path.is_file(), path
        schema = logger.schemas.get(SCHEMA_IDS[kind])
        assert set(schema.properties) <= ALLOWED_FIELDS
        assert set(schema.properties["action"]["enum"]) == set(KINDS[kind])
    assert set(logger.schemas.get(SCHEMA_IDS["sign_in"]).properties["method"]["enum"]) == set(SIGN_IN_METHODS)


@pytest.mark.oidc(kernel_refresh_token=True)
async def test_full_journey_records_every_event_and_no_token(
    capture: Capture,
    api: Any,
    sign_in: Any,
    begin_sign_in: Any,
    browser: Any,
    callback_prefix: str,
    broker: Any,
    idp: Any,
    jp_serverapp: Any,
) -> None:
    secrets: set[str] = set()
    kernel = {KERNEL_HEADER: jp_serverapp.web_app.settings["jupyterlab_oidc_kernel_access"].secret}
    issuer = broker.settings.environment("prod").issuer

    # Sign in (driven step by step, to keep the authorization code and the PKCE verifier).
    started, url = await begin_sign_in({"login_hint": ALICE})
    pending = broker.pending[started.body["state"]]
    secrets |= {pending.code_verifier, pending.nonce, pending.state}
    callback = await provider_login(browser, url, None, callback_prefix)
    secrets.add(query_of(callback)["code"])
    await browser.get(callback)
    assert (await api("POST", "await", {"state": started.body["state"]})).status == 200
    session = broker.sessions["prod"]
    secrets |= {session.access_token, session.refresh_token, session.id_token}

    # A refused sign-in: the provider says bob, the login hint alice.
    assert (await sign_in(ALICE, as_email=BOB, environment="dev")).body["error"] == "identity_mismatch"

    # Kernels pull the token (twice: counted), a refresh, then sign-out.
    for _ in range(2):
        pulled = await api("POST", "kernel/token", {}, headers=kernel)
        assert pulled.status == 200
        secrets |= {pulled.body["access_token"], pulled.body["refresh_token"], pulled.body["id_token"]}
    refreshed = await api("POST", "refresh", {})
    assert refreshed.status == 200
    session = broker.sessions["prod"]
    secrets |= {session.access_token, session.refresh_token, session.id_token}
    assert (await api("POST", "logout", {})).status == 200

    # The provider ends a session: the next refresh is refused.
    browser.cookies.clear()
    assert (await sign_in(ALICE, environment="dev")).status == 200
    session = broker.sessions["dev"]
    secrets |= {session.access_token, session.refresh_token, session.id_token}
    idp.revoke_all(USERS["alice"].sub)
    assert (await api("POST", "refresh", {"environment": "dev"})).body["error"] == "session_expired"
    await until(lambda: capture.of("session", "ended_by_provider"), "the provider's end of the session")

    alice = {"email": ALICE, "sub_sha256": sub_sha256(USERS["alice"].sub), "issuer": issuer}
    assert len(capture.of("sign_in", "started", environment="prod", email=ALICE)) == 1
    assert len(capture.of("sign_in", "started", environment="dev", email=ALICE)) == 2
    [prod_in] = capture.of("sign_in", "succeeded", environment="prod", method="authorization_code", **alice)
    assert prod_in["duration_seconds"] >= 0
    assert len(capture.of("sign_in", "succeeded", environment="dev", **alice)) == 1
    [refused] = capture.of("sign_in", "refused", environment="dev")
    assert refused["error_code"] == "identity_mismatch" and "sub_sha256" not in refused
    [refresh] = capture.of("refresh", "succeeded", environment="prod", **alice)
    assert refresh["duration_seconds"] >= 0
    assert capture.of("refresh", "failed", environment="dev", error_code="session_expired", **alice)
    pulls = capture.of("kernel_token", "pulled", environment="prod", **alice)
    assert [p["count"] for p in pulls] == [1, 1]  # the first at once, the second at sign-out
    assert capture.of("session", "signed_out", environment="prod", **alice)
    assert capture.of("session", "ended_by_provider", environment="dev", **alice)

    # Every event carries only the schema's fields, and no secret of the journey.
    secrets.discard(None)
    assert len(secrets) >= 10
    for line, event in zip(capture.lines, capture.events, strict=True):
        assert {k for k in event if not k.startswith("__")} <= ALLOWED_FIELDS, event
        for secret in secrets:
            assert secret not in line, f"a secret in the event {event['__schema__']} {event['action']}"
    assert USERS["alice"].sub not in "".join(capture.lines)


async def test_browser_refused_at_the_callback_is_audited(
    capture: Capture, begin_sign_in: Any, browser: Any, callback_prefix: str
) -> None:
    _, url = await begin_sign_in({"login_hint": ALICE})
    callback = await provider_login(browser, url, None, callback_prefix)
    browser.cookies.clear()  # another browser brings the answer
    await browser.get(callback)
    [refused] = capture.of("sign_in", "refused", environment="prod")
    assert refused["error_code"] == "browser_mismatch"
    assert query_of(callback)["code"] not in "".join(capture.lines)


async def test_cancelled_sign_in_is_abandoned(capture: Capture, api: Any) -> None:
    started = await api("POST", "login", {"login_hint": ALICE})
    await api("POST", "cancel", {"state": started.body["state"]})
    [abandoned] = capture.of("sign_in", "abandoned", environment="prod")
    assert abandoned["error_code"] == "login_cancelled"


async def test_the_documented_filter_passes_only_oidc_events() -> None:
    from jupyter_events import EventLogger

    from jupyterlab_oidc.core.audit import AuditRecord
    from jupyterlab_oidc.server.events import EventsObserver, OIDCEventsOnly

    logger, capture = EventLogger(), Capture()
    capture.addFilter(OIDCEventsOnly())
    logger.register_handler(capture)
    logger.register_event_schema(
        {
            "$id": "https://events.example.org/other/v1",
            "version": "1",
            "type": "object",
            "properties": {"x": {"type": "string"}},
        }
    )
    EventsObserver(logger, logging.getLogger("test")).record(AuditRecord("sign_in", "started", environment="prod"))
    logger.emit(schema_id="https://events.example.org/other/v1", data={"x": "y"})
    assert [(e["__schema__"], e["action"]) for e in capture.events] == [(SCHEMA_IDS["sign_in"], "started")]


class Recorder:
    def __init__(self) -> None:
        self.records: list[Any] = []

    def record(self, record: Any) -> None:
        self.records.append(record)

    def round_trip(self, endpoint: str, seconds: float, outcome: str) -> None:
        pass


def test_kernel_pulls_are_counted_once_a_minute_and_flushed_at_the_end() -> None:
    from jupyterlab_oidc.core.audit import KERNEL_PULL_INTERVAL_SECONDS, Audit
    from jupyterlab_oidc.core.sessions import Session

    now = [1000.0]
    audit, recorder = Audit(clock=lambda: now[0]), Recorder()
    audit.add(recorder)
    session = Session(
        environment="prod",
        application=None,
        issuer="http://idp",
        client_id="c",
        sub="s",
        email=ALICE,
        access_token="at",
        expires_at=1.0,
    )
    for _ in range(5):  # the first at once, four counted
        audit.kernel_pull(session)
    now[0] += KERNEL_PULL_INTERVAL_SECONDS
    audit.kernel_pull(session)  # a minute later: the five since the last record
    audit.kernel_pull(session)
    audit.session_ended(session, "signed_out")  # the one left, then the end
    assert [(r.kind, r.count) for r in recorder.records] == [
        ("kernel_token", 1),
        ("kernel_token", 5),
        ("kernel_token", 1),
        ("session", None),
    ]
    assert sum(r.count for r in recorder.records if r.count) == 7


def test_a_failing_observer_does_not_break_the_caller() -> None:
    from jupyterlab_oidc.core.audit import Audit, AuditRecord

    class Broken(Recorder):
        def record(self, record: Any) -> None:
            raise RuntimeError("collector down")

    audit, recorder = Audit(), Recorder()
    audit.add(Broken())
    audit.add(recorder)
    audit.emit(AuditRecord("sign_in", "started", environment="prod"))
    audit.emit(AuditRecord("sign_in", "no-such-action", environment="prod"))  # logged, not raised
    assert [r.action for r in recorder.records] == ["started"]
