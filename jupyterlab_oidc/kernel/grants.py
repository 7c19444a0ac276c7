"""Sessions started without the browser sign-in, and a ``cdse.auth``-style ``TokenManager``.

- :func:`import_refresh_token`: you hold a refresh (offline) token from elsewhere; the
  server extension starts a session from it. It cannot re-authenticate you: when the
  provider stops accepting the token, the session ends.
- :func:`password_login`: the resource-owner password grant (+ one-time code), for
  providers that still require it. Legacy (RFC 9700 advises against it) and refused unless
  the environment has ``allow_password_grant: true``.
- :class:`TokenManager`: ``authorization_header()``, ``force_refresh()`` after an unexpected
  401, ``clear()`` — over the same session every other kernel and the panel use.

Credentials go to the Jupyter server over HTTP with its own credentials (never through the
browser), and the server talks to the provider. Nothing here keeps a password.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from ..errors import NotAuthenticatedError, SessionExpiredError
from .client import TokenClient, default_client, token_sha256
from .environment import Environment, environment_name
from .tokenstore import TokenStore

EnvironmentLike = Environment | str | None


@dataclass(frozen=True)
class RefreshTokenAuth:
    """Start from a refresh token obtained elsewhere. The session ends when the token does.

    ``client_id`` is accepted for ``cdse.auth`` compatibility; the server's configuration of
    the environment decides it (the token must have been issued to that client).
    """

    refresh_token: str = field(repr=False)
    login_hint: str | None = None
    client_id: str | None = None

    def start(self, environment: EnvironmentLike, application: str | None, client: TokenClient) -> dict[str, Any]:
        body = {
            "environment": environment_name(environment),
            "application": application,
            "refresh_token": self.refresh_token,
            "login_hint": self.login_hint,
        }
        return client.http.rest("POST", "grants/refresh-token", body)


@dataclass(frozen=True)
class PasswordAuth:
    """Resource-owner password grant (+ optional one-time code). Legacy; the environment must allow it."""

    username: str
    password: str = field(repr=False)
    totp: str | None = field(default=None, repr=False)
    client_id: str | None = None

    def start(self, environment: EnvironmentLike, application: str | None, client: TokenClient) -> dict[str, Any]:
        body = {
            "environment": environment_name(environment),
            "application": application,
            "username": self.username,
            "password": self.password,
            "totp": self.totp,
        }
        return client.http.rest("POST", "grants/password", body)


Provider = RefreshTokenAuth | PasswordAuth


def _start(
    provider: Provider, environment: EnvironmentLike, application: str | None, client: TokenClient | None
) -> TokenStore:
    if provider.client_id is not None:
        warnings.warn(
            "The Jupyter server's configuration decides the client id (c.OIDCLogin.environments); "
            "client_id is ignored here.",
            stacklevel=3,
        )
    client = client or default_client()
    session = provider.start(environment, application, client)
    name, app = session.get("environment"), session.get("application") or None
    client.forget(name, app)
    return client.get_token(name, app, 0)


def import_refresh_token(
    refresh_token: str,
    environment: EnvironmentLike = None,
    application: str | None = None,
    login_hint: str | None = None,
    *,
    client: TokenClient | None = None,
) -> TokenStore:
    """Start a session from a refresh token obtained elsewhere; returns its first access token.

    The server refreshes with it at once, verifies the id_token and (with ``login_hint``)
    that the session is for that email. With rotating refresh tokens the token you pass is
    used up: the session continues with the rotated one. There is no re-authentication:
    when the provider stops accepting the token, ``get_token()`` raises
    ``SessionExpiredError`` and you need a new token (or sign in from the panel).
    """
    return _start(RefreshTokenAuth(refresh_token, login_hint), environment, application, client)


def password_login(
    username: str,
    password: str,
    totp: str | None = None,
    environment: EnvironmentLike = None,
    application: str | None = None,
    *,
    client: TokenClient | None = None,
) -> TokenStore:
    """Sign in with username and password (+ one-time code ``totp``): the legacy password grant.

    Refused (``GrantNotAllowedError``) unless the environment has ``allow_password_grant: true``.
    The password goes to the Jupyter server and on to the provider once; it is not kept, so
    when the session's refresh token expires you call this again.
    """
    return _start(PasswordAuth(username, password, totp), environment, application, client)


class TokenManager:
    """Keep an access token valid, ``cdse.auth`` style, on top of the server's session.

    ``TokenManager()`` uses the session you signed in to (panel, ``OIDCAuth``);
    ``TokenManager(RefreshTokenAuth(token))`` or ``TokenManager(PasswordAuth(user, pw))``
    starts one with that grant the first time no session exists. ``expiry_skew``: a token
    valid for less than this many seconds is renewed first (capped by the server at its
    refresh margin).
    """

    def __init__(
        self,
        provider: Provider | None = None,
        *,
        environment: EnvironmentLike = None,
        application: str | None = None,
        expiry_skew: float = 30.0,
        client: TokenClient | None = None,
    ) -> None:
        self.provider = provider
        self.environment = environment_name(environment)
        self.application = application or None
        self.expiry_skew = expiry_skew
        self._client = client

    def __repr__(self) -> str:
        kind = type(self.provider).__name__ if self.provider else "session"
        return f"TokenManager({kind}, environment={self.environment!r}, application={self.application!r})"

    @property
    def client(self) -> TokenClient:
        return self._client or default_client()

    def token(self) -> TokenStore:
        """A ``TokenStore`` valid for ``expiry_skew`` seconds; starts the session with ``provider`` if needed."""
        try:
            return self.client.get_token(self.environment, self.application, self.expiry_skew)
        except (NotAuthenticatedError, SessionExpiredError):
            if self.provider is None:
                raise
        return _start(self.provider, self.environment, self.application, self.client)

    def authorization_header(self) -> str:
        """The ``Authorization`` header value, ``Bearer …``, renewed first when about to expire."""
        return f"Bearer {self.token().access_token}"

    def force_refresh(self) -> str:
        """Renew now (after an unexpected 401) and return the new header value.

        Several callers that saw the same refused token share one refresh.
        """
        current = self.client.cached((self.environment or self.client.default_environment, self.application), 0)
        rejected = token_sha256(current.access_token) if current is not None else None
        try:
            token = self.client.refresh(self.environment, self.application, rejected=rejected)
        except (NotAuthenticatedError, SessionExpiredError):
            if self.provider is None:
                raise
            token = _start(self.provider, self.environment, self.application, self.client)
        return f"Bearer {token.access_token}"

    def clear(self, sign_out: bool = False) -> None:
        """Forget this kernel's cached token; with ``sign_out=True`` also end the server's session."""
        self.client.forget(self.environment, self.application)
        if sign_out:
            self.client.call("POST", "logout", {"environment": self.environment, "application": self.application})


__all__ = ["PasswordAuth", "RefreshTokenAuth", "TokenManager", "import_refresh_token", "password_login"]
