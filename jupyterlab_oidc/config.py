"""Server configuration: the ``OIDCLogin`` traitlets class and the per-environment settings.

Set in ``jupyter_server_config.py`` as ``c.OIDCLogin.<name>`` or on the command line as
``--OIDCLogin.<name>=``. Container images can use environment variables instead; config
files win over them (the variables are only read in ``@default`` methods).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from jupyter_core.paths import jupyter_data_dir
from traitlets import Bool, Dict, Enum, Float, Int, List, TraitError, Unicode, default, validate
from traitlets.config import Configurable

from .errors import ConfigError, UnknownEnvironmentError

DEFAULT_SCOPES = "openid profile email offline_access"
ZITADEL_AUDIENCE_SCOPE = "urn:zitadel:iam:org:project:id:{project_id}:aud"

#: Fields an environment may set; anything else is a typo and is refused.
ENVIRONMENT_FIELDS = (
    "issuer",
    "client_id",
    "client_secret",
    "scopes",
    "project_ids",
    "authorization_url",
    "token_url",
    "userinfo_url",
    "jwks_uri",
    "revocation_url",
    "end_session_url",
    "display_name",
    "allow_password_grant",
)
ENDPOINT_FIELDS = (
    "authorization_url",
    "token_url",
    "userinfo_url",
    "jwks_uri",
    "revocation_url",
    "end_session_url",
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
        }


def parse_environment(name: str, raw: Any) -> EnvironmentConfig:
    """Validate one entry of ``OIDCLogin.environments``; errors name the environment and field."""
    if not isinstance(raw, dict):
        raise TraitError(f"OIDCLogin.environments[{name!r}] must be a dict, not {type(raw).__name__}")
    unknown = sorted(set(raw) - set(ENVIRONMENT_FIELDS))
    if unknown:
        raise TraitError(
            f"OIDCLogin.environments[{name!r}] has unknown field(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(ENVIRONMENT_FIELDS)}"
        )
    client_id = str(raw.get("client_id") or "")
    if not client_id:
        raise TraitError(f"OIDCLogin.environments[{name!r}] needs a client_id")
    issuer = str(raw.get("issuer") or "").rstrip("/")
    endpoints = {k: str(raw[k]) for k in ENDPOINT_FIELDS if raw.get(k)}
    if not issuer and not {"authorization_url", "token_url"} <= set(endpoints):
        raise TraitError(
            f"OIDCLogin.environments[{name!r}] needs an issuer (discovery), or both "
            "authorization_url and token_url (manual mode)"
        )
    scopes = raw.get("scopes") or DEFAULT_SCOPES
    if isinstance(scopes, str):
        scopes = scopes.split()
    project_ids = raw.get("project_ids") or {}
    if not isinstance(project_ids, dict):
        raise TraitError(f"OIDCLogin.environments[{name!r}].project_ids must map application → project id")
    allow_password_grant = raw.get("allow_password_grant", False)
    if not isinstance(allow_password_grant, bool):
        raise TraitError(f"OIDCLogin.environments[{name!r}].allow_password_grant must be true or false")
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
    )


def environments_from_env(environ: dict[str, str] | os._Environ[str] = os.environ) -> dict[str, dict[str, Any]]:
    """Environments defined by environment variables (for container images)."""
    whole = environ.get("JUPYTERLAB_OIDC_ENVIRONMENTS")
    if whole:
        try:
            parsed = json.loads(whole)
        except ValueError as e:
            raise TraitError(f"JUPYTERLAB_OIDC_ENVIRONMENTS is not valid JSON: {e}") from None
        if not isinstance(parsed, dict):
            raise TraitError("JUPYTERLAB_OIDC_ENVIRONMENTS must be a JSON object: name → settings")
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


class OIDCLogin(Configurable):
    """Sign-in to OpenID Connect providers from JupyterLab (Authorization Code + PKCE)."""

    environments = Dict(
        config=True,
        help="""Providers users can sign in to, by environment name (``prod``, ``dev``, ...).

        Each value is a dict with ``issuer`` and ``client_id`` (required), and optionally
        ``client_secret`` (confidential clients), ``scopes`` (string or list, default
        ``openid profile email offline_access``), ``project_ids`` (application name →
        Zitadel project id; adds ``urn:zitadel:iam:org:project:id:{id}:aud``),
        ``display_name``, explicit endpoints ``authorization_url``, ``token_url``,
        ``userinfo_url``, ``jwks_uri``, ``revocation_url``, ``end_session_url``, and
        ``allow_password_grant`` (default false: the legacy resource-owner password grant,
        `RFC 9700 <https://www.rfc-editor.org/rfc/rfc9700>`_ advises against it; turn it on
        only for providers that require it).

        Discovery (`OpenID Connect Discovery 1.0
        <https://openid.net/specs/openid-connect-discovery-1_0.html>`_) is *auto* with an
        issuer only, *hybrid* when endpoints are given too (they win), and *manual* with no
        issuer (then ``authorization_url`` and ``token_url`` are required, and ``jwks_uri``
        unless :attr:`verify_jwt` is off).

        Default: from ``JUPYTERLAB_OIDC_ENVIRONMENTS`` (JSON), else one environment from
        ``JUPYTERLAB_OIDC_ISSUER`` / ``JUPYTERLAB_OIDC_CLIENT_ID`` /
        ``JUPYTERLAB_OIDC_CLIENT_SECRET`` / ``JUPYTERLAB_OIDC_SCOPES`` named
        ``JUPYTERLAB_OIDC_ENV`` (default ``prod``).
        """,
    )

    default_environment = Unicode(
        config=True,
        help="""Environment used when a request names none.

        Default: ``JUPYTERLAB_OIDC_ENV``, else ``SATORBIS_ENV`` (compatibility with
        ``satorbis_kit.auth``), else ``prod``; when that is not configured and exactly one
        environment is, that one.
        """,
    )

    redirect_mode = Enum(
        ["server", "local"],
        default_value="server",
        config=True,
        help="""Where the provider sends the browser back after sign-in.

        ``server``: ``{public_url}{base_url}oidc/callback`` on this Jupyter server (works on a
        laptop, behind JupyterHub and on Binder). ``local``: a listener on
        ``http://localhost:{redirect_port}/callback`` started for the pending sign-in only
        (compatible with clients registered for ``satorbis_kit.auth``); it sends the browser on
        to this server's callback, where the sign-in's browser binding is checked.

        With more than one environment each gets its own path, ``…/callback/{environment}``
        (mix-up defence); register one redirect URI per environment with its provider.
        """,
    )

    redirect_port = Int(
        4200,
        config=True,
        help="Port of the local callback listener when :attr:`redirect_mode` is ``local``.",
    )

    redirect_uri = Unicode(
        "",
        config=True,
        help="""Redirect URI sent to the provider, overriding the computed one.

        Use it when the URI registered with the provider cannot be derived from
        :attr:`public_url` (for example a hub-wide callback service). Must end up at this
        server's ``oidc/callback`` route (or the local listener in ``local`` mode). With more
        than one environment it must contain ``{environment}``, replaced by the environment's
        name (``https://hub.example.com/services/oidc-callback/callback/{environment}``), so
        that each environment has its own redirect URI; a shared one is refused.

        Default: ``JUPYTERLAB_OIDC_REDIRECT_URI`` (under JupyterHub, the callback service:
        ``https://hub.example.com/services/oidc-callback/callback/{environment}``, or
        ``…/oidc-callback/`` with a single environment; see docs/jupyterhub.md).
        """,
    )

    hub_user = Unicode(
        config=True,
        help="""JupyterHub user this server belongs to; encoded into ``state`` so a hub-wide
        callback service (``python -m jupyterlab_oidc.hub``) can forward the provider's
        redirect to ``/user/{name}/oidc/callback``; the service forwards it only for the
        hub user whose browser brings it.

        Default: ``JUPYTERHUB_USER`` (set by JupyterHub for single-user servers).
        """,
    )

    public_url = Unicode(
        "",
        config=True,
        help="""Scheme and host the browser uses to reach this server (``https://hub.example.com``).

        Default: the scheme and host of ``JUPYTERHUB_PUBLIC_URL`` when set; otherwise taken
        from the request that starts the sign-in (honouring ``X-Forwarded-Proto``/``Host``
        only when the server trusts them, as jupyter_server does).
        """,
    )

    callback_timeout = Float(
        300,
        config=True,
        help="Seconds a started sign-in waits for the provider's callback before ``login_timeout``.",
    )

    refresh_margin = Float(
        60,
        config=True,
        help="""Seconds before expiry at which access tokens are refreshed in the background.

        Capped at half of the token's lifetime, so short-lived tokens (10 s in tests) are
        refreshed once per lifetime, not continuously.
        """,
    )

    store = Enum(
        ["memory", "file"],
        default_value="memory",
        config=True,
        help="""Where sessions (including refresh tokens) are kept.

        ``memory``: lost when the server stops. ``file``: :attr:`store_path`, readable by
        the owner only (0600), replaced atomically, restored when the server starts.
        """,
    )

    store_path = Unicode(
        config=True,
        help="File used when :attr:`store` is ``file``. Default: ``{jupyter_data_dir}/jupyterlab_oidc/sessions.json``.",
    )

    require_verified_email = Bool(
        True,
        config=True,
        help="""Accept an email only when the provider says it is verified: only the JSON
        ``email_verified: true`` passes; ``false``, a missing claim or a string such as
        ``"true"`` is an identity mismatch.

        Turn off only for providers that never send ``email_verified`` or never verify email
        addresses.
        """,
    )

    verify_jwt = Bool(
        True,
        config=True,
        help="""Verify id_tokens (signature against the JWKS, ``iss``, ``aud``, ``azp``, ``exp``,
        ``iat``, ``nbf``, ``nonce``). Turning this off is logged as a warning on every sign-in.
        """,
    )

    kernel_refresh_token = Bool(
        False,
        config=True,
        help="""Also hand the refresh token to kernels. Off by default: the refresh token never
        leaves the server extension.
        """,
    )

    leeway_seconds = Float(
        180,
        config=True,
        help="Clock skew tolerated between this server and the provider when checking ``exp``, ``iat`` and ``nbf``.",
    )

    http_timeout_seconds = Float(
        10,
        config=True,
        help="Timeout for each HTTP request to the provider.",
    )

    jwks_cache_seconds = Float(
        3600,
        config=True,
        help="How long a provider's discovery document and JWKS are cached (an unknown ``kid`` refetches the JWKS, at most once per 60 s per environment).",
    )

    id_token_algorithms = List(
        Unicode(),
        default_value=["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"],
        config=True,
        help="Signature algorithms accepted for id_tokens. ``none`` and HMAC (``HS*``) are always refused.",
    )

    @default("environments")
    def _environments_from_env(self) -> dict[str, Any]:
        return environments_from_env()

    @default("default_environment")
    def _default_environment_from_env(self) -> str:
        name = os.environ.get("JUPYTERLAB_OIDC_ENV") or os.environ.get("SATORBIS_ENV") or "prod"
        if name not in self.environments and len(self.environments) == 1:
            return next(iter(self.environments))
        return name

    @default("hub_user")
    def _hub_user_from_env(self) -> str:
        return os.environ.get("JUPYTERHUB_USER", "")

    @default("redirect_uri")
    def _redirect_uri_from_env(self) -> str:
        return os.environ.get("JUPYTERLAB_OIDC_REDIRECT_URI", "")

    @default("public_url")
    def _public_url_from_env(self) -> str:
        # JupyterHub sets the public URL of this server, path included (/user/{name}/).
        public = urlsplit(os.environ.get("JUPYTERHUB_PUBLIC_URL", ""))
        return f"{public.scheme}://{public.netloc}" if public.scheme and public.netloc else ""

    @default("store_path")
    def _default_store_path(self) -> str:
        return os.path.join(jupyter_data_dir(), "jupyterlab_oidc", "sessions.json")

    @validate("environments")
    def _validate_environments(self, proposal: Any) -> dict[str, Any]:
        value = proposal["value"]
        for name, raw in value.items():
            parse_environment(name, raw)
        return value

    @validate("id_token_algorithms")
    def _validate_algorithms(self, proposal: Any) -> list[str]:
        refused = [a for a in proposal["value"] if a == "none" or a.upper().startswith("HS")]
        if refused:
            raise TraitError(f"OIDCLogin.id_token_algorithms may not contain {', '.join(refused)}")
        return proposal["value"]

    @validate("callback_timeout", "refresh_margin", "http_timeout_seconds")
    def _validate_positive(self, proposal: Any) -> float:
        if proposal["value"] <= 0:
            raise TraitError(f"OIDCLogin.{proposal['trait'].name} must be > 0")
        return proposal["value"]

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
