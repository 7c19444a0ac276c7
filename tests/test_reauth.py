"""Switching account and re-authentication (prompt, max_age) against the real dev provider.

A switch is a sign-in for someone else in an environment that already has a session: the new
session replaces the old one only once every check and the identity enforcement have passed,
the old account's tokens are then revoked, and kernels follow (the registry's change feed).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from joserfc import jws

from jupyterlab_oidc.core.signin.reauth import PROMPTS, reauth_params
from jupyterlab_oidc.errors import InvalidRequestError

from .idp import ALICE, BOB, CAROL, CLIENT_ID, IdentityProvider, provider_login

DEMO = "demo@example.com"  # a verified account of the dev provider


def claims_of(id_token: str) -> dict[str, Any]:
    import json

    return dict(json.loads(jws.extract_compact(id_token.encode()).payload))


async def provider_refresh(idp: IdentityProvider, refresh_token: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.post(
            idp.url("/token"),
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": CLIENT_ID,
            },
        )


@pytest.fixture
def switch(api: Any, begin_sign_in: Any, browser: httpx.AsyncClient, callback_prefix: str) -> Any:
    """``await switch(login_hint, as_email=None, **params)``: a sign-in with ``prompt``/``max_age``,
    played in the same browser as the earlier one (its provider session included); the await reply."""

    async def run(login_hint: str, as_email: str | None = None, **params: Any) -> Any:
        started, url = await begin_sign_in({"login_hint": login_hint, **params})
        callback = await provider_login(browser, url, as_email, callback_prefix)
        await browser.get(callback)
        return await api("POST", "await", {"state": started.body["state"]})

    return run


# ---------------------------------------------------------------- the parameters


@pytest.mark.parametrize("prompt", PROMPTS)
async def test_prompt_and_max_age_reach_the_provider(
    begin_sign_in: Any, browser: httpx.AsyncClient, idp: IdentityProvider, prompt: str
) -> None:
    started, url = await begin_sign_in({"login_hint": ALICE, "prompt": prompt, "max_age": 600})
    await browser.get(url)  # the browser arrives at the provider's authorization endpoint
    sent = idp.last_authorization()
    assert sent["state"] == started.body["state"]
    assert (sent["prompt"], sent["max_age"]) == (prompt, "600")


async def test_a_sign_in_without_prompt_sends_neither(
    begin_sign_in: Any, browser: httpx.AsyncClient, idp: IdentityProvider
) -> None:
    started, url = await begin_sign_in({"login_hint": ALICE})
    await browser.get(url)
    sent = idp.last_authorization()
    assert sent["state"] == started.body["state"] and "prompt" not in sent and "max_age" not in sent


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "always"},
        {"prompt": "none login"},
        {"prompt": 1},
        {"prompt": ["login"]},
        {"max_age": -1},
        {"max_age": "60"},
        {"max_age": 1.5},
        {"max_age": True},
    ],
    ids=[
        "unknown-prompt",
        "none-with-another",
        "prompt-number",
        "prompt-list",
        "negative-max-age",
        "max-age-string",
        "max-age-float",
        "max-age-bool",
    ],
)
async def test_an_invalid_prompt_or_max_age_is_invalid_request(
    api: Any, idp: IdentityProvider, body: dict[str, Any]
) -> None:
    idp.reset_stats()
    reply = await api("POST", "login", {"login_hint": ALICE, **body})
    assert reply.status == 400 and reply.body["error"] == "invalid_request", reply.body
    assert (await api("GET", "status")).body["pending"] == []


def test_reauth_params_unit() -> None:
    assert reauth_params() == {} and reauth_params("", None) == {}
    assert reauth_params("login consent", 0) == {"prompt": "login consent", "max_age": "0"}
    assert reauth_params("login login") == {"prompt": "login"}
    with pytest.raises(InvalidRequestError) as raised:
        reauth_params(max_age=-5)
    assert raised.value.details["field"] == "max_age"


# ---------------------------------------------------------------- re-authentication


async def test_prompt_login_with_max_age_re_authenticates_and_checks_auth_time(
    switch: Any, api: Any, broker: Any
) -> None:
    # Given a session (max_age makes the provider state auth_time)
    first = await switch(ALICE, max_age=3600)
    before = claims_of(broker.sessions["prod"].id_token)
    while time.time() < before["auth_time"] + 1:  # auth_time counts seconds: wait for the next one
        await asyncio.sleep(0.05)
    # When the same person signs in again, asked to authenticate anew
    again = await switch(ALICE, prompt="login", max_age=0)
    # Then the provider authenticated again (a later auth_time) and the session is the new one
    assert again.status == 200, again.body
    after = claims_of(broker.sessions["prod"].id_token)
    assert after["sub"] == before["sub"] and after["auth_time"] > before["auth_time"]
    sessions = (await api("GET", "status")).body["sessions"]
    assert [s["email"] for s in sessions] == [ALICE]
    assert sessions[0]["signed_in_at"] > first.body["session"]["signed_in_at"]
    assert (await api("POST", "refresh", {})).status == 200  # the same account's grant was not revoked


# ---------------------------------------------------------------- switching account


async def test_switching_account_replaces_the_session_and_revokes_the_old_refresh_token(
    sign_in: Any, switch: Any, api: Any, broker: Any, idp: IdentityProvider
) -> None:
    # Given Alice's session, and kernels following the registry
    assert (await sign_in(ALICE)).status == 200
    old = broker.sessions["prod"]
    changes: list[int] = []
    unsubscribe = broker.registry.subscribe(changes.append)
    idp.reset_stats()
    # When Bob signs in to the same environment, choosing his account
    try:
        switched = await switch(BOB, prompt="login")
    finally:
        unsubscribe()
    # Then Bob's session replaced Alice's: one active account per environment
    assert switched.status == 200, switched.body
    sessions = (await api("GET", "status")).body["sessions"]
    assert [(s["environment"], s["email"]) for s in sessions] == [("prod", BOB)]
    token = await api("POST", "token", {})
    assert idp.userinfo(token.body["access_token"]).json()["sub"] == "user-bob"
    # subscribers (the kernels' sessions file, pushes) heard of the switch
    assert changes and broker.revision >= changes[-1]
    # and Alice's tokens were handed back to the provider
    for _ in range(100):
        if idp.stats()["revocation"] >= 2:
            break
        await asyncio.sleep(0.05)
    assert idp.stats()["revocation"] >= 2
    refused = await provider_refresh(idp, old.refresh_token)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert idp.userinfo(old.access_token).status_code == 401


async def test_a_failing_switch_keeps_the_earlier_session(
    sign_in: Any, switch: Any, api: Any, broker: Any, idp: IdentityProvider
) -> None:
    # Given Alice's session
    first = await sign_in(ALICE)
    token_before = (await api("POST", "token", {})).body["access_token"]
    refresh_before = broker.sessions["prod"].refresh_token
    idp.reset_stats()
    # When a switch to Bob ends with someone else signed in (Carol, whose email is unverified)
    failed = await switch(BOB, as_email=CAROL, prompt="login")
    # Then nothing changed: same session, same tokens, nothing revoked
    assert failed.status == 403 and failed.body["error"] == "identity_mismatch", failed.body
    sessions = (await api("GET", "status")).body["sessions"]
    assert [s["email"] for s in sessions] == [ALICE]
    assert sessions[0]["signed_in_at"] == first.body["session"]["signed_in_at"]
    assert broker.sessions["prod"].refresh_token == refresh_before
    assert (await api("POST", "token", {})).body["access_token"] == token_before
    assert idp.stats()["revocation"] == 0
    assert (await api("POST", "refresh", {})).status == 200  # Alice's refresh token still works


async def test_a_switch_to_the_wrong_person_keeps_the_earlier_session(sign_in: Any, switch: Any, api: Any) -> None:
    # Bob was typed, the demo user signed in: identity_mismatch, and Alice stays signed in.
    first = await sign_in(ALICE)
    failed = await switch(BOB, as_email=DEMO, prompt="login")
    assert failed.body["error"] == "identity_mismatch" and failed.body["actual"] == DEMO
    sessions = (await api("GET", "status")).body["sessions"]
    assert [(s["email"], s["signed_in_at"]) for s in sessions] == [(ALICE, first.body["session"]["signed_in_at"])]


# ---------------------------------------------------------------- the auth_time check (unit)


def test_check_auth_time_unit() -> None:
    from jupyterlab_oidc.core.idtoken import IdTokenChecks, check_auth_time, check_claims
    from jupyterlab_oidc.errors import InvalidIdTokenError

    now = 1_000_000.0
    check_auth_time({"auth_time": now - 60}, 60, 0, now)  # exactly max_age: fine
    check_auth_time({"auth_time": now - 70}, 60, 10, now)  # within the leeway
    for claims, max_age in (
        ({"auth_time": now - 71}, 60),
        ({}, 60),
        ({"auth_time": "yesterday"}, 60),
        ({"auth_time": True}, 60),
        ({"auth_time": now + 60}, 600),
    ):
        with pytest.raises(InvalidIdTokenError) as raised:
            check_auth_time(claims, max_age, 10, now)
        assert raised.value.details["check"] == "auth_time"
    # check_claims runs it only when max_age was sent
    claims = {"iss": "https://id", "sub": "s", "aud": "c", "iat": now, "exp": now + 60}
    check_claims(claims, IdTokenChecks("https://id", "c", None, 10, ("RS256",)), now)
    with pytest.raises(InvalidIdTokenError, match="auth_time"):
        check_claims(claims, IdTokenChecks("https://id", "c", None, 10, ("RS256",), max_age=60), now)
