"""Wire names shared by the server extension, kernels, the CLI, the hub forwarder and the browser.

Standard library only: kernels, the CLI and the hub import this without loading the
server. ``dev/contract.py`` generates ``src/generated/contract.ts`` from this module and
``errors.py``, so the TypeScript side never copies a value by hand.
"""

from __future__ import annotations

import hashlib

#: The comm target kernels open to the frontend, and the comm protocol's version.
COMM_TARGET = "jupyterlab-oidc"
COMM_PROTOCOL_VERSION = 1
#: Comm message types, kernel → frontend.
MSG_HELLO, MSG_TOKEN_REQUEST, MSG_CALL = "hello", "token_request", "call"
#: Comm message types, frontend → kernel.
MSG_READY, MSG_TOKEN_REPLY, MSG_TOKEN_UPDATE, MSG_CALL_REPLY, MSG_ERROR = (
    "ready",
    "token_reply",
    "token_update",
    "call_reply",
    "error",
)
#: ``token_update`` reasons.
UPDATE_REASONS = ("sign_in", "refresh", "sign_out")

#: Header a kernel sends with the per-server kernel secret (reading tokens only).
KERNEL_HEADER = "X-JupyterLab-OIDC-Kernel"

#: Variables the server extension exports to the kernels it starts.
ENV_KERNEL_SECRET = "JUPYTERLAB_OIDC_KERNEL_SECRET"
ENV_SERVER_URL = "JUPYTERLAB_OIDC_SERVER_URL"
ENV_SESSIONS_FILE = "JUPYTERLAB_OIDC_SESSIONS_FILE"
ENV_SERVER_SOCK = "JUPYTERLAB_OIDC_SERVER_SOCK"
ENV_SERVER_CERT = "JUPYTERLAB_OIDC_SERVER_CERT"
KERNEL_EXPORTS = (ENV_KERNEL_SECRET, ENV_SERVER_URL, ENV_SESSIONS_FILE, ENV_SERVER_SOCK, ENV_SERVER_CERT)
#: Variables that configure environments (container images) and the hub forwarder.
ENV_ENVIRONMENTS = "JUPYTERLAB_OIDC_ENVIRONMENTS"
ENV_ISSUER = "JUPYTERLAB_OIDC_ISSUER"
ENV_CLIENT_ID = "JUPYTERLAB_OIDC_CLIENT_ID"
ENV_CLIENT_SECRET = "JUPYTERLAB_OIDC_CLIENT_SECRET"
ENV_SCOPES = "JUPYTERLAB_OIDC_SCOPES"
ENV_ENV = "JUPYTERLAB_OIDC_ENV"
ENV_REDIRECT_URI = "JUPYTERLAB_OIDC_REDIRECT_URI"
ENV_HUB_COOKIE_SECRET = "JUPYTERLAB_OIDC_HUB_COOKIE_SECRET"

#: id_token signature algorithms accepted by default (asymmetric only). ``none`` and HMAC never.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
REFUSED_ALGORITHMS = ("none", "HS256", "HS384", "HS512")
#: Clock skew tolerated when checking ``exp``, ``iat`` and ``nbf`` (server, CLI and browser).
LEEWAY_SECONDS = 180

#: REST routes under ``{base_url}oidc/``.
ROUTE_PREFIX = "oidc/"
ROUTES = (
    "await",
    "callback",
    "cancel",
    "environments",
    "jwks",
    "login",
    "logout",
    "refresh",
    "start",
    "status",
    "token",
    "kernel/status",
    "kernel/token",
    "grants/password",
    "grants/refresh-token",
    "preflight",
    "userinfo",
)
#: The discovery document's path under the issuer (OpenID Connect Discovery §4).
WELL_KNOWN_PATH = "/.well-known/openid-configuration"


def discovery_url(issuer: str) -> str:
    """The discovery document of ``issuer``; a terminating ``/`` is removed before appending (§4)."""
    return f"{issuer.rstrip('/')}{WELL_KNOWN_PATH}"


def session_key(environment: str | None, application: str | None) -> str:
    """Sessions are per (environment, application): ``prod`` or ``prod/spatial_engine``."""
    return f"{environment}/{application}" if application else str(environment)


def token_sha256(token: str | None) -> str:
    """How a kernel names a refused token to the server without sending it back."""
    return hashlib.sha256((token or "").encode()).hexdigest()
