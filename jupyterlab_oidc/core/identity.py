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


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): insertions, deletions,
    substitutions and swaps of two neighbours each count 1 (``exmaple`` → ``example`` is 1)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def looks_like_a_typo(typed: str, actual: str) -> bool:
    """The same local part or the same domain, and the other differs by a small edit (≤ 2, and
    less than a third of its length: ``bob`` and ``rob`` yes, ``al`` and ``bo`` no)."""
    if not (typed.isascii() and actual.isascii()):
        return False  # a look-alike (Kelvin sign, ß for ss, decomposed accents) is no typo to confirm
    typed_local, _, typed_domain = typed.lower().rpartition("@")
    local, _, domain = actual.lower().rpartition("@")
    for same, (x, y) in (
        (typed_domain == domain, (typed_local, local)),
        (typed_local == local, (typed_domain, domain)),
    ):
        if same and x != y and edit_distance(x, y) <= min(2, max(len(x), len(y)) // 3):
            return True
    return False


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
        if looks_like_a_typo(expected, email):
            raise IdentityMismatchError(
                f"You signed in as {email}, but this sign-in was for {expected}. Nothing was stored — "
                f"check the email you typed: if you are {email}, sign in again with that address.",
                expected=expected,
                actual=email,
                reason="email_typo",
            )
        raise IdentityMismatchError(
            f"You signed in as {email}, but this sign-in was for {expected}. Nothing was stored — "
            "sign in again with the right account.",
            expected=expected,
            actual=email,
        )
    verified = claims.get("email_verified")
    if require_verified_email and verified is not True:
        said = (
            "says it is not verified"
            if verified is False
            else (
                "does not say it is verified"
                if verified is None
                else f"sends email_verified as {repr(verified)[:40]}, not the JSON boolean true"
            )
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
