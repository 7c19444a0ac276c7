"""The kernel helper: fresh tokens in notebooks, with the ``satorbis_kit.auth`` names.

``get_token()`` / ``await get_token_async()`` for the signed-in user, ``OIDCAuth`` to sign in
from a cell, ``ServiceAuth`` for service accounts, ``OIDCBearer`` for requests/httpx.
Light to import: no tornado, no jupyter_server, no httpx until a request is made.
"""

from __future__ import annotations

from typing import Any

from ..errors import IdentityMismatchError, InsufficientScopeError, NotAuthenticatedError, OIDCError
from .client import TokenClient, default_client, get_token, get_token_async
from .environment import Environment
from .grants import PasswordAuth, RefreshTokenAuth, TokenManager, import_refresh_token, password_login
from .oidcauth import OIDCAuth
from .serviceauth import ServiceAuth
from .tokenstore import TokenStore
from .urls import UnsafeURLError


def __getattr__(name: str) -> Any:
    if name == "OIDCBearer":  # imports httpx
        from .bearer import OIDCBearer

        return OIDCBearer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Environment",
    "IdentityMismatchError",
    "InsufficientScopeError",
    "NotAuthenticatedError",
    "OIDCAuth",
    "OIDCBearer",
    "OIDCError",
    "PasswordAuth",
    "RefreshTokenAuth",
    "ServiceAuth",
    "TokenClient",
    "TokenManager",
    "TokenStore",
    "UnsafeURLError",
    "default_client",
    "get_token",
    "get_token_async",
    "import_refresh_token",
    "password_login",
]
