"""The refresher with a fake clock and a fake token endpoint: its schedule, deterministic, no sleeping."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

import pytest

from jupyterlab_oidc.core.refresher import MAX_BACKOFF_SECONDS, MIN_RETRY_SECONDS, REFRESH_SPREAD, Refresher
from jupyterlab_oidc.core.sessions import Session, SessionRegistry
from jupyterlab_oidc.core.store import MemoryStore
from jupyterlab_oidc.errors import ProviderUnavailableError

WALL = 1_700_000_000.0
LIFETIME, MARGIN = 300.0, 60.0


class FakeClock:
    """Time moves only when the test says so; ``sleep`` waits for :meth:`advance`."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def time(self) -> float:
        return WALL + self.t

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.sleepers.append((self.t + delay, future))
        await future

    async def advance(self, seconds: float) -> None:
        self.t += seconds
        for deadline, future in list(self.sleepers):
            if deadline <= self.t + 1e-9:
                self.sleepers.remove((deadline, future))
                if not future.done():
                    future.set_result(None)
        await settle()

    async def advance_to_next_wake(self) -> None:
        pending = [d for d, f in self.sleepers if not f.done()]
        assert pending, "nothing is sleeping"
        await self.advance(max(min(pending) - self.t, 0.0))


class FakeEndpoint:
    """Answers refreshes with a new token, or fails while ``down``; ``gate`` holds answers back."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[float] = []
        self.down = False
        self.gate: asyncio.Event | None = None

    async def refresh(self, session: Session) -> dict[str, Any]:
        self.calls.append(self.clock.t)
        if self.gate is not None:
            await self.gate.wait()
        if self.down:
            raise ProviderUnavailableError("The provider did not answer in time (refresh).", during="refresh")
        return {"access_token": f"access-{len(self.calls)}", "token_type": "Bearer", "expires_in": LIFETIME}

    async def check_refreshed(self, session: Session, tokens: dict[str, Any]) -> None:
        return None


async def settle() -> None:
    """Let every task that can run, run (a fixed number of loop turns; no wall-clock time)."""
    for _ in range(20):
        await asyncio.sleep(0)


def make(
    expires_in: float = LIFETIME, spread: tuple[float, float] | None = None
) -> tuple[Refresher, FakeClock, FakeEndpoint, Session]:
    """One session; the keeper refreshes at the margin unless ``spread`` is given."""
    clock = FakeClock()
    endpoint = FakeEndpoint(clock)
    registry = SessionRegistry(MemoryStore(), logging.getLogger("test_refresher"))
    session = Session(
        environment="prod",
        application=None,
        issuer="https://idp.example",
        client_id="lab",
        sub="s",
        email="alice@example.com",
        access_token="access-0",
        refresh_token="refresh-0",
        expires_at=clock.time() + expires_in,
        lifetime=LIFETIME,
    )
    registry.sessions[session.key] = session
    refresher = Refresher(registry, endpoint, MARGIN, clock=clock)
    refresher.spread = spread
    return refresher, clock, endpoint, session


async def test_background_refresh_waits_for_the_margin_before_expiry() -> None:
    refresher, clock, endpoint, session = make()
    refresher.start()
    await settle()
    await clock.advance(LIFETIME - MARGIN - 1)
    assert endpoint.calls == []
    await clock.advance(1)
    assert endpoint.calls == [LIFETIME - MARGIN]
    assert session.access_token == "access-1" and session.expires_at == clock.time() + LIFETIME
    await clock.advance(LIFETIME - MARGIN)  # the next window, from the new expiry
    assert endpoint.calls == [LIFETIME - MARGIN, 2 * (LIFETIME - MARGIN)]
    refresher.stop()


async def test_failed_background_refreshes_back_off_1_2_4_up_to_30_seconds() -> None:
    refresher, clock, endpoint, _ = make(expires_in=3600)
    endpoint.down = True
    refresher.start()
    await settle()
    await clock.advance_to_next_wake()  # the refresh window opens
    for _ in range(7):
        await clock.advance_to_next_wake()
    gaps = [b - a for a, b in zip(endpoint.calls, endpoint.calls[1:])]
    assert gaps == [1, 2, 4, 8, 16, MAX_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS]
    endpoint.down = False
    await clock.advance_to_next_wake()
    assert refresher.retry_in("prod") == 0.0  # a success resets the back-off
    refresher.stop()


async def test_once_expired_requests_ask_the_provider_at_most_once_per_second() -> None:
    refresher, clock, endpoint, session = make(expires_in=-5)
    endpoint.down = True
    for _ in range(3):
        with pytest.raises(ProviderUnavailableError):
            await refresher.get_token(session, 60)
    assert len(endpoint.calls) == 1  # the others answered the remembered failure
    await clock.advance(MIN_RETRY_SECONDS / 2)
    with pytest.raises(ProviderUnavailableError):
        await refresher.get_token(session, 60)
    assert len(endpoint.calls) == 1
    await clock.advance(MIN_RETRY_SECONDS / 2)
    endpoint.down = False
    assert (await refresher.get_token(session, 60)).access_token == "access-2"
    assert endpoint.calls == [0.0, MIN_RETRY_SECONDS]
    refresher.stop()


async def test_requests_racing_a_background_refresh_share_its_one_request() -> None:
    refresher, clock, endpoint, session = make()
    endpoint.gate = asyncio.Event()
    refresher.start()
    await settle()
    await clock.advance(LIFETIME - MARGIN + 0.5)  # the keeper's refresh is now in flight
    assert len(endpoint.calls) == 1
    waiting = [asyncio.ensure_future(refresher.get_token(session, 60)) for _ in range(5)]
    waiting.append(asyncio.ensure_future(refresher.refresh(session.key)))
    await settle()
    assert len(endpoint.calls) == 1 and not any(w.done() for w in waiting)
    endpoint.gate.set()
    results = await asyncio.gather(*waiting)
    assert len(endpoint.calls) == 1
    assert {r.access_token for r in results} == {"access-1"}
    refresher.stop()


# ---------------------------------------------------------------- the refresh spread (jitter)


def many(count: int, lifetime: float = LIFETIME, margin: float = MARGIN) -> tuple[Refresher, FakeClock, FakeEndpoint]:
    """``count`` sessions whose tokens were all issued at the same moment (a morning's sign-ins)."""
    refresher, clock, endpoint, _ = make(spread=REFRESH_SPREAD)
    refresher.refresh_margin = margin
    refresher.registry.sessions.clear()
    for i in range(count):
        session = Session(
            environment=f"env{i}",
            application=None,
            issuer="https://idp.example",
            client_id="lab",
            sub=f"s{i}",
            email=f"user{i}@example.com",
            access_token="access-0",
            refresh_token="refresh-0",
            expires_at=clock.time() + lifetime,
            lifetime=lifetime,
        )
        refresher.registry.sessions[session.key] = session
    return refresher, clock, endpoint


def window(lifetime: float, margin: float) -> tuple[float, float]:
    """The spread window in clock.t (tokens issued at t = 0)."""
    low, high = REFRESH_SPREAD
    return low * lifetime, min(high * lifetime, lifetime - min(margin, lifetime / 2))


async def test_background_refreshes_fall_inside_the_spread_window() -> None:
    refresher, clock, endpoint = many(50)
    start, end = window(LIFETIME, MARGIN)
    refresher.start()
    await settle()
    await clock.advance(start - 0.001)
    assert endpoint.calls == []
    await clock.advance(end - start + 0.002)
    assert len(endpoint.calls) == 50
    assert all(start <= t <= end + 0.002 for t in endpoint.calls)
    refresher.stop()


async def test_keeper_refreshes_at_the_sessions_seeded_point() -> None:
    refresher, clock, endpoint, session = make(spread=REFRESH_SPREAD)
    planned = refresher.refresh_at(session) - WALL
    refresher.start()
    await settle()
    await clock.advance_to_next_wake()
    assert endpoint.calls == [pytest.approx(planned)]
    # The new token has its own issue time, hence its own point in its own window.
    start, end = window(LIFETIME, MARGIN)
    assert planned + start <= refresher.refresh_at(session) - WALL <= planned + end
    refresher.stop()


@pytest.mark.parametrize("margin", [MARGIN, 100.0, 150.0, 1000.0])
async def test_spread_refresh_is_never_later_than_the_margin_before_expiry(margin: float) -> None:
    refresher, clock, _ = many(200, margin=margin)
    latest = LIFETIME - min(margin, LIFETIME / 2)
    points = [refresher.refresh_at(s) - WALL for s in refresher.registry.sessions.values()]
    assert max(points) <= latest
    # The margin is at most half the lifetime, after the window's start: it cuts the window, never
    # moves it earlier.
    assert min(points) >= REFRESH_SPREAD[0] * LIFETIME


async def test_spread_differs_across_sessions_and_covers_the_window() -> None:
    refresher, _, _ = many(400)
    start, end = window(LIFETIME, MARGIN)
    points = [refresher.refresh_at(s) - WALL for s in refresher.registry.sessions.values()]
    assert len(set(points)) == 400
    quarter = (end - start) / 4
    per_quarter = [sum(1 for p in points if start + q * quarter <= p < start + (q + 1) * quarter) for q in range(4)]
    assert all(n >= 50 for n in per_quarter), per_quarter  # 100 expected in each


async def test_same_session_and_token_give_the_same_refresh_time() -> None:
    first, _, _ = many(3)
    second, _, _ = many(3)
    for key, session in first.registry.sessions.items():
        assert first.refresh_at(session) == second.refresh_at(second.registry.sessions[key])
    session = first.registry.sessions["env0"]
    before = first.refresh_at(session)
    session.expires_at += 7.0  # a token issued 7 s later: another seed
    assert first.refresh_at(session) - 7.0 != pytest.approx(before, abs=1e-6)


async def test_without_the_spread_the_keeper_refreshes_at_the_margin() -> None:
    refresher, clock, endpoint = many(20)
    refresher.spread = None
    refresher.start()
    await settle()
    await clock.advance(LIFETIME - MARGIN)
    assert endpoint.calls == [LIFETIME - MARGIN] * 20
    refresher.stop()


# ---------------------------------------------------------------- load-aware placement (the booking table)


def per_second(times: list[float]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for t in times:
        counts[int(t // 1)] = counts.get(int(t // 1), 0) + 1
    return counts


async def test_500_sessions_signed_in_at_once_refresh_evenly_over_the_window() -> None:
    refresher, _, _ = many(500, lifetime=60.0, margin=5.0)
    start, end = window(60.0, 5.0)
    points = [refresher.refresh_at(s) - WALL for s in refresher.registry.sessions.values()]
    assert all(start <= p <= end for p in points)
    counts = per_second(points)
    mean = 500 / (end - start)  # 20.8 per second over the 24 s window
    assert max(counts.values()) <= 2 * mean
    # No second over the mean (rounded up): every second of the window holds 20 or 21, not Poisson bursts of 30.
    assert set(counts) == set(range(int(start), int(end)))
    assert max(counts.values()) <= math.ceil(mean), counts
    assert sum(refresher.bookings.values()) == 500


async def test_background_refreshes_of_500_sessions_stay_near_the_mean_over_two_lifetimes() -> None:
    refresher, clock, endpoint = many(500, lifetime=60.0, margin=5.0)
    refresher.renewer.refresh = lambda session, endpoint=endpoint: _answer(endpoint, 60.0)  # type: ignore[method-assign]
    refresher.start()
    await settle()
    while clock.t < 120.0:
        await clock.advance_to_next_wake()
    counts = per_second(endpoint.calls)
    # The mean rate as the bench counts it: sessions ÷ the mean time between two refreshes of a session.
    interval = sum(s.refreshed_at - WALL for s in refresher.registry.sessions.values()) / len(endpoint.calls)
    mean = 500 / interval
    assert len(endpoint.calls) >= 500 * 2 and max(counts.values()) <= 2 * mean, (max(counts.values()), mean)
    assert interval <= REFRESH_SPREAD[1] * 60.0  # no drift to the window's end
    # One booking per session (its next refresh), all ahead of the clock.
    assert sum(refresher.bookings.values()) == 500 and min(refresher.bookings) >= int(clock.time())
    refresher.stop()


async def _answer(endpoint: FakeEndpoint, lifetime: float) -> dict[str, Any]:
    endpoint.calls.append(endpoint.clock.t)
    return {"access_token": f"access-{len(endpoint.calls)}", "token_type": "Bearer", "expires_in": lifetime}


async def test_bookings_are_released_when_a_refresh_runs_and_when_a_session_ends() -> None:
    refresher, clock, _ = many(10)
    for session in refresher.registry.sessions.values():
        refresher.refresh_at(session)
    assert sum(refresher.bookings.values()) == 10
    session = refresher.registry.sessions["env0"]
    first = refresher.refresh_at(session)
    assert refresher.refresh_at(session) == first and sum(refresher.bookings.values()) == 10  # asked again: the same
    await refresher.refresh("env0")  # a request's refresh: the old booking goes, the new keeper books the new token
    await settle()
    assert sum(refresher.bookings.values()) == 10
    assert refresher.refresh_at(session) - clock.time() >= REFRESH_SPREAD[0] * LIFETIME
    await refresher.end("env1")
    assert sum(refresher.bookings.values()) == 9 and "env1" not in refresher._booked
    refresher.start()
    await settle()
    refresher.registry.remove("env2")  # gone without end(): its keeper releases it when it wakes
    await clock.advance(LIFETIME)
    assert "env2" not in refresher._booked
    refresher.stop()
    assert refresher.bookings == {}


async def test_same_seeds_and_same_bookings_give_the_same_times() -> None:
    first, _, _ = many(200)
    second, _, _ = many(200)
    times = [first.refresh_at(s) for s in first.registry.sessions.values()]
    assert times == [second.refresh_at(s) for s in second.registry.sessions.values()]
    assert first.bookings == second.bookings
    # Other bookings in the table move a session to another second; the same bookings again, the same time.
    third, _, _ = many(200)
    fourth, _, _ = many(200)
    third.bookings, fourth.bookings = {int(times[0]): 50}, {int(times[0]): 50}
    moved = [third.refresh_at(s) for s in third.registry.sessions.values()]
    assert int(moved[0]) != int(times[0]) and moved[0] - int(moved[0]) == pytest.approx(times[0] - int(times[0]))
    assert moved == [fourth.refresh_at(s) for s in fourth.registry.sessions.values()]


async def test_without_the_spread_nothing_is_booked() -> None:
    refresher, _, _ = many(20)
    refresher.spread = None
    assert {refresher.refresh_at(s) for s in refresher.registry.sessions.values()} == {WALL + LIFETIME - MARGIN}
    assert refresher.bookings == {}
