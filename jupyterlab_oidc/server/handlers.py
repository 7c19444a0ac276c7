"""REST handlers under ``{base_url}oidc/``: thin HTTP on top of the broker.

Every route is authenticated like the rest of Jupyter (token or cookie + XSRF), except
the OAuth callback, which the provider's redirect reaches without a Jupyter login and
which is protected by the single-use ``state`` and PKCE instead.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from jupyter_server.auth.decorator import allow_unauthenticated, authorized
from tornado import web

from ..core.pages import PAGE_HEADERS, error_page, render_callback_page
from ..core.signin.binding import cookie_name
from ..core.signin.par import browser_url
from ..errors import DiscoveryFailedError, InvalidRequestError, OIDCError
from .base import AUTH_RESOURCE, OIDCHandler, PageHandler, set_binding_cookie
from .base import number_field as _number
from .base import text_field as _text


class EnvironmentsHandler(OIDCHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Configured environments (no secrets)."""
        self.finish(self.broker.environments())


class JwksHandler(OIDCHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Discovery summary and the provider's public keys (for the token check view)."""
        self.finish(await self.broker.provider_keys(self.get_query_argument("environment", None)))


class LoginHandler(OIDCHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Start a sign-in: answers the authorization URL, state and expires_in.

        ``prompt`` (none, login, consent, select_account) and ``max_age`` (seconds) switch
        account or re-authenticate (OpenID Connect Core §3.1.2.1; see core/signin/reauth.py).
        """
        body = self.body()
        device = self.broker.signins.device  # flow "device" (or the environment's flow): RFC 8628, no browser here
        if device.wanted(_text(body, "environment"), _text(body, "flow")):
            self.finish(
                await device.start(
                    _text(body, "environment"), _text(body, "application"), _text(body, "login_hint") or ""
                )
            )
            return
        result = await self.broker.start_login(
            _text(body, "environment"),
            _text(body, "application"),
            _text(body, "login_hint") or "",
            self.origin(),
            prompt=_text(body, "prompt"),
            max_age=body.get("max_age"),
        )
        # The browser that asked is the owner's (Jupyter login + XSRF): bind the sign-in to it.
        secret, pending, _ = self.broker.bind_browser(result["state"], self.origin())
        set_binding_cookie(self, self.broker.base_url, pending.state, secret, pending.expires_in())
        self.finish(result)


class AwaitHandler(OIDCHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Long poll for a sign-in's result: 200 session, 202 still pending, or a typed error."""
        body = self.body()
        session = await self.broker.await_login(_text(body, "state", True) or "", _number(body, "wait_seconds", None))
        if session is None:
            self.set_status(202)
            self.finish({"status": "pending"})
        else:
            self.finish({"status": "signed_in", "session": session})


class CancelHandler(OIDCHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Cancel a pending sign-in."""
        await self.broker.cancel(_text(self.body(), "state", True) or "")
        self.finish({"status": "cancelled"})


class StatusHandler(OIDCHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Sessions and pending sign-ins; ``?after=N&timeout=S`` waits for a change (long poll)."""
        after = self.get_query_argument("after", None)
        if after is not None:
            try:
                revision, timeout = int(after), min(float(self.get_query_argument("timeout", "25")), 60.0)
                if timeout != timeout:  # NaN: the wait below would never reach its deadline
                    raise ValueError
            except ValueError:
                raise InvalidRequestError("'after' must be an integer and 'timeout' a number.") from None
            await self.broker.wait_for_change(revision, max(timeout, 0.0))
        self.finish(self.broker.status())


class TokenHandler(OIDCHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        """A valid access token (refreshed if needed); never the refresh token by default."""
        body = self.body()
        session = await self.broker.get_token(
            _text(body, "environment"), _text(body, "application"), _number(body, "min_valid", 60.0) or 0.0
        )
        self.set_header("Cache-Control", "no-store")
        self.finish(self.broker.token_reply(session))


class RefreshHandler(OIDCHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Refresh now, whatever the expiry."""
        body = self.body()
        session = self.broker.session(_text(body, "environment"), _text(body, "application"))
        session = await self.broker.refresh(session.key)
        self.finish(session.status())


class LogoutHandler(OIDCHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Sign out: revoke, forget, and answer the provider's end-session URL if any."""
        body = self.body()
        self.finish(await self.broker.logout(_text(body, "environment"), _text(body, "application")))


def _query_selector(handler: OIDCHandler) -> tuple[str | None, str | None]:
    """``?environment=&application=`` (empty means the default)."""
    environment = handler.get_query_argument("environment", None) or None
    return environment, handler.get_query_argument("application", None) or None


class UserinfoHandler(OIDCHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        """The provider's userinfo for the session (``jupyter oidc whoami``)."""
        environment, application = _query_selector(self)
        userinfo = await self.broker.userinfo(environment, application)
        self.finish({"environment": environment or self.broker.settings.default_environment, "userinfo": userinfo})


class PreflightHandler(OIDCHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Check a configured environment: discovery, issuer, endpoints, JWKS, PKCE, scopes, redirect URI."""
        environment, application = _query_selector(self)
        self.finish(await self.broker.preflight.run(environment, application, origin=self.origin()))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """The same for a configured environment, or for a draft given as ``config`` (not saved)."""
        body = self.body()
        draft = body.get("config")
        if draft is not None and not isinstance(draft, dict):
            raise InvalidRequestError("'config' must be an object with the fields of one environment.")
        report = await self.broker.preflight.run(
            _text(body, "environment"), _text(body, "application"), draft, origin=self.origin()
        )
        self.finish(report)


class RefreshTokenGrantHandler(OIDCHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Start a session from a refresh token obtained elsewhere (no re-authentication when it expires)."""
        body = self.body()
        session = await self.broker.grants.import_refresh_token(
            _text(body, "environment"),
            _text(body, "application"),
            _text(body, "refresh_token", True) or "",
            _text(body, "login_hint") or "",
        )
        self.finish(session.status())


class PasswordGrantHandler(OIDCHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Legacy resource-owner password grant (+ one-time code); only where the environment allows it."""
        body = self.body()
        session = await self.broker.grants.password_login(
            _text(body, "environment"),
            _text(body, "application"),
            _text(body, "username", True) or "",
            _text(body, "password", True) or "",
            _text(body, "totp"),
            _text(body, "login_hint"),
        )
        self.finish(session.status())


class StartHandler(PageHandler):
    """The start link of a sign-in begun without this browser (a kernel cell, ``jupyter oidc login``).

    It needs the server owner's Jupyter login (token or cookie, like any Jupyter page; without
    one, Jupyter's login page first), binds this browser to the sign-in and sends it on to the
    provider.
    """

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """303 to the provider's authorization URL, with the binding cookie set."""
        try:
            secret, pending, url = self.broker.bind_browser(self.get_query_argument("state", ""), self.origin())
            url = await browser_url(self.broker.signins, pending, self.origin())  # a fresh push with PAR
            if urlsplit(url).scheme not in ("http", "https"):
                raise DiscoveryFailedError("The provider's authorization URL is not an http(s) URL; it was not opened.")
        except OIDCError as e:
            self.page(*error_page(e))
            return
        set_binding_cookie(self, self.broker.base_url, pending.state, secret, pending.expires_in())
        for name, value in PAGE_HEADERS.items():
            if name != "Content-Type":
                self.set_header(name, value)
        self.redirect(url, status=303)


class CallbackHandler(PageHandler):
    """The provider's redirect. No Jupyter login needed: the binding cookie, ``state`` and PKCE protect it."""

    @allow_unauthenticated
    async def get(self, environment: str | None = None) -> None:
        """Finish the sign-in and show the result page."""
        params = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        state = params.get("state") or ""
        try:
            result: Any = await self.broker.handle_callback(
                params,
                binding=self.get_cookie(cookie_name(state)) if state else None,
                path_environment=environment,
                origin=self.origin(),
            )
        except OIDCError as e:
            result = e
        if not isinstance(result, OIDCError) or result.code not in (
            "browser_mismatch",
            "redirect_mismatch",
            "state_mismatch",
        ):
            self.clear_cookie(cookie_name(state), path=f"{self.broker.base_url}oidc/callback")
        self.page(*render_callback_page(result))

    def check_xsrf_cookie(self) -> None:
        """GET only; nothing to check."""
