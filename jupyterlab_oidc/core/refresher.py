"""Keeps sessions fresh: background refresh before expiry (spread per session, kept off the seconds
where the process has more than its share of refreshes booked), single flight, back-off after failures.

Everything time-related goes through an injectable :class:`Clock`, and the provider
through a :class:`Renewer`, so the schedule can be tested with a fake clock and a fake
token endpoint, without sleeping.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from typing import Any, Protocol

from ..errors import (
    InvalidIdTokenError,
    NotAuthenticatedError,
    OIDCError,
    ProviderError,
    ProviderUnavailableError,
    RefreshFailedError,
    SessionExpiredError,
)
from .audit import Audit
from .sessions import Session, SessionRegistry

#: Background retries back off up to this (provider down).
MAX_BACKOFF_SECONDS = 30.0
#: After a failed refresh, a request for an expired token asks the provider again at most this often.
MIN_RETRY_SECONDS = 1.0
#: Without ``expires_in`` in the token response, assume this lifetime.
DEFAULT_LIFETIME_SECONDS = 300.0


class Clock(Protocol):
    """Wall time (token expiry), monotonic time (back-off) and sleeping."""

    def time(self) -> float: ...

    def monotonic(self) -> float: ...

    async def sleep(self, delay: float) -> None: ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, delay: float) -> None:
        await asyncio.sleep(delay)


class Renewer(Protocol):
    """The token endpoint as the refresher uses it (``endpoint.TokenEndpoint``)."""

    async def refresh(self, session: Session) -> dict[str, Any]: ...

    async def check_refreshed(self, session: Session, tokens: dict[str, Any]) -> None: ...


def token_lifetime(tokens: dict[str, Any]) -> float:
    """``expires_in`` of a token answer, at least 1 s (default :data:`DEFAULT_LIFETIME_SECONDS`)."""
    try:
        lifetime = float(tokens.get("expires_in") or DEFAULT_LIFETIME_SECONDS)
    except (TypeError, ValueError):
        lifetime = DEFAULT_LIFETIME_SECONDS
    return max(lifetime, 1.0)


#: The background refresh of a token falls inside this part of its lifetime, never later than
#: the margin before expiry: at its seeded point, moved to the nearest second with fewer than
#: the window's mean of refreshes booked by the process's other sessions when its own second
#: has that many (the booking table, :meth:`Refresher.place`). Sessions that got their tokens
#: at the same moment (a morning's sign-ins) then refresh evenly over the window, without the
#: Poisson bursts of independent random points: a window of width w after a common start gives
#: the provider a peak of (mean point / w) × its mean rate: 1.3× for 40–90 %, which leaves room
#: below 2× for keepers that wake late (50–90 %: 1.75×, 70–90 %: 4×); the price is refreshes at
#: 65 % of the lifetime on average instead of 70 %, 8 % more of them.
REFRESH_SPREAD = (0.4, 0.9)


def spread_point(session: Session) -> float:
    """A number in [0, 1) fixed by the session and its token's issue time (the jitter's seed):
    the same session and token give the same point, under a fake clock too."""
    issued = session.expires_at - session.lifetime
    seed = "\0".join((session.issuer, session.client_id, session.sub, session.key, f"{issued:.3f}"))
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") / 2.0**64


class Refresher:
    """Single-flight refresh per session, background keepers, and back-off after failures."""

    #: Where in a token's lifetime the keeper refreshes (:data:`REFRESH_SPREAD`); None: at the margin.
    spread: tuple[float, float] | None = REFRESH_SPREAD

    def __init__(
        self,
        registry: SessionRegistry,
        renewer: Renewer,
        refresh_margin: float,
        log: logging.Logger | None = None,
        clock: Clock | None = None,
        audit: Audit | None = None,
    ) -> None:
        self.registry = registry
        self.renewer = renewer
        self.refresh_margin = refresh_margin
        self.log = log or logging.getLogger("jupyterlab_oidc")
        self.clock: Clock = clock or SystemClock()
        self.audit = audit or Audit(self.log)
        self.keepers: dict[str, asyncio.Task[None]] = {}
        self._refreshes: dict[str, asyncio.Task[Session]] = {}
        #: Per session: failed refreshes in a row, when the last one failed, and its error.
        self._failures: dict[str, tuple[int, float, OIDCError]] = {}
        #: The booking table: refreshes planned per wall-clock second, and each session's booking
        #: (its token's expiry and lifetime, the second, the time), released when it refreshes or ends.
        self.bookings: dict[int, int] = {}
        self._booked: dict[str, tuple[tuple[float, float], int, float]] = {}

    # ---------------------------------------------------------------- life cycle

    def start(self) -> None:
        """Keep every session in the registry fresh (call with the event loop running)."""
        for key in self.registry.sessions:
            self.keep_fresh(key)

    def stop(self) -> None:
        for task in [*self.keepers.values(), *self._refreshes.values()]:
            task.cancel()
        self.bookings.clear()
        self._booked.clear()

    def add(self, session: Session) -> None:
        """A new session (sign-in, grant): store it, keep it fresh, report the change."""
        self.registry.sessions[session.key] = session
        self._failures.pop(session.key, None)
        self.registry.save()
        self.keep_fresh(session.key)
        self.registry.changed()

    async def end(self, key: str) -> Session | None:
        """Forget ``key``: no more refreshes for it."""
        self._failures.pop(key, None)
        self.release(key)
        keeper = self.keepers.pop(key, None)
        if keeper is not None and keeper is not asyncio.current_task():
            keeper.cancel()
        return self.registry.remove(key)

    # ---------------------------------------------------------------- tokens

    def margin(self, session: Session) -> float:
        """How early to refresh: ``refresh_margin``, at most half the token's lifetime."""
        lifetime = session.lifetime or DEFAULT_LIFETIME_SECONDS
        return min(self.refresh_margin, lifetime / 2)

    def expires_in(self, session: Session) -> float:
        return session.expires_in(self.clock.time())

    def refresh_at(self, session: Session) -> float:
        """When the keeper refreshes ``session``: inside the :attr:`spread` window of the token's
        lifetime, never later than :meth:`margin` before expiry (at it without a spread), where
        :meth:`place` puts the seed; booked, so asking again for the same token answers the same
        time until it refreshes or ends (without a spread: nothing booked)."""
        latest = session.expires_at - self.margin(session)
        if self.spread is None or session.lifetime <= 0:
            return latest
        token = (session.expires_at, session.lifetime)
        booked = self._booked.get(session.key)
        if booked is not None and booked[0] == token:
            return booked[2]
        self.release(session.key)
        issued = session.expires_at - session.lifetime
        start = issued + self.spread[0] * session.lifetime
        end = min(issued + self.spread[1] * session.lifetime, latest)
        at = min(start, latest) if end <= start else self.place(spread_point(session), start, end)
        second = math.floor(at)
        self.bookings[second] = self.bookings.get(second, 0) + 1
        self._booked[session.key] = (token, second, at)
        return at

    def place(self, point: float, start: float, end: float) -> float:
        """The time in [``start``, ``end``] for the seed ``point`` (in [0, 1)): the seeded point of
        the part of the window still ahead (the whole window once it has passed) if its second has
        fewer bookings than the window's mean (rounded up, counting this one); else the same place
        in the nearest such second. Same point, same bookings, same time."""
        low = max(start, self.clock.time())
        if low >= end:
            low = start
        seconds = [s for s in range(math.floor(low), math.ceil(end)) if min(s + 1.0, end) > max(s, low)]
        cap = math.ceil((sum(self.bookings.get(s, 0) for s in seconds) + 1) / len(seconds))
        at = low + point * (end - low)
        seeded = min(max(math.floor(at), seconds[0]), seconds[-1])
        if self.bookings.get(seeded, 0) < cap:
            return at
        second = min((s for s in seconds if self.bookings.get(s, 0) < cap), key=lambda s: (abs(s - seeded), s))
        first, last = max(float(second), low), min(second + 1.0, end)
        return first + (at - math.floor(at)) * (last - first)

    def release(self, key: str) -> None:
        """Drop ``key``'s booking (it refreshes now, or it ended)."""
        booked = self._booked.pop(key, None)
        if booked is not None:
            left = self.bookings.get(booked[1], 0) - 1
            if left > 0:
                self.bookings[booked[1]] = left
            else:
                self.bookings.pop(booked[1], None)

    async def get_token(self, session: Session, min_valid: float) -> Session:
        """``session`` if its access token is valid for ``min_valid`` s (capped at the margin), else refreshed."""
        wanted = min(max(min_valid, 0.0), self.margin(session))
        if self.expires_in(session) >= wanted:
            return session
        failure = self._failures.get(session.key)
        if failure is not None and self.retry_in(session.key, expired=self.expires_in(session) <= 0) > 0:
            # The provider failed a moment ago: don't ask it again on every request.
            if self.expires_in(session) > 0:
                return session
            raise type(failure[2])(failure[2].message, **failure[2].details)
        try:
            return await self.refresh(session.key)
        except (ProviderUnavailableError, RefreshFailedError):
            current = self.registry.get(session.key)
            if current is not None and self.expires_in(current) > 0:
                return current
            raise

    async def refresh(self, key: str) -> Session:
        """Refresh now; concurrent callers share one request to the provider (single flight)."""
        if key not in self.registry.sessions:
            raise NotAuthenticatedError(f"Not signed in to {key!r}.")
        task = self._refreshes.get(key)
        if task is None:
            task = asyncio.ensure_future(self._refresh_once(key))
            self._refreshes[key] = task
            task.add_done_callback(lambda t: self._refreshes.pop(key, None) if self._refreshes.get(key) is t else None)
            task.add_done_callback(lambda t: self._note_outcome(key, t))
            session = self.registry.sessions[key]
            started, last = self.clock.monotonic(), session.refreshed_at
            task.add_done_callback(lambda t: self._audit_outcome(session, t, started, last))
        return await asyncio.shield(task)

    def _note_outcome(self, key: str, task: asyncio.Task[Session]) -> None:
        """Count transient failures in a row, so retries back off; a success or an end resets."""
        if task.cancelled():
            return
        error = task.exception()
        if isinstance(error, OIDCError) and not isinstance(error, (SessionExpiredError, NotAuthenticatedError)):
            count = self._failures[key][0] + 1 if key in self._failures else 1
            self._failures[key] = (count, self.clock.monotonic(), error)
        else:
            self._failures.pop(key, None)

    def _audit_outcome(self, session: Session, task: asyncio.Task[Session], started: float, last: float) -> None:
        """One refresh record per refresh at the provider (a still-valid session without a refresh token is none)."""
        if task.cancelled():
            return
        error = task.exception()
        duration = self.clock.monotonic() - started
        if error is None:
            if task.result().refreshed_at != last:
                self.audit.session_event("refresh", "succeeded", session, duration=duration)
        else:
            code = error.code if isinstance(error, OIDCError) else "oidc_error"
            self.audit.session_event("refresh", "failed", session, duration=duration, error_code=code)

    def retry_in(self, key: str, expired: bool = False) -> float:
        """Seconds before the provider may be asked again for ``key`` (back-off after failures).

        While the access token is valid: 1, 2, 4 ... up to ``MAX_BACKOFF_SECONDS`` after each
        failure in a row. Once it has expired, someone is waiting for a token: at most one
        attempt per ``MIN_RETRY_SECONDS``, so the session recovers as soon as the provider does.
        """
        failure = self._failures.get(key)
        if failure is None:
            return 0.0
        count, failed_at, _ = failure
        wait = MIN_RETRY_SECONDS if expired else min(2.0 ** (count - 1), MAX_BACKOFF_SECONDS)
        return failed_at + wait - self.clock.monotonic()

    async def _ended(self, key: str, session: Session, reason: str, message: str) -> SessionExpiredError:
        """End ``key`` for ``reason`` (audited) and answer the error to raise."""
        await self.end(key)
        self.audit.session_ended(session, reason)
        return SessionExpiredError(message, environment=session.environment)

    async def _refresh_once(self, key: str) -> Session:
        session = self.registry.sessions[key]
        self.release(key)
        if not session.refresh_token:
            if self.expires_in(session) > 0:
                return session
            raise await self._ended(
                key,
                session,
                "expired",
                f"The session for {key!r} has expired and has no refresh token (request the "
                "offline_access scope). Sign in again.",
            )
        try:
            tokens = await self.renewer.refresh(session)
        except ProviderError as e:
            if e.details.get("provider_error") in ("invalid_grant", "invalid_token"):
                raise await self._ended(
                    key,
                    session,
                    "ended_by_provider",
                    f"The provider ended the session for {key!r} (it no longer accepts the refresh "
                    "token). Sign in again.",
                ) from None
            raise RefreshFailedError(
                f"Refreshing {key!r} failed: {e.message}", environment=session.environment
            ) from None
        if self.registry.get(key) is not session:
            raise NotAuthenticatedError(f"Signed out of {key!r} while refreshing.")
        if tokens.get("id_token"):
            try:
                await self.renewer.check_refreshed(session, tokens)
            except InvalidIdTokenError as e:
                raise await self._ended(
                    key,
                    session,
                    "id_token_rejected",
                    f"The provider's refreshed id_token failed the {e.details.get('check')} check; "
                    f"the session for {key!r} was ended. Sign in again.",
                ) from None
        lifetime = token_lifetime(tokens)
        now = self.clock.time()
        session.access_token = tokens["access_token"]
        session.refresh_token = tokens.get("refresh_token") or session.refresh_token
        session.id_token = tokens.get("id_token") or session.id_token
        session.scope = str(tokens.get("scope") or session.scope)
        session.expires_at = now + lifetime
        session.lifetime = lifetime
        session.refreshed_at = now
        # The rotated refresh token is saved before anyone uses the new access token.
        self.registry.save()
        self.keep_fresh(key)
        self.registry.changed()
        return session

    # ---------------------------------------------------------------- background

    def keep_fresh(self, key: str) -> None:
        """(Re)start the background keeper of ``key``."""
        try:
            current = asyncio.current_task()
        except RuntimeError:  # no running loop: a library caller before its loop runs
            current = None
        old = self.keepers.get(key)
        if old is not None and old is not current:
            old.cancel()
        self.keepers[key] = asyncio.ensure_future(self._keeper(key))

    async def _keeper(self, key: str) -> None:
        """Background refresh at :meth:`refresh_at`; transient failures back off while the token lasts."""
        while (session := self.registry.get(key)) is not None:
            # After a failure the back-off decides (no new booking for a token whose refresh already ran).
            delay = self.retry_in(key) if key in self._failures else self.refresh_at(session) - self.clock.time()
            if delay > 0:
                await self.clock.sleep(delay)
                continue  # look again: a request may have refreshed, or failed, meanwhile
            try:
                await self.refresh(key)
                return  # _refresh_once started a new keeper for the new expiry
            except (SessionExpiredError, NotAuthenticatedError):
                return
            except OIDCError as e:
                self.log.warning("jupyterlab_oidc: background refresh of %s failed (%s); retrying", key, e.code)
        self.release(key)  # the session is gone
