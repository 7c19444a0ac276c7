"""The provider's token, revocation and userinfo endpoints, and the id_token check of each answer."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

from ..errors import DiscoveryFailedError, InvalidIdTokenError, OIDCError, ProviderError
from .discovery import Discovery, ProviderMetadata
from .http import ProviderHTTP
from .identity import identity_of, merge_userinfo
from .refresher import token_lifetime
from .sessions import Session
from .settings import EnvironmentConfig, Settings


class TokenEndpoint:
    """Token requests (every grant), id_token verification, userinfo, revocation."""

    def __init__(self, settings: Settings, http: ProviderHTTP, discovery: Discovery, log: logging.Logger) -> None:
        self.settings = settings
        self.http = http
        self.discovery = discovery
        self.log = log

    async def token_request(
        self, env: EnvironmentConfig, data: dict[str, str], label: str, metadata: ProviderMetadata | None = None
    ) -> dict[str, Any]:
        """POST ``data`` to the token endpoint as ``env``'s client; a Bearer answer with an access token."""
        metadata = metadata or await self.discovery.metadata(env)
        tokens = await self.http.client_form(label, metadata.token_url, env, data)
        if not tokens.get("access_token"):
            raise ProviderError(f"The provider's {label} answer has no access_token.", provider_error="missing_token")
        if str(tokens.get("token_type", "")).lower() != "bearer":
            raise ProviderError(
                f"The provider's {label} answer has token_type {tokens.get('token_type')!r}, not Bearer.",
                provider_error="invalid_token_type",
            )
        return tokens

    # ---------------------------------------------------------------- device grant, PAR

    async def device_authorization(
        self, env: EnvironmentConfig, metadata: ProviderMetadata, data: dict[str, str]
    ) -> dict[str, Any]:
        """RFC 8628 §3.1: ask for a device code and a user code, as ``env``'s client."""
        return await self.http.client_form("device authorization", metadata.device_authorization_url, env, data)

    async def pushed_authorization_request(
        self, env: EnvironmentConfig, metadata: ProviderMetadata, params: dict[str, str]
    ) -> dict[str, Any]:
        """RFC 9126 §2: push the authorization parameters; the answer holds ``request_uri`` and ``expires_in``."""
        label = "pushed authorization request"
        url = metadata.pushed_authorization_request_url
        body = await self.http.client_form(label, url, env, params, expect=(200, 201))  # 201: RFC 9126 §2.2
        if not isinstance(body.get("request_uri"), str) or not body["request_uri"]:
            raise ProviderError(
                f"The provider's {label} answer has no request_uri.", provider_error="missing_request_uri"
            )
        return body

    # ---------------------------------------------------------------- refresh (refresher.Renewer)

    async def refresh(self, session: Session) -> dict[str, Any]:
        env = self.settings.environment(session.environment)
        data = {"grant_type": "refresh_token", "refresh_token": session.refresh_token or ""}
        return await self.token_request(env, data, "refresh")

    async def check_refreshed(self, session: Session, tokens: dict[str, Any]) -> None:
        env = self.settings.environment(session.environment)
        await self.id_token_claims(env, tokens["id_token"], nonce=None, expected_sub=session.sub)

    # ---------------------------------------------------------------- id_token, identity

    async def id_token_claims(
        self,
        env: EnvironmentConfig,
        id_token: str,
        nonce: str | None,
        expected_sub: str | None = None,
        max_age: int | None = None,
    ) -> dict[str, Any]:
        """The verified claims of ``id_token`` (only decoded, with a warning, when ``verify_jwt`` is off)."""
        # joserfc (and cryptography) load on first use: keeps the server's start-up fast.
        from joserfc import jws

        from .idtoken import IdTokenChecks, verify_id_token

        if not self.settings.verify_jwt:
            self.log.warning("jupyterlab_oidc: verify_jwt is off; the id_token of %s is NOT verified", env.name)
            try:
                return dict(json.loads(jws.extract_compact(id_token.encode("ascii")).payload))
            except (ValueError, TypeError) as e:
                raise InvalidIdTokenError("The id_token is not a JWT.", check="structure") from e
        checks = IdTokenChecks(
            issuer=env.issuer,
            client_id=env.client_id,
            nonce=nonce,
            leeway_seconds=self.settings.leeway_seconds,
            algorithms=tuple(self.settings.id_token_algorithms),
            expected_sub=expected_sub,
            max_age=max_age,
        )
        return await verify_id_token(id_token, env, self.discovery, checks)

    async def with_userinfo(
        self,
        env: EnvironmentConfig,
        claims: dict[str, Any],
        access_token: str,
        metadata: ProviderMetadata | None = None,
    ) -> dict[str, Any]:
        """``claims`` completed from userinfo when they carry no email (userinfo's ``sub`` must match)."""
        metadata = metadata or await self.discovery.metadata(env)
        if claims.get("email") or not metadata.userinfo_url:
            return claims
        userinfo = await self.userinfo(env, access_token, metadata)
        return merge_userinfo(claims, userinfo) if claims else dict(userinfo)

    async def userinfo(
        self, env: EnvironmentConfig, access_token: str, metadata: ProviderMetadata | None = None
    ) -> dict[str, Any]:
        """The provider's userinfo answer for ``access_token``."""
        metadata = metadata or await self.discovery.metadata(env)
        if not metadata.userinfo_url:
            raise DiscoveryFailedError(
                f"Environment {env.name!r} has no userinfo endpoint; set userinfo_url.", environment=env.name
            )
        return await self.http.get_json(
            "userinfo", metadata.userinfo_url, headers={"Authorization": f"Bearer {access_token}"}
        )

    def new_session(
        self,
        env: EnvironmentConfig,
        application: str | None,
        tokens: dict[str, Any],
        claims: dict[str, Any],
        email: str,
    ) -> Session:
        """A session from a token answer and the verified identity."""
        import time

        lifetime = token_lifetime(tokens)
        audience = claims.get("aud", [])
        return Session(
            environment=env.name,
            application=application,
            issuer=str(claims.get("iss") or env.issuer),  # exactly as the provider states it
            client_id=env.client_id,
            sub=str(claims["sub"]),
            email=email,
            access_token=tokens["access_token"],
            refresh_token=tokens.get("refresh_token"),
            id_token=tokens.get("id_token"),
            token_type="Bearer",
            scope=str(tokens.get("scope") or ""),
            expires_at=time.time() + lifetime,
            lifetime=lifetime,
            identity=identity_of(claims),
            audience=audience if isinstance(audience, list) else [audience],
        )

    # ---------------------------------------------------------------- sign-out

    async def revoke(self, env: EnvironmentConfig, metadata: ProviderMetadata, session: Session) -> None:
        """RFC 7009: hand back the refresh and access tokens; failures are logged, not raised."""
        if not metadata.revocation_url:
            return
        for token, hint in ((session.refresh_token, "refresh_token"), (session.access_token, "access_token")):
            if not token:
                continue
            try:
                await self.http.client_request(
                    "revocation", metadata.revocation_url, env, {"token": token, "token_type_hint": hint}
                )
            except OIDCError as e:
                self.log.warning("jupyterlab_oidc: revoking the %s failed (%s)", hint, e.code)

    async def sign_out(self, env: EnvironmentConfig, session: Session | None) -> str | None:
        """Revoke ``session``'s tokens; answers the provider's end-session URL, if it has one."""
        try:
            metadata = await self.discovery.metadata(env)
        except OIDCError:
            return None
        if session is not None:
            await self.revoke(env, metadata, session)
        if not metadata.end_session_url:
            return None
        query = {"client_id": env.client_id}
        if session is not None and session.email:
            query["logout_hint"] = session.email
        return f"{metadata.end_session_url}?{urlencode(query)}"
