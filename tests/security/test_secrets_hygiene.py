"""Secrets hygiene: an end-to-end run with every log at DEBUG, then a search for secrets.

The run signs in (misbehaving provider with userinfo, and the real provider), asks for
tokens over REST and the kernel route, refreshes, imports a refresh token, tries the
password grant, meets errors (bad signature, unverified email, a redirect with code and
error, an unknown state, a token response without token_type, a refused refresh, the
provider down) and signs out (revocation). Every log record of the Jupyter server's logger,
the extension's, the root logger, tornado, httpx and httpcore is kept, formatted with its
traceback; every HTTP error body, callback page and non-token answer is kept too.

None of them may contain an access, refresh or id token, an authorization code, a PKCE
code_verifier, or a credential the test sent (refresh token to import, password). The
only place tokens may appear is the 200 answer of ``POST token`` / ``POST kernel/token``.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from jupyterlab_oidc.protocol import KERNEL_HEADER

from ..idp import ALICE, bind_browser, provider_login
from ..misbehaving_provider import MisbehavingProvider
from ..support import query_of

LOGGERS = (
    "",
    "ServerApp",
    "OIDCExtensionApp",
    "jupyterlab_oidc",
    "tornado",
    "tornado.access",
    "tornado.application",
    "tornado.general",
    "httpx",
    "httpcore",
    "asyncio",
)
#: Set while the test plays the user's browser: httpx logs the URLs *it* follows (the
#: provider's redirect carries the code); those lines are the browser's, not the server's.
IN_BROWSER: contextvars.ContextVar[bool] = contextvars.ContextVar("in_browser", default=False)


class Capture(logging.Handler):
    """Keeps every record of the server, fully formatted (message, arguments, traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []
        self.browser_lines = 0

    def emit(self, record: logging.LogRecord) -> None:
        if IN_BROWSER.get():
            self.browser_lines += 1
            return
        self.lines.append(self.format(record))


@pytest.fixture
def capture(jp_serverapp: Any, broker: Any) -> Iterator[Capture]:
    handler = Capture()
    loggers = {logging.getLogger(name) for name in LOGGERS} | {jp_serverapp.log, broker.log}
    levels = {logger: logger.level for logger in loggers}
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)
        logger.setLevel(levels[logger])


@dataclass
class Run:
    """What the run saw: bodies that must be clean, and secrets the provider and broker handled."""

    api: Any
    browser: httpx.AsyncClient
    callback_prefix: str
    broker: Any
    token: str = ""
    clean: list[tuple[str, str]] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)

    def note_broker_secrets(self) -> None:
        for session in self.broker.sessions.values():
            self.secrets |= {t for t in (session.access_token, session.refresh_token, session.id_token) if t}
        self.secrets |= {p.code_verifier for p in self.broker.pending.values()}

    async def call(self, method: str, endpoint: str, body: dict[str, Any] | None = None, **kw: Any) -> Any:
        reply = await self.api(method, endpoint, body, **kw)
        self.note_broker_secrets()
        gives_tokens = endpoint in ("token", "kernel/token") and reply.status == 200
        if gives_tokens:
            assert "refresh_token" not in reply.body
        else:
            self.clean.append((f"{method} {endpoint} -> {reply.status}", json.dumps(reply.body)))
        return reply

    async def sign_in(self, login_hint: str = ALICE, environment: str | None = None, extra: str = "") -> Any:
        started = await self.call("POST", "login", {"environment": environment, "login_hint": login_hint})
        self.note_broker_secrets()  # the code_verifier of this sign-in
        in_browser = IN_BROWSER.set(True)
        try:
            url = await bind_browser(self.browser, started.body["start_url"], self.token)
            self.secrets |= {c.value for c in self.browser.cookies.jar if c.name.startswith("oidc-bind-")}
            callback = await provider_login(self.browser, url, None, self.callback_prefix)
            page = await self.browser.get(callback + extra)
        finally:
            IN_BROWSER.reset(in_browser)
        self.secrets.add(query_of(callback).get("code", ""))
        self.clean.append((f"callback page -> {page.status_code}", page.text))
        return await self.call("POST", "await", {"state": started.body["state"]})


@pytest.mark.security_case("secrets-hygiene")
@pytest.mark.oidc(store="file")
async def test_no_secret_in_any_log_line_error_message_or_error_body(
    capture: Capture,
    api: Any,
    browser: httpx.AsyncClient,
    callback_prefix: str,
    broker: Any,
    bad_idp: MisbehavingProvider,
    idp: Any,
    jp_serverapp: Any,
    jp_logging_stream: Any,
) -> None:
    run = Run(api, browser, callback_prefix, broker, str(jp_serverapp.identity_provider.token))
    kernel = {"headers": {KERNEL_HEADER: jp_serverapp.web_app.settings["jupyterlab_oidc_kernel_access"].secret}}
    import_marker, password_marker = "SECRET-import-" + "r" * 24, "SECRET-password-" + "p" * 24
    run.secrets |= {import_marker, password_marker}

    # Sign-ins that work: email from userinfo (misbehaving provider), and the real provider
    bad_idp.profile = "userinfo"
    assert (await run.sign_in()).status == 200
    assert (await run.sign_in(environment="real")).status == 200
    # Tokens over REST and the kernel route, refreshes, status
    for environment in ("prod", "real"):
        assert (await run.call("POST", "token", {"environment": environment})).status == 200
        assert (await run.call("POST", "refresh", {"environment": environment})).status == 200
    served = await run.api("POST", "kernel/token", {"min_valid": 0}, **kernel)
    assert served.status == 200
    assert (await run.call("POST", "kernel/token", {"force": True, "rejected": "x"}, **kernel)).status == 200
    await run.call("GET", "status")
    await run.call("GET", "kernel/status", **kernel)
    await run.call("GET", "userinfo")
    # Credentials handed to the server that it must never echo or log
    await run.call("POST", "grants/refresh-token", {"environment": "dev", "refresh_token": import_marker})
    await run.call("POST", "grants/password", {"environment": "dev", "username": ALICE, "password": password_marker})

    # Errors: each sign-in leaves a code and a verifier behind, each refusal a message
    bad_idp.profile = "id_token"
    bad_idp.id_token_hook = lambda claims, forge: forge.bad_signature(claims)
    assert (await run.sign_in()).body["error"] == "invalid_id_token"
    bad_idp.id_token_hook = lambda claims, forge: forge.sign({**claims, "email_verified": False})
    assert (await run.sign_in()).body["error"] == "identity_mismatch"
    bad_idp.id_token_hook = None
    bad_idp.token_type = None
    assert (await run.sign_in()).body["error"] == "provider_error"
    bad_idp.token_type = "Bearer"
    assert (await run.sign_in(extra="&error=access_denied&error_description=no")).body["error"] == "provider_error"
    in_browser = IN_BROWSER.set(True)
    page = await browser.get(f"{callback_prefix}?code=stolen-code-0123456789&state=forged-state")
    IN_BROWSER.reset(in_browser)
    run.secrets.add("stolen-code-0123456789")
    run.clean.append(("forged callback", page.text))
    # The provider goes down, then refuses the refresh token: the session ends
    bad_idp.go_down()
    assert (await run.call("POST", "refresh", {})).body["error"] == "provider_unavailable"
    bad_idp.come_back()
    bad_idp.token_failure = (400, {"error": "invalid_grant", "error_description": "revoked"})
    assert (await run.call("POST", "refresh", {})).body["error"] == "session_expired"
    bad_idp.token_failure = None
    # Sign out of both (revocation sends the tokens to the provider: never to a log)
    assert (await run.sign_in()).status == 200
    assert (await run.call("POST", "logout", {})).status == 200
    assert (await run.call("POST", "logout", {"environment": "real"})).status == 200

    for kind in ("code", "code_verifier", "access_token", "refresh_token", "id_token"):
        run.secrets |= bad_idp.secrets[kind]
    secrets = {s for s in run.secrets if s}
    assert len(secrets) > 30 and len(capture.lines) > 100 and capture.browser_lines, (len(secrets), len(capture.lines))
    # id tokens: the whole token, and its signature alone (a log of a part is a leak too)
    needles = secrets | {s.rsplit(".", 1)[-1] for s in secrets if s.count(".") == 2 and len(s.rsplit(".", 1)[-1]) > 20}
    places = [(f"log: {line[:80]}", line) for line in capture.lines]
    places += [("server log stream", jp_logging_stream.getvalue())]
    places += run.clean
    # (control: the search finds the tokens where they are allowed to be)
    assert served.body["access_token"] in needles and served.body["id_token"].rsplit(".", 1)[-1] in needles
    leaks = [(where, needle[:12] + "…") for where, text in places for needle in needles if needle in text]
    assert not leaks, leaks[:10]
    print(f"hygiene: {len(capture.lines)} log records, {len(run.clean)} bodies, {len(needles)} secrets: clean")
