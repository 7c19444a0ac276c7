"""Sessions started without the interactive sign-in: refresh-token import and the password grant.

No tornado here; ``POST oidc/grants/refresh-token`` and ``POST oidc/grants/password`` call
these. Both end in :meth:`Grants.adopt_tokens`: the id_token is verified and the identity
established as for a sign-in (there is no nonce in these grants), then the session is
stored and refreshed in the background like any other.

Neither keeps a credential to start over with: when the provider stops accepting the
refresh token, the session ends and has to be started again (sign in, import a new
token, or send the password again). The password is never stored or logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..errors import GrantNotAllowedError, InvalidIdTokenError, InvalidRequestError, ProviderError
from .endpoint import TokenEndpoint
from .identity import enforce_login_hint
from .sessions import Session
from .settings import EnvironmentConfig, Settings

#: OAuth errors that mean "these credentials are not accepted" rather than "try again".
REFUSED = ("invalid_grant", "invalid_token", "invalid_request")
#: OAuth errors that mean "this client may not use this grant type here".
NOT_ALLOWED = ("unauthorized_client", "unsupported_grant_type")


class Grants:
    """Refresh-token import and the password grant, for one server's settings."""

    def __init__(
        self,
        settings: Settings,
        endpoint: TokenEndpoint,
        store_session: Callable[[Session], None],
        log: logging.Logger,
    ) -> None:
        self.settings = settings
        self.endpoint = endpoint
        self.store_session = store_session
        self.log = log

    async def import_refresh_token(
        self,
        environment: str | None,
        application: str | None,
        refresh_token: str,
        login_hint: str = "",
    ) -> Session:
        """Start a session from a refresh token obtained elsewhere (an offline token, for example).

        It refreshes with it at once, verifies the returned id_token (if any), takes the
        identity from it or from userinfo and enforces ``login_hint`` when given. With rotating
        refresh tokens the imported token is used up by this: keep the session, not the token.
        """
        env = self.settings.environment(environment)
        env.scopes_for(application)  # an unknown application is refused before the provider sees anything
        if not refresh_token.strip():
            raise InvalidRequestError("'refresh_token' is required.")
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token.strip()}
        tokens = await self._token_request(
            env,
            data,
            "refresh-token import",
            lambda code: (
                f"The provider refused the refresh token ({code}): it has expired, was revoked, was "
                f"already used (rotating refresh tokens), or was issued to another client than {env.client_id!r}. "
                "Nothing was stored."
            ),
        )
        if not tokens.get("refresh_token"):
            tokens["refresh_token"] = data["refresh_token"]  # the provider does not rotate: keep using it
        session = await self.adopt_tokens(env, application or None, tokens, login_hint or "")
        self.log.info(
            "jupyterlab_oidc: session %s started from an imported refresh token (no re-authentication when it expires)",
            session.key,
        )
        return session

    async def password_login(
        self,
        environment: str | None,
        application: str | None,
        username: str,
        password: str,
        totp: str | None = None,
        login_hint: str | None = None,
    ) -> Session:
        """Resource-owner password grant (+ optional one-time code ``totp``). Legacy; off by default.

        Only for environments with ``allow_password_grant: true``. When ``login_hint`` is not
        given and ``username`` is an email address, the session must be for that address.
        """
        env = self.settings.environment(environment)
        if not env.allow_password_grant:
            raise GrantNotAllowedError(
                f"The password grant is off for environment {env.name!r}. It is a legacy grant (RFC 9700 "
                "advises against it); sign in from the OIDC panel instead. If the provider requires it, an "
                f"admin can set allow_password_grant: true in c.OIDCLogin.environments[{env.name!r}].",
                environment=env.name,
                grant_type="password",
            )
        scopes = env.scopes_for(application)
        if not username.strip() or not password:
            raise InvalidRequestError("'username' and 'password' are required.")
        data = {"grant_type": "password", "username": username.strip(), "password": password, "scope": " ".join(scopes)}
        if totp:
            data["totp"] = totp.strip()
        tokens = await self._token_request(
            env,
            data,
            "password grant",
            lambda code: (
                f"The provider refused the username, password{' or one-time code' if totp else ''} "
                f"({code}). Nothing was stored."
            ),
            not_allowed=lambda code: (
                f"The provider does not allow the password grant for client {env.client_id!r} ({code})."
            ),
        )
        hint = login_hint if login_hint is not None else (username.strip() if "@" in username else "")
        session = await self.adopt_tokens(env, application or None, tokens, hint)
        self.log.info("jupyterlab_oidc: session %s started with the password grant", session.key)
        return session

    async def _token_request(
        self,
        env: EnvironmentConfig,
        data: dict[str, str],
        label: str,
        refused: Callable[[str], str],
        not_allowed: Callable[[str], str] | None = None,
    ) -> dict[str, Any]:
        """A grant's token request; the provider's refusal becomes a message the user can act on."""
        try:
            return await self.endpoint.token_request(env, data, label)
        except ProviderError as e:
            code = str(e.details.get("provider_error"))
            message = refused(code) if code in REFUSED else None
            if message is None and not_allowed is not None and code in NOT_ALLOWED:
                message = not_allowed(code)
            if message is None:
                raise
            raise ProviderError(message, provider_error=code, environment=env.name) from None

    async def adopt_tokens(
        self, env: EnvironmentConfig, application: str | None, tokens: dict[str, Any], login_hint: str = ""
    ) -> Session:
        """Start a session from a token answer that did not come from a sign-in here.

        The checks of a sign-in apply, except the nonce (these grants have none): the id_token
        is verified, the identity comes from it or from userinfo (whose ``sub`` must match),
        ``login_hint`` is enforced when given. Nothing is stored when a check fails.
        """
        claims: dict[str, Any] = {}
        if tokens.get("id_token"):
            claims = await self.endpoint.id_token_claims(env, tokens["id_token"], nonce=None)
        claims = await self.endpoint.with_userinfo(env, claims, tokens["access_token"])
        if not claims.get("sub"):
            raise InvalidIdTokenError(
                "The provider returned no id_token and offers no userinfo, so whose session this is "
                "cannot be known. Request the 'openid' scope. Nothing was stored.",
                check="structure",
            )
        email = enforce_login_hint(claims, login_hint, self.settings.require_verified_email)
        session = self.endpoint.new_session(env, application, tokens, claims, email)
        self.store_session(session)
        return session
