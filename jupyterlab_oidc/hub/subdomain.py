"""The user's own host under ``c.JupyterHub.subdomain_host`` (each user's server on its own host).

With subdomains, ``/user/{name}/`` is served at ``{scheme}://{label}.{domain}[:port]``, where
``domain`` is the host of the hub's ``subdomain_host`` and ``label`` what the hub's
``subdomain_hook`` makes of the name (``idna``, JupyterHub 5's default, or ``legacy``). The
forwarder then answers an absolute URL, built from the admin's configuration only
(``--subdomain-host``; the hub's own hook functions for the label), never from the request:
not its ``Host``, not ``X-Forwarded-*``, not the state beyond the user name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

#: The hooks JupyterHub offers by name (``c.JupyterHub.subdomain_hook``).
HOOKS = ("idna", "legacy")
#: A DNS name as the hooks produce it (``legacy`` escapes with ``_``; labels ≤ 63 characters).
HOST_NAME = re.compile(
    r"^(?=.{1,253}$)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*"
    r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$"
)


def subdomain_host(value: str) -> str:
    """Validate ``c.JupyterHub.subdomain_host``: ``http(s)://host[:port]``, nothing more; answers it without ``/``.

    Raises ``ValueError`` for a path, query, fragment, user information, another scheme, or
    a host that is not a DNS name (an IP address has no subdomains).
    """
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise ValueError(f"not a subdomain host (http(s)://host[:port]): {value!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "\\" in value:
        raise ValueError(f"a subdomain host has no path, query or fragment: {value!r}")
    if not HOST_NAME.fullmatch(parts.hostname) or parts.hostname.replace(".", "").isdigit():
        raise ValueError(f"the subdomain host's host is not a DNS name: {value!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"the subdomain host's port is not valid: {value!r}") from None
    return f"{parts.scheme}://{parts.hostname.lower()}" + (f":{port}" if port else "")


def hook(name: str) -> Callable[[str, str, str], str]:
    """JupyterHub's own ``subdomain_hook`` function for ``name`` (the same labels as the hub's)."""
    from jupyterhub.utils import subdomain_hook_idna, subdomain_hook_legacy

    hooks = {"idna": subdomain_hook_idna, "legacy": subdomain_hook_legacy}
    if name not in hooks:
        raise ValueError(f"subdomain hook must be one of {', '.join(HOOKS)}, not {name!r}")
    return hooks[name]


def user_origin(host: str, user: str, subdomain_hook: Callable[[str, str, str], str]) -> str:
    """``{scheme}://{user's domain}[:port]`` for ``user`` on the hub whose subdomain host is ``host``.

    ``host`` must come from :func:`subdomain_host`. Raises ``ValueError`` when the hook's
    answer is not a DNS name directly under the hub's domain.
    """
    parts = urlsplit(host)
    domain = str(parts.hostname)
    fqdn = subdomain_hook(user, domain, "user")
    if not isinstance(fqdn, str) or not HOST_NAME.fullmatch(fqdn) or not fqdn.lower().endswith("." + domain):
        raise ValueError("the user's host is not a name under the hub's subdomain host")
    return f"{parts.scheme}://{fqdn.lower()}" + (f":{parts.port}" if parts.port else "")
