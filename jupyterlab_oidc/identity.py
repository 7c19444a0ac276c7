"""Who signed in, and whether it is the person whose email was typed (login_hint)."""

from __future__ import annotations

from typing import Any

from .errors import IdentityMismatchError, InvalidIdTokenError
from .session import IDENTITY_CLAIMS


def merge_userinfo(claims: dict[str, Any], userinfo: dict[str, Any]) -> dict[str, Any]:
    """Identity claims from the id_token, completed by userinfo (whose ``sub`` must match)."""
    if userinfo.get("sub") != claims.get("sub"):
        raise InvalidIdTokenError(
            "The provider's userinfo answered for a different user than the id_token; "
            "nothing was stored. Sign in again.",
            check="userinfo_sub",
        )
    merged = dict(claims)
    for name in IDENTITY_CLAIMS:
        if merged.get(name) is None and userinfo.get(name) is not None:
            merged[name] = userinfo[name]
    return merged


def identity_of(claims: dict[str, Any]) -> dict[str, Any]:
    """The claims worth showing: email, name, sub ... (no token material)."""
    return {name: claims[name] for name in IDENTITY_CLAIMS if name in claims}


def enforce_login_hint(claims: dict[str, Any], login_hint: str, require_verified_email: bool) -> str:
    """Return the authenticated email, or raise ``IdentityMismatchError``."""
    email = str(claims.get("email") or "").strip()
    expected = login_hint.strip()
    if not expected:
        return email
    if not email:
        raise IdentityMismatchError(
            f"This sign-in was for {expected}, but the provider did not say which email signed in "
            "(no email claim in the id_token or userinfo). Nothing was stored. Ask your admin to "
            "grant the 'email' scope.",
            expected=expected,
            actual=None,
        )
    if email.casefold() != expected.casefold():
        raise IdentityMismatchError(
            f"You signed in as {email}, but this sign-in was for {expected}. Nothing was stored — "
            "sign in again with the right account.",
            expected=expected,
            actual=email,
        )
    if require_verified_email and claims.get("email_verified") is False:
        raise IdentityMismatchError(
            f"The provider has not verified the email {email}. Nothing was stored. Verify the "
            "address with your provider, or ask your admin about require_verified_email.",
            expected=expected,
            actual=email,
            reason="email_not_verified",
        )
    return email
