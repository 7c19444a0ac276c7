"""Pending sign-ins: start (PKCE S256, state, nonce), browser binding, await, cancel, callback.

The callback is checked in a fixed order: known and waiting state, the redirect path of the
sign-in's environment (mix-up), the browser's binding cookie, the provider's error, the
RFC 9207 ``iss``; only then is the code exchanged, the id_token verified and the identity
enforced. Nothing is stored when any of these fails.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlencode

from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from ...errors import (
    BrowserMismatchError,
    ConfigError,
    InvalidIdTokenError,
    InvalidRequestError,
    LoginCancelledError,
    LoginTimeoutError,
    OIDCError,
    ProviderError,
    RedirectMismatchError,
    StateMismatchError,
)
from ..audit import Audit
from ..discovery import Discovery
from ..endpoint import TokenEndpoint
from ..identity import enforce_login_hint
from ..sessions import Session, SessionRegistry
from ..settings import Settings
from .binding import matches, new_binding
from .device import DeviceSignIns
from .outcome import audit_refused_callback, audit_result, check_error, check_iss
from .par import authorization_url
from .pending import PendingLogin, in_background
from .reauth import max_age_of, reauth_params, retire_replaced
from .redirects import redirect_uri
from .state import make_state

#: Results of finished sign-ins stay readable this long for late ``await`` calls.
RESULT_GRACE_SECONDS = 120.0


class LocalListener(Protocol):
    """``redirect_mode = local``: the callback listener on localhost (``server/local_listener.py``)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class SignIns:
    """The sign-ins started on this server, by state."""

    def __init__(
        self,
        settings: Settings,
        base_url: str,
        discovery: Discovery,
        endpoint: TokenEndpoint,
        registry: SessionRegistry,
        store_session: Callable[[Session], None],
        log: logging.Logger,
        audit: Audit | None = None,
    ) -> None:
        self.settings = settings
        self.base_url = base_url
        self.discovery = discovery
        self.endpoint = endpoint
        self.registry = registry
        self.store_session = store_session
        self.log = log
        self.pending: dict[str, PendingLogin] = {}
        self.local_listener: LocalListener | None = None
        self.device = DeviceSignIns(self)  # RFC 8628 device sign-ins (device.py), in the same pending table
        self.audit = audit or Audit(log)

    def stop(self) -> None:
        for pending in self.pending.values():
            pending.stop()

    def status(self) -> list[dict[str, Any]]:
        return [p.status() for p in self.pending.values() if p.listed()]

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
        self,
        environment: str | None,
        application: str | None,
        login_hint: str,
        origin: str,
        prompt: str | None = None,
        max_age: int | None = None,
    ) -> dict[str, Any]:
        """Build the authorization URL (PKCE S256, state, nonce, login_hint, prompt, max_age) and remember it."""
        env, reauth = self.settings.environment(environment), reauth_params(prompt, max_age)
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
            state=make_state(self.settings.hub_user, self.settings.hub_server_name),
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
            **reauth,
        }
        if pending.login_hint:
            pending.authorization_params["login_hint"] = pending.login_hint
        url = await authorization_url(self.endpoint, env, metadata, pending)  # pushed first with PAR (par.py)
        if self.settings.redirect_mode == "local" and self.local_listener:
            await self.local_listener.start()
        pending.timer = asyncio.get_running_loop().call_later(
            self.settings.callback_timeout, self._expire, pending.state
        )
        self.pending[pending.state] = pending
        self.registry.changed()
        self.log.info("jupyterlab_oidc: sign-in started for environment %s", env.name)
        self.audit.sign_in("started", env.name, pending.application, env.issuer, email=pending.login_hint)
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
            audit_result(self.settings, self.audit, pending)
            self._finish(pending)

    def _finish(self, pending: PendingLogin) -> None:
        """The result is set: forget the state later, stop the local listener when idle."""
        if pending.timer:
            pending.timer.cancel()
        if pending.result.done() and not pending.result.cancelled():
            pending.result.exception()  # marks a failure as seen, even if nobody awaits it
        asyncio.get_running_loop().call_later(RESULT_GRACE_SECONDS, self.pending.pop, pending.state, None)
        self.registry.changed()
        if self.local_listener and not any(p.accepts_callback() for p in self.pending.values()):
            in_background(self.local_listener.stop())

    async def cancel(self, state: str) -> None:
        """Cancel a pending sign-in; its ``await`` answers ``login_cancelled``."""
        pending = self._pending(state)
        if not pending.result.done():
            pending.result.set_exception(
                LoginCancelledError("The sign-in was cancelled.", environment=pending.environment)
            )
            audit_result(self.settings, self.audit, pending)
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
        try:
            pending = self.pending_for_callback(params.get("state") or "", path_environment)
        except OIDCError as e:
            audit_refused_callback(self.settings, self.audit, e, self.pending.get(params.get("state") or ""))
            raise
        if not matches(binding, pending.bindings):
            self.log.warning("jupyterlab_oidc: callback from a browser that did not start the sign-in refused")
            audit_refused_callback(self.settings, self.audit, BrowserMismatchError(""), pending)
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
                audit_result(self.settings, self.audit, pending)
            self._finish(pending)
            check = e.details.get("check")
            self.log.warning("jupyterlab_oidc: sign-in failed: %s%s", e.code, f" (check {check})" if check else "")
            raise
        except Exception as e:
            error = OIDCError(f"The sign-in failed unexpectedly ({type(e).__name__}).")
            if not pending.result.done():
                pending.result.set_exception(error)
                audit_result(self.settings, self.audit, pending)
            self._finish(pending)
            raise error from e
        if not pending.result.done():
            pending.result.set_result(session)
            audit_result(self.settings, self.audit, pending)
        self._finish(pending)
        return session

    async def _complete_login(self, pending: PendingLogin, params: dict[str, str]) -> Session:
        env = self.settings.environment(pending.environment)
        metadata = await self.discovery.metadata(env)
        check_error(params)
        check_iss(params, env, metadata)
        code = params.get("code")
        if not code:
            raise ProviderError("The provider's answer has no authorization code.", provider_error="missing_code")
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending.redirect_uri,
            "code_verifier": pending.code_verifier,
        }
        tokens = await self.endpoint.token_request(env, data, "code exchange", metadata)
        if not tokens.get("id_token"):
            raise InvalidIdTokenError(
                "The provider returned no id_token; is the 'openid' scope requested?", check="structure"
            )
        claims = await self.endpoint.id_token_claims(
            env, tokens["id_token"], nonce=pending.nonce, max_age=max_age_of(pending.authorization_params)
        )
        claims = await self.endpoint.with_userinfo(env, claims, tokens["access_token"], metadata)
        email = enforce_login_hint(claims, pending.login_hint, self.settings.require_verified_email)
        session = self.endpoint.new_session(env, pending.application, tokens, claims, email)
        if pending.result.done():
            # Cancelled or timed out while we talked to the provider: store nothing, and hand
            # the tokens back so they do not outlive the sign-in that was given up.
            in_background(self.endpoint.revoke(env, metadata, session))
            error = None if pending.result.cancelled() else pending.result.exception()
            raise error if isinstance(error, OIDCError) else LoginCancelledError("The sign-in was cancelled.")
        replaced = self.registry.get(session.key)  # replaced only now: every check has passed
        self.store_session(session)
        retire_replaced(replaced, session, lambda old: self.endpoint.revoke(env, metadata, old), self.log)
        self.log.info("jupyterlab_oidc: signed in to %s", session.key)
        return session
