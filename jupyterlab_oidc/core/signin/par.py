"""Pushed authorization requests (RFC 9126).

With PAR the authorization parameters (PKCE challenge, state, nonce, login_hint, scopes,
redirect URI) go to the provider's ``pushed_authorization_request_endpoint`` in a POST
authenticated as the client (``http.client_auth``, the one rule); the browser is sent to the
authorization endpoint with only ``client_id`` and the ``request_uri`` the provider answered.
Nothing of the request is in the URL, so nobody can alter it on the way, and it cannot grow
too long for a browser.

Per environment ``par``: ``auto`` (the default) pushes when the provider advertises the
endpoint, ``always`` requires it (a provider without one is a ``ConfigError`` naming the
field), ``never`` sends the parameters in the URL. A provider that advertises
``require_pushed_authorization_requests`` gets PAR whatever ``auto`` says, and ``never`` is
then a ``ConfigError``.

A ``request_uri`` is short-lived and single use, so each browser sent to the provider (the
``POST login`` answer, each opening of a start link) gets a fresh push.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from ...errors import ConfigError
from ..discovery import ProviderMetadata
from ..endpoint import TokenEndpoint
from ..settings import EnvironmentConfig
from .pending import PendingLogin

if TYPE_CHECKING:
    from .flow import SignIns


def uses_par(env: EnvironmentConfig, metadata: ProviderMetadata) -> bool:
    """Whether ``env``'s sign-ins push their authorization requests; ``ConfigError`` when they cannot."""
    offered = bool(metadata.pushed_authorization_request_url)
    required = metadata.require_pushed_authorization_requests
    if env.par == "never":
        if required:
            raise ConfigError(
                f"Environment {env.name!r} has par: never, but the provider requires pushed authorization "
                "requests (require_pushed_authorization_requests). Set par to auto.",
                environment=env.name,
                field="par",
            )
        return False
    if not offered and (env.par == "always" or required):
        why = "par: always" if env.par == "always" else "the provider requires pushed authorization requests"
        raise ConfigError(
            f"Environment {env.name!r}: {why}, but the provider advertises no "
            "pushed_authorization_request_endpoint. Set par to auto or never, or check the issuer.",
            environment=env.name,
            field="par",
        )
    return offered


async def authorization_url(
    endpoint: TokenEndpoint,
    env: EnvironmentConfig,
    metadata: ProviderMetadata,
    pending: PendingLogin,
    redirect_uri: str | None = None,
) -> str:
    """The provider URL for a browser coming back to ``redirect_uri``: pushed first when ``env`` uses PAR."""
    if not uses_par(env, metadata):
        return pending.authorization_url(redirect_uri)
    params = {**pending.authorization_params, "redirect_uri": redirect_uri or pending.redirect_uri}
    pushed = await endpoint.pushed_authorization_request(env, metadata, params)
    separator = "&" if "?" in pending.authorization_endpoint else "?"
    query = urlencode({"client_id": env.client_id, "request_uri": pushed["request_uri"]})
    return f"{pending.authorization_endpoint}{separator}{query}"


async def browser_url(signins: SignIns, pending: PendingLogin, origin: str) -> str:
    """The provider URL for the browser at ``origin`` that opened a sign-in's start link."""
    env = signins.settings.environment(pending.environment)
    metadata = await signins.discovery.metadata(env)
    return await authorization_url(
        signins.endpoint, env, metadata, pending, signins.redirect_uri(origin, pending.environment)
    )
