"""Sign-in through the REST API against the real dev provider and a real Jupyter server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .idp import ALICE, BOB, CAROL, CLIENT_ID, provider_login
from .support import PROJECT_IDS, query_of, token_fields


async def test_sign_in_with_email_in_id_token_reports_the_identity(sign_in: Any, api: Any) -> None:
    # When
    result = await sign_in(ALICE)
    # Then
    assert result.status == 200, result.body
    assert result.body["status"] == "signed_in"
    assert result.body["session"]["email"] == ALICE
    status = await api("GET", "status")
    assert [s["email"] for s in status.body["sessions"]] == [ALICE]


@pytest.mark.oidc(profile="userinfo")
async def test_sign_in_with_email_only_in_userinfo_reports_the_identity(sign_in: Any, idp: Any) -> None:
    result = await sign_in(ALICE)
    assert result.status == 200, result.body
    assert result.body["session"]["email"] == ALICE
    assert idp.stats()["userinfo"] >= 1


async def test_status_and_await_never_contain_tokens(sign_in: Any, api: Any) -> None:
    result = await sign_in(ALICE)
    status = await api("GET", "status")
    token = (await api("POST", "token", {})).body["access_token"]
    for body in (result.body, status.body):
        assert token_fields(body) == set()
        assert token not in str(body)


async def test_login_hint_mismatch_is_identity_mismatch_and_stores_nothing(sign_in: Any, api: Any) -> None:
    result = await sign_in(ALICE, as_email=BOB)
    assert result.status == 403
    assert result.body["error"] == "identity_mismatch"
    assert result.body["expected"] == ALICE and result.body["actual"] == BOB
    assert "bob@example.com" in result.body["message"]
    assert (await api("GET", "status")).body["sessions"] == []


async def test_identity_mismatch_leaves_an_earlier_session_untouched(sign_in: Any, api: Any) -> None:
    first = await sign_in(ALICE)
    token_before = (await api("POST", "token", {})).body["access_token"]
    mismatch = await sign_in(ALICE, as_email=BOB)
    assert mismatch.body["error"] == "identity_mismatch"
    sessions = (await api("GET", "status")).body["sessions"]
    assert [s["email"] for s in sessions] == [ALICE]
    assert sessions[0]["signed_in_at"] == first.body["session"]["signed_in_at"]
    assert (await api("POST", "token", {})).body["access_token"] == token_before


async def test_login_hint_is_compared_case_insensitively(sign_in: Any) -> None:
    result = await sign_in("Alice@Example.COM", as_email=ALICE)
    assert result.status == 200, result.body


async def test_unverified_email_is_identity_mismatch(sign_in: Any, api: Any) -> None:
    result = await sign_in(CAROL)
    assert result.body["error"] == "identity_mismatch"
    assert result.body["reason"] == "email_not_verified"
    assert (await api("GET", "status")).body["sessions"] == []


@pytest.mark.oidc(require_verified_email=False)
async def test_unverified_email_is_accepted_when_the_admin_allows_it(sign_in: Any) -> None:
    result = await sign_in(CAROL)
    assert result.status == 200, result.body


async def test_unknown_state_is_refused_with_400(browser: Any, callback_prefix: str, api: Any) -> None:
    page = await browser.get(f"{callback_prefix}?code=abc&state=not-a-state")
    assert page.status_code == 400
    assert 'data-status="state_mismatch"' in page.text
    assert (await api("GET", "status")).body["sessions"] == []


async def test_replayed_callback_is_refused_and_changes_nothing(
    begin_sign_in: Any, api: Any, browser: Any, callback_prefix: str
) -> None:
    started, url = await begin_sign_in({"login_hint": ALICE})
    callback = await provider_login(browser, url, None, callback_prefix)
    assert (await browser.get(callback)).status_code == 200
    token_before = (await api("POST", "token", {})).body["access_token"]
    replay = await browser.get(callback)
    assert replay.status_code == 400
    assert 'data-status="state_mismatch"' in replay.text
    assert (await api("POST", "token", {})).body["access_token"] == token_before


async def test_a_code_cannot_be_exchanged_twice_at_the_provider(
    begin_sign_in: Any, api: Any, browser: Any, callback_prefix: str, idp: Any
) -> None:
    started, url = await begin_sign_in({"login_hint": ALICE})
    callback = await provider_login(browser, url, None, callback_prefix)
    await browser.get(callback)
    # The code we already exchanged, presented again by someone holding the verifier-less URL.
    reuse = await browser.post(
        idp.url("/token"),
        data={
            "grant_type": "authorization_code",
            "code": query_of(callback)["code"],
            "client_id": CLIENT_ID,
            "redirect_uri": callback.split("?")[0],
            "code_verifier": "x" * 43,
        },
    )
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"


async def test_provider_access_denied_is_provider_error(
    begin_sign_in: Any, api: Any, browser: Any, callback_prefix: str
) -> None:
    started, url = await begin_sign_in({"login_hint": ALICE})
    callback = await provider_login(browser, url, None, callback_prefix, deny=True)
    page = await browser.get(callback)
    assert page.status_code == 502
    result = await api("POST", "await", {"state": started.body["state"]})
    assert result.body["error"] == "provider_error"
    assert result.body["provider_error"] == "access_denied"


@pytest.mark.oidc(callback_timeout=1)
async def test_no_callback_within_callback_timeout_is_login_timeout(api: Any) -> None:
    started = await api("POST", "login", {"login_hint": ALICE})
    result = await api("POST", "await", {"state": started.body["state"]})
    assert result.status == 410
    assert result.body["error"] == "login_timeout"


@pytest.mark.oidc(callback_timeout=1)
async def test_callback_after_timeout_is_refused(
    begin_sign_in: Any, api: Any, browser: Any, callback_prefix: str
) -> None:
    started, url = await begin_sign_in({"login_hint": ALICE})
    callback = await provider_login(browser, url, None, callback_prefix)
    await api("POST", "await", {"state": started.body["state"]})
    assert (await browser.get(callback)).status_code == 400
    assert (await api("GET", "status")).body["sessions"] == []


async def test_cancel_ends_the_pending_sign_in(
    begin_sign_in: Any, api: Any, browser: Any, callback_prefix: str
) -> None:
    started, url = await begin_sign_in({"login_hint": ALICE})
    assert (await api("POST", "cancel", {"state": started.body["state"]})).status == 200
    result = await api("POST", "await", {"state": started.body["state"]})
    assert result.body["error"] == "login_cancelled"
    callback = await provider_login(browser, url, None, callback_prefix)
    assert (await browser.get(callback)).status_code == 400


async def test_await_with_wait_seconds_answers_pending_while_waiting(api: Any) -> None:
    started = await api("POST", "login", {"login_hint": ALICE})
    result = await api("POST", "await", {"state": started.body["state"], "wait_seconds": 0.2})
    assert result.status == 202 and result.body == {"status": "pending"}


async def test_authorization_request_uses_pkce_s256_state_nonce_and_login_hint(api: Any) -> None:
    started = await api("POST", "login", {"login_hint": ALICE})
    query = query_of(started.body["url"])
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 22 and query["nonce"] and query["login_hint"] == ALICE
    assert query["scope"] == "openid profile email offline_access"


async def test_application_adds_the_zitadel_project_audience_scope(
    begin_sign_in: Any, api: Any, browser: Any, callback_prefix: str, idp: Any
) -> None:
    started, url = await begin_sign_in({"login_hint": ALICE, "application": "spatial_engine"})
    await provider_login(browser, url, None, callback_prefix)
    scope = idp.last_authorization()["scope"]
    assert f"urn:zitadel:iam:org:project:id:{PROJECT_IDS['spatial_engine']}:aud" in scope.split()


async def test_unknown_application_is_a_typed_error(api: Any) -> None:
    result = await api("POST", "login", {"login_hint": ALICE, "application": "nope"})
    assert result.status == 404 and result.body["error"] == "unknown_environment"


async def test_unknown_environment_is_a_typed_error(api: Any) -> None:
    result = await api("POST", "login", {"environment": "staging", "login_hint": ALICE})
    assert result.status == 404 and result.body["error"] == "unknown_environment"
    assert "prod" in result.body["message"]


async def test_environments_lists_names_without_secrets(api: Any) -> None:
    result = await api("GET", "environments")
    names = [e["name"] for e in result.body["environments"]]
    assert sorted(names) == ["dev", "prod"]
    assert "client_secret" not in str(result.body)


async def test_sessions_are_per_environment(sign_in: Any, api: Any) -> None:
    await sign_in(ALICE, environment="prod")
    await sign_in(BOB, environment="dev")
    sessions = {s["environment"]: s["email"] for s in (await api("GET", "status")).body["sessions"]}
    assert sessions == {"prod": ALICE, "dev": BOB}


@pytest.mark.parametrize("body", ["[1, 2", "[1, 2]", '"text"'], ids=["broken", "list", "string"])
async def test_malformed_body_is_invalid_request(jp_fetch: Any, api: Any, body: str) -> None:
    from tornado.httpclient import HTTPClientError

    # A body that is not a JSON object: a typed 400 that says so, and no sign-in started
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("oidc", "login", method="POST", body=body)
    assert e.value.code == 400 and e.value.response is not None
    answer = json.loads(e.value.response.body)
    assert answer["error"] == "invalid_request" and answer["message"]
    assert (await api("GET", "status")).body.get("pending", []) == []


async def test_token_for_an_unknown_application_names_the_known_ones(sign_in: Any, api: Any) -> None:
    assert (await sign_in(ALICE)).status == 200
    result = await api("POST", "token", {"application": "nope"})
    assert result.status == 404 and result.body["error"] == "unknown_environment"
    assert "spatial_engine" in result.body["message"] and "Not signed in" not in result.body["message"]


async def test_missing_application_session_names_the_application_in_the_advice(sign_in: Any, api: Any) -> None:
    assert (await sign_in(ALICE)).status == 200
    result = await api("POST", "token", {"application": "spatial_engine"})
    assert result.body["error"] == "not_authenticated"
    assert "application='spatial_engine'" in result.body["message"]
