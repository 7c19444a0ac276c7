"""Switching account and re-authentication: ``prompt`` and ``max_age`` (OpenID Connect Core §3.1.2.1).

``prompt=select_account`` lets the person pick another account at the provider,
``prompt=login`` makes the provider authenticate again, ``max_age`` bounds how long ago that
may have been (the id_token must then carry ``auth_time``: ``idtoken.check_auth_time``).

A sign-in's new session replaces the environment's current one only once it has passed
every check and the identity enforcement (``flow.py``); a refused sign-in changes nothing.
When the new session is someone else's (another ``sub``), the replaced session's tokens are
revoked (RFC 7009). Re-authenticating the same account keeps the provider's grant, and the
replaced tokens are not revoked: providers that reuse the grant (oidc-provider, among others)
revoke the whole grant with one of its refresh tokens, the new session's included.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ...errors import InvalidRequestError
from ..sessions import Session

#: The ``prompt`` values of OpenID Connect Core §3.1.2.1.
PROMPTS = ("none", "login", "consent", "select_account")


def reauth_params(prompt: Any = None, max_age: Any = None) -> dict[str, str]:
    """The authorization parameters for ``prompt`` and ``max_age``; ``InvalidRequestError`` when invalid.

    ``prompt`` is one value of :data:`PROMPTS` (or several, space-separated, never ``none``
    with another); ``max_age`` a non-negative integer number of seconds.
    """
    params: dict[str, str] = {}
    if prompt is not None and prompt != "":
        values = prompt.split() if isinstance(prompt, str) else None
        if not values or any(v not in PROMPTS for v in values) or ("none" in values and len(values) > 1):
            raise InvalidRequestError(
                f"'prompt' must be one of {', '.join(PROMPTS)} (several space-separated, but none alone).",
                field="prompt",
            )
        params["prompt"] = " ".join(dict.fromkeys(values))
    if max_age is not None:
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0:
            raise InvalidRequestError("'max_age' must be a non-negative integer (seconds).", field="max_age")
        params["max_age"] = str(max_age)
    return params


def max_age_of(authorization_params: dict[str, str]) -> int | None:
    """The ``max_age`` a sign-in sent, if any."""
    value = authorization_params.get("max_age")
    return int(value) if value is not None else None


def is_switch(replaced: Session | None, new: Session) -> bool:
    """True when ``new`` is another account than the session it replaces."""
    return replaced is not None and (replaced.sub, replaced.issuer) != (new.sub, new.issuer)


def retire_replaced(
    replaced: Session | None, new: Session, revoke: Any, log: logging.Logger
) -> asyncio.Future[Any] | None:
    """After ``new`` was stored in place of ``replaced``: revoke the old account's tokens (a switch).

    ``revoke`` is a coroutine function taking the session to hand back. Answers the scheduled
    revocation (or None when there is nothing to revoke).
    """
    if not is_switch(replaced, new):
        return None
    assert replaced is not None
    log.info("jupyterlab_oidc: %s switched to another account; the previous one's tokens are revoked", new.key)
    if not (replaced.refresh_token or replaced.access_token):
        return None
    task: asyncio.Future[Any] = asyncio.ensure_future(revoke(replaced))
    return task
