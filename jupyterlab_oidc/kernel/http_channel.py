"""HTTP from the kernel straight to the server extension (no browser needed).

Two ways in:

- the kernel secret (``X-JupyterLab-OIDC-Kernel``) on ``oidc/kernel/token`` and
  ``oidc/kernel/status``: reading tokens only;
- the Jupyter server's own credentials for the other REST routes (sign-in from a cell):
  ``JUPYTERHUB_API_TOKEN`` under JupyterHub, else the token of this server as
  ``jupyter server list`` finds it in the runtime directory.

httpx is imported on first use, not when the kernel imports jupyterlab_oidc.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from ..core.runtime import running_servers
from ..errors import ConfigError, OIDCError, ServerUnreachableError
from ..protocol import KERNEL_HEADER

#: Connect quickly (the server is local); allow a refresh at the provider to finish.
CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class ServerEndpoint:
    """Where the server extension is, as the server exported it to its kernels."""

    url: str = ""
    secret: str = field(default="", repr=False)
    sock: str = ""
    cert: str = ""
    sessions_file: str = ""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> ServerEndpoint:
        url = environ.get("JUPYTERLAB_OIDC_SERVER_URL") or environ.get("JUPYTERHUB_SERVICE_URL") or ""
        if url and not url.endswith("/"):
            url += "/"
        return cls(
            url=url,
            secret=environ.get("JUPYTERLAB_OIDC_KERNEL_SECRET", ""),
            sock=environ.get("JUPYTERLAB_OIDC_SERVER_SOCK", ""),
            cert=environ.get("JUPYTERLAB_OIDC_SERVER_CERT", ""),
            sessions_file=environ.get("JUPYTERLAB_OIDC_SESSIONS_FILE", ""),
        )

    @property
    def has_kernel_access(self) -> bool:
        return bool(self.url and self.secret)


def jupyter_credentials(endpoint: ServerEndpoint, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Headers that authenticate as the Jupyter server's own clients do (no XSRF with a token)."""
    hub_token = environ.get("JUPYTERHUB_API_TOKEN")
    if hub_token:
        return {"Authorization": f"token {hub_token}"}
    token = _runtime_server_token(endpoint)
    return {"Authorization": f"token {token}"} if token else {}


def _runtime_server_token(endpoint: ServerEndpoint) -> str | None:
    """This server's token from ``jpserver-*.json`` (what ``jupyter server list`` shows).

    Only a server at the endpoint (its socket, or its port and base_url), preferring the
    kernel's parent: a token never goes to a URL that is not its server's.
    """
    wanted = urlsplit(endpoint.url)
    parent = os.getppid()
    candidates = []
    for info in running_servers():
        if endpoint.sock:
            mine = info.get("sock") == endpoint.sock
        else:
            mine = info.get("port") == wanted.port and unquote(info.get("base_url") or "/") == unquote(
                wanted.path or "/"
            )
        if not mine:
            continue
        if info.get("pid") == parent:
            return str(info.get("token") or "") or None
        candidates.append(info)
    if not candidates:
        return None
    return str(candidates[0].get("token") or "") or None


class HTTPChannel:
    """A pooled HTTP client to the server extension, safe to share between threads."""

    def __init__(self, endpoint: ServerEndpoint) -> None:
        self.endpoint = endpoint
        self._client: Any = None
        self._lock = threading.Lock()
        self._credentials: dict[str, str] | None = None

    @property
    def available(self) -> bool:
        return self.endpoint.has_kernel_access

    def _http(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import ssl

                    import httpx

                    timeout = httpx.Timeout(READ_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS)
                    verify: Any = True
                    if self.endpoint.cert:
                        # The server's own certificate is the trust anchor; it names the
                        # host clients use, not 127.0.0.1, so the host name is not checked.
                        context = ssl.create_default_context(cafile=self.endpoint.cert)
                        context.check_hostname = False
                        verify = context
                    transport = (
                        httpx.HTTPTransport(uds=self.endpoint.sock, verify=verify) if self.endpoint.sock else None
                    )
                    self._client = httpx.Client(timeout=timeout, verify=verify, transport=transport, trust_env=False)
        return self._client

    # ------------------------------------------------------------- kernel secret

    def token(
        self,
        environment: str | None,
        application: str | None,
        min_valid: float,
        force: bool = False,
        rejected: str | None = None,
    ) -> dict[str, Any]:
        """``POST oidc/kernel/token``: a token valid ``min_valid`` s, or a forced refresh."""
        body: dict[str, Any] = {"environment": environment, "application": application, "min_valid": min_valid}
        if force:
            body.update(force=True, rejected=rejected)
        return self._request("POST", "kernel/token", body, {KERNEL_HEADER: self._secret()})

    def status(self) -> dict[str, Any]:
        """``GET oidc/kernel/status``: sessions (no tokens) and the configured environments."""
        return self._request("GET", "kernel/status", None, {KERNEL_HEADER: self._secret()})

    def _secret(self) -> str:
        if not self.endpoint.has_kernel_access:
            raise ConfigError(
                "This kernel was not started by a Jupyter server running jupyterlab_oidc "
                "(JUPYTERLAB_OIDC_SERVER_URL / JUPYTERLAB_OIDC_KERNEL_SECRET are not set). "
                "Restart the kernel from JupyterLab."
            )
        return self.endpoint.secret

    # ------------------------------------------------------------- Jupyter credentials

    def rest(self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float | None = None) -> Any:
        """Call ``{base_url}oidc/{path}`` as a Jupyter client (sign-in, await, cancel, refresh)."""
        if not self.endpoint.url:
            raise ConfigError("This kernel does not know its Jupyter server (JUPYTERLAB_OIDC_SERVER_URL is not set).")
        if self._credentials is None:
            self._credentials = jupyter_credentials(self.endpoint)
        return self._request(method, path, body, self._credentials, timeout)

    # ------------------------------------------------------------- transport

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str], timeout: float | None = None
    ) -> Any:
        import httpx

        url = f"{self.endpoint.url}oidc/{path}"
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs["json"] = {k: v for k, v in body.items() if v is not None}
        if timeout is not None:
            kwargs["timeout"] = httpx.Timeout(timeout, connect=CONNECT_TIMEOUT_SECONDS)
        try:
            response = self._http().request(method, url, **kwargs)
        except httpx.HTTPError as e:
            raise ServerUnreachableError(
                f"Cannot reach the Jupyter server at {self.endpoint.url} ({type(e).__name__}). Is it still running?"
            ) from None
        try:
            reply = response.json()
        except (json.JSONDecodeError, ValueError):
            reply = None
        if response.status_code >= 400 or not isinstance(reply, dict):
            if isinstance(reply, dict) and reply.get("error"):
                raise OIDCError.from_json(reply)
            if response.status_code in (401, 403):
                raise ConfigError(
                    f"The Jupyter server refused {method} oidc/{path} ({response.status_code}): this kernel has "
                    "no Jupyter credentials. Sign in from the OIDC panel in JupyterLab instead."
                )
            raise OIDCError(f"The Jupyter server answered {response.status_code} to {method} oidc/{path}.")
        return reply

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
