"""The broker: owns sign-ins, sessions and refresh tokens for one Jupyter server.

No tornado in here: handlers call these coroutines and turn ``OIDCError`` into HTTP.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from .config import EnvironmentConfig, OIDCLogin
from .discovery import Discovery, ProviderMetadata
from .errors import (
    BrowserMismatchError,
    ConfigError,
    DiscoveryFailedError,
    InvalidIdTokenError,
    InvalidRequestError,
    LoginCancelledError,
    LoginTimeoutError,
    NotAuthenticatedError,
    OIDCError,
    ProviderError,
    ProviderUnavailableError,
    RedirectMismatchError,
    RefreshFailedError,
    SessionExpiredError,
    StateMismatchError,
    StoreError,
)
from .http import ProviderHTTP
from .binding import matches, new_binding
from .identity import enforce_login_hint, identity_of, merge_userinfo
from .pending import PendingLogin
from .session import Session, session_key
from .redirects import redirect_uri
from .state import make_state
from .store import FileStore, MemoryStore, SessionStore

#: Results of finished sign-ins stay readable this long for late ``await`` calls.
RESULT_GRACE_SECONDS = 120.0
#: Background retries back off up to this (provider down).
MAX_BACKOFF_SECONDS = 30.0
#: After a failed refresh, a request for an expired token asks the provider again at most this often.
MIN_RETRY_SECONDS = 1.0
#: Without ``expires_in`` in the token response, assume this lifetime.
DEFAULT_LIFETIME_SECONDS = 300.0

LocalListenerFactory = Callable[["Broker"], Awaitable[None]]


class Broker:
    """Sign-in flow, id_token checks, identity enforcement, single-flight refresh, store."""

    def __init__(
        self,
        settings: OIDCLogin,
        base_url: str = "/",
        log: logging.Logger | None = None,
        store: SessionStore | None = None,
    ) -> None:
        self.settings = settings
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.log = log or logging.getLogger("jupyterlab_oidc")
        self.http = ProviderHTTP(settings.http_timeout_seconds, self.log)
        self.discovery = Discovery(self.http, settings.jwks_cache_seconds)
        self.store = store or (FileStore(settings.store_path) if settings.store == "file" else MemoryStore())
        self.sessions: dict[str, Session] = {}
        self.pending: dict[str, PendingLogin] = {}
        self.store_error: StoreError | None = None
        self.revision = 0
        self.local_listener_start: LocalListenerFactory | None = None
        self.local_listener_stop: Callable[[], Awaitable[None]] | None = None
        self._changed = asyncio.Event()
        self._refreshes: dict[str, asyncio.Task[Session]] = {}
        self._keepers: dict[str, asyncio.Task[None]] = {}
        #: Per session: failed refreshes in a row, when the last one failed, and its error.
        self._failures: dict[str, tuple[int, float, OIDCError]] = {}

    # ---------------------------------------------------------------- life cycle

    def start(self) -> None:
        """Restore stored sessions and keep them fresh.

        The server calls this before its event loop runs (``initialize_settings``): the
        refresh timers of restored sessions then start with the loop.
        """
        try:
            self.sessions = self.store.load()
        except StoreError as e:
            self.store_error = e
            self.log.error("jupyterlab_oidc: %s", e.message)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.get_event_loop().call_soon(self._keep_all_fresh)  # the loop jupyter_server will run
        else:
            self._keep_all_fresh()

    def _keep_all_fresh(self) -> None:
        for key in self.sessions:
            self._keep_fresh(key)

    async def stop(self) -> None:
        """Cancel timers and background refreshes, close connections."""
        for task in [*self._keepers.values(), *self._refreshes.values()]:
            task.cancel()
        for pending in self.pending.values():
            if pending.timer:
                pending.timer.cancel()
        if self.local_listener_stop:
            await self.local_listener_stop()
        await self.http.aclose()

    # ---------------------------------------------------------------- queries

    def environments(self) -> dict[str, Any]:
        """Configured environments, without secrets."""
        return {
            "default_environment": self.settings.default_environment,
            "redirect_mode": self.settings.redirect_mode,
            "callback_timeout": self.settings.callback_timeout,
            "environments": [env.public_info() for env in self.settings.all_environments()],
        }

    async def provider_keys(self, environment: str | None) -> dict[str, Any]:
        """Discovery summary and JWKS (public keys), so the browser can check an id_token itself."""
        env = self.settings.environment(environment)
        metadata = await self.discovery.metadata(env)
        keys = await self.discovery.key_set(env)
        return {
            "environment": env.name,
            "issuer": env.issuer,
            "client_id": env.client_id,
            "discovery_mode": env.discovery_mode,
            "discovery": {
                "issuer": metadata.issuer,
                "id_token_signing_alg_values_supported": metadata.id_token_algorithms,
                "authorization_endpoint": metadata.authorization_url,
                "token_endpoint": metadata.token_url,
                "userinfo_endpoint": metadata.userinfo_url,
                "jwks_uri": metadata.jwks_uri,
                "revocation_endpoint": metadata.revocation_url,
                "end_session_endpoint": metadata.end_session_url,
                "code_challenge_methods_supported": metadata.code_challenge_methods,
            },
            "jwks": keys.as_dict(private=False),
        }

    def status(self) -> dict[str, Any]:
        """Signed-in sessions and pending sign-ins; never a token."""
        return {
            "revision": self.revision,
            "default_environment": self.settings.default_environment,
            "sessions": [s.status() for s in self.sessions.values()],
            "pending": [p.status() for p in self.pending.values() if p.accepts_callback()],
            "store_error": self.store_error.to_json() if self.store_error else None,
        }

    async def wait_for_change(self, after_revision: int, timeout: float) -> None:
        """Return once ``revision`` > ``after_revision`` or ``timeout`` passed (long poll)."""
        deadline = time.monotonic() + timeout
        while self.revision <= after_revision:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(asyncio.shield(self._changed.wait()), remaining)
            except asyncio.TimeoutError:
                return

    def _bump(self) -> None:
        self.revision += 1
        self._changed.set()
        self._changed = asyncio.Event()

    # ---------------------------------------------------------------- sign-in

    def redirect_uri(self, origin: str, environment: str | None = None) -> str:
        """Where the provider sends the browser back (see ``OIDCLogin.redirect_mode``)."""
        return self._redirect(origin, environment or self.settings.environment(None).name)[0]

    def _redirect(self, origin: str, environment: str) -> tuple[str, str | None]:
        return redirect_uri(
            environment=environment,
            environments=len(self.settings.all_environments()),
            configured=self.settings.redirect_uri,
            mode=self.settings.redirect_mode,
            port=self.settings.redirect_port,
            public=self.settings.public_url or origin,
            base_url=self.base_url,
        )

    async def start_login(
        self, environment: str | None, application: str | None, login_hint: str, origin: str
    ) -> dict[str, Any]:
        """Build the authorization URL (PKCE S256, state, nonce, login_hint) and remember it."""
        env = self.settings.environment(environment)
        scopes = env.scopes_for(application)
        metadata = await self.discovery.metadata(env)
        if metadata.code_challenge_methods and "S256" not in metadata.code_challenge_methods:
            raise ConfigError(
                f"Environment {env.name!r}: the provider does not support PKCE S256 "
                f"(it lists {', '.join(metadata.code_challenge_methods)}).",
                environment=env.name,
            )
        verifier = generate_token(64)
        redirect, redirect_environment = self._redirect(origin, env.name)
        pending = PendingLogin(
            state=make_state(self.settings.hub_user),
            environment=env.name,
            application=application or None,
            login_hint=login_hint.strip(),
            code_verifier=verifier,
            nonce=generate_token(32),
            redirect_uri=redirect,
            redirect_environment=redirect_environment,
            expires_at=time.time() + self.settings.callback_timeout,
        )
        start_path = f"{self.base_url}oidc/start?" + urlencode({"state": pending.state})
        pending.start_url = f"{(self.settings.public_url or origin).rstrip('/')}{start_path}"
        pending.redirect_uris.add(redirect)
        pending.browser_origin = origin
        pending.authorization_endpoint = metadata.authorization_url
        pending.authorization_params = {
            "response_type": "code",
            "client_id": env.client_id,
            "scope": " ".join(scopes),
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        if pending.login_hint:
            pending.authorization_params["login_hint"] = pending.login_hint
        url = pending.authorization_url()
        if self.settings.redirect_mode == "local" and self.local_listener_start:
            await self.local_listener_start(self)
        pending.timer = asyncio.get_running_loop().call_later(
            self.settings.callback_timeout, self._expire, pending.state
        )
        self.pending[pending.state] = pending
        self._bump()
        self.log.info("jupyterlab_oidc: sign-in started for environment %s", env.name)
        return {
            "url": url,
            "state": pending.state,
            "expires_in": self.settings.callback_timeout,
            "start_url": pending.start_url,
            "start_path": start_path,
        }

    def bind_browser(self, state: str, origin: str) -> tuple[str, PendingLogin, str]:
        """Bind the browser at ``origin`` that asks (``POST login``, the start link) to ``state``.

        Callers make sure that browser is the owner's (a Jupyter login). Answers the secret for
        its cookie (the sign-in keeps only the digest), the sign-in, and the provider URL for
        that browser: its redirect URI comes back to the origin the browser uses, where its
        cookie lives (a start link printed by a kernel names 127.0.0.1; the browser may use
        localhost or the hub's public host).
        """
        pending = self._pending(state)
        if not pending.accepts_callback():
            raise StateMismatchError("This sign-in has already finished or expired. Start the sign-in again.")
        secret, digest = new_binding()
        pending.bindings.add(digest)
        redirect = self._redirect(origin, pending.environment)[0]
        pending.redirect_uris.add(redirect)
        pending.browser_origin = origin
        return secret, pending, pending.authorization_url(redirect)

    def _expire(self, state: str) -> None:
        pending = self.pending.get(state)
        if pending and not pending.result.done():
            pending.result.set_exception(
                LoginTimeoutError(
                    f"No answer from the provider within {self.settings.callback_timeout:g} s; "
                    "the sign-in was abandoned. Start it again.",
                    environment=pending.environment,
                )
            )
            self._finish(pending)

    def _finish(self, pending: PendingLogin) -> None:
        """The result is set: forget the state later, stop the local listener when idle."""
        if pending.timer:
            pending.timer.cancel()
        if pending.result.done() and not pending.result.cancelled():
            pending.result.exception()  # marks a failure as seen, even if nobody awaits it
        asyncio.get_running_loop().call_later(RESULT_GRACE_SECONDS, self.pending.pop, pending.state, None)
        self._bump()
        if self.local_listener_stop and not any(p.accepts_callback() for p in self.pending.values()):
            asyncio.ensure_future(self.local_listener_stop())

    async def cancel(self, state: str) -> None:
        """Cancel a pending sign-in; its ``await`` answers ``login_cancelled``."""
        pending = self._pending(state)
        if not pending.result.done():
            pending.result.set_exception(LoginCancelledError("The sign-in was cancelled.", environment=pending.environment))
            self._finish(pending)

    def _pending(self, state: Any) -> PendingLogin:
        if not isinstance(state, str) or not state:
            raise InvalidRequestError("'state' is required.")
        pending = self.pending.get(state)
        if pending is None:
            raise StateMismatchError(
                "This sign-in is unknown or has expired. Start the sign-in again.",
            )
        return pending

    async def await_login(self, state: str, wait_seconds: float | None = None) -> dict[str, Any] | None:
        """The result of the sign-in ``state``: session status, a typed error, or None if still pending."""
        pending = self._pending(state)
        timeout = pending.expires_in() + 1 if wait_seconds is None else wait_seconds
        # asyncio.wait, not wait_for: LoginTimeoutError is a TimeoutError too.
        done, _ = await asyncio.wait({pending.result}, timeout=max(timeout, 0))
        if not done:
            return None
        session: Session = pending.result.result()
        return session.status()

    def pending_for_callback(self, state: str, path_environment: str | None) -> PendingLogin:
        """The sign-in a callback with ``state`` at ``path_environment``'s path is for.

        Refuses an unknown, used or expired state, and a callback at another environment's
        redirect path (mix-up). Consumes nothing: a refused callback leaves the sign-in waiting.
        """
        pending = self.pending.get(state) if state else None
        if pending is None or not pending.accepts_callback():
            self.log.warning("jupyterlab_oidc: callback with unknown, used or expired state refused")
            raise StateMismatchError(
                "This sign-in link is unknown, was already used, or has expired. Nothing was "
                "stored. Start the sign-in again from Jupyter."
            )
        if path_environment != pending.redirect_environment:
            self.log.warning("jupyterlab_oidc: callback for %s arrived at another redirect path", pending.environment)
            raise RedirectMismatchError(
                f"This answer arrived at the redirect URI of {path_environment or 'the shared path'!r}, but the "
                f"sign-in was for {pending.environment!r} (a provider may be trying a mix-up). Nothing was "
                "stored; the sign-in still waits for its own provider's answer.",
                environment=pending.environment,
            )
        return pending

    async def handle_callback(
        self,
        params: dict[str, str],
        binding: str | None = None,
        path_environment: str | None = None,
        origin: str | None = None,
    ) -> Session:
        """The provider's redirect: named checks, then exchange, verification and identity.

        ``binding`` is the secret of the binding cookie the browser sent (see ``binding.py``):
        without the one this sign-in handed out, nothing is exchanged and the sign-in waits on.
        """
        pending = self.pending_for_callback(params.get("state") or "", path_environment)
        if not matches(binding, pending.bindings):
            self.log.warning("jupyterlab_oidc: callback from a browser that did not start the sign-in refused")
            raise BrowserMismatchError(
                "This sign-in was started in another browser, or by someone else, so it cannot be "
                "completed here. Nothing was sent to the provider and nothing was stored. If you "
                "started it, open the sign-in link from the same browser (from Jupyter's panel, or "
                "the link your notebook cell or terminal printed).",
                environment=pending.environment,
            )
        pending.callback_received = True
        # The code was issued for the redirect URI of the origin it came back to.
        redirect = self._redirect(origin, pending.environment)[0] if origin else pending.redirect_uri
        if redirect in pending.redirect_uris:
            pending.redirect_uri = redirect
        try:
            session = await self._complete_login(pending, params)
        except OIDCError as e:
            if not pending.result.done():
                pending.result.set_exception(e)
            self._finish(pending)
            check = e.details.get("check")
            self.log.warning("jupyterlab_oidc: sign-in failed: %s%s", e.code, f" (check {check})" if check else "")
            raise
        except Exception as e:
            error = OIDCError(f"The sign-in failed unexpectedly ({type(e).__name__}).")
            if not pending.result.done():
                pending.result.set_exception(error)
            self._finish(pending)
            raise error from e
        if not pending.result.done():
            pending.result.set_result(session)
        self._finish(pending)
        return session

    async def _complete_login(self, pending: PendingLogin, params: dict[str, str]) -> Session:
        env = self.settings.environment(pending.environment)
        metadata = await self.discovery.metadata(env)
        self._check_error(params)
        self._check_iss(params, env, metadata)
        code = params.get("code")
        if not code:
            raise ProviderError("The provider's answer has no authorization code.", provider_error="missing_code")
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending.redirect_uri,
            "code_verifier": pending.code_verifier,
        }
        tokens = await self._token_request(env, metadata, data, "code exchange")
        if not tokens.get("id_token"):
            raise InvalidIdTokenError(
                "The provider returned no id_token; is the 'openid' scope requested?", check="structure"
            )
        claims = await self._id_token_claims(env, tokens["id_token"], nonce=pending.nonce)
        if not claims.get("email") and metadata.userinfo_url:
            userinfo = await self.http.get_json(
                "userinfo", metadata.userinfo_url, headers={"Authorization": f"Bearer {tokens['access_token']}"}
            )
            claims = merge_userinfo(claims, userinfo)
        email = enforce_login_hint(claims, pending.login_hint, self.settings.require_verified_email)
        session = self._new_session(env, pending.application, tokens, claims, email)
        if pending.result.done():
            # Cancelled or timed out while we talked to the provider: store nothing, and hand
            # the tokens back so they do not outlive the sign-in that was given up.
            asyncio.ensure_future(self._revoke(env, metadata, session))
            error = None if pending.result.cancelled() else pending.result.exception()
            raise error if isinstance(error, OIDCError) else LoginCancelledError("The sign-in was cancelled.")
        await self._store_session(session)
        self.log.info("jupyterlab_oidc: signed in to %s", session.key)
        return session

    @staticmethod
    def _check_error(params: dict[str, str]) -> None:
        if "error" in params:
            description = params.get("error_description")
            raise ProviderError(
                f"The provider refused the sign-in: {params['error']}" + (f" ({description})" if description else ""),
                provider_error=params["error"],
            )

    @staticmethod
    def _check_iss(params: dict[str, str], env: EnvironmentConfig, metadata: ProviderMetadata) -> None:
        """RFC 9207: the authorization response must come from the issuer we sent the user to."""
        iss = params.get("iss")
        if iss is None and metadata.iss_parameter_supported:
            iss = ""
        # Exactly the issuer the discovery document names (may end in "/"), not normalised.
        if iss is not None and env.issuer and iss != metadata.issuer:
            raise ProviderError(
                f"The sign-in answer came from issuer {iss!r}, not {metadata.issuer!r} (RFC 9207 mix-up "
                "defence). Nothing was stored.",
                provider_error="issuer_mismatch",
            )

    async def _token_request(
        self, env: EnvironmentConfig, metadata: ProviderMetadata, data: dict[str, str], label: str
    ) -> dict[str, Any]:
        auth = None
        if env.client_secret:
            auth = (env.client_id, env.client_secret)
        else:
            data = {**data, "client_id": env.client_id}
        tokens = await self.http.post_form(label, metadata.token_url, data, auth=auth)
        if not tokens.get("access_token"):
            raise ProviderError(f"The provider's {label} answer has no access_token.", provider_error="missing_token")
        if str(tokens.get("token_type", "")).lower() != "bearer":
            raise ProviderError(
                f"The provider's {label} answer has token_type {tokens.get('token_type')!r}, not Bearer.",
                provider_error="invalid_token_type",
            )
        return tokens

    async def _id_token_claims(
        self, env: EnvironmentConfig, id_token: str, nonce: str | None, expected_sub: str | None = None
    ) -> dict[str, Any]:
        # joserfc (and cryptography) load on first use: keeps the server's start-up fast.
        from joserfc import jws

        from .verify import IdTokenChecks, verify_id_token

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
        )
        return await verify_id_token(id_token, env, self.discovery, checks)

    def _new_session(
        self,
        env: EnvironmentConfig,
        application: str | None,
        tokens: dict[str, Any],
        claims: dict[str, Any],
        email: str,
    ) -> Session:
        lifetime = _lifetime(tokens)
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

    async def _store_session(self, session: Session) -> None:
        self.sessions[session.key] = session
        self._failures.pop(session.key, None)
        self._save()
        self._keep_fresh(session.key)
        self._bump()

    def _save(self) -> None:
        try:
            self.store.save(self.sessions)
        except StoreError as e:  # e.g. the directory became writable by others
            self.store_error = e
            self.log.error("jupyterlab_oidc: %s", e.message)
        except OSError as e:
            self.store_error = StoreError(f"Could not write the token store: {e.strerror}.")
            self.log.error("jupyterlab_oidc: %s", self.store_error.message)

    # ---------------------------------------------------------------- tokens

    def session(self, environment: str | None, application: str | None) -> Session:
        """The session for (environment, application), or ``NotAuthenticatedError``."""
        env = self.settings.environment(environment)
        env.scopes_for(application)  # an unknown application is unknown_environment, naming the known ones
        session = self.sessions.get(session_key(env.name, application))
        if session is None:
            target = f"{env.name!r} for application {application!r}" if application else repr(env.name)
            args = f"environment={env.name!r}" + (f", application={application!r}" if application else "")
            raise NotAuthenticatedError(
                f"Not signed in to {target}. Sign in from the OpenID Connect panel in the left sidebar, "
                f"or run OIDCAuth({args}).start_login('you@example.com') in a cell.",
                environment=env.name,
                application=application,
            )
        return session

    def token_reply(self, session: Session, for_kernel: bool = False) -> dict[str, Any]:
        """What ``POST token`` answers: tokens, identity, and ``lifetime``/``refresh_margin`` so
        clients cap ``min_valid`` as we do. The refresh token only on the kernel routes, and only
        when the admin allows it (``kernel_refresh_token``): never to the browser."""
        return {
            **session.token_response(for_kernel and self.settings.kernel_refresh_token),
            "lifetime": session.lifetime,
            "refresh_margin": self.margin(session),
        }

    def margin(self, session: Session) -> float:
        """How early to refresh: ``refresh_margin``, at most half the token's lifetime."""
        lifetime = session.lifetime or DEFAULT_LIFETIME_SECONDS
        return min(self.settings.refresh_margin, lifetime / 2)

    async def get_token(self, environment: str | None, application: str | None, min_valid: float) -> Session:
        """A session whose access token is valid for ``min_valid`` s (capped at the refresh margin)."""
        session = self.session(environment, application)
        wanted = min(max(min_valid, 0.0), self.margin(session))
        if session.expires_in() >= wanted:
            return session
        failure = self._failures.get(session.key)
        if failure is not None and self._retry_in(session.key, expired=session.expires_in() <= 0) > 0:
            # The provider failed a moment ago: don't ask it again on every request.
            if session.expires_in() > 0:
                return session
            raise type(failure[2])(failure[2].message, **failure[2].details)
        try:
            return await self.refresh(session.key)
        except (ProviderUnavailableError, RefreshFailedError):
            current = self.sessions.get(session.key)
            if current is not None and current.expires_in() > 0:
                return current
            raise

    async def refresh(self, key: str) -> Session:
        """Refresh now; concurrent callers share one request to the provider (single flight)."""
        if key not in self.sessions:
            raise NotAuthenticatedError(f"Not signed in to {key!r}.")
        task = self._refreshes.get(key)
        if task is None:
            task = asyncio.ensure_future(self._refresh_once(key))
            self._refreshes[key] = task
            task.add_done_callback(lambda t: self._refreshes.pop(key, None) if self._refreshes.get(key) is t else None)
            task.add_done_callback(lambda t: self._note_outcome(key, t))
        return await asyncio.shield(task)

    def _note_outcome(self, key: str, task: asyncio.Task[Session]) -> None:
        """Count transient failures in a row, so retries back off; a success or an end resets."""
        if task.cancelled():
            return
        error = task.exception()
        if isinstance(error, OIDCError) and not isinstance(error, (SessionExpiredError, NotAuthenticatedError)):
            count = self._failures[key][0] + 1 if key in self._failures else 1
            self._failures[key] = (count, time.monotonic(), error)
        else:
            self._failures.pop(key, None)

    def _retry_in(self, key: str, expired: bool = False) -> float:
        """Seconds before the provider may be asked again for ``key`` (back-off after failures).

        While the access token is valid: 1, 2, 4 ... up to ``MAX_BACKOFF_SECONDS`` after each
        failure in a row. Once it has expired, someone is waiting for a token: at most one
        attempt per ``MIN_RETRY_SECONDS``, so the session recovers as soon as the provider does.
        """
        failure = self._failures.get(key)
        if failure is None:
            return 0.0
        count, failed_at, _ = failure
        wait = MIN_RETRY_SECONDS if expired else min(2.0 ** (count - 1), MAX_BACKOFF_SECONDS)
        return failed_at + wait - time.monotonic()

    async def _refresh_once(self, key: str) -> Session:
        session = self.sessions[key]
        if not session.refresh_token:
            if session.expires_in() > 0:
                return session
            await self._end_session(key)
            raise SessionExpiredError(
                f"The session for {key!r} has expired and has no refresh token (request the "
                "offline_access scope). Sign in again.",
                environment=session.environment,
            )
        env = self.settings.environment(session.environment)
        metadata = await self.discovery.metadata(env)
        data = {"grant_type": "refresh_token", "refresh_token": session.refresh_token}
        try:
            tokens = await self._token_request(env, metadata, data, "refresh")
        except ProviderError as e:
            if e.details.get("provider_error") in ("invalid_grant", "invalid_token"):
                await self._end_session(key)
                raise SessionExpiredError(
                    f"The provider ended the session for {key!r} (it no longer accepts the refresh "
                    "token). Sign in again.",
                    environment=session.environment,
                ) from None
            raise RefreshFailedError(f"Refreshing {key!r} failed: {e.message}", environment=session.environment) from None
        if self.sessions.get(key) is not session:
            raise NotAuthenticatedError(f"Signed out of {key!r} while refreshing.")
        if tokens.get("id_token"):
            try:
                await self._id_token_claims(env, tokens["id_token"], nonce=None, expected_sub=session.sub)
            except InvalidIdTokenError as e:
                await self._end_session(key)
                raise SessionExpiredError(
                    f"The provider's refreshed id_token failed the {e.details.get('check')} check; "
                    f"the session for {key!r} was ended. Sign in again.",
                    environment=session.environment,
                ) from None
        lifetime = _lifetime(tokens)
        session.access_token = tokens["access_token"]
        session.refresh_token = tokens.get("refresh_token") or session.refresh_token
        session.id_token = tokens.get("id_token") or session.id_token
        session.scope = str(tokens.get("scope") or session.scope)
        session.expires_at = time.time() + lifetime
        session.lifetime = lifetime
        session.refreshed_at = time.time()
        # The rotated refresh token is saved before anyone uses the new access token.
        self._save()
        self._keep_fresh(key)
        self._bump()
        return session

    def _keep_fresh(self, key: str) -> None:
        current = asyncio.current_task()
        old = self._keepers.get(key)
        if old is not None and old is not current:
            old.cancel()
        self._keepers[key] = asyncio.ensure_future(self._keeper(key))

    async def _keeper(self, key: str) -> None:
        """Background refresh before expiry; transient failures back off while the token lasts."""
        while (session := self.sessions.get(key)) is not None:
            delay = session.expires_in() - self.margin(session)
            if key in self._failures:
                delay = self._retry_in(key)
            if delay > 0:
                await asyncio.sleep(delay)
                continue  # look again: a request may have refreshed, or failed, meanwhile
            try:
                await self.refresh(key)
                return  # _refresh_once started a new keeper for the new expiry
            except (SessionExpiredError, NotAuthenticatedError):
                return
            except OIDCError as e:
                self.log.warning("jupyterlab_oidc: background refresh of %s failed (%s); retrying", key, e.code)

    async def _end_session(self, key: str) -> None:
        session = self.sessions.pop(key, None)
        self._failures.pop(key, None)
        keeper = self._keepers.pop(key, None)
        if keeper is not None and keeper is not asyncio.current_task():
            keeper.cancel()
        if session is not None:
            self._save()
            self._bump()
            self.log.info("jupyterlab_oidc: session %s ended", key)

    async def logout(self, environment: str | None, application: str | None) -> dict[str, Any]:
        """Revoke the refresh token (RFC 7009), forget the session, offer the end-session URL."""
        env = self.settings.environment(environment)
        key = session_key(env.name, application)
        session = self.sessions.get(key)
        await self._end_session(key)
        end_session_url = None
        try:
            metadata = await self.discovery.metadata(env)
        except OIDCError:
            metadata = None
        if metadata is not None and session is not None:
            await self._revoke(env, metadata, session)
        if metadata is not None and metadata.end_session_url:
            query = {"client_id": env.client_id}
            if session is not None and session.email:
                query["logout_hint"] = session.email
            end_session_url = f"{metadata.end_session_url}?{urlencode(query)}"
        return {"signed_out": session is not None, "end_session_url": end_session_url}

    async def _revoke(self, env: EnvironmentConfig, metadata: ProviderMetadata, session: Session) -> None:
        if not metadata.revocation_url:
            return
        for token, hint in ((session.refresh_token, "refresh_token"), (session.access_token, "access_token")):
            if not token:
                continue
            data = {"token": token, "token_type_hint": hint}
            auth = (env.client_id, env.client_secret) if env.client_secret else None
            if auth is None:
                data["client_id"] = env.client_id
            try:
                await self.http.request("revocation", "POST", metadata.revocation_url, data=data, auth=auth)
            except OIDCError as e:
                self.log.warning("jupyterlab_oidc: revoking the %s failed (%s)", hint, e.code)

    # ---------------------------------------------------------------- other grants (grants.py), whoami

    async def request_tokens(self, env: EnvironmentConfig, data: dict[str, str], label: str) -> dict[str, Any]:
        """A token request of another grant type (refresh-token import, password); see ``grants.py``."""
        return await self._token_request(env, await self.discovery.metadata(env), data, label)

    async def adopt_tokens(
        self, env: EnvironmentConfig, application: str | None, tokens: dict[str, Any], login_hint: str = ""
    ) -> Session:
        """Start a session from a token answer that did not come from a sign-in here.

        The checks of a sign-in apply, except the nonce (these grants have none): the id_token
        is verified, the identity comes from it or from userinfo (whose ``sub`` must match),
        ``login_hint`` is enforced when given. Nothing is stored when a check fails.
        """
        metadata = await self.discovery.metadata(env)
        claims: dict[str, Any] = {}
        if tokens.get("id_token"):
            claims = await self._id_token_claims(env, tokens["id_token"], nonce=None)
        if not claims.get("email") and metadata.userinfo_url:
            userinfo = await self.http.get_json(
                "userinfo", metadata.userinfo_url, headers={"Authorization": f"Bearer {tokens['access_token']}"}
            )
            claims = merge_userinfo(claims, userinfo) if claims else dict(userinfo)
        if not claims.get("sub"):
            raise InvalidIdTokenError(
                "The provider returned no id_token and offers no userinfo, so whose session this is "
                "cannot be known. Request the 'openid' scope. Nothing was stored.",
                check="structure",
            )
        email = enforce_login_hint(claims, login_hint, self.settings.require_verified_email)
        session = self._new_session(env, application, tokens, claims, email)
        await self._store_session(session)
        return session

    async def userinfo(self, environment: str | None, application: str | None) -> dict[str, Any]:
        """The provider's userinfo answer for the session, asked with a fresh access token."""
        session = await self.get_token(environment, application, 10.0)
        env = self.settings.environment(session.environment)
        metadata = await self.discovery.metadata(env)
        if not metadata.userinfo_url:
            raise DiscoveryFailedError(
                f"Environment {env.name!r} has no userinfo endpoint; set userinfo_url.", environment=env.name
            )
        return await self.http.get_json(
            "userinfo", metadata.userinfo_url, headers={"Authorization": f"Bearer {session.access_token}"}
        )


def _lifetime(tokens: dict[str, Any]) -> float:
    try:
        lifetime = float(tokens.get("expires_in") or DEFAULT_LIFETIME_SECONDS)
    except (TypeError, ValueError):
        lifetime = DEFAULT_LIFETIME_SECONDS
    return max(lifetime, 1.0)
