"""``redirect_mode = local``: a callback listener on ``localhost:{redirect_port}``.

It runs only while a sign-in waits for its callback, like ``satorbis_kit.auth`` did. It
answers only requests for its own loopback host names (DNS rebinding) and exchanges
nothing itself: a callback for a waiting sign-in is sent on (303) to the Jupyter server's
``oidc/callback``, where the browser's binding cookie is checked.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from tornado import httpserver, netutil, web

from ..core.pages import PAGE_HEADERS, error_page
from ..core.signin.redirects import environment_segment
from ..errors import ConfigError, InvalidRequestError, OIDCError

if TYPE_CHECKING:
    from ..core.broker import Broker


class _LocalCallbackHandler(web.RequestHandler):
    """Checks the request, then sends the browser on to the Jupyter server's own callback.

    The browser-binding cookie lives on the Jupyter server's origin, so the check that this
    browser started the sign-in, and the exchange, happen there (one place for both).
    """

    def initialize(self, broker: Broker, port: int) -> None:
        self.broker = broker
        self.allowed_hosts = {f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"}

    def page(self, error: OIDCError) -> None:
        status, body = error_page(error)
        self.set_status(status)
        for name, value in PAGE_HEADERS.items():
            self.set_header(name, value)
        self.finish(body)

    def get(self, environment: str | None = None) -> None:
        # DNS rebinding: a page on another origin whose host name now resolves to 127.0.0.1
        # reaches us with its own Host header. Only our loopback names are ours.
        if self.request.host.lower() not in self.allowed_hosts:
            self.page(InvalidRequestError("This listener answers only on localhost; the request named another host."))
            return
        state = self.get_query_argument("state", "")
        try:
            pending = self.broker.pending_for_callback(state, environment)
        except OIDCError as e:
            self.page(e)
            return
        server = urlsplit(pending.browser_origin or pending.start_url)
        path = f"{self.broker.base_url}oidc/callback"
        if pending.redirect_environment is not None:
            path += f"/{environment_segment(pending.redirect_environment)}"
        for name, value in PAGE_HEADERS.items():
            if name != "Content-Type":
                self.set_header(name, value)
        self.redirect(urlunsplit((server.scheme, server.netloc, path, self.request.query, "")), status=303)

    def _request_summary(self) -> str:
        return f"{self.request.method} {self.request.path} ({self.request.remote_ip})"


class LocalCallbackListener:
    """Starts on the first pending local sign-in and stops when none is left."""

    def __init__(self, broker: Broker, port: int, log: logging.Logger) -> None:
        self.broker = broker
        self.port = port
        self.log = log
        self._server: httpserver.HTTPServer | None = None

    async def start(self) -> None:
        if self._server is not None:
            return
        app = web.Application(
            [
                (r"/callback", _LocalCallbackHandler, {"broker": self.broker, "port": self.port}),
                (r"/callback/([^/?#]+)", _LocalCallbackHandler, {"broker": self.broker, "port": self.port}),
            ],
            log_function=self._log_request,
        )
        try:
            sockets = netutil.bind_sockets(self.port, "localhost")
        except OSError as e:
            raise ConfigError(
                f"Cannot listen on localhost:{self.port} for the sign-in callback ({e.strerror}). "
                "Free the port or change c.OIDCLogin.redirect_port.",
            ) from None
        self._server = httpserver.HTTPServer(app)
        self._server.add_sockets(sockets)
        self.log.info("jupyterlab_oidc: waiting for the sign-in callback on localhost:%s", self.port)

    def _log_request(self, handler: web.RequestHandler) -> None:
        # The path only: the query carries the authorization code and state.
        self.log.info("jupyterlab_oidc: local callback %s %s", handler.get_status(), handler.request.path)

    async def stop(self) -> None:
        if self._server is None:
            return
        server, self._server = self._server, None
        server.stop()
        await server.close_all_connections()
