"""id_token verification with joserfc: key selection, signature, algorithm and claims.

Every check that fails raises ``InvalidIdTokenError`` whose ``check`` names it
(``structure``, ``alg``, ``kid``, ``signature``, ``iss``, ``aud``, ``azp``, ``exp``,
``iat``, ``nbf``, ``nonce``, ``sub``), so tests and users see exactly what was wrong.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)
from joserfc.jwk import Key, KeySet

from .config import EnvironmentConfig
from .discovery import Discovery
from .errors import InvalidIdTokenError

#: Never accepted, whatever the configuration says.
REFUSED_ALGORITHMS = frozenset({"none", "HS256", "HS384", "HS512"})


@dataclass(frozen=True)
class IdTokenChecks:
    """What the id_token must satisfy; ``nonce=None`` skips the nonce check (refresh).

    ``issuer`` is the configured one; when the environment has discovery, ``verify_id_token``
    checks ``iss`` against the issuer exactly as the discovery document states it (which may
    end in ``/``, e.g. Auth0 or Ory Hydra), never a normalised form of either.
    """

    issuer: str
    client_id: str
    nonce: str | None
    leeway_seconds: float
    algorithms: tuple[str, ...]
    expected_sub: str | None = None


def _invalid(check: str, message: str) -> InvalidIdTokenError:
    return InvalidIdTokenError(f"The provider's id_token failed the {check} check: {message}", check=check)


def _pick_key(keys: KeySet, kid: str | None, alg: str) -> Key | None:
    if kid is not None:
        try:
            return keys.get_by_kid(kid)
        except InvalidKeyIdError:
            return None
    usable = [k for k in keys.keys if k.get("use") in (None, "sig") and k.get("alg") in (None, alg)]
    if len(usable) == 1:
        return usable[0]
    raise _invalid("kid", "the token names no key id and the provider publishes several keys.")


async def verify_id_token(
    id_token: str, env: EnvironmentConfig, discovery: Discovery, checks: IdTokenChecks
) -> dict[str, Any]:
    """Verify ``id_token`` and return its claims."""
    try:
        header = jws.extract_compact(id_token.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError) as e:
        raise _invalid("structure", f"it is not a signed JWT ({type(e).__name__}).") from None
    alg = str(header.get("alg", "none"))
    if alg in REFUSED_ALGORITHMS or alg not in checks.algorithms:
        raise _invalid("alg", f"algorithm {alg!r} is not allowed.")
    if env.issuer and checks.issuer:
        checks = replace(checks, issuer=(await discovery.metadata(env)).issuer)
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise _invalid("kid", "the key id in the token header is not a string.")
    key = _pick_key(await discovery.key_set(env), kid, alg)
    if key is None:
        # The provider may have rotated its keys since we cached them: refetch (at most once
        # per cooldown, see discovery.JWKS_REFETCH_COOLDOWN_SECONDS) and look again.
        key = _pick_key(await discovery.key_set(env, refresh=True), kid, alg)
    if key is None:
        raise _invalid("kid", f"the provider publishes no key with kid {kid!r}.")
    try:
        token = jwt.decode(id_token, key, algorithms=[alg])
    except BadSignatureError:
        raise _invalid("signature", "the signature does not match the provider's key.") from None
    except JoseError as e:
        raise _invalid("signature", f"it could not be verified ({type(e).__name__}).") from None
    check_claims(token.claims, checks)
    return dict(token.claims)


def check_claims(claims: dict[str, Any], checks: IdTokenChecks, now: float | None = None) -> None:
    """The claim checks of OpenID Connect Core §3.1.3.7, with joserfc doing the time checks."""
    options: dict[str, Any] = {
        "exp": {"essential": True},
        "iat": {"essential": True},
        "sub": {"essential": True},
        "aud": {"essential": True, "values": [checks.client_id]},
    }
    if checks.issuer:
        options["iss"] = {"essential": True, "value": checks.issuer}
    if checks.nonce is not None:
        options["nonce"] = {"essential": True, "value": checks.nonce}
    registry = jwt.JWTClaimsRegistry(
        now=int(now if now is not None else time.time()), leeway=int(checks.leeway_seconds), **options
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise _invalid("exp", "the token has expired (check the server clock).") from None
    except ClaimError as e:
        claim = e.claim.split(",")[0]
        raise _invalid(claim, f"claim {e.claim!r}: {e.description}") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != checks.client_id:
        raise _invalid("azp", f"several audiences and azp {azp!r} is not this client.")
    if checks.expected_sub is not None and claims.get("sub") != checks.expected_sub:
        raise _invalid("sub", "the token is for a different subject than the session.")
