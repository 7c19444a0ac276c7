"""What a signed-in session holds, the views of it each audience may see, and the registry of them.

The registry is the one owner of the signed-in sessions: it loads and saves them through
the store, counts changes (``revision``) and tells subscribers about each change, so the
``GET status`` long poll and the kernels' sessions file follow it without polling.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import StoreError
from ..protocol import session_key

if TYPE_CHECKING:
    from .store import SessionStore

#: id_token claims that describe the person; safe to show in the UI.
IDENTITY_CLAIMS = ("sub", "email", "email_verified", "name", "preferred_username", "given_name", "family_name")


@dataclass
class Session:
    """One signed-in session. Only the broker sees ``refresh_token``."""

    environment: str
    application: str | None
    issuer: str
    client_id: str
    sub: str
    email: str
    access_token: str = field(repr=False)
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)
    id_token: str | None = field(default=None, repr=False)
    token_type: str = "Bearer"
    scope: str = ""
    identity: dict[str, Any] = field(default_factory=dict)
    audience: list[str] = field(default_factory=list)
    lifetime: float = 0.0
    signed_in_at: float = field(default_factory=time.time)
    refreshed_at: float = field(default_factory=time.time)

    @property
    def key(self) -> str:
        """The store key of this session."""
        return session_key(self.environment, self.application)

    def expires_in(self, now: float | None = None) -> float:
        """Seconds the access token is still valid (negative once expired)."""
        return self.expires_at - (now if now is not None else time.time())

    def status(self) -> dict[str, Any]:
        """For ``GET status`` and the panel: identity and expiry, no tokens."""
        return {
            "environment": self.environment,
            "application": self.application,
            "issuer": self.issuer,
            "client_id": self.client_id,
            "email": self.email,
            "name": self.identity.get("name") or "",
            "sub": self.sub,
            "identity": dict(self.identity),
            "scope": self.scope,
            "audience": list(self.audience),
            "expires_at": self.expires_at,
            "expires_in": round(self.expires_in(), 3),
            "signed_in_at": self.signed_in_at,
            "refreshed_at": self.refreshed_at,
            "has_refresh_token": bool(self.refresh_token),
        }

    def token_response(self, include_refresh_token: bool = False) -> dict[str, Any]:
        """For ``POST token``: access and id token, never the refresh token unless allowed."""
        body = {
            **self.status(),
            "access_token": self.access_token,
            "id_token": self.id_token,
            "token_type": self.token_type,
        }
        if include_refresh_token:
            body["refresh_token"] = self.refresh_token
        return body

    def to_record(self) -> dict[str, Any]:
        """Everything, for the store."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Session:
        """Rebuild from :meth:`to_record` output; unknown keys are ignored."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in record.items() if k in known})


class SessionRegistry:
    """The signed-in sessions by key, their store, and a change feed (``subscribe``)."""

    def __init__(self, store: SessionStore, log: logging.Logger) -> None:
        self.store = store
        self.log = log
        self.sessions: dict[str, Session] = {}
        self.store_error: StoreError | None = None
        self.revision = 0
        self._subscribers: list[Callable[[int], None]] = []
        self._changed = asyncio.Event()

    def load(self) -> None:
        """Restore the stored sessions (a store that cannot be read is reported, not fatal)."""
        try:
            self.sessions = self.store.load()
        except StoreError as e:
            self.store_error = e
            self.log.error("jupyterlab_oidc: %s", e.message)

    def save(self) -> None:
        """Write every session to the store; a failure is kept in ``store_error`` and logged."""
        try:
            self.store.save(self.sessions)
        except StoreError as e:  # e.g. the directory became writable by others
            self.store_error = e
            self.log.error("jupyterlab_oidc: %s", e.message)
        except OSError as e:
            self.store_error = StoreError(f"Could not write the token store: {e.strerror}.")
            self.log.error("jupyterlab_oidc: %s", self.store_error.message)

    def get(self, key: str) -> Session | None:
        return self.sessions.get(key)

    def put(self, session: Session) -> None:
        """Add or replace a session and save (callers ``changed()`` once they are done)."""
        self.sessions[session.key] = session
        self.save()

    def remove(self, key: str) -> Session | None:
        """Forget the session ``key``; saves and reports a change when there was one."""
        session = self.sessions.pop(key, None)
        if session is not None:
            self.save()
            self.changed()
            self.log.info("jupyterlab_oidc: session %s ended", key)
        return session

    def changed(self) -> None:
        """One more revision: wake the long polls, call the subscribers."""
        self.revision += 1
        self._changed.set()
        self._changed = asyncio.Event()
        for callback in list(self._subscribers):
            try:
                callback(self.revision)
            except Exception:  # a subscriber's bug must not break sign-in or refresh
                self.log.exception("jupyterlab_oidc: a session subscriber failed")

    def subscribe(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """Call ``callback(revision)`` after every change; answers the function that unsubscribes."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    async def wait_for_change(self, after_revision: int, timeout: float) -> None:
        """Return once ``revision`` > ``after_revision`` or ``timeout`` passed (long poll)."""
        deadline = time.monotonic() + timeout
        while self.revision <= after_revision:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(asyncio.shield(self._changed.wait()), remaining)
            except asyncio.TimeoutError:
                return
