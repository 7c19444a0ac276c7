"""Provider misbehaviour matrix (OpenID RP conformance style, RFC 9700).

Every case signs in honestly first, then lets the provider misbehave on a second sign-in
to the same environment, and checks: the right typed error (code + ``check``), the
callback page shows it, nothing stored (store file byte for byte), the earlier session
untouched (same tokens), and none of the misbehaving answer's tokens kept anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from ..idp import ALICE, CAROL, provider_login
from ..misbehaving_provider import Forge, MisbehavingProvider
from ..support import Reply, query_of

EVIL = "https://evil.example.com"


@dataclass(frozen=True)
class Attempt:
    """A sign-in as the browser saw it: the callback page and the ``await`` answer."""

    page: httpx.Response
    result: Reply
    state: str


@pytest.fixture
def attempt(api: Any, browser: httpx.AsyncClient, callback_prefix: str, begin_sign_in: Any) -> Any:
    """``await attempt(login_hint, environment)``: start (browser bound), let the provider answer,
    open the callback, await."""

    async def run(login_hint: str = ALICE, environment: str | None = None, extra_query: str = "") -> Attempt:
        started, url = await begin_sign_in({"environment": environment, "login_hint": login_hint})
        callback = await provider_login(browser, url, None, callback_prefix)
        page = await browser.get(callback + extra_query)
        return Attempt(page, await api("POST", "await", {"state": started.body["state"]}), started.body["state"])

    return run


def tamper(change: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any], Forge], str]:
    """An id_token hook: honest claims changed by ``change``, properly signed."""
    return lambda claims, forge: forge.sign(change(dict(claims)))


def without(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda c: {k: v for k, v in c.items() if k != name}


def set_hook(**claims: Any) -> Callable[[MisbehavingProvider], None]:
    def setup(p: MisbehavingProvider) -> None:
        p.id_token_hook = tamper(lambda c: {**c, **claims})

    return setup


def hook(fn: Callable[[dict[str, Any], Forge], str]) -> Callable[[MisbehavingProvider], None]:
    def setup(p: MisbehavingProvider) -> None:
        p.id_token_hook = fn

    return setup


def publish_two_keys(p: MisbehavingProvider) -> None:
    p.published_keys = [p.original_key, p.rotated_key]


def no_kid(p: MisbehavingProvider) -> None:
    p.id_token_hook = lambda c, forge: forge.sign(c, header={"alg": "RS256"})


def time_shift(iat: int, exp: int) -> Callable[[MisbehavingProvider], None]:
    def setup(p: MisbehavingProvider) -> None:
        p.id_token_hook = tamper(lambda c: {**c, "iat": p.now() + iat, "exp": p.now() + exp})

    return setup


def userinfo_only(change: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[MisbehavingProvider], None]:
    def setup(p: MisbehavingProvider) -> None:
        p.profile = "userinfo"
        p.userinfo_hook = change

    return setup


def attr(**values: Any) -> Callable[[MisbehavingProvider], None]:
    def setup(p: MisbehavingProvider) -> None:
        for name, value in values.items():
            setattr(p, name, value)

    return setup


def unpublished_rotation(p: MisbehavingProvider) -> None:
    p.rotate_keys(publish=False)


@dataclass(frozen=True)
class Case:
    id: str
    setup: Callable[[MisbehavingProvider], None]
    status: int
    error: str
    details: dict[str, Any] = field(default_factory=dict)
    exchanged: bool = True  # False: the code must never reach the token endpoint
    prepare: Callable[[MisbehavingProvider], None] | None = None  # before the honest sign-in


def idt(check: str) -> tuple[int, str, dict[str, Any]]:
    return 502, "invalid_id_token", {"check": check}


MATRIX = [
    Case("alg-none", hook(lambda c, f: f.alg_none(c)), *idt("alg")),
    Case("bad-signature", hook(lambda c, f: f.bad_signature(c)), *idt("signature")),
    Case("hs256-public-key", hook(lambda c, f: f.hs256_with_public_key(c)), *idt("alg")),
    Case("unknown-kid-not-published", unpublished_rotation, *idt("kid")),
    Case("several-keys-no-kid", no_kid, *idt("kid"), prepare=publish_two_keys),
    Case("iss-mismatch", set_hook(iss=EVIL), *idt("iss")),
    Case("aud-without-client", set_hook(aud="someone-else"), *idt("aud")),
    Case("aud-list-without-client", set_hook(aud=["someone-else", "api"], azp="someone-else"), *idt("aud")),
    Case("several-aud-no-azp", hook(tamper(lambda c: {**without("azp")(c), "aud": [c["aud"], "api"]})), *idt("azp")),
    Case("several-aud-wrong-azp", hook(tamper(lambda c: {**c, "aud": [c["aud"], "api"], "azp": "api"})), *idt("azp")),
    Case("expired", time_shift(iat=-900, exp=-600), *idt("exp")),
    Case("iat-future", time_shift(iat=3600, exp=7200), *idt("iat")),
    Case("nbf-future", hook(tamper(lambda c: {**c, "nbf": c["iat"] + 3600})), *idt("nbf")),
    Case("nonce-missing", hook(tamper(without("nonce"))), *idt("nonce")),
    Case("nonce-wrong", set_hook(nonce="replayed-nonce"), *idt("nonce")),
    Case("sub-missing", hook(tamper(without("sub"))), *idt("sub")),
    Case("userinfo-sub-mismatch", userinfo_only(lambda u: {**u, "sub": "user-bob"}), *idt("userinfo_sub")),
    Case(
        "email-missing",
        userinfo_only(lambda u: {k: v for k, v in u.items() if not k.startswith("email")}),
        403,
        "identity_mismatch",
        {"expected": ALICE},
    ),
    Case(
        "email-unverified",
        userinfo_only(lambda u: {**u, "email_verified": False}),
        403,
        "identity_mismatch",
        {"reason": "email_not_verified", "actual": ALICE},
    ),
    Case(
        "email-unverified-in-id-token",
        set_hook(email_verified=False),
        403,
        "identity_mismatch",
        {"reason": "email_not_verified", "actual": ALICE},
    ),
    Case(
        "iss-param-mismatch",
        attr(authorize_extra={"iss": EVIL}),
        502,
        "provider_error",
        {"provider_error": "issuer_mismatch"},
        exchanged=False,
    ),
    Case(
        "iss-param-missing",
        attr(authorize_extra={"iss": None}),
        502,
        "provider_error",
        {"provider_error": "issuer_mismatch"},
        exchanged=False,
    ),
    Case("token-type-missing", attr(token_type=None), 502, "provider_error", {"provider_error": "invalid_token_type"}),
    Case(
        "token-type-not-bearer", attr(token_type="mac"), 502, "provider_error", {"provider_error": "invalid_token_type"}
    ),
    Case(
        "code-and-error",
        attr(authorize_extra={"error": "access_denied"}),
        502,
        "provider_error",
        {"provider_error": "access_denied"},
        exchanged=False,
    ),
]


def assert_untouched(before: Any, after: Any, bad_idp: MisbehavingProvider, issued_before: set[str]) -> None:
    assert after == before, "the earlier session or the store changed"
    fresh = bad_idp.secrets["access_token"] | bad_idp.secrets["refresh_token"] | bad_idp.secrets["id_token"]
    for token in fresh - issued_before:
        assert token not in repr(after.sessions), "a token from the refused answer was kept"
        assert after.store_bytes is None or token.encode() not in after.store_bytes


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=pytest.mark.security_case(c.id)) for c in MATRIX])
async def test_misbehaving_provider_is_refused_and_changes_nothing(
    case: Case, sign_in: Any, attempt: Any, api: Any, bad_idp: Any, snapshot: Any
) -> None:
    # Given an honest sign-in to prod
    if case.prepare:
        case.prepare(bad_idp)
    first = await sign_in(ALICE)
    assert first.status == 200, first.body
    before, token_before = snapshot(), (await api("POST", "token", {})).body["access_token"]
    issued = bad_idp.secrets["access_token"] | bad_idp.secrets["refresh_token"] | bad_idp.secrets["id_token"]
    codes_exchanged = bad_idp.grant_calls("authorization_code")
    # When the provider misbehaves on the next sign-in to prod
    case.setup(bad_idp)
    tried = await attempt(ALICE)
    # Then: the typed error, on the callback page and from await
    assert tried.result.status == case.status, tried.result.body
    assert tried.result.body["error"] == case.error
    assert case.details.items() <= tried.result.body.items(), tried.result.body
    assert tried.page.status_code == case.status
    assert f'data-status="{case.error}"' in tried.page.text
    # ... nothing stored, the earlier session untouched
    assert_untouched(before, snapshot(), bad_idp, issued)
    assert (await api("POST", "token", {})).body["access_token"] == token_before
    exchanged = bad_idp.grant_calls("authorization_code") - codes_exchanged
    assert exchanged == (1 if case.exchanged else 0)


# ---------------------------------------------------------------- JWKS rotation


@pytest.mark.security_case("unknown-kid-rotation")
async def test_unknown_kid_refetches_the_jwks_once_and_accepts_the_rotated_key(
    sign_in: Any, bad_idp: MisbehavingProvider
) -> None:
    assert (await sign_in(ALICE)).status == 200
    fetches = bad_idp.calls["jwks"]
    bad_idp.rotate_keys(publish=True)
    result = await sign_in(ALICE)
    assert result.status == 200, result.body
    assert bad_idp.calls["jwks"] == fetches + 1


@pytest.mark.security_case("unknown-kid-not-published")
async def test_unknown_kid_refetches_the_jwks_exactly_once_before_refusing(
    attempt: Any, sign_in: Any, bad_idp: MisbehavingProvider
) -> None:
    assert (await sign_in(ALICE)).status == 200
    fetches = bad_idp.calls["jwks"]
    bad_idp.rotate_keys(publish=False)
    tried = await attempt(ALICE)
    assert tried.result.body["check"] == "kid"
    assert bad_idp.calls["jwks"] == fetches + 1


@pytest.mark.security_case("several-aud-with-azp")
async def test_several_audiences_with_azp_naming_us_are_accepted(sign_in: Any, bad_idp: MisbehavingProvider) -> None:
    result = await sign_in(ALICE, application="spatial_engine")
    assert result.status == 200, result.body
    assert len(result.body["session"]["audience"]) == 2


# ---------------------------------------------------------------- refresh


REFRESH_MISBEHAVIOUR = {
    "refresh-other-sub": lambda c, f: f.sign({**c, "sub": "user-bob"}),
    "refresh-alg-none": lambda c, f: f.alg_none(c),
    "refresh-iss-mismatch": lambda c, f: f.sign({**c, "iss": EVIL}),
}


@pytest.mark.parametrize(
    "case_id", [pytest.param(c, id=c, marks=pytest.mark.security_case(c)) for c in sorted(REFRESH_MISBEHAVIOUR)]
)
async def test_refresh_with_a_bad_id_token_ends_the_session(
    case_id: str, sign_in: Any, api: Any, bad_idp: Any, broker: Any, store_path: Any
) -> None:
    assert (await sign_in(ALICE)).status == 200
    bad_idp.refresh_id_token_hook = REFRESH_MISBEHAVIOUR[case_id]
    issued = set(bad_idp.secrets["access_token"])
    result = await api("POST", "refresh", {})
    assert result.status == 401 and result.body["error"] == "session_expired", result.body
    assert (await api("GET", "status")).body["sessions"] == []
    assert (await api("POST", "token", {})).body["error"] == "not_authenticated"
    assert broker.sessions == {}
    stored = store_path.read_text()
    assert '"sessions": {}' in stored
    for token in bad_idp.secrets["access_token"] - issued:
        assert token not in stored


# ---------------------------------------------------------------- the real provider


@pytest.mark.security_case("email-unverified")
async def test_real_provider_unverified_email_is_refused_and_the_earlier_session_kept(
    sign_in: Any, api: Any, snapshot: Any
) -> None:
    assert (await sign_in(ALICE, environment="real")).status == 200
    before = snapshot()
    result = await sign_in(CAROL, environment="real")
    assert result.status == 403, result.body
    assert result.body["error"] == "identity_mismatch" and result.body["reason"] == "email_not_verified"
    assert snapshot() == before


@pytest.mark.security_case("email-missing")
async def test_real_provider_without_email_scope_cannot_satisfy_a_login_hint(
    sign_in: Any, api: Any, snapshot: Any
) -> None:
    first = await sign_in("", as_email=ALICE, environment="real_noemail")  # no login_hint: nothing to enforce
    assert first.status == 200, first.body
    before = snapshot()
    result = await sign_in(ALICE, environment="real_noemail")
    assert result.status == 403, result.body
    assert result.body["error"] == "identity_mismatch" and result.body.get("actual") is None
    assert snapshot() == before


@pytest.mark.security_case("iss-param-mismatch")
async def test_real_mix_up_attack_code_from_another_provider_is_refused_unexchanged(
    api: Any,
    browser: httpx.AsyncClient,
    callback_prefix: str,
    sign_in: Any,
    begin_sign_in: Any,
    idp: Any,
    real_b: Any,
    snapshot: Any,
) -> None:
    # The user has a session with provider A ("real") and starts another sign-in there ...
    assert (await sign_in(ALICE, environment="real")).status == 200
    before = snapshot()
    victim, _ = await begin_sign_in({"environment": "real", "login_hint": ALICE})
    # ... while the attacker's provider B ("real_b") hands out a code, delivered with A's state
    # to A's own redirect path (in the browser that started A's sign-in).
    _, other_url = await begin_sign_in({"environment": "real_b", "login_hint": ALICE})
    callback = await provider_login(browser, other_url, None, callback_prefix)
    params = {**query_of(callback), "state": victim.body["state"]}
    page = await browser.get(f"{callback_prefix}/real", params=params)
    result = await api("POST", "await", {"state": victim.body["state"]})
    assert page.status_code == 502
    assert result.body["error"] == "provider_error" and result.body["provider_error"] == "issuer_mismatch"
    assert real_b.token_calls("authorization_code") == 0 and idp.token_calls("authorization_code") == 1
    assert snapshot() == before


@pytest.mark.security_case("code-and-error")
async def test_real_provider_redirect_with_code_and_error_is_refused_unexchanged(
    sign_in: Any, attempt: Any, idp: Any, snapshot: Any
) -> None:
    assert (await sign_in(ALICE, environment="real")).status == 200
    before = snapshot()
    tried = await attempt(ALICE, environment="real", extra_query="&error=access_denied")
    assert tried.page.status_code == 502
    assert tried.result.body["error"] == "provider_error" and tried.result.body["provider_error"] == "access_denied"
    assert idp.token_calls("authorization_code") == 1  # the first sign-in's; the second code never went out
    assert snapshot() == before
