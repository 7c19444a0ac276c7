"""Faults: provider outage while a refresh is due, a slow provider under load, clock skew.

The outage lasts ``OIDC_OUTAGE_SECONDS`` (8 s by default, 30 s with ``OIDC_SECURITY_FULL=1``);
access tokens live as long as the outage, so the refresh falls due a second after the
provider goes away and the token expires in the middle of the outage.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from jupyterlab_oidc.core.refresher import MIN_RETRY_SECONDS

from ..misbehaving_provider import MisbehavingProvider
from .conftest import ALICE, budget

OUTAGE_SECONDS = budget("OIDC_OUTAGE_SECONDS", 8, 30)


class Attempts:
    """When the broker sent each token request, by label (white-box: wraps its HTTP helper)."""

    def __init__(self) -> None:
        self.sent: list[tuple[float, str]] = []

    def between(self, label: str, since: float, until: float) -> list[float]:
        return [t for t, name in self.sent if name == label and since <= t <= until]


@pytest.fixture
def attempts(broker: Any, monkeypatch: pytest.MonkeyPatch) -> Attempts:
    record = Attempts()
    post_form = broker.http.post_form

    async def counted(label: str, *args: Any, **kwargs: Any) -> Any:
        record.sent.append((time.monotonic(), label))
        return await post_form(label, *args, **kwargs)

    monkeypatch.setattr(broker.http, "post_form", counted)
    return record


@dataclass
class Ask:
    at: float
    status: int
    body: dict[str, Any]
    expires_in: float  # of the session's access token when the answer came


@pytest.mark.security_case("outage-refresh-due")
@pytest.mark.timeout(OUTAGE_SECONDS * 3 + 60)
async def test_provider_down_while_a_refresh_is_due(
    sign_in: Any, api: Any, broker: Any, bad_idp: MisbehavingProvider, attempts: Attempts
) -> None:
    # Given a session whose access token lives as long as the outage will
    bad_idp.access_ttl = OUTAGE_SECONDS
    assert (await sign_in(ALICE)).status == 200
    session = broker.sessions["prod"]
    first_token = session.access_token
    # When the provider goes away one second before the refresh falls due
    await asyncio.sleep(session.expires_in() - broker.margin(session) - 1)
    bad_idp.go_down()
    down_at = time.monotonic()
    expiry = down_at + session.expires_in()
    asks: list[Ask] = []
    while time.monotonic() - down_at < OUTAGE_SECONDS:
        reply = await api("POST", "token", {})
        asks.append(Ask(time.monotonic(), reply.status, reply.body, session.expires_in()))
        await asyncio.sleep(0.2)
    bad_idp.come_back()
    up_at = time.monotonic()
    while (recovered := await api("POST", "token", {})).status != 200 and time.monotonic() - up_at < 5:
        await asyncio.sleep(0.2)
    recovered_after = time.monotonic() - up_at

    # Then every request succeeds with the current token while it is valid ...
    valid = [a for a in asks if a.expires_in > 0.5]
    assert valid and all(a.status == 200 and a.body["access_token"] == first_token for a in valid)
    # ... and answers a clear, typed error once it has expired
    expired = [a for a in asks if a.expires_in < -0.5]
    assert expired, "the token should expire during the outage"
    for a in expired:
        assert a.status in (502, 503) and a.body["error"] in ("provider_unavailable", "refresh_failed"), a.body
        assert "provider" in a.body["message"].lower() and "token" not in a.body
    # ... the provider is asked with back-off (1, 2, 4 ... s) while the token lasts, then at
    # most once a second while requests wait for a token, never once per request
    tried = attempts.between("refresh", down_at, up_at)
    while_valid = [t for t in tried if t < expiry]
    gaps = [b - a for a, b in zip(while_valid, while_valid[1:])]
    assert all(g >= 0.9 * 2**i for i, g in enumerate(gaps)), gaps
    after_expiry = [t for t in tried if t >= expiry]
    assert len(after_expiry) <= (up_at - expiry) / MIN_RETRY_SECONDS + 1
    assert all(b - a >= 0.9 * MIN_RETRY_SECONDS for a, b in zip(tried, tried[1:]))
    assert len(tried) < len(asks) / 3, f"{len(tried)} attempts for {len(asks)} requests"
    # ... and within a second of the provider's return, requests get a fresh token
    assert recovered.status == 200, recovered.body
    assert recovered.body["access_token"] != first_token and recovered.body["expires_in"] > OUTAGE_SECONDS - 2
    assert recovered_after < MIN_RETRY_SECONDS + 1
    print(f"outage {OUTAGE_SECONDS}s: {len(asks)} token requests, {len(tried)} provider attempts")


@pytest.mark.security_case("provider-hangs")
@pytest.mark.oidc(http_timeout_seconds=1)
async def test_a_provider_that_hangs_costs_one_timeout_not_one_per_request(
    sign_in: Any, api: Any, broker: Any, bad_idp: MisbehavingProvider, attempts: Attempts
) -> None:
    bad_idp.access_ttl = 8
    assert (await sign_in(ALICE)).status == 200
    session = broker.sessions["prod"]
    first_token = session.access_token
    bad_idp.token_delay_seconds = 60  # accepts the connection, never answers in time
    await asyncio.sleep(session.expires_in() - broker.margin(session) + 0.1)
    took: list[float] = []
    while session.expires_in() > 1:
        started = time.monotonic()
        reply = await api("POST", "token", {})
        took.append(time.monotonic() - started)
        assert reply.status == 200 and reply.body["access_token"] == first_token
        await asyncio.sleep(0.1)
    tried = attempts.between("refresh", 0, time.monotonic())
    slow = [t for t in took if t > 0.5]
    # Each attempt costs the 1 s timeout once (requests joining it wait with it); the others answer at once
    assert len(slow) <= len(tried) and len(took) >= 2 * len(slow), (took, len(tried))
    assert max(took) < 2.5


@pytest.fixture
def rest(jp_http_port: int, jp_base_url: str, jp_auth_header: dict[str, str], jp_asyncio_loop: Any) -> Any:
    """An HTTP client for the REST API with room for many parallel requests (jp_fetch allows 10)."""
    client = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{jp_http_port}{jp_base_url}oidc/", headers=jp_auth_header, timeout=30,
        limits=httpx.Limits(max_connections=200),
    )
    yield client
    jp_asyncio_loop.run_until_complete(client.aclose())


@pytest.mark.security_case("slow-provider")
async def test_slow_provider_and_fifty_concurrent_token_requests_cause_one_refresh(
    sign_in: Any, rest: httpx.AsyncClient, broker: Any, bad_idp: MisbehavingProvider
) -> None:
    bad_idp.access_ttl = 4
    assert (await sign_in(ALICE)).status == 200
    session = broker.sessions["prod"]
    first_token = session.access_token
    bad_idp.token_delay_seconds = 5
    refreshes = bad_idp.grant_calls("refresh_token")
    # Right after the refresh fell due, 50 requests want a token valid for the whole margin
    await asyncio.sleep(max(session.expires_in() - broker.margin(session) + 0.1, 0))
    started = time.monotonic()
    wanting = [asyncio.ensure_future(rest.post("token", json={"min_valid": 60})) for _ in range(50)]
    await asyncio.sleep(0.5)
    # ... while the refresh is slow, the server answers everything else at once
    quick = time.monotonic()
    status = await rest.get("status")
    current = await rest.post("token", json={"min_valid": 0})
    quick_seconds = time.monotonic() - quick
    replies = await asyncio.gather(*wanting)
    elapsed = time.monotonic() - started

    assert {r.status_code for r in replies} == {200}
    tokens = {r.json()["access_token"] for r in replies}
    assert len(tokens) == 1 and first_token not in tokens
    assert bad_idp.grant_calls("refresh_token") - refreshes == 1
    assert bad_idp.max_in_flight_token_calls == 1
    assert elapsed < 5 + 2.5, f"{elapsed:.1f} s: requests piled up"
    assert status.status_code == 200 and current.json()["access_token"] == first_token and quick_seconds < 1


@pytest.mark.parametrize(
    "skew", [pytest.param(s, id=f"{s:+d}s", marks=pytest.mark.security_case("clock-skew")) for s in (-120, 120)]
)
async def test_two_minutes_of_clock_skew_is_tolerated(
    skew: int, sign_in: Any, api: Any, bad_idp: MisbehavingProvider
) -> None:
    bad_idp.clock_offset = skew
    bad_idp.id_token_hook = lambda c, forge: forge.sign({**c, "nbf": c["iat"]})
    bad_idp.refresh_id_token_hook = bad_idp.id_token_hook
    result = await sign_in(ALICE)
    assert result.status == 200, result.body
    refreshed = await api("POST", "refresh", {})
    assert refreshed.status == 200, refreshed.body
    assert (await api("POST", "token", {})).status == 200


@pytest.mark.security_case("clock-skew")
async def test_a_provider_clock_five_minutes_ahead_is_beyond_the_leeway(
    sign_in: Any, bad_idp: MisbehavingProvider
) -> None:
    bad_idp.clock_offset = 300
    result = await sign_in(ALICE)
    assert result.body["error"] == "invalid_id_token" and result.body["check"] == "iat"
