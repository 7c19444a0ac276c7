"""Faults: provider outage while a refresh is due, a provider that hangs, a slow provider under
load, clock skew.

No test here waits for a token to age: a refresh is made due by moving the session's expiry
(white-box), and a slow provider is one that holds requests until the test releases them
(``MisbehavingProvider.hold``), so requests really overlap whatever the machine's speed.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ..idp import ALICE
from ..misbehaving_provider import MisbehavingProvider
from ..support import TokenRequests, make_due, until


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
@pytest.mark.timeout(120)
async def test_provider_down_while_a_refresh_is_due(
    sign_in: Any, api: Any, broker: Any, bad_idp: MisbehavingProvider, attempts: Attempts
) -> None:
    # Given a session whose refresh is due while the provider is away
    assert (await sign_in(ALICE)).status == 200
    session = broker.sessions["prod"]
    first_token = session.access_token
    bad_idp.go_down()
    make_due(broker, session)
    # When requests want a token while the access token is still valid
    valid = [await api("POST", "token", {}) for _ in range(10)]
    # Then each gets the current token, and the provider was not asked once per request
    assert all(a.status == 200 and a.body["access_token"] == first_token for a in valid), [a.body for a in valid]
    tried_while_valid = len(attempts.between("refresh", 0, time.monotonic()))
    assert 1 <= tried_while_valid < len(valid), f"{tried_while_valid} attempts for {len(valid)} requests"
    # When the access token has expired (white-box: the expiry moves to the past)
    session.expires_at = time.time() - 1
    expired = [await api("POST", "token", {}) for _ in range(5)]
    # Then the answer is a clear, typed error without a token
    for a in expired:
        assert a.status in (502, 503) and a.body["error"] in ("provider_unavailable", "refresh_failed"), a.body
        assert "provider" in a.body["message"].lower() and "token" not in a.body
    # When the provider comes back, requests get a fresh token again
    bad_idp.come_back()
    recovered: list[Any] = []

    async def fresh() -> bool:
        recovered.append(await api("POST", "token", {}))
        return recovered[-1].status == 200

    deadline = time.monotonic() + 30
    while not await fresh():
        assert time.monotonic() < deadline, recovered[-1].body
        await asyncio.sleep(0.2)
    assert recovered[-1].body["access_token"] != first_token and bad_idp.grant_calls("refresh_token") == 1
    # (the back-off's schedule -- 1, 2, 4 ... s, then one try per MIN_RETRY_SECONDS -- is tested
    # with a fake clock in tests/test_refresher.py)


@pytest.mark.security_case("provider-hangs")
@pytest.mark.oidc(http_timeout_seconds=5)
async def test_a_provider_that_hangs_costs_one_timeout_not_one_per_request(
    sign_in: Any,
    rest: httpx.AsyncClient,
    broker: Any,
    bad_idp: MisbehavingProvider,
    attempts: Attempts,
    token_requests: list[float],
) -> None:
    assert (await sign_in(ALICE)).status == 200
    session = broker.sessions["prod"]
    first_token = session.access_token
    # Given a provider that accepts the connection and never answers (until the test ends)
    bad_idp.hold("refresh_token")
    make_due(broker, session)
    # When twenty requests want a token while the refresh hangs
    token_requests.clear()
    wanting = [asyncio.ensure_future(rest.post("token", json={})) for _ in range(20)]
    await until(lambda: bad_idp.held == 1, "the refresh reached the provider")
    replies = await asyncio.gather(*wanting)
    bad_idp.release()
    # Then they waited for the one attempt, which timed out once, and all got the current token
    assert len(token_requests) == 20 and token_requests.overlapped, (
        "the requests should have joined the hanging attempt"
    )
    assert [r.status_code for r in replies] == [200] * 20
    assert {r.json()["access_token"] for r in replies} == {first_token}
    assert len(attempts.between("refresh", 0, time.monotonic())) == 1 and bad_idp.grant_calls("refresh_token") == 1


@pytest.mark.security_case("slow-provider")
async def test_slow_provider_and_fifty_concurrent_token_requests_cause_one_refresh(
    sign_in: Any, rest: httpx.AsyncClient, broker: Any, bad_idp: MisbehavingProvider, token_requests: TokenRequests
) -> None:
    assert (await sign_in(ALICE)).status == 200
    session = broker.sessions["prod"]
    first_token = session.access_token
    refreshes = bad_idp.grant_calls("refresh_token")
    # Given a provider that holds refresh requests until the test lets them through
    bad_idp.hold("refresh_token")
    make_due(broker, session)
    # When 50 requests want a token valid for the whole margin while the refresh is held
    token_requests.clear()
    wanting = [asyncio.ensure_future(rest.post("token", json={"min_valid": 60})) for _ in range(50)]
    await until(lambda: len(token_requests) == 50, "fifty requests at the server")
    await until(lambda: bad_idp.held == 1, "the refresh reached the provider")
    # ... the server answers everything else at once (these return while the refresh is held)
    status = await rest.get("status")
    current = await rest.post("token", json={"min_valid": 0})
    assert bad_idp.held == 1 and len(token_requests.left) == 1  # only that quick one
    bad_idp.release()
    replies = await asyncio.gather(*wanting)
    assert max(token_requests.entered[:50]) < min(token_requests.left[1:])  # the fifty overlapped

    # Then all fifty got the one new token: one refresh at the provider, never two at once
    assert {r.status_code for r in replies} == {200}
    tokens = {r.json()["access_token"] for r in replies}
    assert len(tokens) == 1 and first_token not in tokens
    assert bad_idp.grant_calls("refresh_token") - refreshes == 1
    assert bad_idp.max_in_flight_token_calls == 1
    assert status.status_code == 200 and current.json()["access_token"] == first_token


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
