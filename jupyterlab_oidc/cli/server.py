"""Find the user's running Jupyter server and call its ``{base_url}oidc/`` REST API.

In this order: ``--url`` (with ``--token``); the server that started this process
(``JUPYTERLAB_OIDC_SERVER_URL``, which the extension exports to its kernels and terminals);
the user's own server under JupyterHub (``JUPYTERHUB_SERVICE_URL`` + ``JUPYTERHUB_API_TOKEN``);
then the servers ``jupyter server list`` knows (``jpserver-*.json`` in the runtime
directory), preferring one this process runs under, else the most recently started one that
has jupyterlab_oidc.

A credential found on this machine goes only where it belongs (see :func:`found_token`):
a local server's token to that server's own URL, ``JUPYTERHUB_API_TOKEN`` to the user's own
server as JupyterHub describes it; ``--url`` elsewhere gets no credential unless ``--token``.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from ..errors import OIDCError
from . import exits
from .local import ancestors, found_token, running_servers, with_slash

CONNECT_TIMEOUT_SECONDS = 3.0


class CLIError(Exception):
    """A failure the CLI reports and exits with: a message, an exit code, a stable code."""

    def __init__(self, message: str, exit_code: int, code: str = "cli_error", **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.code = code
        self.details = details

    def to_json(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "exit_code": self.exit_code, **self.details}


def exit_code_for(error_code: str) -> int:
    """The exit code for an error the server answered (``{error, message}``)."""
    if error_code in ("not_authenticated", "session_expired"):
        return exits.NOT_SIGNED_IN
    if error_code in ("invalid_request", "unknown_environment"):
        return exits.USAGE
    return exits.ERROR


@dataclass(frozen=True)
class Server:
    """Where the Jupyter server is and how to authenticate to it."""

    url: str  # http(s)://host:port/base_url/ (ends with /)
    token: str = field(default="", repr=False)
    sock: str = ""
    cert: str = ""
    source: str = ""

    def client(self, timeout: float) -> httpx.Client:
        verify: Any = True
        if self.cert:
            # The server's own certificate is the trust anchor; it names the public host, not 127.0.0.1.
            context = ssl.create_default_context(cafile=self.cert)
            context.check_hostname = False
            verify = context
        transport = httpx.HTTPTransport(uds=self.sock, verify=verify) if self.sock else None
        headers = {"Authorization": f"token {self.token}"} if self.token else {}
        return httpx.Client(
            timeout=httpx.Timeout(timeout, connect=CONNECT_TIMEOUT_SECONDS),
            verify=verify,
            transport=transport,
            headers=headers,
            trust_env=False,
        )


def _loopback(url: str) -> str:
    """A wildcard bind address (0.0.0.0, ::, empty) is reached on 127.0.0.1."""
    parts = urlsplit(url)
    if parts.hostname in (None, "", "0.0.0.0", "::"):
        netloc = f"127.0.0.1:{parts.port}" if parts.port else "127.0.0.1"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


def _from_info(info: Mapping[str, Any], source: str) -> Server:
    sock = str(info.get("sock") or "")
    if sock:
        url = f"http://localhost{with_slash(str(info.get('base_url') or '/'))}"
    else:
        url = _loopback(with_slash(str(info.get("url") or "")))
    return Server(url=url, token=str(info.get("token") or ""), sock=sock, source=source)


def find_servers(
    url: str | None = None, token: str | None = None, environ: Mapping[str, str] = os.environ
) -> list[Server]:
    """Candidate servers, best first (see the module docstring)."""
    hub_token = environ.get("JUPYTERHUB_API_TOKEN", "")
    if url:
        url = with_slash(url)
        found = token if token is not None else found_token(url, "", environ)
        return [Server(url=url, token=found or "", source="--url")]
    exported = environ.get("JUPYTERLAB_OIDC_SERVER_URL", "")
    sock = environ.get("JUPYTERLAB_OIDC_SERVER_SOCK", "")
    cert = environ.get("JUPYTERLAB_OIDC_SERVER_CERT", "")
    if exported:
        exported = with_slash(exported)
        found = token or found_token(exported, sock, environ)
        return [
            Server(url=exported, token=found or "", sock=sock, cert=cert, source="the server this terminal runs in")
        ]
    service = environ.get("JUPYTERHUB_SERVICE_URL", "")
    if service and hub_token:
        return [Server(url=_loopback(with_slash(service)), token=token or hub_token, source="JupyterHub")]
    infos = running_servers()
    chain = ancestors()
    infos.sort(key=lambda i: chain.index(i["pid"]) if i.get("pid") in chain else len(chain) + 1)
    servers = []
    for info in infos:
        server = _from_info(info, f"jupyter server list (pid {info.get('pid')})")
        servers.append(Server(server.url, token or server.token, server.sock, server.cert, server.source))
    return servers


class ServerClient:
    """The ``oidc/`` REST API of one Jupyter server; errors become ``CLIError`` with an exit code."""

    def __init__(self, server: Server, timeout: float = 30.0) -> None:
        self.server = server
        self.timeout = timeout
        self._http = server.client(timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ServerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> tuple[int, Any]:
        """``{method} {base_url}oidc/{path}`` → (status, JSON body); typed errors raise ``CLIError``."""
        url = f"{self.server.url}oidc/{path}"
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs["json"] = {k: v for k, v in body.items() if v is not None}
        if params:
            kwargs["params"] = {k: v for k, v in params.items() if v is not None}
        if timeout is not None:
            kwargs["timeout"] = httpx.Timeout(timeout, connect=CONNECT_TIMEOUT_SECONDS)
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as e:
            raise CLIError(
                f"Cannot reach the Jupyter server at {self.server.url} ({type(e).__name__}). Is it running? "
                "Pass --url and --token (see `jupyter server list`).",
                exits.NO_SERVER,
                "server_unreachable",
            ) from None
        try:
            reply = response.json()
        except ValueError:
            reply = None
        if response.status_code < 400 and isinstance(reply, dict):
            return response.status_code, reply
        if isinstance(reply, dict) and reply.get("error"):
            error = OIDCError.from_json(reply)
            code = str(reply["error"])
            raise CLIError(error.message, exit_code_for(code), code, **error.details)
        if response.status_code in (401, 403):
            raise CLIError(
                f"The Jupyter server at {self.server.url} refused the credentials (HTTP {response.status_code}). "
                "Pass its token with --token (`jupyter server list` shows it).",
                exits.NO_SERVER,
                "server_refused",
            )
        if response.status_code == 404:
            raise CLIError(
                f"The Jupyter server at {self.server.url} has no jupyterlab_oidc API (HTTP 404 on oidc/{path}). "
                "Check `jupyter server extension list` and the server log: an invalid c.OIDCLogin "
                "configuration stops the extension from loading.",
                exits.NO_SERVER,
                "extension_not_loaded",
            )
        raise CLIError(
            f"The Jupyter server answered HTTP {response.status_code} to {method} oidc/{path}.",
            exits.ERROR,
            "http_error",
            status=response.status_code,
        )


def connect(
    url: str | None, token: str | None, timeout: float, environ: Mapping[str, str] = os.environ
) -> ServerClient:
    """A client for the server to use: the only candidate, or the first that answers ``GET oidc/environments``."""
    candidates = find_servers(url, token, environ)
    if not candidates:
        raise CLIError(
            "No running Jupyter server found (`jupyter server list` shows none). Start JupyterLab, or "
            "pass --url and --token.",
            exits.NO_SERVER,
            "server_not_found",
        )
    if len(candidates) == 1:
        return ServerClient(candidates[0], timeout)
    last: CLIError | None = None
    for server in candidates:
        client = ServerClient(server, timeout)
        try:
            client.call("GET", "environments")
        except CLIError as e:
            client.close()
            if e.exit_code != exits.NO_SERVER:
                raise
            last = e
            continue
        return client
    assert last is not None
    last.message += f" (tried {len(candidates)} running servers; pick one with --url)"
    raise last
