"""The one route table: every ``{base_url}oidc/`` route, the kernel routes included."""

from __future__ import annotations

from tornado import web

from .handlers import (
    AwaitHandler,
    CallbackHandler,
    CancelHandler,
    EnvironmentsHandler,
    JwksHandler,
    LoginHandler,
    LogoutHandler,
    PasswordGrantHandler,
    PreflightHandler,
    RefreshHandler,
    RefreshTokenGrantHandler,
    StartHandler,
    StatusHandler,
    TokenHandler,
    UserinfoHandler,
)
from .kernel_handlers import KernelStatusHandler, KernelTokenHandler


def route_table() -> list[tuple[str, type[web.RequestHandler]]]:
    """Routes relative to ``base_url`` (the ExtensionApp prepends it)."""
    return [
        (r"/oidc/await", AwaitHandler),
        (r"/oidc/callback", CallbackHandler),
        (r"/oidc/callback/(?P<environment>[^/?#]+)", CallbackHandler),
        (r"/oidc/cancel", CancelHandler),
        (r"/oidc/environments", EnvironmentsHandler),
        (r"/oidc/jwks", JwksHandler),
        (r"/oidc/login", LoginHandler),
        (r"/oidc/logout", LogoutHandler),
        (r"/oidc/refresh", RefreshHandler),
        (r"/oidc/start", StartHandler),
        (r"/oidc/status", StatusHandler),
        (r"/oidc/token", TokenHandler),
        (r"/oidc/kernel/status", KernelStatusHandler),
        (r"/oidc/kernel/token", KernelTokenHandler),
        (r"/oidc/grants/password", PasswordGrantHandler),
        (r"/oidc/grants/refresh-token", RefreshTokenGrantHandler),
        (r"/oidc/preflight", PreflightHandler),
        (r"/oidc/userinfo", UserinfoHandler),
    ]
