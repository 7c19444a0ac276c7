"""Redirect URIs: one per environment, so a code can only come back for the sign-in it was for.

All environments sharing one redirect URI allow a mix-up (RFC 9700 §4.4): a hostile provider
configured as environment B can obtain a code for the honest provider A (whose users it
sends there) and have it redeemed. So with several environments each one gets its own path,
``…/oidc/callback/{environment}``, and the callback checks that the path names the pending
sign-in's environment. With a single environment the legacy ``…/oidc/callback`` stays, so
providers registered with it keep working (there is nothing to mix up).

No tornado in here.
"""

from __future__ import annotations

from urllib.parse import quote

from ...errors import ConfigError

PLACEHOLDER = "{environment}"


def environment_segment(name: str) -> str:
    """The environment as one URL path segment."""
    return quote(name, safe="")


def redirect_uri(
    *,
    environment: str,
    environments: int,
    configured: str,
    mode: str,
    port: int,
    public: str,
    base_url: str,
) -> tuple[str, str | None]:
    """The redirect URI for ``environment`` and the environment its path names (None: legacy path).

    ``configured`` is ``c.OIDCLogin.redirect_uri`` (may hold ``{environment}``), ``public``
    the scheme and host the browser uses, ``environments`` how many are configured.
    """
    segment = environment_segment(environment)
    if configured:
        if PLACEHOLDER in configured:
            return configured.replace(PLACEHOLDER, segment), environment
        if environments > 1:
            raise ConfigError(
                f"c.OIDCLogin.redirect_uri ({configured}) is shared by {environments} environments, which "
                "lets one provider obtain codes for another (mix-up). Put {environment} in it, e.g. "
                "https://hub.example.com/services/oidc-callback/callback/{environment}, and register "
                "one redirect URI per environment with its provider.",
                environment=environment,
            )
        return configured, None
    per_environment = environments > 1
    suffix = f"/{segment}" if per_environment else ""
    if mode == "local":
        uri = f"http://localhost:{port}/callback{suffix}"
    else:
        uri = f"{public.rstrip('/')}{base_url}oidc/callback{suffix}"
    return uri, environment if per_environment else None
