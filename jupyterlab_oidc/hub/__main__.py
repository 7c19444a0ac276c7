"""``python -m jupyterlab_oidc.hub``: run the callback forwarder (see ``--help``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import signal
import ssl
import sys
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from .forward import hub_base_url
from .service import make_app
from .subdomain import HOOKS, hook, subdomain_host, user_origin

DESCRIPTION = """\
Forward OpenID Connect callbacks to the JupyterHub user named in the OAuth state, when the
browser is logged in to the hub as that user.

Run it as a JupyterHub managed service; register with the provider
https://<hub>/services/<service name>/callback/<environment> (one per environment) or the
legacy https://<hub>/services/<service name>/, and set it in every single-user server as
c.OIDCLogin.redirect_uri (or JUPYTERLAB_OIDC_REDIRECT_URI, with {environment} in it).
Browsers log in to it with the hub's OAuth: users need the scope
access:services!service=<service name>, and the service oauth_no_confirm=True.
Defaults come from the environment JupyterHub gives managed services."""

EPILOG = """\
environment (set by JupyterHub for managed services):
  JUPYTERHUB_SERVICE_URL     where to listen (host and port), e.g. http://127.0.0.1:10101
  JUPYTERHUB_SERVICE_PREFIX  path the proxy routes here, e.g. /services/oidc-callback/
  JUPYTERHUB_BASE_URL        the hub's base URL, e.g. / ; forwards go to {this}user/{name}/oidc/callback
  JUPYTERHUB_API_URL, JUPYTERHUB_API_TOKEN, JUPYTERHUB_CLIENT_ID, JUPYTERHUB_OAUTH_CALLBACK_URL
                             the hub's OAuth, which logs browsers in to the service
  JUPYTERLAB_OIDC_HUB_SUBDOMAIN_HOST, JUPYTERLAB_OIDC_HUB_SUBDOMAIN_HOOK
                             with c.JupyterHub.subdomain_host: the same value (and the hub's
                             subdomain_hook, idna or legacy); forwards then go to the user's host
  JUPYTERLAB_OIDC_HUB_COOKIE_SECRET
                             optional: hex key (32 bytes or more) signing the service's login
                             cookie, for several replicas; default: random at each start
  JUPYTERHUB_SSL_KEYFILE, JUPYTERHUB_SSL_CERTFILE, JUPYTERHUB_SSL_CLIENT_CA
                             serve HTTPS (JupyterHub internal_ssl)

example (jupyterhub_config.py):
  c.JupyterHub.services = [{"name": "oidc-callback", "url": "http://127.0.0.1:10101",
                            "command": ["python3", "-m", "jupyterlab_oidc.hub"], "display": False,
                            "oauth_no_confirm": True}]
  c.JupyterHub.load_roles = [{"name": "user",
                              "scopes": ["self", "access:services!service=oidc-callback"]}]
"""


def parse_args(argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ) -> argparse.Namespace:
    service_url = urlsplit(environ.get("JUPYTERHUB_SERVICE_URL") or "http://127.0.0.1:10101")
    parser = argparse.ArgumentParser(
        prog="python -m jupyterlab_oidc.hub",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--ip",
        default=service_url.hostname or "127.0.0.1",
        help="address to listen on (default: the host of JUPYTERHUB_SERVICE_URL, else 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=service_url.port or 10101,
        help="port to listen on (default: the port of JUPYTERHUB_SERVICE_URL, else 10101)",
    )
    parser.add_argument(
        "--prefix",
        default=environ.get("JUPYTERHUB_SERVICE_PREFIX") or "/services/oidc-callback/",
        help="path prefix of the service (default: JUPYTERHUB_SERVICE_PREFIX, else /services/oidc-callback/)",
    )
    parser.add_argument(
        "--hub-base-url",
        default=environ.get("JUPYTERHUB_BASE_URL") or "/",
        help="the hub's base URL (default: JUPYTERHUB_BASE_URL, else /)",
    )
    parser.add_argument(
        "--subdomain-host",
        default=environ.get("JUPYTERLAB_OIDC_HUB_SUBDOMAIN_HOST", ""),
        help="the hub's c.JupyterHub.subdomain_host, when users' servers have their own hosts "
        "(default: JUPYTERLAB_OIDC_HUB_SUBDOMAIN_HOST, else none)",
    )
    parser.add_argument(
        "--subdomain-hook",
        choices=HOOKS,
        default=environ.get("JUPYTERLAB_OIDC_HUB_SUBDOMAIN_HOOK") or "idna",
        help="the hub's c.JupyterHub.subdomain_hook (default: JUPYTERLAB_OIDC_HUB_SUBDOMAIN_HOOK, else idna)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level (default: INFO); logs never contain the query (code, state)",
    )
    args = parser.parse_args(argv)
    try:
        args.hub_base_url = hub_base_url(args.hub_base_url)
        args.prefix = hub_base_url(args.prefix)
        args.subdomain_host = subdomain_host(args.subdomain_host) if args.subdomain_host else ""
        if args.subdomain_hook not in HOOKS:  # argparse checks choices on the command line, not defaults
            raise ValueError(
                f"JUPYTERLAB_OIDC_HUB_SUBDOMAIN_HOOK must be one of {', '.join(HOOKS)}, not {args.subdomain_hook!r}"
            )
    except ValueError as e:
        parser.error(str(e))
    return args


def ssl_context(environ: Mapping[str, str] = os.environ) -> ssl.SSLContext | None:
    """HTTPS with the certificates JupyterHub hands out under ``internal_ssl`` (client certs required)."""
    certfile, keyfile = environ.get("JUPYTERHUB_SSL_CERTFILE"), environ.get("JUPYTERHUB_SSL_KEYFILE")
    if not (certfile and keyfile):
        return None
    cafile = environ.get("JUPYTERHUB_SSL_CLIENT_CA") or None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=cafile)
    context.load_cert_chain(certfile, keyfile)
    if environ.get("JUPYTERHUB_SSL_CLIENT_CA"):
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def cookie_secret(environ: Mapping[str, str] = os.environ) -> bytes:
    """``JUPYTERLAB_OIDC_HUB_COOKIE_SECRET`` (hex, at least 32 bytes), else 32 random bytes.

    A random key means browsers log in to the service again (silently, through the hub)
    after a restart; replicas behind one prefix need the same key.
    """
    value = environ.get("JUPYTERLAB_OIDC_HUB_COOKIE_SECRET", "").strip()
    if not value:
        return secrets.token_bytes(32)
    try:
        key = bytes.fromhex(value)
    except ValueError:
        raise ValueError("JUPYTERLAB_OIDC_HUB_COOKIE_SECRET is not hex") from None
    if len(key) < 32:
        raise ValueError("JUPYTERLAB_OIDC_HUB_COOKIE_SECRET is shorter than 32 bytes (64 hex digits)")
    return key


def hub_oauth(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> Any:
    """JupyterHub's OAuth client for this service, from the managed service's environment."""
    missing = [name for name in ("JUPYTERHUB_API_TOKEN", "JUPYTERHUB_CLIENT_ID") if not environ.get(name)]
    if missing:
        raise ValueError(
            f"{' and '.join(missing)} not set: run the forwarder as a JupyterHub managed service "
            "(it logs browsers in with the hub's OAuth)"
        )
    from jupyterhub.services.auth import HubOAuth

    return HubOAuth(base_url=args.prefix, hub_prefix=f"{args.hub_base_url}hub/", cache_max_age=60)


async def serve(args: argparse.Namespace) -> None:
    log = logging.getLogger("jupyterlab_oidc.hub")
    origin = None
    if args.subdomain_host:
        host, chosen = args.subdomain_host, hook(args.subdomain_hook)
        origin = lambda name: user_origin(host, name, chosen)  # noqa: E731
    app = make_app(args.prefix, args.hub_base_url, args.hub_auth, args.cookie_secret, origin)
    context = ssl_context()
    server = app.listen(args.port, args.ip, ssl_options=context, xheaders=False)
    scheme = "https" if context else "http"
    log.info(
        "forwarding %s://%s:%d%s to %suser/{name}/[{server}/]oidc/callback[/{environment}] of the browser's hub user%s",
        scheme,
        args.ip,
        args.port,
        args.prefix,
        args.hub_base_url,
        f", on the user's host under {args.subdomain_host}" if args.subdomain_host else "",
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.stop()
    log.info("stopped")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        args.hub_auth, args.cookie_secret = hub_oauth(args), cookie_secret()
    except ValueError as e:
        print(f"python -m jupyterlab_oidc.hub: error: {e}", file=sys.stderr)
        sys.exit(2)
    name = os.environ.get("JUPYTERHUB_SERVICE_NAME") or "oidc-callback"
    logging.basicConfig(
        level=args.log_level,
        stream=sys.stderr,
        format=f"[%(levelname)1.1s %(asctime)s.%(msecs).03d {name}] %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
