"""The forwarder's HTTP layer: a tiny, stateless tornado app behind the hub's proxy.

Routes, under the service prefix (``JUPYTERHUB_SERVICE_PREFIX``, e.g.
``/services/oidc-callback/``):

``GET {prefix}`` and ``GET {prefix}callback``
    The provider's redirect. ``303`` to ``{hub_base_url}user/{name}/oidc/callback?{query}``
    (a relative path on the hub; the user comes from ``state``), or a ``400`` page. Without
    a query (what the hub sends to check that the service is up) a short ``200`` page.
``GET {prefix}health``
    ``{"status": "ok"}``.

No cookies, no sessions, no hub API calls. Logs carry the path only: the query holds the
authorization code and the state.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from tornado import web

from .forward import ForwardRefused, callback_target

log = logging.getLogger("jupyterlab_oidc.hub")

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;margin:4rem auto;max-width:36rem;padding:0 1rem;
color:#1f1f1f;background:#fff}}@media (prefers-color-scheme:dark){{body{{color:#e6e6e6;background:#111}}}}
h1{{font-size:1.4rem}}</style></head>
<body><main><h1 id="oidc-forward" data-status="{status}">{title}</h1><p>{detail}</p></main></body></html>
"""


class BaseHandler(web.RequestHandler):
    """No caching, no referrer (the URL holds a code), nothing executable in our pages."""

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")

    def _request_summary(self) -> str:
        """Tornado logs ``method uri (ip)``; the URI's query holds the code, so log the path."""
        return f"{self.request.method} {self.request.path} ({self.request.remote_ip})"

    def page(self, status: int, title: str, detail: str, code: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(PAGE.format(title=html.escape(title), detail=html.escape(detail), status=html.escape(code)))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.page(status_code, f"{status_code} {self._reason}", "The OpenID Connect callback forwarder cannot answer this.", "error")


class ForwardHandler(BaseHandler):
    """The provider's redirect: forward it to the server of the user named in ``state``."""

    def get(self) -> None:
        """303 to that user's ``oidc/callback`` on this hub, or a 400 page."""
        if not self.request.query:
            self.page(200, "OpenID Connect callback forwarder", "Sign-ins started in JupyterLab come back here "
                      "and go on to your own server. There is nothing to do on this page.", "idle")
            return
        try:
            target = callback_target(self.request.query, self.settings["hub_base_url"])
        except ForwardRefused as e:
            log.warning("refused a callback at %s: %s", self.request.path, e.reason)
            self.page(400, "Sign-in failed", f"This sign-in link cannot be used ({e.reason}). Start the "
                      "sign-in again from JupyterLab.", "forward_refused")
            return
        self.redirect(target, status=303)


class HealthHandler(BaseHandler):
    def get(self) -> None:
        """``{"status": "ok"}``: the process is up (it depends on nothing else)."""
        self.finish({"status": "ok"})


def log_request(handler: web.RequestHandler) -> None:
    """Access log: method, path without the query, status and time."""
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    log.log(level, "%d %s %s %.1fms", status, handler.request.method, handler.request.path,
            1000.0 * handler.request.request_time())


def make_app(prefix: str, hub_base_url: str) -> web.Application:
    """The forwarder app for service ``prefix`` (``/services/oidc-callback/``) on a hub at ``hub_base_url``."""
    base = re.escape(prefix.rstrip("/"))
    return web.Application(
        [
            (rf"{base}/?", ForwardHandler),
            (rf"{base}/callback/?", ForwardHandler),
            (rf"{base}/health", HealthHandler),
        ],
        hub_base_url=hub_base_url,
        log_function=log_request,
        xsrf_cookies=False,
        compress_response=False,
    )
