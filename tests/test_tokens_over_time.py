"""Tokens over time: background refresh, single flight, rotation, revocation, logout."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from .idp import ALICE, CLIENT_ID
from .support import make_due, until

SHORT = {"access_ttl": 10}


async def test_token_endpoint_returns_access_and_id_token_but_never_the_refresh_token(
    sign_in: Any, api: Any, idp: Any
) -> None:
    await sign_in(ALICE)
    token = await api("POST", "token", {"environment": "prod"})
    assert token.status == 200
    assert token.body["access_token"] and token.body["id_token"]
    assert "refresh_token" not in token.body
    assert idp.userinfo(token.body["access_token"]).json()["sub"] == "user-alice"


async def test_token_without_a_session_is_not_authenticated(api: Any) -> None:
    result = await api("POST", "token", {"environment": "prod"})
    assert result.status == 401
    assert result.body["error"] == "not_authenticated"
    assert "Sign in" in result.body["message"]


@pytest.mark.oidc(**SHORT)
async def test_short_lived_tokens_are_refreshed_in_the_background_before_expiry(
    sign_in: Any, api: Any, idp: Any
) -> None:
    await sign_in(ALICE)
    first = (await api("POST", "token", {"min_valid": 0})).body
    # 10 s tokens: refreshed at half-life, so within ~5 s and with no request from us.
    deadline = time.monotonic() + 9
    while idp.token_calls("refresh_token") == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert idp.token_calls("refresh_token") == 1
    current = (await api("POST", "token", {"min_valid": 0})).body
    assert current["access_token"] != first["access_token"]
    assert current["expires_at"] > first["expires_at"]


@pytest.mark.oidc(**SHORT)
async def test_the_rotated_refresh_token_is_the_one_used_next(sign_in: Any, api: Any, idp: Any) -> None:
    await sign_in(ALICE)
    await api("POST", "refresh", {})
    await api("POST", "refresh", {})
    third = await api("POST", "refresh", {})
    # Reusing an old refresh token would revoke the grant (provider rule): three rotations
    # succeeded, so each used the newest one.
    assert third.status == 200, third.body
    assert idp.stats()["token_errors"].get("refresh_token", 0) == 0
    assert idp.token_calls("refresh_token") == 3


async def test_concurrent_token_requests_across_expiry_cause_exactly_one_refresh(
    sign_in: Any, rest: httpx.AsyncClient, idp: Any, broker: Any, held_refresh: Any, token_requests: Any
) -> None:
    await sign_in(ALICE)
    session = broker.sessions["prod"]
    first = session.access_token
    # Given a session whose refresh is due, and a refresh that cannot leave before the test says so
    make_due(broker, session)
    # When 20 requests want a token valid for the whole margin
    token_requests.clear()
    wanting = [asyncio.ensure_future(rest.post("token", json={"min_valid": 3600})) for _ in range(20)]
    await until(lambda: len(token_requests) == 20 and held_refresh.waiting == 1, "20 requests waiting for one refresh")
    held_refresh.release()
    replies = [r.json() for r in await asyncio.gather(*wanting)]
    # Then they all waited for the one refresh and got its token
    assert token_requests.overlapped
    tokens = {r.get("access_token") for r in replies}
    assert len(tokens) == 1 and first not in tokens, replies[:2]
    assert held_refresh.sent == 1 and idp.token_calls("refresh_token") == 1
    assert idp.userinfo(tokens.pop()).status_code == 200


async def test_a_background_refresh_and_requests_that_race_it_share_one_provider_call(
    sign_in: Any, rest: httpx.AsyncClient, idp: Any, broker: Any, held_refresh: Any, token_requests: Any
) -> None:
    await sign_in(ALICE)
    session = broker.sessions["prod"]
    # Given the background refresh in flight (held before it reaches the provider)
    background = asyncio.ensure_future(broker.refresh("prod"))
    await until(lambda: held_refresh.waiting == 1, "the background refresh started")
    # When requests that need a fresh token arrive meanwhile
    make_due(broker, session)
    token_requests.clear()
    wanting = [asyncio.ensure_future(rest.post("token", json={"min_valid": 3600})) for _ in range(10)]
    await until(lambda: len(token_requests) == 10, "10 requests at the server")
    held_refresh.release()
    replies = await asyncio.gather(*wanting)
    refreshed = await background
    # Then they joined it: one provider call, its token for everyone
    assert {r.json().get("access_token") for r in replies} == {refreshed.access_token}
    assert held_refresh.sent == 1 and idp.token_calls("refresh_token") == 1


async def test_twenty_simultaneous_refreshes_share_one_provider_call(sign_in: Any, idp: Any, broker: Any) -> None:
    await sign_in(ALICE)
    sessions = await asyncio.gather(*(broker.refresh("prod") for _ in range(20)))
    assert len({s.access_token for s in sessions}) == 1
    assert idp.token_calls("refresh_token") == 1
    assert idp.stats()["token_errors"].get("refresh_token", 0) == 0


@pytest.mark.oidc(**SHORT)
async def test_provider_revoking_the_grant_ends_the_session_cleanly(sign_in: Any, api: Any, idp: Any) -> None:
    await sign_in(ALICE)
    idp.revoke_all("user-alice")
    result = await api("POST", "refresh", {})
    assert result.status == 401
    assert result.body["error"] == "session_expired"
    assert (await api("GET", "status")).body["sessions"] == []
    assert (await api("POST", "token", {})).body["error"] == "not_authenticated"


async def test_logout_revokes_the_refresh_token_at_the_provider(sign_in: Any, api: Any, idp: Any, broker: Any) -> None:
    await sign_in(ALICE)
    refresh_token = broker.sessions["prod"].refresh_token  # white-box: it never leaves the server
    result = await api("POST", "logout", {})
    assert result.status == 200
    assert result.body["signed_out"] is True
    assert result.body["end_session_url"].startswith(idp.url("/session/end"))
    assert (await api("GET", "status")).body["sessions"] == []
    reuse = httpx.post(
        idp.url("/token"), data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": CLIENT_ID}
    )
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    assert idp.stats()["revocation"] >= 1


async def test_logout_when_signed_out_still_answers(api: Any) -> None:
    result = await api("POST", "logout", {})
    assert result.status == 200 and result.body["signed_out"] is False


async def test_status_long_poll_wakes_up_on_a_change(sign_in: Any, api: Any) -> None:
    revision = (await api("GET", "status")).body["revision"]
    waiting = asyncio.ensure_future(api("GET", "status", params={"after": revision, "timeout": 20}))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await sign_in(ALICE)
    status = await asyncio.wait_for(waiting, 5)
    assert status.body["revision"] > revision
