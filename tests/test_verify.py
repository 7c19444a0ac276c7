"""id_token checks, one per test, against a stubbed key source (generated keys, fixed time);
then the identity checks on the verified claims (email_verified, email comparison)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from types import SimpleNamespace
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from jupyterlab_oidc.core.identity import OPT_OUT, enforce_login_hint, same_email
from jupyterlab_oidc.core.idtoken import IdTokenChecks, verify_id_token
from jupyterlab_oidc.core.settings import EnvironmentConfig
from jupyterlab_oidc.errors import IdentityMismatchError, InvalidIdTokenError

ISSUER = "https://id.example.com"
CLIENT = "lab"
NONCE = "n-0S6_WzA2Mj"
ENV = EnvironmentConfig(name="prod", client_id=CLIENT, issuer=ISSUER)
CHECKS = IdTokenChecks(issuer=ISSUER, client_id=CLIENT, nonce=NONCE, leeway_seconds=180, algorithms=("RS256", "ES256"))

KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
ROTATED = RSAKey.generate_key(2048, parameters={"kid": "k2", "use": "sig", "alg": "RS256"})
OTHER = RSAKey.generate_key(2048, parameters={"kid": "k1"})


class StubDiscovery:
    """Serves a JWKS; ``after_refetch`` is what a refetch finds (key rotation); ``issuer`` is
    the issuer as the discovery document states it."""

    def __init__(self, keys: list[RSAKey], after_refetch: list[RSAKey] | None = None, issuer: str = ISSUER) -> None:
        self.keys = keys
        self.after_refetch = after_refetch if after_refetch is not None else keys
        self.fetches = 0
        self.issuer = issuer

    async def metadata(self, env: EnvironmentConfig) -> SimpleNamespace:
        return SimpleNamespace(issuer=self.issuer)

    async def key_set(self, env: EnvironmentConfig, *, refresh: bool = False) -> KeySet:
        self.fetches += 1
        chosen = self.after_refetch if refresh else self.keys
        return KeySet.import_key_set({"keys": [k.as_dict(private=False) for k in chosen]})


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": CLIENT, "sub": "user-1", "iat": now, "exp": now + 300, "nonce": NONCE}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict[str, Any], key: Any = KEY, header: dict[str, Any] | None = None) -> str:
    return jwt.encode(header or {"alg": "RS256", "kid": key.kid}, payload, key)


def verify(token: str, discovery: StubDiscovery | None = None, checks: IdTokenChecks = CHECKS) -> dict[str, Any]:
    return asyncio.run(verify_id_token(token, ENV, discovery or StubDiscovery([KEY]), checks))  # type: ignore[arg-type]


def failed_check(token: str, discovery: StubDiscovery | None = None, checks: IdTokenChecks = CHECKS) -> str:
    with pytest.raises(InvalidIdTokenError) as e:
        verify(token, discovery, checks)
    return str(e.value.details["check"])


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_valid_token_returns_its_claims() -> None:
    assert verify(sign(claims()))["sub"] == "user-1"


def test_alg_none_is_refused() -> None:
    assert failed_check(f"{b64({'alg': 'none'})}.{b64(claims())}.") == "alg"


def test_hs256_signed_with_the_public_key_as_secret_is_refused() -> None:
    secret = OctKey.import_key(json.dumps(KEY.as_dict(private=False)).encode())
    token = jwt.encode({"alg": "HS256", "kid": "k1"}, claims(), secret)
    assert failed_check(token) == "alg"


def test_bad_signature_is_refused() -> None:
    assert failed_check(sign(claims(), OTHER)) == "signature"


def test_tampered_payload_is_refused() -> None:
    header, _, signature = sign(claims()).split(".")
    assert failed_check(f"{header}.{b64(claims(sub='admin'))}.{signature}") == "signature"


def test_garbage_is_a_structure_error() -> None:
    assert failed_check("not.a.jwt") == "structure"


def test_unknown_kid_refetches_the_jwks_once_and_succeeds_after_rotation() -> None:
    discovery = StubDiscovery([KEY], after_refetch=[KEY, ROTATED])
    assert verify(sign(claims(), ROTATED), discovery)["sub"] == "user-1"
    assert discovery.fetches == 2


def test_unknown_kid_still_unknown_after_refetch_is_refused() -> None:
    discovery = StubDiscovery([KEY])
    assert failed_check(sign(claims(), ROTATED), discovery) == "kid"
    assert discovery.fetches == 2


def test_no_kid_with_several_keys_is_refused() -> None:
    token = sign(claims(), KEY, header={"alg": "RS256"})
    assert failed_check(token, StubDiscovery([KEY, ROTATED])) == "kid"


def test_no_kid_with_one_key_uses_that_key() -> None:
    assert verify(sign(claims(), KEY, header={"alg": "RS256"}))["sub"] == "user-1"


def test_issuer_mismatch_is_refused() -> None:
    assert failed_check(sign(claims(iss="https://evil.example.com"))) == "iss"


def test_audience_without_our_client_is_refused() -> None:
    assert failed_check(sign(claims(aud="someone-else"))) == "aud"


def test_several_audiences_need_azp_naming_us() -> None:
    assert failed_check(sign(claims(aud=[CLIENT, "api"]))) == "azp"
    assert failed_check(sign(claims(aud=[CLIENT, "api"], azp="api"))) == "azp"
    assert verify(sign(claims(aud=[CLIENT, "api"], azp=CLIENT)))["azp"] == CLIENT


def test_expired_token_is_refused() -> None:
    now = int(time.time())
    assert failed_check(sign(claims(iat=now - 3600, exp=now - 600))) == "exp"


def test_iat_far_in_the_future_is_refused() -> None:
    now = int(time.time())
    assert failed_check(sign(claims(iat=now + 3600, exp=now + 7200))) == "iat"


@pytest.mark.parametrize("skew", [-120, 120], ids=["provider-2-min-behind", "provider-2-min-ahead"])
def test_two_minutes_of_clock_skew_is_tolerated(skew: int) -> None:
    now = int(time.time()) + skew
    assert verify(sign(claims(iat=now, exp=now + 60, nbf=now)))["sub"] == "user-1"


def test_missing_nonce_is_refused() -> None:
    assert failed_check(sign(claims(nonce=None))) == "nonce"


def test_wrong_nonce_is_refused() -> None:
    assert failed_check(sign(claims(nonce="replayed"))) == "nonce"


def test_refresh_skips_the_nonce_but_checks_the_subject() -> None:
    refresh_checks = IdTokenChecks(ISSUER, CLIENT, None, 180, ("RS256",), expected_sub="user-1")
    assert verify(sign(claims(nonce=None)), checks=refresh_checks)["sub"] == "user-1"
    assert failed_check(sign(claims(nonce=None, sub="user-2")), checks=refresh_checks) == "sub"


def test_missing_exp_is_refused() -> None:
    assert failed_check(sign(claims(exp=None))) == "exp"


def test_error_message_names_the_check_and_never_the_token() -> None:
    token = sign(claims(iss="https://evil.example.com"))
    with pytest.raises(InvalidIdTokenError) as e:
        verify(token)
    assert "iss" in e.value.message and token not in e.value.message


# ---------------------------------------------------------------- issuer with a trailing slash


def test_iss_is_compared_exactly_with_the_discovered_issuer_ending_in_a_slash() -> None:
    # Ory Hydra / Auth0: the configuration keeps "https://id.example.com" (config.py drops the
    # "/"), the discovery document and every id_token say "https://id.example.com/".
    discovery = StubDiscovery([KEY], issuer=ISSUER + "/")
    assert verify(sign(claims(iss=ISSUER + "/")), discovery)["iss"] == ISSUER + "/"
    assert failed_check(sign(claims(iss=ISSUER)), StubDiscovery([KEY], issuer=ISSUER + "/")) == "iss"


def test_iss_with_a_slash_the_discovered_issuer_lacks_is_refused() -> None:
    assert failed_check(sign(claims(iss=ISSUER + "/"))) == "iss"


# ---------------------------------------------------------------- identity: email_verified and email comparison


def identity_refusal(email: Any, hint: str = "kate@example.com", **claims: Any) -> IdentityMismatchError:
    with pytest.raises(IdentityMismatchError) as e:
        enforce_login_hint({"sub": "s", "email": email, **claims}, hint, require_verified_email=True)
    return e.value


@pytest.mark.parametrize(
    "verified",
    [None, "true", "false", "True", 1, 0, [True], {"value": True}],
    ids=["absent", "string-true", "string-false", "string-True", "one", "zero", "list", "object"],
)
def test_email_verified_other_than_the_json_boolean_true_is_refused(verified: Any) -> None:
    extra = {} if verified is None else {"email_verified": verified}
    error = identity_refusal("kate@example.com", **extra)
    assert error.details["reason"] == "email_not_verified"
    assert OPT_OUT in error.message


def test_email_verified_false_names_the_explicit_opt_out() -> None:
    error = identity_refusal("kate@example.com", email_verified=False)
    assert (
        error.details["reason"] == "email_not_verified"
        and "c.OIDCLogin.require_verified_email = False" in error.message
    )


def test_email_verified_true_passes_and_the_opt_out_accepts_unverified() -> None:
    claims = {"sub": "s", "email": "Kate@Example.com", "email_verified": True}
    assert enforce_login_hint(claims, "kate@example.com", True) == "Kate@Example.com"
    assert enforce_login_hint({**claims, "email_verified": "false"}, "kate@example.com", False) == "Kate@Example.com"
    assert enforce_login_hint({"sub": "s", "email": "kate@example.com"}, "kate@example.com", False)


@pytest.mark.parametrize(
    ("signed_in", "typed"),
    [
        ("\u212aate@example.com", "kate@example.com"),  # Kelvin sign: lower() is "k"
        ("kate@example.com", "\u212aate@example.com"),
        ("strasse@example.com", "stra\u00dfe@example.com"),  # casefold("ß") == "ss"; lower() keeps ß
        ("stra\u00dfe@example.com", "strasse@example.com"),
        ("ju\u0308rgen@example.com", "j\u00fcrgen@example.com"),  # decomposed ü (not NFC)
        ("j\u00fcrgen@example.com", "ju\u0308rgen@example.com"),
        ("\u0130nfo@example.com", "info@example.com"),  # dotted capital I lowers to "i" + U+0307
    ],
    ids=["kelvin-token", "kelvin-typed", "ss-token", "sharp-s-token", "nfd-token", "nfd-typed", "dotted-I"],
)
def test_unicode_look_alike_emails_do_not_match(signed_in: str, typed: str) -> None:
    assert not same_email(signed_in, typed)
    error = identity_refusal(signed_in, typed, email_verified=True)
    assert error.details["actual"] == signed_in and "reason" not in error.details


def test_emails_match_case_insensitively_on_plain_lower_case() -> None:
    assert same_email("Alice@Example.COM", "alice@example.com")
    assert same_email("J\u00dcRGEN@example.com", "j\u00fcrgen@example.com")
    assert same_email("\u1e9e@example.com", "\u00df@example.com")  # capital sharp s lowers to ß


def test_email_claim_that_is_not_a_string_is_no_email() -> None:
    error = identity_refusal(["kate@example.com"], email_verified=True)
    assert error.details.get("actual") is None
