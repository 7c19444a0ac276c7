"""Binding a sign-in to the browser that started it (RFC 9700 §4.7.1).

``state`` alone proves nothing about *who* delivers the provider's redirect: anyone holding
the authorization URL can complete the sign-in at the provider, and the callback would then
give the starter's server the tokens of whoever signed in. So every pending sign-in also
keeps the SHA-256 of a random secret that only the starting browser holds, in an HttpOnly,
SameSite=Lax cookie scoped to the callback path. The callback completes the sign-in only
when that cookie is present and matches.

The cookie is set by ``POST oidc/login`` (the panel's own request) or by the one-time start
link ``GET oidc/start?state=…`` (sign-ins started from a kernel cell or ``jupyter oidc
login``), which needs the server owner's Jupyter login. No tornado in here.
"""

from __future__ import annotations

import hashlib
import hmac

from authlib.common.security import generate_token

#: Cookie names are ``oidc-bind-`` + the first 16 hex digits of SHA-256(state).
COOKIE_PREFIX = "oidc-bind-"


def cookie_name(state: str) -> str:
    """The binding cookie's name for ``state`` (several sign-ins may wait at once)."""
    return COOKIE_PREFIX + hashlib.sha256(state.encode("utf-8")).hexdigest()[:16]


def digest(secret: str) -> str:
    """What the server keeps of a binding secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_binding() -> tuple[str, str]:
    """A fresh secret for the browser's cookie and its digest for the pending sign-in."""
    secret = generate_token(43)  # 256 bits
    return secret, digest(secret)


def matches(secret: str | None, digests: set[str]) -> bool:
    """Whether ``secret`` (the cookie's value, or None) is one of the sign-in's bindings."""
    if not secret:
        return False
    candidate = digest(secret)
    found = False
    for expected in digests:  # no early exit: constant time in the number of bindings
        found |= hmac.compare_digest(candidate, expected)
    return found
