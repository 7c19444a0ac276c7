"""Attacks by (or through) the provider, against the real server and the misbehaving provider:
hostile endpoint URLs, email look-alikes and ``email_verified`` that is not ``true``, an issuer
with a trailing slash, a flood of unknown key ids, and a store directory others can write.
"""

from __future__ import annotations

import secrets
import stat
from pathlib import Path
from typing import Any

import pytest

from jupyterlab_oidc.core.discovery import JWKS_REFETCH_COOLDOWN_SECONDS
from jupyterlab_oidc.core.identity import OPT_OUT
from jupyterlab_oidc.core.sessions import Session
from jupyterlab_oidc.core.store import FileStore

from ..idp import ALICE
from ..misbehaving_provider import MisbehavingProvider
from .test_provider_misbehaviour import attempt, tamper, without  # noqa: F401 (attempt: a fixture)

KATE = "kate@example.com"
STRASSE = "strasse@example.com"

# ---------------------------------------------------------------- endpoint URLs


@pytest.mark.security_case("provider-url-javascript")
async def test_javascript_authorization_endpoint_is_refused(api: Any, bad_idp: MisbehavingProvider) -> None:
    bad_idp.discovery_overrides = {"authorization_endpoint": "javascript:alert(document.cookie)"}
    result = await api("POST", "login", {"login_hint": ALICE})
    assert result.status == 502, result.body
    assert result.body["error"] == "discovery_failed" and result.body["field"] == "authorization_endpoint"
    assert "authorization_endpoint" in result.body["message"]
    assert "url" not in result.body and "start_url" not in result.body
    assert "alert" not in repr(result.body)  # the provider's value is not echoed back
    assert (await api("GET", "status")).body["pending"] == []


HOSTILE_URLS = [
    ("token_endpoint", "data:application/json,{}"),
    ("jwks_uri", "file:///etc/passwd"),
    ("userinfo_endpoint", "http://evil.example/userinfo"),
    ("revocation_endpoint", "http://10.0.0.1/revoke"),
    ("end_session_endpoint", "JAVASCRIPT:alert(1)"),
]


@pytest.mark.parametrize(
    ("field", "url"),
    [pytest.param(f, u, id=f, marks=pytest.mark.security_case("provider-url-not-https")) for f, u in HOSTILE_URLS],
)
async def test_provider_endpoint_that_is_not_https_is_refused(
    field: str, url: str, api: Any, bad_idp: MisbehavingProvider
) -> None:
    bad_idp.discovery_overrides = {field: url}
    result = await api("POST", "login", {"login_hint": ALICE})
    assert result.status == 502 and result.body["error"] == "discovery_failed", result.body
    assert result.body["field"] == field and field in result.body["message"]
    assert bad_idp.calls["authorize"] == 0 and bad_idp.calls["jwks"] == 0


@pytest.mark.security_case("end-session-javascript")
async def test_javascript_end_session_endpoint_is_never_returned_by_logout(
    sign_in: Any, api: Any, broker: Any, bad_idp: MisbehavingProvider
) -> None:
    # Signed in while the provider was honest ...
    assert (await sign_in(ALICE)).status == 200
    # ... then its discovery document turns hostile, and the cached copy expires.
    bad_idp.discovery_overrides = {"end_session_endpoint": "javascript:alert(document.cookie)"}
    real_clock = broker.discovery.clock
    broker.discovery.clock = lambda: real_clock() + broker.discovery.cache_seconds + 1
    result = await api("POST", "logout", {})
    assert result.status == 200, result.body
    assert result.body["signed_out"] is True
    assert result.body["end_session_url"] is None
    assert (await api("GET", "status")).body["sessions"] == []
    # A fresh start with the hostile document: no sign-in, and logout offers no URL either.
    refused = await api("POST", "login", {"login_hint": ALICE})
    assert refused.body["error"] == "discovery_failed" and refused.body["field"] == "end_session_endpoint"
    assert (await api("POST", "logout", {})).body["end_session_url"] is None


# ---------------------------------------------------------------- email_verified and look-alike emails


def assert_unverified_refused(tried: Any) -> None:
    assert tried.result.status == 403, tried.result.body
    body = tried.result.body
    assert body["error"] == "identity_mismatch" and body["reason"] == "email_not_verified", body
    assert OPT_OUT in body["message"] and OPT_OUT in tried.page.text
    assert tried.page.status_code == 403


@pytest.mark.security_case("email-verified-string-false")
async def test_email_verified_string_false_is_refused(
    attempt: Any,
    api: Any,
    bad_idp: MisbehavingProvider,
    snapshot: Any,
) -> None:
    before = snapshot()
    bad_idp.id_token_hook = tamper(lambda c: {**c, "email_verified": "false"})
    assert_unverified_refused(await attempt(ALICE))
    assert snapshot() == before


@pytest.mark.security_case("email-verified-absent")
async def test_email_verified_absent_is_refused(
    attempt: Any,
    bad_idp: MisbehavingProvider,
    snapshot: Any,
) -> None:
    before = snapshot()
    bad_idp.id_token_hook = tamper(without("email_verified"))
    assert_unverified_refused(await attempt(ALICE))
    assert snapshot() == before


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(v, id=i, marks=pytest.mark.security_case("email-verified-not-boolean"))
        for i, v in (("string-true", "true"), ("one", 1))
    ],
)
async def test_email_verified_that_is_not_json_true_is_refused(
    value: Any,
    attempt: Any,
    bad_idp: MisbehavingProvider,
    snapshot: Any,
) -> None:
    before = snapshot()
    bad_idp.profile = "userinfo"  # the claim from userinfo this time
    bad_idp.userinfo_hook = lambda info: {**info, "email_verified": value}
    assert_unverified_refused(await attempt(ALICE))
    assert snapshot() == before


async def look_alike_refused(attempt: Any, bad_idp: MisbehavingProvider, typed: str, signed_in: str) -> None:
    bad_idp.id_token_hook = tamper(lambda c: {**c, "email": signed_in, "email_verified": True})
    tried = await attempt(typed)
    assert tried.result.status == 403, tried.result.body
    assert tried.result.body["error"] == "identity_mismatch"
    assert tried.result.body["expected"] == typed and tried.result.body["actual"] == signed_in
    assert "reason" not in tried.result.body


@pytest.mark.security_case("email-kelvin-sign")
async def test_kelvin_sign_email_does_not_match(
    attempt: Any,
    bad_idp: MisbehavingProvider,
    snapshot: Any,
) -> None:
    # "\u212a".lower() == "k": a plain lower() would take the attacker's account for Kate's.
    await look_alike_refused(attempt, bad_idp, KATE, "\u212aate@example.com")
    assert snapshot().sessions == {}


@pytest.mark.security_case("email-sharp-s")
async def test_sharp_s_email_does_not_match_ss(
    attempt: Any,
    bad_idp: MisbehavingProvider,
    snapshot: Any,
) -> None:
    # casefold("straße") == "strasse"; lower() keeps the ß, so the addresses differ.
    await look_alike_refused(attempt, bad_idp, STRASSE, "stra\u00dfe@example.com")
    assert snapshot().sessions == {}


# ---------------------------------------------------------------- issuer with a trailing slash


class TestTrailingSlashIssuer:
    """Ory Hydra's default issuer ``http://127.0.0.1:4444/`` (Auth0's too end in ``/``)."""

    @pytest.fixture
    def oidc_environments(self, oidc_environments: dict[str, Any], bad_idp: MisbehavingProvider) -> dict[str, Any]:
        bad_idp.issuer_suffix = "/"
        return {**oidc_environments, "hydra": {"issuer": f"{bad_idp.origin}/", "client_id": "jupyterlab-oidc"}}

    @pytest.mark.security_case("issuer-trailing-slash")
    async def test_issuer_with_a_trailing_slash_signs_in(self, sign_in: Any, bad_idp: MisbehavingProvider) -> None:
        result = await sign_in(ALICE, environment="hydra")
        assert result.status == 200, result.body
        assert bad_idp.issuer.endswith("/")

    @pytest.mark.security_case("issuer-trailing-slash-id-token")
    async def test_id_token_iss_without_the_trailing_slash_is_refused(
        self,
        attempt: Any,
        bad_idp: MisbehavingProvider,
        snapshot: Any,
    ) -> None:
        bad_idp.id_token_hook = tamper(lambda c: {**c, "iss": bad_idp.origin})
        tried = await attempt(ALICE, environment="hydra")
        assert tried.result.status == 502, tried.result.body
        assert tried.result.body["error"] == "invalid_id_token" and tried.result.body["check"] == "iss"
        assert snapshot().sessions == {}

    @pytest.mark.security_case("issuer-trailing-slash-iss-parameter")
    async def test_iss_parameter_without_the_trailing_slash_is_refused_unexchanged(
        self,
        attempt: Any,
        bad_idp: MisbehavingProvider,
        snapshot: Any,
    ) -> None:
        bad_idp.authorize_extra = {"iss": bad_idp.origin}
        tried = await attempt(ALICE, environment="hydra")
        assert tried.result.status == 502, tried.result.body
        assert tried.result.body["provider_error"] == "issuer_mismatch"
        assert bad_idp.grant_calls("authorization_code") == 0
        assert snapshot().sessions == {}


# ---------------------------------------------------------------- unknown kid flood


@pytest.mark.security_case("unknown-kid-flood")
async def test_unknown_kid_flood_refetches_the_jwks_once_per_cooldown(
    sign_in: Any,
    attempt: Any,
    broker: Any,
    bad_idp: MisbehavingProvider,
) -> None:
    assert (await sign_in(ALICE)).status == 200
    fetches = bad_idp.calls["jwks"]
    bad_idp.id_token_hook = lambda c, forge: forge.sign(c, header={"alg": "RS256", "kid": secrets.token_hex(8)})
    for _ in range(3):
        tried = await attempt(ALICE)
        assert tried.result.body["error"] == "invalid_id_token" and tried.result.body["check"] == "kid"
    assert bad_idp.calls["jwks"] == fetches + 1
    # After the cooldown an unknown kid may look again (a real rotation is picked up).
    real_clock = broker.discovery.clock
    broker.discovery.clock = lambda: real_clock() + JWKS_REFETCH_COOLDOWN_SECONDS + 1
    bad_idp.id_token_hook = None
    bad_idp.rotate_keys(publish=True)
    assert (await sign_in(ALICE)).status == 200
    assert bad_idp.calls["jwks"] == fetches + 2


# ---------------------------------------------------------------- store directory


class TestWritableStoreDirectory:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: Any, store_path: Path) -> Any:
        """Before the server starts: a store from an earlier run, in a directory anyone can write."""
        session = Session(
            environment="prod",
            application=None,
            issuer="http://127.0.0.1:1",
            client_id="c",
            sub="s",
            email=ALICE,
            access_token="at-earlier",
            refresh_token="rt-earlier",
            expires_at=1.0,
        )
        FileStore(str(store_path)).save({"prod": session})
        (store_path.parent / ".sessions-planted.tmp").write_text('{"planted": true}')
        store_path.parent.chmod(0o777)
        return jp_server_config

    @pytest.mark.security_case("store-directory-writable")
    async def test_store_in_world_writable_directory_is_refused(self, api: Any, sign_in: Any, store_path: Path) -> None:
        directory = store_path.parent
        before = {p.name: p.read_bytes() for p in directory.iterdir()}
        status = (await api("GET", "status")).body
        error = status["store_error"]
        assert error["error"] == "store_error" and error["directory"] == str(directory)
        assert str(directory) in error["message"] and f"chmod 700 {directory}" in error["message"]
        assert status["sessions"] == []  # the planted store was not read
        # Signing in still works, in memory only: nothing is written into that directory.
        assert (await sign_in(ALICE)).status == 200
        assert {p.name: p.read_bytes() for p in directory.iterdir()} == before
        assert stat.S_IMODE(directory.stat().st_mode) == 0o777  # left as it is
