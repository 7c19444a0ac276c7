"""id_token checks, one per test, against a stubbed key source (generated keys, fixed time)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from jupyterlab_oidc.config import EnvironmentConfig
from jupyterlab_oidc.errors import InvalidIdTokenError
from jupyterlab_oidc.verify import IdTokenChecks, verify_id_token

ISSUER = "https://id.example.com"
CLIENT = "lab"
NONCE = "n-0S6_WzA2Mj"
ENV = EnvironmentConfig(name="prod", client_id=CLIENT, issuer=ISSUER)
CHECKS = IdTokenChecks(issuer=ISSUER, client_id=CLIENT, nonce=NONCE, leeway_seconds=180, algorithms=("RS256", "ES256"))

KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
ROTATED = RSAKey.generate_key(2048, parameters={"kid": "k2", "use": "sig", "alg": "RS256"})
OTHER = RSAKey.generate_key(2048, parameters={"kid": "k1"})


class StubDiscovery:
    """Serves a JWKS; ``after_refetch`` is what a refetch finds (key rotation)."""

    def __init__(self, keys: list[RSAKey], after_refetch: list[RSAKey] | None = None) -> None:
        self.keys = keys
        self.after_refetch = after_refetch if after_refetch is not None else keys
        self.fetches = 0

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
