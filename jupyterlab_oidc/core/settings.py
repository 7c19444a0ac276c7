"""Settings as plain data: one environment (``EnvironmentConfig``) and the whole configuration (``Settings``).

No traitlets here: ``server/config.py``'s ``OIDCLogin`` traits produce a :class:`Settings`
(``OIDCLogin.to_settings()``), and everything in ``core/`` reads that. Invalid
environments raise :class:`~jupyterlab_oidc.errors.ConfigError` naming the field; the
traits turn it into a ``TraitError`` at configuration time.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, UnknownEnvironmentError
from ..protocol import ENV_ENVIRONMENTS, ID_TOKEN_ALGORITHMS, LEEWAY_SECONDS

DEFAULT_SCOPES = "openid profile email offline_access"
ZITADEL_AUDIENCE_SCOPE = "urn:zitadel:iam:org:project:id:{project_id}:aud"

#: Endpoints an environment may set (hybrid and manual discovery).
ENDPOINT_FIELDS = (
    "authorization_url",
    "token_url",
    "userinfo_url",
    "jwks_uri",
    "revocation_url",
    "end_session_url",
    "device_authorization_url",
)
#: ``flow``: how a sign-in runs when the request names none (RFC 8628 device grant or the code flow).
FLOWS = ("code", "device")
#: ``par`` (RFC 9126): ``auto`` pushes the request when the provider offers PAR.
PAR_MODES = ("auto", "always", "never")
#: Fields an environment may set; anything else is a typo and is refused.
ENVIRONMENT_FIELDS = (
    "issuer",
    "client_id",
    "client_secret",
    "scopes",
    "project_ids",
    *ENDPOINT_FIELDS,
    "display_name",
    "allow_password_grant",
    "flow",
    "par",
)


@dataclass(frozen=True)
class EnvironmentConfig:
    """One provider + client pairing, as configured (endpoints may still need discovery)."""

    name: str
    client_id: str
    issuer: str = ""
    client_secret: str = field(default="", repr=False)
    scopes: tuple[str, ...] = tuple(DEFAULT_SCOPES.split())
    project_ids: dict[str, str] = field(default_factory=dict)
    endpoints: dict[str, str] = field(default_factory=dict)
    display_name: str = ""
    allow_password_grant: bool = False
    flow: str = "code"
    par: str = "auto"

    @property
    def discovery_mode(self) -> str:
        """``auto`` (issuer only), ``hybrid`` (issuer + overrides) or ``manual`` (no issuer)."""
        if not self.issuer:
            return "manual"
        return "hybrid" if self.endpoints else "auto"

    def scopes_for(self, application: str | None) -> list[str]:
        """Scopes to request; adds Zitadel's project audience scope when ``application`` maps."""
        scopes = list(self.scopes)
        if application:
            project_id = self.project_ids.get(application)
            if project_id is None:
                raise UnknownEnvironmentError(
                    f"Environment {self.name!r} has no application {application!r}; "
                    f"known applications: {', '.join(sorted(self.project_ids)) or 'none'}.",
                    environment=self.name,
                    application=application,
                )
            audience_scope = ZITADEL_AUDIENCE_SCOPE.format(project_id=project_id)
            if audience_scope not in scopes:
                scopes.append(audience_scope)
        return scopes

    def public_info(self) -> dict[str, Any]:
        """What the browser may see: never the client secret."""
        return {
            "name": self.name,
            "display_name": self.display_name or self.name,
            "issuer": self.issuer,
            "client_id": self.client_id,
            "scopes": list(self.scopes),
            "applications": sorted(self.project_ids),
            "discovery_mode": self.discovery_mode,
            "allow_password_grant": self.allow_password_grant,
            "flow": self.flow,
        }


def parse_environment(name: str, raw: Any) -> EnvironmentConfig:
    """Validate one entry of ``OIDCLogin.environments``; errors name the environment and field."""
    if not isinstance(raw, dict):
        raise ConfigError(f"OIDCLogin.environments[{name!r}] must be a dict, not {type(raw).__name__}")
    unknown = sorted(set(raw) - set(ENVIRONMENT_FIELDS))
    if unknown:
        raise ConfigError(
            f"OIDCLogin.environments[{name!r}] has unknown field(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(ENVIRONMENT_FIELDS)}"
        )
    client_id = str(raw.get("client_id") or "")
    if not client_id:
        raise ConfigError(f"OIDCLogin.environments[{name!r}] needs a client_id")
    issuer = str(raw.get("issuer") or "").rstrip("/")
    endpoints = {k: str(raw[k]) for k in ENDPOINT_FIELDS if raw.get(k)}
    if not issuer and not {"authorization_url", "token_url"} <= set(endpoints):
        raise ConfigError(
            f"OIDCLogin.environments[{name!r}] needs an issuer (discovery), or both "
            "authorization_url and token_url (manual mode)"
        )
    scopes = raw.get("scopes") or DEFAULT_SCOPES
    if isinstance(scopes, str):
        scopes = scopes.split()
    project_ids = raw.get("project_ids") or {}
    if not isinstance(project_ids, dict):
        raise ConfigError(f"OIDCLogin.environments[{name!r}].project_ids must map application → project id")
    allow_password_grant = raw.get("allow_password_grant", False)
    if not isinstance(allow_password_grant, bool):
        raise ConfigError(f"OIDCLogin.environments[{name!r}].allow_password_grant must be true or false")
    flow, par = raw.get("flow") or "code", raw.get("par") or "auto"
    if flow not in FLOWS:
        raise ConfigError(f"OIDCLogin.environments[{name!r}].flow must be one of {', '.join(FLOWS)}, not {flow!r}")
    if par not in PAR_MODES:
        raise ConfigError(f"OIDCLogin.environments[{name!r}].par must be one of {', '.join(PAR_MODES)}, not {par!r}")
    return EnvironmentConfig(
        name=name,
        client_id=client_id,
        issuer=issuer,
        client_secret=str(raw.get("client_secret") or ""),
        scopes=tuple(str(s) for s in scopes),
        project_ids={str(k): str(v) for k, v in project_ids.items()},
        endpoints=endpoints,
        display_name=str(raw.get("display_name") or ""),
        allow_password_grant=allow_password_grant,
        flow=flow,
        par=par,
    )


def environments_from_env(environ: dict[str, str] | os._Environ[str] = os.environ) -> dict[str, dict[str, Any]]:
    """Environments defined by environment variables (for container images)."""
    whole = environ.get(ENV_ENVIRONMENTS)
    if whole:
        try:
            parsed = json.loads(whole)
        except ValueError as e:
            raise ConfigError(f"JUPYTERLAB_OIDC_ENVIRONMENTS is not valid JSON: {e}") from None
        if not isinstance(parsed, dict):
            raise ConfigError("JUPYTERLAB_OIDC_ENVIRONMENTS must be a JSON object: name → settings")
        return parsed
    issuer = environ.get("JUPYTERLAB_OIDC_ISSUER")
    client_id = environ.get("JUPYTERLAB_OIDC_CLIENT_ID")
    if not (issuer and client_id):
        return {}
    one: dict[str, Any] = {"issuer": issuer, "client_id": client_id}
    if environ.get("JUPYTERLAB_OIDC_CLIENT_SECRET"):
        one["client_secret"] = environ["JUPYTERLAB_OIDC_CLIENT_SECRET"]
    if environ.get("JUPYTERLAB_OIDC_SCOPES"):
        one["scopes"] = environ["JUPYTERLAB_OIDC_SCOPES"]
    return {environ.get("JUPYTERLAB_OIDC_ENV") or "prod": one}


@dataclass
class Settings:
    """What the broker needs from ``c.OIDCLogin.*`` (see ``server/config.py`` for each one's help)."""

    environments: dict[str, Any] = field(default_factory=dict)
    default_environment: str = "prod"
    redirect_mode: str = "server"
    redirect_port: int = 4200
    redirect_uri: str = ""
    hub_user: str = ""
    hub_server_name: str = ""
    public_url: str = ""
    callback_timeout: float = 300.0
    refresh_margin: float = 60.0
    store: str = "memory"
    store_path: str = ""
    store_encryption_keys: list[str] = field(default_factory=list)
    require_verified_email: bool = True
    verify_jwt: bool = True
    kernel_refresh_token: bool = False
    leeway_seconds: float = LEEWAY_SECONDS
    http_timeout_seconds: float = 10.0
    jwks_cache_seconds: float = 3600.0
    id_token_algorithms: list[str] = field(default_factory=lambda: list(ID_TOKEN_ALGORITHMS))

    def environment(self, name: str | None) -> EnvironmentConfig:
        """The parsed environment ``name`` (or the default one)."""
        name = name or self.default_environment
        if not self.environments:
            raise ConfigError(
                "No OIDC environment is configured. Set c.OIDCLogin.environments in "
                "jupyter_server_config.py, or JUPYTERLAB_OIDC_ISSUER and JUPYTERLAB_OIDC_CLIENT_ID."
            )
        if name not in self.environments:
            raise UnknownEnvironmentError(
                f"Unknown environment {name!r}; configured: {', '.join(sorted(self.environments))}.",
                environment=name,
            )
        return parse_environment(name, self.environments[name])

    def all_environments(self) -> list[EnvironmentConfig]:
        """Every configured environment, parsed."""
        return [parse_environment(n, raw) for n, raw in self.environments.items()]


def as_settings(settings: Any) -> Settings:
    """``settings`` itself, or the :class:`Settings` an ``OIDCLogin`` (anything with ``to_settings``) produces."""
    return settings if isinstance(settings, Settings) else settings.to_settings()
