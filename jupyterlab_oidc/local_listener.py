"""``redirect_mode = local``: a callback listener on ``localhost:{redirect_port}``.

It runs only while a sign-in waits for its callback, like ``satorbis_kit.auth`` did.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from tornado import httpserver, netutil, web

from .errors import ConfigError, OIDCError

if TYPE_CHECKING:
    from .broker import Broker


class _LocalCallbackHandler(web.RequestHandler):
    def initialize(self, broker: Broker) -> None:
        self.broker = broker

    async def get(self) -> None:
        from .handlers import render_callback_page

        params = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        try:
            result: Any = await self.broker.handle_callback(params)
        except OIDCError as e:
            result = e
        status, page = render_callback_page(result)
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(page)


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
            [(r"/callback", _LocalCallbackHandler, {"broker": self.broker})], log_function=self._log_request
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
