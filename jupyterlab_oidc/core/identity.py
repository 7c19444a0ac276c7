"""Who signed in, and whether it is the person whose email was typed (login_hint)."""

from __future__ import annotations

import unicodedata
from typing import Any

from ..errors import IdentityMismatchError, InvalidIdTokenError
from .sessions import IDENTITY_CLAIMS


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


#: What the refusal of an unverified email tells the admin to set, to opt out explicitly.
OPT_OUT = "c.OIDCLogin.require_verified_email = False"


def same_email(a: str, b: str) -> bool:
    """Case-insensitive on plain ``str.lower()``, never ``casefold()`` (``ß`` is not ``ss``).

    Both sides must be in Unicode NFC: that refuses look-alikes with a canonical
    decomposition, such as the Kelvin sign U+212A, whose lower case is ASCII ``k``, and
    decomposed accents (``u`` + U+0308 for ``ü``).
    """
    if not (unicodedata.is_normalized("NFC", a) and unicodedata.is_normalized("NFC", b)):
        return False
    return a.lower() == b.lower()


def enforce_login_hint(claims: dict[str, Any], login_hint: str, require_verified_email: bool) -> str:
    """Return the authenticated email, or raise ``IdentityMismatchError``.

    With ``require_verified_email`` only ``email_verified`` as the JSON boolean ``true``
    passes: absent, ``"true"``, ``1`` are refused like ``false``.
    """
    raw = claims.get("email")
    email = raw.strip() if isinstance(raw, str) else ""
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
    if not same_email(email, expected):
        raise IdentityMismatchError(
            f"You signed in as {email}, but this sign-in was for {expected}. Nothing was stored — "
            "sign in again with the right account.",
            expected=expected,
            actual=email,
        )
    verified = claims.get("email_verified")
    if require_verified_email and verified is not True:
        said = "says it is not verified" if verified is False else (
            "does not say it is verified" if verified is None else
            f"sends email_verified as {repr(verified)[:40]}, not the JSON boolean true"
        )
        raise IdentityMismatchError(
            f"The provider {said} for the email {email}. Nothing was stored. Verify the address "
            f"with your provider; an admin whose provider never verifies emails can opt out with "
            f"{OPT_OUT}.",
            expected=expected,
            actual=email,
            reason="email_not_verified",
        )
    return email
