"""Re-authentication attacks: an id_token whose ``auth_time`` does not honour ``max_age``
(OpenID Connect Core §3.1.2.1), forged by the misbehaving provider, and a switch of account
that fails its checks: the earlier session stays, byte for byte.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ..idp import ALICE, BOB, provider_login
from ..misbehaving_provider import MisbehavingProvider
from .test_provider_misbehaviour import tamper, without


@pytest.fixture
def reauth(api: Any, begin_sign_in: Any, browser: httpx.AsyncClient, callback_prefix: str) -> Any:
    """``await reauth(login_hint, **params)`` → (callback page, await reply) of a sign-in with params."""

    async def run(login_hint: str, **params: Any) -> tuple[httpx.Response, Any]:
        started, url = await begin_sign_in({"login_hint": login_hint, **params})
        page = await browser.get(await provider_login(browser, url, None, callback_prefix))
        return page, await api("POST", "await", {"state": started.body["state"]})

    return run


def assert_auth_time_refused(page: httpx.Response, reply: Any) -> None:
    assert reply.status == 502, reply.body
    assert reply.body["error"] == "invalid_id_token" and reply.body["check"] == "auth_time", reply.body
    assert page.status_code == 502


@pytest.mark.security_case("max-age-auth-time-too-old")
async def test_id_token_authenticated_longer_ago_than_max_age_is_refused(
    reauth: Any, bad_idp: MisbehavingProvider, snapshot: Any
) -> None:
    # The provider says it authenticated the person an hour ago though max_age was 60 s.
    bad_idp.id_token_hook = tamper(lambda c: {**c, "auth_time": c["iat"] - 3600})
    page, reply = await reauth(ALICE, prompt="login", max_age=60)
    assert_auth_time_refused(page, reply)
    assert "3600" in reply.body["message"] or "60 s" in reply.body["message"]
    assert snapshot().sessions == {}


@pytest.mark.security_case("max-age-auth-time-missing")
async def test_id_token_without_auth_time_when_max_age_was_sent_is_refused(
    reauth: Any, bad_idp: MisbehavingProvider, snapshot: Any
) -> None:
    bad_idp.id_token_hook = tamper(without("auth_time"))
    page, reply = await reauth(ALICE, max_age=300)
    assert_auth_time_refused(page, reply)
    assert snapshot().sessions == {}


async def test_an_old_auth_time_is_fine_when_no_max_age_was_sent(reauth: Any, bad_idp: MisbehavingProvider) -> None:
    bad_idp.id_token_hook = tamper(lambda c: {**c, "auth_time": c["iat"] - 86400})
    _, reply = await reauth(ALICE)
    assert reply.status == 200, reply.body


async def test_auth_time_within_max_age_and_leeway_is_accepted(reauth: Any, bad_idp: MisbehavingProvider) -> None:
    bad_idp.id_token_hook = tamper(lambda c: {**c, "auth_time": c["iat"] - 200})  # within 60 s + the 180 s leeway
    _, reply = await reauth(ALICE, max_age=60)
    assert reply.status == 200, reply.body


@pytest.mark.security_case("switch-stale-auth-time")
async def test_a_switch_with_a_stale_auth_time_keeps_the_earlier_session(
    sign_in: Any, reauth: Any, api: Any, bad_idp: MisbehavingProvider, snapshot: Any
) -> None:
    # Given Alice's session, honestly obtained
    assert (await sign_in(ALICE)).status == 200
    before = snapshot()
    # When a switch to Bob comes back with an authentication older than the max_age asked for
    bad_idp.id_token_hook = tamper(lambda c: {**c, "auth_time": c["iat"] - 7200})
    page, reply = await reauth(BOB, prompt="login", max_age=120)
    # Then it is refused and Alice's session is untouched, on disk too; nothing was revoked
    assert_auth_time_refused(page, reply)
    assert snapshot() == before
    assert bad_idp.calls["revocation"] == 0
    assert [s["email"] for s in (await api("GET", "status")).body["sessions"]] == [ALICE]
