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

import hmac
import ipaddress
import json
import os
import secrets
import tempfile
import time
from collections.abc import Callable
from typing import Any

from ..core.broker import Broker
from ..protocol import ENV_KERNEL_SECRET as ENV_SECRET
from ..protocol import ENV_SERVER_CERT as ENV_CERT
from ..protocol import ENV_SERVER_SOCK as ENV_SOCK
from ..protocol import ENV_SERVER_URL as ENV_URL
from ..protocol import ENV_SESSIONS_FILE
from ..protocol import KERNEL_EXPORTS as EXPORTED

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


class KernelAccess:
    """Owns the kernel secret, the exported variables and the sessions file."""

    def __init__(self, serverapp: Any, broker: Broker) -> None:
        self.serverapp = serverapp
        self.broker = broker
        self.secret = secrets.token_urlsafe(32)
        self.sessions_file = os.path.join(
            serverapp.runtime_dir, f"jupyterlab-oidc-{os.getpid()}-{secrets.token_hex(4)}-sessions.json"
        )
        self.exported: dict[str, str] = {}
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        """Export the variables and write the sessions file, then rewrite it on every session change.

        The server calls this when it loads the extension (kernels may start right away) and
        :meth:`export` again once its loop runs and the port is final.
        """
        self.export()
        if self._unsubscribe is None:
            self.write_sessions_file()
            self._unsubscribe = self.broker.registry.subscribe(lambda _revision: self.write_sessions_file())

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
        """Stop following sessions, remove the sessions file, take our variables out of ``os.environ``."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
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
