"""The one id_token check (joserfc): key selection, signature, algorithm and claims.

:func:`verify_id_token` is what the broker runs on every id_token it receives (it raises);
:func:`check_id_token` is its report mode, step by step and never raising, for
``jupyter oidc check`` and the panel's view. Both use the algorithm list and leeway of
``protocol.py`` (the browser gets them from ``GET oidc/jwks``).

Every check that fails raises ``InvalidIdTokenError`` whose ``check`` names it
(``structure``, ``alg``, ``kid``, ``signature``, ``iss``, ``aud``, ``azp``, ``exp``,
``iat``, ``nbf``, ``nonce``, ``sub``, ``auth_time``), so tests and users see exactly what was wrong.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..errors import InvalidIdTokenError
from ..protocol import ID_TOKEN_ALGORITHMS, LEEWAY_SECONDS
from ..protocol import REFUSED_ALGORITHMS as _REFUSED

if TYPE_CHECKING:
    from joserfc.jwk import Key, KeySet

    from .discovery import Discovery
    from .settings import EnvironmentConfig

#: Never accepted, whatever the configuration says.
REFUSED_ALGORITHMS = frozenset(_REFUSED)


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
    #: The sign-in sent ``max_age``: ``auth_time`` is required and at most this old (Core §3.1.2.1).
    max_age: int | None = None


def _invalid(check: str, message: str) -> InvalidIdTokenError:
    return InvalidIdTokenError(f"The provider's id_token failed the {check} check: {message}", check=check)


def _pick_key(keys: KeySet, kid: str | None, alg: str) -> Key | None:
    from joserfc.errors import InvalidKeyIdError

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
    from joserfc import jws, jwt
    from joserfc.errors import BadSignatureError, JoseError

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
    from joserfc import jwt
    from joserfc.errors import ClaimError, ExpiredTokenError

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
    if audience_problem(claims, checks.client_id) is not None:
        raise _invalid("azp", f"several audiences and azp {claims.get('azp')!r} is not this client.")
    if checks.expected_sub is not None and claims.get("sub") != checks.expected_sub:
        raise _invalid("sub", "the token is for a different subject than the session.")
    if checks.max_age is not None:
        check_auth_time(claims, checks.max_age, checks.leeway_seconds, now)


def check_auth_time(claims: dict[str, Any], max_age: int, leeway: float, now: float | None = None) -> None:
    """OpenID Connect Core §3.1.2.1: with ``max_age`` sent, ``auth_time`` is required and ≥ now − max_age − leeway."""
    auth_time = claims.get("auth_time")
    if isinstance(auth_time, bool) or not isinstance(auth_time, (int, float)):
        raise _invalid("auth_time", "max_age was requested, but the token has no numeric auth_time claim.")
    current = time.time() if now is None else now
    if auth_time < current - max_age - leeway:
        raise _invalid(
            "auth_time",
            f"the provider authenticated you {int(current - auth_time)} s ago, longer than the max_age of "
            f"{max_age} s that was requested; sign in again.",
        )
    if auth_time > current + leeway:
        raise _invalid("auth_time", "auth_time lies in the future (check the clocks).")


def audience_problem(claims: dict[str, Any], client_id: str) -> str | None:
    """Why ``aud``/``azp`` do not name this client (§3.1.3.7 items 3-5), or None."""
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else [str(a) for a in aud] if isinstance(aud, list) else []
    azp = claims.get("azp")
    if client_id not in audiences:
        return f"{', '.join(audiences) or '-'} does not contain the client id {client_id}"
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        return f"Several audiences, but azp is {azp or '-'} instead of {client_id}"
    return None


# ---------------------------------------------------------------- report mode

PASS, FAIL, WARN, SKIP = "pass", "fail", "warn", "skip"
ORDER = ("structure", "discovery", "jwks", "key", "signature", "iss", "aud", "exp", "iat", "nbf", "nonce")
TITLES = {
    "structure": "Structure (header and payload)",
    "discovery": "Discovery document",
    "jwks": "Provider keys (JWKS)",
    "key": "Signing key",
    "signature": "Signature",
    "iss": "Issuer (iss)",
    "aud": "Audience (aud, azp)",
    "exp": "Expiry (exp)",
    "iat": "Issued at (iat)",
    "nbf": "Not before (nbf)",
    "nonce": "Nonce",
}
#: Asymmetric algorithms only: never ``none``, never HS*.
ALLOWED_ALGORITHMS = ID_TOKEN_ALGORITHMS
_FAMILIES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}


@dataclass
class Step:
    name: str
    outcome: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "title": TITLES[self.name], **asdict(self)}


@dataclass
class Report:
    steps: list[Step] = field(default_factory=list)
    header: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    thumbprint: str | None = None

    @property
    def valid(self) -> bool:
        """No step failed or was skipped (warnings allowed)."""
        return bool(self.steps) and all(s.outcome in (PASS, WARN) for s in self.steps)

    def add(self, name: str, outcome: str, detail: str) -> None:
        self.steps.append(Step(name, outcome, detail))

    def skip_from(self, name: str, reason: str) -> Report:
        for later in ORDER[ORDER.index(name) :]:
            self.add(later, SKIP, reason)
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "steps": [s.to_json() for s in self.steps],
            "header": self.header,
            "payload": self.payload,
            "thumbprint": self.thumbprint,
        }


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="seconds")


def _b64json(part: str) -> dict[str, Any]:
    value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def describe_key(key: Any) -> str:
    data = key.as_dict(private=False)
    if key.key_type == "RSA":
        n = data["n"]
        return f"RSA {len(base64.urlsafe_b64decode(n + '=' * (-len(n) % 4))) * 8} bits"
    return f"{key.key_type} {data.get('crv', '')}".strip()


def check_id_token(
    id_token: str | None,
    issuer: str,
    client_id: str,
    jwks_reply: dict[str, Any] | Exception,
    leeway_seconds: float = LEEWAY_SECONDS,
    now: float | None = None,
) -> Report:
    """Check ``id_token`` step by step; never raises. ``jwks_reply`` is ``GET oidc/jwks``'s answer, or why it failed."""
    from joserfc import jws
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    report = Report()
    # 1. structure
    try:
        if not id_token:
            raise ValueError("the session has no id_token")
        parts = id_token.split(".")
        if len(parts) != 3:
            raise ValueError("a signed JWT has three dot-separated parts")
        report.header, report.payload = _b64json(parts[0]), _b64json(parts[1])
    except (ValueError, UnicodeError) as e:
        report.add("structure", FAIL, f"Not a signed JWT: {e}")
        return report.skip_from("discovery", "needs a well-formed token")
    alg = str(report.header.get("alg") or "")
    if alg not in ALLOWED_ALGORITHMS:
        report.add("structure", FAIL, f"Algorithm {alg or '-'!r} is not allowed for id_tokens (asymmetric only).")
        return report.skip_from("discovery", "needs an allowed algorithm")
    kid = report.header.get("kid")
    report.add("structure", PASS, f"alg {alg} · kid {kid or '-'} · typ {report.header.get('typ') or '-'}")

    # 2. discovery, 3. JWKS (one request to the server)
    if isinstance(jwks_reply, Exception):
        report.add("discovery", FAIL, f"Could not be fetched: {jwks_reply}")
        report.add("jwks", FAIL, "The JWKS could not be fetched.")
        return report.skip_from("key", "needs the JWKS")
    discovery = jwks_reply.get("discovery") or {}
    named = str(discovery.get("issuer") or jwks_reply.get("issuer") or "")
    algs = discovery.get("id_token_signing_alg_values_supported")
    if named and named != issuer:
        report.add(
            "discovery", FAIL, f"The provider configuration names issuer {named}, but the session's is {issuer}."
        )
    elif isinstance(algs, list) and algs and alg not in algs:
        report.add(
            "discovery", FAIL, f"The provider does not list {alg} among its id_token algorithms ({', '.join(algs)})."
        )
    else:
        facts = [
            f"mode {jwks_reply.get('discovery_mode')}" if jwks_reply.get("discovery_mode") else "",
            f"issuer {named}" if named else "",
            f"jwks_uri {discovery.get('jwks_uri')}" if discovery.get("jwks_uri") else "",
        ]
        report.add("discovery", PASS, " · ".join(f for f in facts if f) or "No discovery document (manual endpoints).")
    try:
        keys = KeySet.import_key_set(jwks_reply.get("jwks") or {"keys": []})  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as e:
        report.add("jwks", FAIL, f"The provider's JWKS is not valid ({type(e).__name__}).")
        return report.skip_from("key", "needs the JWKS")
    if not keys.keys:
        report.add("jwks", FAIL, "The provider publishes no keys.")
        return report.skip_from("key", "needs a key")
    report.add("jwks", PASS, f"{len(keys.keys)} key(s): {', '.join(k.kid or '?' for k in keys.keys)}")

    # 4. key
    family = _FAMILIES.get(alg[:2])
    candidates = [
        k
        for k in keys.keys
        if (kid is None or k.kid == kid)
        and k.get("use") in (None, "sig")
        and k.get("alg") in (None, alg)
        and (family is None or k.key_type == family)
    ]
    if not candidates:
        report.add("key", FAIL, f"No {alg} signing key with kid {kid or '-'!r} in the JWKS.")
        return report.skip_from("signature", "needs the key")
    key = candidates[0]
    report.thumbprint = key.thumbprint()
    report.add("key", PASS, f"{describe_key(key)} · SHA-256 thumbprint {report.thumbprint}")

    # 5. signature
    try:
        jws.deserialize_compact(id_token, key, algorithms=[alg])
        report.add("signature", PASS, f"Valid {alg} signature by key {key.kid or report.thumbprint}.")
    except JoseError as e:
        report.add("signature", FAIL, f"The signature does not verify ({type(e).__name__}).")

    # 6. claims
    _claims(report, issuer, client_id, leeway_seconds, time.time() if now is None else now)
    return report


def _claims(report: Report, issuer: str, client_id: str, leeway: float, now: float) -> None:
    payload = report.payload
    iss = payload.get("iss")
    report.add(
        "iss", PASS if iss == issuer else FAIL, str(iss) if iss == issuer else f"{iss or '-'}, expected {issuer}"
    )
    aud = payload.get("aud")
    audiences = [aud] if isinstance(aud, str) else list(aud) if isinstance(aud, list) else []
    azp = payload.get("azp")
    problem = audience_problem(payload, client_id)
    if problem is not None:
        report.add("aud", FAIL, problem)
    else:
        report.add("aud", PASS, ", ".join(audiences) + (f" · azp {azp}" if azp else ""))
    exp, iat, nbf = payload.get("exp"), payload.get("iat"), payload.get("nbf")
    if not isinstance(exp, (int, float)):
        report.add("exp", FAIL, "missing")
    elif exp + leeway < now:
        ago = f"Expired {int(now - exp)} s ago ({_when(exp)})."
        report.add("exp", FAIL, f"{ago} Refreshes do not always renew the id_token.")
    else:
        report.add("exp", PASS, f"Valid for {int(exp - now)} s more ({_when(exp)})")
    if not isinstance(iat, (int, float)):
        report.add("iat", FAIL, "missing")
    elif iat - leeway > now:
        report.add("iat", FAIL, f"Issued in the future ({_when(iat)}): check the clocks.")
    else:
        report.add("iat", PASS, _when(iat))
    if nbf is None:
        report.add("nbf", PASS, "not set")
    elif not isinstance(nbf, (int, float)) or nbf - leeway > now:
        report.add("nbf", FAIL, f"Not valid before {_when(nbf) if isinstance(nbf, (int, float)) else nbf}")
    else:
        report.add("nbf", PASS, _when(nbf))
    nonce = payload.get("nonce")
    if isinstance(nonce, str) and nonce:
        report.add("nonce", PASS, "Present; the server matched it against the sign-in's nonce.")
    else:
        report.add("nonce", WARN, "Absent: normal for sessions started by refresh-token import or the password grant.")
