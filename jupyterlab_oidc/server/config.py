"""Server configuration: the ``OIDCLogin`` traitlets class and the per-environment settings.

Set in ``jupyter_server_config.py`` as ``c.OIDCLogin.<name>`` or on the command line as
``--OIDCLogin.<name>=``. Container images can use environment variables instead; config
files win over them (the variables are only read in ``@default`` methods).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any
from urllib.parse import quote, urlsplit

from jupyter_core.paths import jupyter_data_dir
from traitlets import Bool, Dict, Enum, Float, Int, List, TraitError, Unicode, default, validate
from traitlets.config import Configurable

from ..core.settings import EnvironmentConfig, Settings, environments_from_env, parse_environment
from ..core.store import fernet_keys, parse_keys
from ..errors import ConfigError
from ..protocol import ID_TOKEN_ALGORITHMS, LEEWAY_SECONDS


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
        ``userinfo_url``, ``jwks_uri``, ``revocation_url``, ``end_session_url``,
        ``device_authorization_url``, ``flow`` (``code``, the default, or ``device``: a
        sign-in that names no flow is a device sign-in, RFC 8628), ``par`` (``auto``, the
        default: pushed authorization requests, RFC 9126, when the provider offers them;
        ``always``; ``never``), and
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

    hub_server_name = Unicode(
        config=True,
        help="""Name of this JupyterHub named server (``/user/{name}/{server}/``); empty for the
        user's default server. Encoded into ``state`` next to ``hub_user`` so the callback
        service forwards to this very server.

        Default: ``JUPYTERHUB_SERVER_NAME`` (set by JupyterHub for single-user servers).
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
        help="""File used when :attr:`store` is ``file``. Default:
        ``{jupyter_data_dir}/jupyterlab_oidc/sessions.json``; for a JupyterHub named server
        (:attr:`hub_server_name`) ``sessions-{server}.json`` beside it, so the servers of one
        user, which share a home directory, keep their own sessions.""",
    )

    store_encryption_keys = List(
        Unicode(),
        config=True,
        help="""Keys that encrypt the :attr:`store_path` file (MultiFernet from ``cryptography``).

        New writes use the first key; reads accept any, so rotate by putting a new key first
        and keeping the old one until the store was written once. Each key is a Fernet key
        (``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``)
        or 64 hex digits (``openssl rand -hex 32``). A plaintext store is encrypted on its
        next write; an encrypted one with no matching key is reported and left as it is.

        Default: ``JUPYTERLAB_OIDC_CRYPT_KEY``, several keys separated by ``;`` (like
        ``JUPYTERHUB_CRYPT_KEY``); without keys the file is plaintext (still mode 0600).
        """,
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
        LEEWAY_SECONDS,
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
        help="How long a provider's discovery document and JWKS are cached (an unknown ``kid`` "
        "refetches the JWKS, at most once per 60 s per environment).",
    )

    id_token_algorithms = List(
        Unicode(),
        default_value=list(ID_TOKEN_ALGORITHMS),
        config=True,
        help="Signature algorithms accepted for id_tokens. ``none`` and HMAC (``HS*``) are always refused.",
    )

    @default("environments")
    def _environments_from_env(self) -> dict[str, Any]:
        try:
            return environments_from_env()
        except ConfigError as e:
            raise TraitError(e.message) from None

    @default("default_environment")
    def _default_environment_from_env(self) -> str:
        name = os.environ.get("JUPYTERLAB_OIDC_ENV") or os.environ.get("SATORBIS_ENV") or "prod"
        if name not in self.environments and len(self.environments) == 1:
            return next(iter(self.environments))
        return name

    @default("hub_user")
    def _hub_user_from_env(self) -> str:
        return os.environ.get("JUPYTERHUB_USER", "")

    @default("hub_server_name")
    def _hub_server_name_from_env(self) -> str:
        return os.environ.get("JUPYTERHUB_SERVER_NAME", "")

    @default("redirect_uri")
    def _redirect_uri_from_env(self) -> str:
        return os.environ.get("JUPYTERLAB_OIDC_REDIRECT_URI", "")

    @default("public_url")
    def _public_url_from_env(self) -> str:
        # JupyterHub sets the public URL of this server, path included (/user/{name}/).
        public = urlsplit(os.environ.get("JUPYTERHUB_PUBLIC_URL", ""))
        return f"{public.scheme}://{public.netloc}" if public.scheme and public.netloc else ""

    @default("store_encryption_keys")
    def _store_keys_from_env(self) -> list[str]:
        return _checked_keys(os.environ.get("JUPYTERLAB_OIDC_CRYPT_KEY", ""), "JUPYTERLAB_OIDC_CRYPT_KEY")

    @validate("store_encryption_keys")
    def _validate_store_keys(self, proposal: Any) -> list[str]:
        return _checked_keys(proposal["value"])

    @default("store_path")
    def _default_store_path(self) -> str:
        server = self.hub_server_name
        name = f"sessions-{quote(server, safe='')}.json" if server else "sessions.json"
        return os.path.join(jupyter_data_dir(), "jupyterlab_oidc", name)

    @validate("environments")
    def _validate_environments(self, proposal: Any) -> dict[str, Any]:
        value = proposal["value"]
        for name, raw in value.items():
            try:
                env = parse_environment(name, raw)
            except ConfigError as e:
                raise TraitError(e.message) from None
            _check_keys_known(env, self.verify_jwt)
        return value

    @validate("verify_jwt")
    def _validate_verify_jwt(self, proposal: Any) -> bool:
        if proposal["value"]:
            for env in self.all_environments():
                _check_keys_known(env, True)
        return bool(proposal["value"])

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

    def to_settings(self) -> Settings:
        """The plain settings ``core/`` reads (a snapshot of the traits now)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(Settings)}
        values["environments"] = dict(values["environments"])
        values["id_token_algorithms"] = list(values["id_token_algorithms"])
        values["store_encryption_keys"] = list(values["store_encryption_keys"])
        return Settings(**values)

    def environment(self, name: str | None) -> EnvironmentConfig:
        """The parsed environment ``name`` (or the default one)."""
        return self.to_settings().environment(name)

    def all_environments(self) -> list[EnvironmentConfig]:
        """Every configured environment, parsed."""
        return self.to_settings().all_environments()


def _checked_keys(value: Any, variable: str = "") -> list[str]:
    """The keys of ``store_encryption_keys`` (a list, or ``;``-separated); an invalid one is a TraitError."""
    keys = parse_keys(value)
    try:
        fernet_keys(keys)
    except ConfigError as e:
        raise TraitError(f"{e.message} (from {variable})" if variable else e.message) from None
    return keys


def _check_keys_known(env: EnvironmentConfig, verify_jwt: bool) -> None:
    """Manual mode (no issuer) needs ``jwks_uri`` to verify id_tokens, unless ``verify_jwt`` is off."""
    if verify_jwt and not env.issuer and not env.endpoints.get("jwks_uri"):
        raise TraitError(
            f"Environment {env.name!r} has no jwks_uri, so id_tokens cannot be verified. Set jwks_uri in "
            f"OIDCLogin.environments[{env.name!r}], or turn OIDCLogin.verify_jwt off."
        )
