"""jupyterlab-oidc: OpenID Connect sign-in for JupyterLab, fresh tokens for kernels.

In a notebook: ``from jupyterlab_oidc import get_token``. The server extension and the
labextension are loaded by Jupyter itself; nothing here imports tornado or jupyter_server
until Jupyter asks for the extension.
"""

from __future__ import annotations

from typing import Any

try:
    from ._version import __version__
except ImportError:  # a source checkout that was never built
    __version__ = "0.0.0.dev0"

from .errors import (
    IdentityMismatchError,
    NotAuthenticatedError,
    OIDCError,
)

#: Kernel API, imported on first use (``from jupyterlab_oidc import get_token``).
_KERNEL_API = (
    "Environment",
    "OIDCAuth",
    "OIDCBearer",
    "PasswordAuth",
    "RefreshTokenAuth",
    "ServiceAuth",
    "TokenManager",
    "TokenStore",
    "get_token",
    "get_token_async",
    "import_refresh_token",
    "password_login",
)


def __getattr__(name: str) -> Any:
    if name in _KERNEL_API:
        from . import kernel

        return getattr(kernel, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyterlab-oidc"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.app import OIDCExtensionApp

    return [{"module": "jupyterlab_oidc", "app": OIDCExtensionApp}]


__all__ = [
    "Environment",
    "IdentityMismatchError",
    "NotAuthenticatedError",
    "OIDCAuth",
    "OIDCBearer",
    "OIDCError",
    "PasswordAuth",
    "RefreshTokenAuth",
    "ServiceAuth",
    "TokenManager",
    "TokenStore",
    "__version__",
    "get_token",
    "get_token_async",
    "import_refresh_token",
    "password_login",
]
