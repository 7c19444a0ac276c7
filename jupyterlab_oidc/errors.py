"""Typed errors shared by the server extension, the REST API and the kernel helper.

Every failure a user can meet has its own class with a stable snake-case ``code``
(the REST API sends it as ``error``) and a message the user can act on. Messages
never contain tokens, authorization codes or PKCE verifiers.
"""

from __future__ import annotations

from typing import Any, ClassVar


class OIDCError(Exception):
    """Base class: ``code`` is stable, ``status`` is the HTTP status the API uses."""

    code: ClassVar[str] = "oidc_error"
    status: ClassVar[int] = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = {k: v for k, v in details.items() if v is not None}

    def to_json(self) -> dict[str, Any]:
        """The JSON body the REST API answers with: ``{error, message, ...details}``."""
        return {"error": self.code, "message": self.message, **self.details}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> OIDCError:
        """Rebuild the typed error from a REST answer (used by the kernel helper)."""
        code = str(body.get("error") or "")
        message = str(body.get("message") or code or "unknown error")
        details = {k: v for k, v in body.items() if k not in ("error", "message")}
        error_cls = ERRORS_BY_CODE.get(code, OIDCError)
        error = error_cls.__new__(error_cls)
        OIDCError.__init__(error, message, **details)
        return error


class ConfigError(OIDCError):
    """The server's OIDC configuration is incomplete or inconsistent."""

    code = "config_error"
    status = 500


class UnknownEnvironmentError(OIDCError):
    """The request names an environment the server does not know."""

    code = "unknown_environment"
    status = 404


class InvalidRequestError(OIDCError):
    """The request body is missing a field or has a value of the wrong type."""

    code = "invalid_request"
    status = 400


class DiscoveryFailedError(OIDCError):
    """The provider's discovery document or JWKS could not be fetched or is invalid."""

    code = "discovery_failed"
    status = 502


class ProviderUnavailableError(OIDCError):
    """The provider did not answer (network error, timeout or 5xx)."""

    code = "provider_unavailable"
    status = 503


class StateMismatchError(OIDCError):
    """The callback's ``state`` is unknown, expired or was already used."""

    code = "state_mismatch"
    status = 400


class BrowserMismatchError(OIDCError):
    """The callback came from a browser that did not start this sign-in (RFC 9700 §4.7.1)."""

    code = "browser_mismatch"
    status = 403


class RedirectMismatchError(OIDCError):
    """The callback arrived at another environment's redirect path (mix-up, RFC 9700 §4.4)."""

    code = "redirect_mismatch"
    status = 400


class LoginTimeoutError(OIDCError, TimeoutError):
    """No callback arrived within ``callback_timeout`` seconds."""

    code = "login_timeout"
    #: Not 408: browsers re-send a request answered 408 (Chromium up to six times).
    status = 410


class LoginCancelledError(OIDCError):
    """The pending sign-in was cancelled."""

    code = "login_cancelled"
    status = 409


class DeviceAccessDeniedError(OIDCError):
    """Device sign-in (RFC 8628): the person denied the code at the provider (``access_denied``)."""

    code = "device_access_denied"
    status = 403


class DeviceCodeExpiredError(OIDCError):
    """Device sign-in (RFC 8628): the code expired before anyone approved it (``expired_token``)."""

    code = "device_code_expired"
    status = 410


class ProviderError(OIDCError):
    """The provider answered with an OAuth error (``error`` is kept in ``provider_error``)."""

    code = "provider_error"
    status = 502


class InvalidIdTokenError(OIDCError):
    """The id_token failed a check; ``check`` names which one."""

    code = "invalid_id_token"
    status = 502


class IdentityMismatchError(OIDCError):
    """The person who signed in is not the one whose email was typed (login_hint)."""

    code = "identity_mismatch"
    status = 403


class NotAuthenticatedError(OIDCError):
    """No session for this environment: the user has to sign in."""

    code = "not_authenticated"
    status = 401


class SessionExpiredError(OIDCError):
    """The provider no longer accepts the session (refresh answered ``invalid_grant``)."""

    code = "session_expired"
    status = 401


class RefreshFailedError(OIDCError):
    """Refreshing failed and the current access token has expired."""

    code = "refresh_failed"
    status = 502


class GrantNotAllowedError(OIDCError):
    """The environment does not allow this grant type (the password grant is off by default)."""

    code = "grant_not_allowed"
    status = 403


class StoreError(OIDCError):
    """The token store file is unreadable, corrupt or not owned by this user."""

    code = "store_error"
    status = 500


class ForbiddenError(OIDCError):
    """A kernel route was called without the server's kernel secret."""

    code = "forbidden"
    status = 403


class ServerUnreachableError(OIDCError):
    """A kernel could not reach the Jupyter server (stopped, or not the one that started it)."""

    code = "server_unreachable"
    status = 503


class InsufficientScopeError(OIDCError):
    """(kernel side) The access token lacks a scope the code needs; ``missing`` names it (RFC 6750 §3.1)."""

    code = "insufficient_scope"
    status = 403


ERRORS_BY_CODE: dict[str, type[OIDCError]] = {
    cls.code: cls
    for cls in (
        ConfigError,
        UnknownEnvironmentError,
        InvalidRequestError,
        DiscoveryFailedError,
        ProviderUnavailableError,
        StateMismatchError,
        BrowserMismatchError,
        RedirectMismatchError,
        LoginTimeoutError,
        LoginCancelledError,
        DeviceAccessDeniedError,
        DeviceCodeExpiredError,
        ProviderError,
        InvalidIdTokenError,
        IdentityMismatchError,
        NotAuthenticatedError,
        SessionExpiredError,
        RefreshFailedError,
        GrantNotAllowedError,
        StoreError,
        ForbiddenError,
        ServerUnreachableError,
        InsufficientScopeError,
    )
}
