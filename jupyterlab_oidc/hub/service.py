"""The forwarder's HTTP layer: a small tornado app behind the hub's proxy, a JupyterHub OAuth client.

Routes, under the service prefix (``JUPYTERHUB_SERVICE_PREFIX``, e.g.
``/services/oidc-callback/``):

``GET {prefix}`` and ``GET {prefix}callback``
    The provider's redirect (legacy redirect URI). ``303`` to
    ``{hub_base_url}user/{name}/[{server}/]oidc/callback?{query}``, ``name`` and the named
    ``server`` from ``state``; under ``subdomain_host`` on the user's own host.
``GET {prefix}callback/{environment}``
    The same, to ``{hub_base_url}user/{name}/oidc/callback/{environment}?{query}``.
``GET {prefix}oauth_callback``
    The end of the hub's own OAuth (JupyterHub's ``HubOAuthCallbackHandler``): sets the
    service's login cookie and sends the browser back to the callback URL it came with.
``GET {prefix}health``
    ``{"status": "ok"}``.

A callback is checked in this order: the query (``400`` page for anything that cannot be
forwarded, before any login); the browser's hub login (none: ``302`` to the hub's OAuth,
which logs the browser in if needed and comes back with the query intact); the logged-in hub
user must be the user named in the state (otherwise a ``403`` page, and the other user's
server is never contacted). Without a query (what the hub sends to check that the service is
up) a short ``200`` page.

Logs carry the path only: the query holds the authorization code and the state.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler, HubOAuthenticated, UserNotAllowed
from tornado import web

from ..core.pages import PAGE_HEADERS, plain_page
from .forward import ForwardRefused, callback_target, check_browser_user, owner_of

log = logging.getLogger("jupyterlab_oidc.hub")


class BaseHandler(web.RequestHandler):
    """No caching, no referrer (the URL holds a code), nothing executable in our pages."""

    def set_default_headers(self) -> None:
        for name, value in PAGE_HEADERS.items():
            if name != "Content-Type":  # JSON answers (health) keep theirs
                self.set_header(name, value)

    def _request_summary(self) -> str:
        """Tornado logs ``method uri (ip)``; the URI's query holds the code, so log the path."""
        return f"{self.request.method} {self.request.path} ({self.request.remote_ip})"

    def page(self, status: int, title: str, detail: str, code: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", PAGE_HEADERS["Content-Type"])
        self.finish(plain_page(title, detail, code, page_id="oidc-forward"))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.page(
            status_code,
            f"{status_code} {self._reason}",
            "The OpenID Connect callback forwarder cannot answer this.",
            "error",
        )


class ForwardHandler(HubOAuthenticated, BaseHandler):
    """The provider's redirect: forward it to the logged-in hub user's own server."""

    def initialize(self, hub_auth: HubOAuth) -> None:
        self.hub_auth = hub_auth

    async def get(self, environment: str | None = None) -> None:
        """303 to that user's ``oidc/callback[/{environment}]``, the hub's login, or a 400/403 page."""
        query = self.request.query
        if not query and environment is None:
            self.page(
                200,
                "OpenID Connect callback forwarder",
                "Sign-ins started in JupyterLab come back here "
                "and go on to your own server. There is nothing to do on this page.",
                "idle",
            )
            return
        try:
            target = callback_target(query, self.settings["hub_base_url"], environment, self.settings["user_origin"])
            owner = owner_of(query)
        except ForwardRefused as e:
            log.warning("refused a callback at %s: %s", self.request.path, e.reason)
            self.page(
                400,
                "Sign-in failed",
                f"This sign-in link cannot be used ({e.reason}). Start the sign-in again from JupyterLab.",
                "forward_refused",
            )
            return
        model = await self.hub_auth.get_user(self, sync=False)
        if not model:
            # The hub's OAuth; it comes back to this very URL (kept server-side, with the query).
            self.redirect(self.get_login_url())
            return
        try:
            self.check_hub_user(model)
        except UserNotAllowed:
            log.warning(
                "refused a callback at %s: hub %s %s may not use this service",
                self.request.path,
                model.get("kind", "user"),
                model.get("name"),
            )
            self.page(
                403,
                "Sign-in not allowed",
                "Your hub account may not use the sign-in service. Ask the hub's administrator to grant access to it.",
                "service_not_allowed",
            )
            return
        try:
            check_browser_user(owner, model.get("name", "") if model.get("kind", "user") == "user" else "")
        except ForwardRefused as e:
            log.warning(
                "refused a callback at %s: hub user %s brought a sign-in of %s",
                self.request.path,
                model.get("name"),
                owner,
            )
            self.page(
                e.status,
                "Sign-in refused",
                "This sign-in was started by another hub user, not by you. "
                "Nothing was sent to their server. If someone sent you this link, close this page; to "
                "sign in yourself, start from your own JupyterLab.",
                "other_hub_user",
            )
            return
        self.redirect(target, status=303)


class OAuthCallbackHandler(HubOAuthCallbackHandler, BaseHandler):
    """JupyterHub's end of the hub OAuth, with our headers, error pages and log summary."""

    def initialize(self, hub_auth: HubOAuth) -> None:
        self.hub_auth = hub_auth

    async def get(self) -> None:
        """JupyterHub's handler, after a check of our own that logs no ``state`` value.

        (JupyterHub's logs the state it got when it matches no cookie; whatever reaches this
        route by mistake, such as a provider's redirect, must not end up in the log.)
        """
        state = self.get_argument("state", None)
        cookie = self.get_secure_cookie(self.hub_auth.get_state_cookie_name(state)) if state else None
        if state and cookie is None and await self.hub_auth.get_user(self, sync=False):
            await super().get()  # already logged in: JupyterHub sends the browser on
            return
        if not self.get_argument("error", None) and (cookie is None or cookie.decode("ascii", "replace") != state):
            log.warning("refused a hub login at %s: no matching OAuth state cookie", self.request.path)
            self.page(
                403,
                "Hub login failed",
                "The hub login could not be completed. Start the sign-in again from JupyterLab.",
                "hub_login_failed",
            )
            return
        await super().get()


class HealthHandler(BaseHandler):
    def get(self) -> None:
        """``{"status": "ok"}``: the process is up."""
        self.finish({"status": "ok"})


def log_request(handler: web.RequestHandler) -> None:
    """Access log: method, path without the query, status and time."""
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    log.log(
        level,
        "%d %s %s %.1fms",
        status,
        handler.request.method,
        handler.request.path,
        1000.0 * handler.request.request_time(),
    )


def make_app(
    prefix: str,
    hub_base_url: str,
    hub_auth: HubOAuth,
    cookie_secret: bytes,
    user_origin: Callable[[str], str] | None = None,
) -> web.Application:
    """The forwarder app for service ``prefix`` (``/services/oidc-callback/``) on a hub at ``hub_base_url``.

    ``hub_auth`` talks to the hub (its API URL, the service's token and OAuth client);
    ``cookie_secret`` signs the service's login cookie; ``user_origin(name)``, with
    ``subdomain_host`` only, is the user's own ``scheme://host[:port]`` (``subdomain.py``).
    """
    base = re.escape(prefix.rstrip("/"))
    auth = {"hub_auth": hub_auth}
    return web.Application(
        [
            (rf"{base}/?", ForwardHandler, auth),
            (rf"{base}/callback/?", ForwardHandler, auth),
            (rf"{base}/callback/([^/]+)", ForwardHandler, auth),
            (rf"{base}/oauth_callback", OAuthCallbackHandler, auth),
            (rf"{base}/health", HealthHandler),
        ],
        hub_base_url=hub_base_url,
        user_origin=user_origin,
        cookie_secret=cookie_secret,
        log_function=log_request,
        xsrf_cookies=False,
        compress_response=False,
    )
