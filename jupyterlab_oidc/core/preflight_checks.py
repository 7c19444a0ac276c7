"""The checks of the preflight report (see ``preflight.py``), one function per line of it."""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..errors import OIDCError
from ..protocol import discovery_url
from .discovery import DOCUMENT_FIELDS, fetch_document, fetch_key_set, issuer_matches_configured
from .http import ProviderHTTP
from .settings import ZITADEL_AUDIENCE_SCOPE, EnvironmentConfig, Settings
from .signin.device import DEVICE_CODE_GRANT

PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skip"
#: Check names, in the order they run (stable: the CLI, the panel and tests use them).
CHECKS = (
    "configuration",
    "client_id",
    "discovery",
    "issuer",
    "endpoints",
    "jwks",
    "pkce",
    "scopes",
    "grant_types",
    "redirect_uri",
    "registration",
)
TITLES = {
    "configuration": "Configuration",
    "client_id": "Client id",
    "discovery": "Discovery document",
    "issuer": "Issuer",
    "endpoints": "Endpoints",
    "jwks": "Provider keys (JWKS)",
    "pkce": "PKCE S256",
    "scopes": "Requested scopes",
    "grant_types": "Grant types",
    "redirect_uri": "Redirect URI",
    "registration": "Client registration",
}
#: Standard OpenID Connect scopes every provider understands, listed or not.
_ZITADEL_PREFIX = ZITADEL_AUDIENCE_SCOPE.split("{", 1)[0]


@dataclass
class Check:
    """One line of the report."""

    name: str
    outcome: str
    message: str
    hint: str = ""

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "title": TITLES[self.name], **dataclasses.asdict(self)}


@dataclass
class _Found:
    """What the checks learnt so far."""

    document: dict[str, Any] | None = None
    endpoints: dict[str, str] = dataclasses.field(default_factory=dict)


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _client_id(env: EnvironmentConfig) -> Check:
    if not env.client_id:
        return Check(
            "client_id",
            FAIL,
            "No client id is set.",
            "Set client_id to the id of the application registered with your provider for JupyterLab "
            "(JUPYTERLAB_OIDC_CLIENT_ID in a container image).",
        )
    kind = "confidential client (client secret set)" if env.client_secret else "public client (no secret, PKCE)"
    return Check("client_id", PASS, f"{env.client_id} · {kind}")


async def _discovery(http: ProviderHTTP, env: EnvironmentConfig, found: _Found) -> list[Check]:
    if not env.issuer:
        reason = "Manual mode: no issuer, endpoints come from the configuration."
        return [Check("discovery", SKIP, reason), Check("issuer", SKIP, reason)]
    url = discovery_url(env.issuer)
    try:
        document = await fetch_document(http, env.issuer, "preflight discovery")
    except OIDCError as e:
        return [
            Check(
                "discovery",
                FAIL,
                f"Could not read {url}: {e.message}",
                f"Check the issuer URL (curl {url}) and that this Jupyter server can reach it (proxy, firewall, DNS).",
            ),
            Check("issuer", SKIP, "Needs the discovery document."),
        ]
    found.document = document
    checks = [Check("discovery", PASS, f"Fetched {url}.")]
    named = str(document.get("issuer", ""))
    if not issuer_matches_configured(named, env.issuer):
        checks.append(
            Check(
                "issuer",
                FAIL,
                f"The discovery document names issuer {named!r}, but {env.issuer!r} is configured.",
                f"Set issuer to exactly {named!r}: id_tokens carry this value, and it must match "
                "character for character (scheme, host, port, path).",
            )
        )
    else:
        checks.append(Check("issuer", PASS, f"{named} (matches the configuration)."))
    return checks


def _endpoints(settings: Settings, env: EnvironmentConfig, found: _Found) -> Check:
    document = found.document or {}
    endpoints = {
        field: str(env.endpoints.get(field) or document.get(key) or "") for field, key in DOCUMENT_FIELDS.items()
    }
    found.endpoints = endpoints
    required = ["authorization_url", "token_url"] + (["jwks_uri"] if settings.verify_jwt else [])
    missing = [f for f in required if not endpoints[f]]
    overridden = sorted(env.endpoints)
    listed = ", ".join(f"{f} {u}" for f, u in endpoints.items() if u)
    suffix = f" (from the configuration: {', '.join(overridden)})" if overridden else ""
    if missing:
        return Check(
            "endpoints",
            FAIL,
            f"Missing: {', '.join(missing)}.{suffix}",
            f"Set {', '.join(missing)} in the environment (hybrid or manual mode), or fix the provider's discovery.",
        )
    insecure = [f for f, u in endpoints.items() if u and urlsplit(u).scheme != "https" and not _is_loopback(u)]
    if insecure:
        return Check(
            "endpoints",
            WARN,
            f"Plain http on a non-loopback host: {', '.join(insecure)}. {listed}{suffix}",
            "Use https endpoints: tokens travel over these connections.",
        )
    if not endpoints["userinfo_url"]:
        return Check(
            "endpoints",
            WARN,
            f"No userinfo endpoint. {listed}{suffix}",
            "The email must then be in the id_token (Zitadel: 'User Info inside ID Token'), or set userinfo_url.",
        )
    absent = [f for f in ("revocation_url", "end_session_url") if not endpoints[f]]
    note = f" Not offered: {', '.join(absent)} (sign-out cannot revoke or end the provider session)." if absent else ""
    return Check("endpoints", PASS, f"{listed}{suffix}.{note}")


async def _jwks(settings: Settings, http: ProviderHTTP, found: _Found) -> Check:
    from joserfc.errors import JoseError

    if not settings.verify_jwt:
        return Check("jwks", WARN, "verify_jwt is off: id_tokens are not verified.", "Turn verify_jwt back on.")
    url = found.endpoints.get("jwks_uri")
    if not url:
        return Check("jwks", SKIP, "No jwks_uri.")
    try:
        keys = await fetch_key_set(http, url, "preflight jwks")
    except OIDCError as e:
        return Check("jwks", FAIL, f"Could not read {url}: {e.message}", "Check jwks_uri and that it is reachable.")
    except (JoseError, ValueError, TypeError, KeyError) as e:
        return Check("jwks", FAIL, f"{url} is not a valid JWKS ({type(e).__name__}).", "Check jwks_uri.")
    signing = [k for k in keys.keys if k.get("use") in (None, "sig")]
    if not signing:
        return Check(
            "jwks", FAIL, f"{url} holds no signing keys.", "The provider must publish its id_token signing keys."
        )
    allowed = list(settings.id_token_algorithms)
    advertised = list((found.document or {}).get("id_token_signing_alg_values_supported") or [])
    usable = [a for a in advertised if a in allowed] if advertised else allowed
    described = ", ".join(f"{k.key_type} {k.get('alg') or ''} kid {k.kid or '-'}".replace("  ", " ") for k in signing)
    if advertised and not usable:
        return Check(
            "jwks",
            FAIL,
            f"The provider signs id_tokens with {', '.join(advertised)}; none is allowed here ({', '.join(allowed)}).",
            "Configure the client at the provider to sign id_tokens with RS256 or ES256 (HS* and none are refused).",
        )
    algs = f"; id_tokens signed with {', '.join(usable)}" if advertised else ""
    return Check("jwks", PASS, f"{len(signing)} signing key(s): {described}{algs}.")


def _pkce(found: _Found) -> Check:
    if found.document is None:
        return Check(
            "pkce",
            WARN,
            "No discovery document, so PKCE support is unknown.",
            "Make sure the provider accepts PKCE with S256: every sign-in uses it.",
        )
    methods = found.document.get("code_challenge_methods_supported")
    if not methods:
        return Check(
            "pkce",
            WARN,
            "The provider does not say which PKCE methods it supports.",
            "Every sign-in sends an S256 code challenge; make sure the provider accepts it.",
        )
    if "S256" not in methods:
        return Check(
            "pkce",
            FAIL,
            f"The provider supports PKCE {', '.join(methods)}, not S256.",
            "Enable PKCE with S256 for this client at the provider: sign-in refuses to run without it.",
        )
    return Check("pkce", PASS, f"Supported: {', '.join(methods)}.")


def _scopes(requested: list[str], found: _Found) -> Check:
    if "openid" not in requested:
        return Check("scopes", FAIL, f"'openid' is not requested ({' '.join(requested)}).", "Add 'openid' to scopes.")
    supported = (found.document or {}).get("scopes_supported")
    if not supported:
        return Check("scopes", WARN, f"Requested {' '.join(requested)}; the provider does not list its scopes.")
    project = [s for s in requested if s.startswith(_ZITADEL_PREFIX)]
    unknown = [s for s in requested if s not in supported and s not in project]
    if unknown:
        # OpenID Connect Discovery §3 lets a provider leave scopes out of scopes_supported
        # (stock Ory Hydra lists only offline_access, offline and openid): a warning, since a
        # sign-in may well work; a provider that refuses answers invalid_scope at sign-in.
        return Check(
            "scopes",
            WARN,
            f"Not listed by the provider: {' '.join(unknown)} (it lists {' '.join(supported)}; providers may "
            "leave scopes unlisted, so a sign-in can still work).",
            "If sign-in answers invalid_scope, remove them from scopes or have the provider admin create them.",
        )
    note = "" if "offline_access" in requested else " No offline_access: some providers then issue no refresh token."
    extra = f" Project audience: {' '.join(project)}." if project else ""
    return Check(
        "scopes", WARN if note else PASS, f"{' '.join(s for s in requested if s not in project)}.{extra}{note}"
    )


def _grant_types(env: EnvironmentConfig, found: _Found) -> Check:
    listed = (found.document or {}).get("grant_types_supported")
    if not listed:
        return Check("grant_types", PASS, "Not listed by the provider (the defaults include authorization_code).")
    device = env.flow == "device"  # RFC 8628: the grant, and the endpoint to ask for codes
    wanted = (
        ["authorization_code", "refresh_token"]
        + (["password"] if env.allow_password_grant else [])
        + ([DEVICE_CODE_GRANT] if device else [])
    )
    missing = [g for g in wanted if g not in listed]
    if device and (DEVICE_CODE_GRANT in missing or not (found.endpoints or {}).get("device_authorization_url")):
        return Check(
            "grant_types",
            FAIL,
            f"flow is device, but the provider offers no device authorization grant ({', '.join(listed)}).",
            "Enable the device grant for this client at the provider, or remove flow.",
        )
    if "authorization_code" in missing:
        return Check(
            "grant_types",
            FAIL,
            f"The provider does not offer authorization_code ({', '.join(listed)}).",
            "Sign-in needs the Authorization Code grant.",
        )
    if missing:
        return Check(
            "grant_types",
            WARN,
            f"Not offered: {', '.join(missing)} ({', '.join(listed)}).",
            "Without refresh_token, sessions end when the access token expires."
            if "refresh_token" in missing
            else "allow_password_grant is on, but the provider does not list the password grant.",
        )
    return Check("grant_types", PASS, f"{', '.join(wanted)} offered.")


def _redirect_uri(settings: Settings, env: EnvironmentConfig, redirect_uri: str) -> Check:
    if settings.redirect_uri:
        source = "c.OIDCLogin.redirect_uri"
    elif settings.redirect_mode == "local":
        source = f"redirect_mode 'local', port {settings.redirect_port}"
    elif settings.public_url:
        source = "c.OIDCLogin.public_url"
    else:
        source = "the address of this request"
    register = f"Register exactly this redirect URI for client {env.client_id or '(none)'} at the provider."
    if source == "the address of this request":
        register += " Set c.OIDCLogin.public_url if users reach this server under another address."
    if urlsplit(redirect_uri).scheme != "https" and not _is_loopback(redirect_uri):
        return Check(
            "redirect_uri",
            WARN,
            f"{redirect_uri} (from {source}) is plain http on a non-loopback host.",
            f"Most providers refuse such redirect URIs: serve Jupyter over https or set public_url. {register}",
        )
    return Check("redirect_uri", PASS, f"{redirect_uri} (from {source}).", register)


async def _registration(
    http: ProviderHTTP, env: EnvironmentConfig, application: str | None, redirect_uri: str, found: _Found
) -> Check:
    """Ask the provider whether it knows the client and the redirect URI, with a pushed authorization request.

    RFC 9126: the provider validates the request as if it were an authorization request and
    answers 201 or an OAuth error, without anyone signing in. Only when the provider offers PAR.
    """
    from authlib.common.security import generate_token
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    par = (found.document or {}).get("pushed_authorization_request_endpoint")
    if not env.client_id:
        return Check("registration", SKIP, "Needs a client id.")
    if not par:
        return Check(
            "registration",
            SKIP,
            "The provider offers no pushed authorization requests, so registration cannot be checked from here.",
            f"Make sure {redirect_uri} is registered for client {env.client_id}.",
        )
    data = {
        "response_type": "code",
        "client_id": env.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(env.scopes_for(application)),
        "state": generate_token(32),
        "nonce": generate_token(32),
        "code_challenge": create_s256_code_challenge(generate_token(64)),
        "code_challenge_method": "S256",
    }
    try:
        response = await http.client_request("preflight registration", par, env, data)
    except OIDCError as e:
        return Check("registration", WARN, f"The pushed authorization request failed: {e.message}")
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code in (200, 201):
        return Check(
            "registration",
            PASS,
            f"The provider accepts client {env.client_id} with redirect URI {redirect_uri} "
            "(pushed authorization request).",
        )
    error = str(body.get("error") or f"http_{response.status_code}") if isinstance(body, dict) else "?"
    description = str(body.get("error_description") or "") if isinstance(body, dict) else ""
    hints = {
        "invalid_client": f"The provider does not know client {env.client_id!r} (or its secret): check client_id.",
        "invalid_redirect_uri": f"Register exactly {redirect_uri} for client {env.client_id} at the provider.",
        "invalid_scope": "Remove the scopes the provider does not accept.",
        "unauthorized_client": "Allow the Authorization Code grant for this client at the provider.",
    }
    return Check(
        "registration",
        FAIL,
        f"The provider refused a test authorization request: {error}" + (f" ({description})" if description else ""),
        hints.get(error, "See the provider's client settings."),
    )
