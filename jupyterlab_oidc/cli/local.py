"""What this machine knows about Jupyter servers: the running ones (``jpserver-*.json``), the
processes this one runs under, and where a credential found here may be sent.

A credential goes only to the server it belongs to: a running server's token to that
server's own URL (its ``jpserver-*.json``), ``JUPYTERHUB_API_TOKEN`` to the user's own server
as JupyterHub describes it (``JUPYTERHUB_*``). See :func:`found_token` and docs/cli.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from ..core.runtime import running_servers


def with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def ancestors() -> list[int]:
    """This process, its parent, grandparent, ... (Linux /proc; elsewhere just the parent)."""
    chain, pid = [os.getpid()], os.getppid()
    for _ in range(32):
        if pid <= 1 or pid in chain:
            break
        chain.append(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return chain


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "*"})
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Scope:
    """Where a credential may be sent: one origin (its equivalent host names) and a path prefix."""

    scheme: str
    hosts: frozenset[str]
    port: int
    path: str  # decoded, ends with "/"

    def covers(self, url: str) -> bool:
        parts = _parts(url)
        if parts is None:
            return False
        scheme, host, port, path = parts
        return scheme == self.scheme and host in self.hosts and port == self.port and path.startswith(self.path)


def _parts(url: str) -> tuple[str, str, int, str] | None:
    """``(scheme, host, port, decoded path ending with /)``; None for what is no plain http(s) URL."""
    try:
        split = urlsplit(url)
        scheme, port = split.scheme.lower(), split.port
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or split.username is not None or split.password is not None:
        return None
    path = unquote(split.path or "/")
    if any(segment in (".", "..") for segment in path.split("/")) or "\\" in path:
        return None  # a path that may mean another one to the server or a proxy
    return scheme, (split.hostname or "").lower(), port or DEFAULT_PORTS[scheme], with_slash(path)


def _hosts(*names: str) -> frozenset[str]:
    """The host names; a loopback or wildcard (all addresses) bind is reached on every loopback name."""
    hosts = {name.lower().strip("[]") for name in names}
    if hosts & (LOOPBACK_HOSTS | WILDCARD_HOSTS):
        hosts |= LOOPBACK_HOSTS
    return frozenset(hosts - WILDCARD_HOSTS)


def scope_of_url(url: str, path: str | None = None) -> Scope | None:
    """The scope of a server known by its URL (``path`` replaces the URL's)."""
    try:
        split = urlsplit(url)
        scheme, port = split.scheme.lower(), split.port
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS:
        return None
    return Scope(
        scheme,
        _hosts(split.hostname or ""),
        port or DEFAULT_PORTS[scheme],
        with_slash(unquote(path if path is not None else split.path or "/")),
    )


def scope_of_server(info: Mapping[str, Any]) -> Scope | None:
    """A running server's own URL from its ``jpserver-*.json`` (``url``, ``hostname``, ``port``, ``base_url``)."""
    scope = scope_of_url(str(info.get("url") or ""), str(info.get("base_url") or "/"))
    if scope is None or not isinstance(info.get("port"), int):
        return None
    return Scope(scope.scheme, scope.hosts | _hosts(str(info.get("hostname") or "")), info["port"], scope.path)


def hub_scopes(environ: Mapping[str, str]) -> list[Scope]:
    """Where ``JUPYTERHUB_API_TOKEN`` may go: the user's own server, as JupyterHub exports it.

    ``JUPYTERHUB_SERVICE_URL`` (where the server listens), ``JUPYTERHUB_PUBLIC_URL`` (the same
    server behind the proxy), and the hub's public origin (``JUPYTERHUB_PUBLIC_HUB_URL``) under
    ``JUPYTERHUB_SERVICE_PREFIX`` only: other users' servers share that origin.
    """
    scopes = [scope_of_url(environ.get(name, "")) for name in ("JUPYTERHUB_SERVICE_URL", "JUPYTERHUB_PUBLIC_URL")]
    prefix = environ.get("JUPYTERHUB_SERVICE_PREFIX", "")
    if prefix.startswith("/") and prefix != "/":
        scopes.append(scope_of_url(environ.get("JUPYTERHUB_PUBLIC_HUB_URL", ""), prefix))
    return [s for s in scopes if s is not None and s.hosts]


def found_token(url: str, sock: str = "", environ: Mapping[str, str] = os.environ) -> str:
    """A credential found on this machine that belongs to ``url`` (or the server on ``sock``), else "".

    ``JUPYTERHUB_API_TOKEN`` when ``url`` is in :func:`hub_scopes`; else the token of the
    running server (``jpserver-*.json``) whose own URL ``url`` is (same scheme, host, port, and
    under its base_url; localhost, 127.0.0.1 and ::1 count as one host for a server bound to one
    of them or to all addresses), or ``JUPYTER_TOKEN`` when that server's file names none.
    """
    hub_token = environ.get("JUPYTERHUB_API_TOKEN", "")
    if hub_token and not sock and any(scope.covers(url) for scope in hub_scopes(environ)):
        return hub_token
    chain = ancestors()
    infos = sorted(running_servers(), key=lambda i: i.get("pid") not in chain)
    for info in infos:
        if sock:
            mine = str(info.get("sock") or "") == sock
        else:
            scope = scope_of_server(info)
            mine = not info.get("sock") and scope is not None and scope.covers(url)
        if mine:
            return str(info.get("token") or "") or environ.get("JUPYTER_TOKEN", "")
    return ""
