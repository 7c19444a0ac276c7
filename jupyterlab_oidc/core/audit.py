"""Audit records: what happened to sign-ins and sessions, for observers outside ``core/``.

The broker, the sign-in flow, the refresher and the HTTP helper report here; observers
(``server/events.py``: jupyter_events, ``server/metrics.py``: Prometheus) subscribe with
:meth:`Audit.add`. A record carries who and where (environment, application, issuer, email,
the SHA-256 of ``sub``), how long and the error code: never a token, code, verifier or secret.
An observer that fails is logged and skipped: auditing never breaks a sign-in.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .sessions import Session

#: Kinds of record and their actions.
SIGN_IN_ACTIONS = ("started", "succeeded", "refused", "abandoned")
REFRESH_ACTIONS = ("succeeded", "failed")
SESSION_ACTIONS = ("signed_out", "ended_by_provider", "expired", "id_token_rejected")
KERNEL_TOKEN_ACTIONS = ("pulled",)
KINDS = {
    "sign_in": SIGN_IN_ACTIONS,
    "refresh": REFRESH_ACTIONS,
    "session": SESSION_ACTIONS,
    "kernel_token": KERNEL_TOKEN_ACTIONS,
}
#: How a sign-in got its session (``AuditRecord.method``).
SIGN_IN_METHODS = ("authorization_code", "device_code", "grant")
#: Kernel token pulls are counted: one record per session at most this often, with the count.
KERNEL_PULL_INTERVAL_SECONDS = 60.0


def sub_sha256(sub: str | None) -> str:
    """Hex SHA-256 of the ``sub`` claim (UTF-8): links records of one person without naming them."""
    return hashlib.sha256(sub.encode("utf-8")).hexdigest() if sub else ""


@dataclass(frozen=True)
class AuditRecord:
    """One audited event. ``kind`` and ``action`` are from :data:`KINDS`."""

    kind: str
    action: str
    environment: str = ""
    application: str | None = None
    issuer: str = ""
    email: str = ""
    sub_sha256: str = ""
    duration_seconds: float | None = None
    error_code: str | None = None
    #: Kernel token pulls: how many this record stands for.
    count: int | None = None
    #: Sign-ins: how the session was obtained (``authorization_code``, ``device_code``, ``grant``).
    method: str | None = None


class AuditObserver(Protocol):
    """Receives every record and every provider round trip."""

    def record(self, record: AuditRecord) -> None: ...

    def round_trip(self, endpoint: str, seconds: float, outcome: str) -> None: ...


class Audit:
    """Fans records out to the observers; counts kernel token pulls."""

    def __init__(self, log: logging.Logger | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.log = log or logging.getLogger("jupyterlab_oidc")
        self.clock = clock
        self.observers: list[AuditObserver] = []
        #: Per session key: pulls not yet reported, and when the last record was sent.
        self._pulls: dict[str, tuple[int, float, Session]] = {}

    def add(self, observer: AuditObserver) -> Callable[[], None]:
        """Subscribe ``observer``; answers the function that unsubscribes it."""
        self.observers.append(observer)
        return lambda: self.observers.remove(observer) if observer in self.observers else None

    def emit(self, record: AuditRecord) -> None:
        if record.action not in KINDS.get(record.kind, ()) or record.method not in (None, *SIGN_IN_METHODS):
            self.log.error(
                "jupyterlab_oidc: unknown audit record %s/%s (%s)", record.kind, record.action, record.method
            )
            return
        for observer in list(self.observers):
            try:
                observer.record(record)
            except Exception:
                self.log.exception("jupyterlab_oidc: an audit observer failed")

    def round_trip(self, endpoint: str, seconds: float, outcome: str) -> None:
        """One request to the provider (``endpoint`` is the HTTP helper's label)."""
        for observer in list(self.observers):
            try:
                observer.round_trip(endpoint, seconds, outcome)
            except Exception:
                self.log.exception("jupyterlab_oidc: an audit observer failed")

    # ---------------------------------------------------------------- helpers for the callers

    def sign_in(
        self,
        action: str,
        environment: str,
        application: str | None,
        issuer: str,
        email: str = "",
        session: Session | None = None,
        duration: float | None = None,
        error_code: str | None = None,
        method: str = "authorization_code",
    ) -> None:
        self.emit(
            AuditRecord(
                "sign_in",
                action,
                environment=environment,
                application=application,
                issuer=session.issuer if session else issuer,
                email=session.email if session else email,
                sub_sha256=sub_sha256(session.sub) if session else "",
                duration_seconds=_rounded(duration),
                error_code=error_code,
                method=method,
            )
        )

    def session_event(
        self,
        kind: str,
        action: str,
        session: Session,
        duration: float | None = None,
        error_code: str | None = None,
        count: int | None = None,
    ) -> None:
        """A record about ``session`` (refresh, end of session, kernel pulls)."""
        self.emit(
            AuditRecord(
                kind,
                action,
                environment=session.environment,
                application=session.application,
                issuer=session.issuer,
                email=session.email,
                sub_sha256=sub_sha256(session.sub),
                duration_seconds=_rounded(duration),
                error_code=error_code,
                count=count,
            )
        )

    def session_ended(self, session: Session, action: str) -> None:
        """``session`` is gone (signed out, or ended by the provider); reports its pending kernel pulls first."""
        self.flush_pulls(session)
        self.session_event("session", action, session)

    def kernel_pull(self, session: Session) -> None:
        """A kernel took ``session``'s token: the first pull is reported at once, later ones counted
        and reported with the first pull after :data:`KERNEL_PULL_INTERVAL_SECONDS` (or at the end)."""
        now = self.clock()
        count, last, _ = self._pulls.get(session.key, (0, float("-inf"), session))
        count += 1
        if now - last >= KERNEL_PULL_INTERVAL_SECONDS:
            self._pulls[session.key] = (0, now, session)
            self.session_event("kernel_token", "pulled", session, count=count)
        else:
            self._pulls[session.key] = (count, last, session)

    def flush_pulls(self, session: Session | None = None) -> None:
        """Report the pulls counted but not yet reported (of ``session``, or of every session)."""
        keys = [session.key] if session is not None else list(self._pulls)
        for key in keys:
            count, _, pulled = self._pulls.pop(key, (0, 0.0, session))
            if count and pulled is not None:
                self.session_event("kernel_token", "pulled", pulled, count=count)


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(max(seconds, 0.0), 6)
