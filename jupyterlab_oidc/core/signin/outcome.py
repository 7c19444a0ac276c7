"""What a sign-in's answer is checked for before the code exchange, and how its outcome is audited.

No tornado in here; ``flow.py`` calls these.
"""

from __future__ import annotations

import time

from ...errors import LoginCancelledError, LoginTimeoutError, OIDCError, ProviderError
from ..audit import Audit
from ..discovery import ProviderMetadata
from ..settings import EnvironmentConfig, Settings
from .pending import PendingLogin


def check_error(params: dict[str, str]) -> None:
    if "error" in params:
        description = params.get("error_description")
        raise ProviderError(
            f"The provider refused the sign-in: {params['error']}" + (f" ({description})" if description else ""),
            provider_error=params["error"],
        )


def check_iss(params: dict[str, str], env: EnvironmentConfig, metadata: ProviderMetadata) -> None:
    """RFC 9207: the authorization response must come from the issuer we sent the user to."""
    iss = params.get("iss")
    if iss is None and metadata.iss_parameter_supported:
        iss = ""
    # Exactly the issuer the discovery document names (may end in "/"), not normalised.
    if iss is not None and env.issuer and iss != metadata.issuer:
        raise ProviderError(
            f"The sign-in answer came from issuer {iss!r}, not {metadata.issuer!r} (RFC 9207 mix-up "
            "defence). Nothing was stored.",
            provider_error="issuer_mismatch",
        )


def audit_result(settings: Settings, audit: Audit, pending: PendingLogin) -> None:
    """The sign-in's outcome (call once, as its result is set): succeeded, refused or abandoned."""
    if not pending.result.done() or pending.result.cancelled():
        return
    env = settings.environment(pending.environment)
    duration = time.time() - (pending.expires_at - settings.callback_timeout)
    error = pending.result.exception()
    if error is None:
        audit.sign_in(
            "succeeded",
            env.name,
            pending.application,
            env.issuer,
            session=pending.result.result(),
            duration=duration,
        )
        return
    code = error.code if isinstance(error, OIDCError) else "oidc_error"
    action = "abandoned" if isinstance(error, (LoginCancelledError, LoginTimeoutError)) else "refused"
    audit.sign_in(
        action,
        env.name,
        pending.application,
        env.issuer,
        email=pending.login_hint,
        duration=duration,
        error_code=code,
    )


def audit_refused_callback(settings: Settings, audit: Audit, error: OIDCError, pending: PendingLogin | None) -> None:
    """A callback refused before the code exchange (the sign-in, if known, still waits)."""
    env = pending.environment if pending else str(error.details.get("environment") or "")
    issuer = settings.environment(env).issuer if env in settings.environments else ""
    audit.sign_in(
        "refused",
        env,
        pending.application if pending else None,
        issuer,
        email=pending.login_hint if pending else "",
        error_code=error.code,
    )
