"""Kernel access: how kernels started by this server reach the broker without a browser.

Kernels inherit the server process's environment (jupyter_server
``SessionManager.get_kernel_env``), so at load time the extension exports:

``JUPYTERLAB_OIDC_SERVER_URL``
    ``http(s)://127.0.0.1:{port}{base_url}`` (the final port, exported once the loop runs).
``JUPYTERLAB_OIDC_KERNEL_SECRET``
    A per-server random secret. Sent back as the ``X-JupyterLab-OIDC-Kernel`` header, it
    allows *reading* tokens only: ``POST oidc/kernel/token`` and ``GET oidc/kernel/status``.
    It cannot start or cancel a sign-in or sign out.
``JUPYTERLAB_OIDC_SESSIONS_FILE``
    A small file (0600, no tokens) rewritten whenever a session starts or ends, so a kernel
    can drop a cached token as soon as the user signs out, for the price of one ``stat``.
``JUPYTERLAB_OIDC_SERVER_SOCK`` / ``JUPYTERLAB_OIDC_SERVER_CERT``
    Only when the server listens on a Unix socket, or serves HTTPS with its own certificate.

See docs/kernel-protocol.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import tempfile
import time
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated

from .broker import Broker
from .errors import ForbiddenError, OIDCError
from .handlers import OIDCHandler, _number, _text

KERNEL_HEADER = "X-JupyterLab-OIDC-Kernel"
ENV_SECRET = "JUPYTERLAB_OIDC_KERNEL_SECRET"
ENV_URL = "JUPYTERLAB_OIDC_SERVER_URL"
ENV_SESSIONS_FILE = "JUPYTERLAB_OIDC_SESSIONS_FILE"
ENV_SOCK = "JUPYTERLAB_OIDC_SERVER_SOCK"
ENV_CERT = "JUPYTERLAB_OIDC_SERVER_CERT"
EXPORTED = (ENV_SECRET, ENV_URL, ENV_SESSIONS_FILE, ENV_SOCK, ENV_CERT)
#: How often the sessions file is brought up to date with the broker (sign-out reaches kernels this fast).
SESSIONS_POLL_SECONDS = 0.2
WILDCARD_HOSTS = {"", "*", "0.0.0.0", "::", "localhost"}


def server_url(ip: str, port: int, base_url: str, https: bool = False) -> str:
    """The URL a kernel on this host uses: loopback unless the server binds one concrete address."""
    host = "127.0.0.1" if ip in WILDCARD_HOSTS else ip
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass  # a host name: use it as it is
    base = base_url if base_url.endswith("/") else base_url + "/"
    return f"{'https' if https else 'http'}://{host}:{port}{base}"


def token_sha256(token: str | None) -> str:
    """How a kernel names the token an API refused, without sending it back."""
    return hashlib.sha256((token or "").encode()).hexdigest()


class KernelAccess:
    """Owns the kernel secret, the exported variables and the sessions file."""

    def __init__(self, serverapp: Any, broker: Broker) -> None:
        self.serverapp = serverapp
        self.broker = broker
        self.secret = secrets.token_urlsafe(32)
        self.sessions_file = os.path.join(serverapp.runtime_dir, f"jupyterlab-oidc-{os.getpid()}-{secrets.token_hex(4)}-sessions.json")
        self.exported: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Export now (the port may still change) and again once the loop runs (the port is final)."""
        self.export()
        self.serverapp.io_loop.add_callback(self._started)

    def _started(self) -> None:
        self.export()
        self._task = asyncio.ensure_future(self._watch_sessions())

    def export(self) -> None:
        """Put the variables in ``os.environ``: every kernel started from now on inherits them."""
        app = self.serverapp
        values = {
            ENV_SECRET: self.secret,
            ENV_URL: server_url(app.ip, app.port, app.base_url, https=bool(app.certfile)),
            ENV_SESSIONS_FILE: self.sessions_file,
        }
        if getattr(app, "sock", ""):
            values[ENV_URL] = f"http://localhost{app.base_url}"
            values[ENV_SOCK] = app.sock
        if app.certfile:
            values[ENV_CERT] = app.certfile
        for name in EXPORTED:
            if name in values:
                os.environ[name] = values[name]
            elif name in self.exported:
                os.environ.pop(name, None)
        self.exported = values

    async def stop(self) -> None:
        """Stop watching, remove the sessions file, take our variables out of ``os.environ``."""
        if self._task is not None:
            self._task.cancel()
        for name, value in self.exported.items():
            if os.environ.get(name) == value:
                del os.environ[name]
        try:
            os.unlink(self.sessions_file)
        except OSError:
            pass

    def allows(self, header: str | None) -> bool:
        """Constant-time check of the kernel header."""
        return bool(header) and hmac.compare_digest(header.encode(), self.secret.encode())  # type: ignore[union-attr]

    # ------------------------------------------------------------- sessions file

    def sessions_summary(self) -> dict[str, Any]:
        """What kernels may know about sessions: keys and times, never a token or a name."""
        return {
            key: {"signed_in_at": s.signed_in_at, "expires_at": s.expires_at}
            for key, s in sorted(self.broker.sessions.items())
        }

    def write_sessions_file(self) -> None:
        """Rewrite the file (atomically, 0600); kernels compare it with the tokens they hold."""
        directory = os.path.dirname(self.sessions_file)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".jupyterlab-oidc-", dir=directory)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(
                    {
                        "v": 1,
                        "revision": self.broker.revision,
                        "written_at": time.time(),
                        "default_environment": self.broker.settings.default_environment,
                        "sessions": self.sessions_summary(),
                    },
                    f,
                )
            os.replace(tmp, self.sessions_file)
        except OSError as e:
            self.broker.log.warning("jupyterlab_oidc: cannot write %s (%s)", self.sessions_file, e.strerror)
            try:
                os.unlink(tmp)
            except OSError:
                pass

    async def _watch_sessions(self) -> None:
        """Follow the broker's revision (a cheap poll: no waiter left behind when cancelled)."""
        revision = -1
        while True:
            if self.broker.revision != revision:
                revision = self.broker.revision
                self.write_sessions_file()
            await asyncio.sleep(SESSIONS_POLL_SECONDS)


class KernelHandler(OIDCHandler):
    """Base of the kernel routes: authenticated by the kernel header only, no cookies, no XSRF."""

    @property
    def kernel_access(self) -> KernelAccess:
        return self.settings["jupyterlab_oidc_kernel_access"]

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        if not self.kernel_access.allows(self.request.headers.get(KERNEL_HEADER)):
            raise ForbiddenError(
                f"This route is for kernels started by this Jupyter server; send the {KERNEL_HEADER} "
                f"header with the value of {ENV_SECRET}."
            )

    def check_xsrf_cookie(self) -> None:
        """No cookies are involved: a browser cannot send the kernel header cross-origin."""


class KernelTokenHandler(KernelHandler):
    @allow_unauthenticated
    async def post(self) -> None:
        """A token valid for ``min_valid`` s; ``force`` refreshes unless the refused token is already gone."""
        body = self.body()
        environment, application = _text(body, "environment"), _text(body, "application")
        if body.get("force"):
            session = self.broker.session(environment, application)
            rejected = _text(body, "rejected")
            if rejected is None or hmac.compare_digest(rejected, token_sha256(session.access_token)):
                session = await self.broker.refresh(session.key)
        else:
            min_valid = _number(body, "min_valid", 60.0) or 0.0
            session = await self.broker.get_token(environment, application, min_valid)
        reply = self.broker.token_reply(session, for_kernel=True)
        self.set_header("Cache-Control", "no-store")
        self.finish(reply)


class KernelStatusHandler(KernelHandler):
    @allow_unauthenticated
    async def get(self) -> None:
        """``GET status`` plus the configured environments (issuers, for ``ServiceAuth``)."""
        self.finish({**self.broker.status(), "environments": self.broker.environments()["environments"]})


def kernel_routes() -> list[tuple[str, type[KernelHandler]]]:
    """Routes relative to ``base_url``."""
    return [
        (r"/oidc/kernel/status", KernelStatusHandler),
        (r"/oidc/kernel/token", KernelTokenHandler),
    ]
