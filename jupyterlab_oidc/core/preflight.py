"""Preflight: is an environment's configuration usable, before anyone tries to sign in?

Each check is a line with an outcome (``pass``, ``warn``, ``fail``, ``skip``), what was
found, and how to fix it. ``GET oidc/preflight`` checks a configured environment;
``POST oidc/preflight`` with ``config`` checks a draft that is not configured yet. The
panel's *Test configuration* and ``jupyter oidc preflight`` show the same report.

Everything is fetched afresh (not from the broker's caches): a preflight says how the
provider answers now. No tornado here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from ..errors import ConfigError, InvalidRequestError
from .http import ProviderHTTP
from .preflight_checks import (
    CHECKS,
    FAIL,
    PASS,
    SKIP,
    WARN,
    Check,
    _client_id,
    _discovery,
    _endpoints,
    _Found,
    _grant_types,
    _jwks,
    _pkce,
    _redirect_uri,
    _registration,
    _scopes,
)
from .settings import ENVIRONMENT_FIELDS, EnvironmentConfig, Settings, parse_environment

__all__ = ["CHECKS", "Check", "Preflight", "draft_environment"]


def draft_environment(name: str, raw: Any) -> tuple[EnvironmentConfig | None, Check]:
    """A draft environment (not configured yet), parsed leniently: an empty client id is reported later."""
    if not isinstance(raw, dict):
        raise InvalidRequestError("'config' must be an object with the fields of one environment.")
    client_id = str(raw.get("client_id") or "")
    try:
        env = parse_environment(name, {**raw, "client_id": client_id or "-"})
    except ConfigError as e:
        return None, Check("configuration", FAIL, e.message, f"Allowed fields: {', '.join(ENVIRONMENT_FIELDS)}.")
    return dataclasses.replace(env, client_id=client_id), Check(
        "configuration", PASS, f"Draft environment {name!r}, discovery mode {env.discovery_mode}."
    )


class Preflight:
    """Runs the checks with the server's settings, HTTP client and redirect URIs."""

    def __init__(self, settings: Settings, http: ProviderHTTP, redirect_uri: Callable[[str, str | None], str]) -> None:
        self.settings = settings
        self.http = http
        self.redirect_uri = redirect_uri

    async def run(
        self,
        environment: str | None = None,
        application: str | None = None,
        draft: dict[str, Any] | None = None,
        origin: str = "",
    ) -> dict[str, Any]:
        """The preflight report of a configured environment, or of ``draft`` (raw environment fields)."""
        checks: list[Check] = []
        if draft is not None:
            env, parsed = draft_environment(environment or "draft", draft)
            checks.append(parsed)
        else:
            env = self.settings.environment(environment)
            checks.append(
                Check("configuration", PASS, f"Environment {env.name!r}, discovery mode {env.discovery_mode}.")
            )
        redirect_uri = self.redirect_uri(origin, env.name if env is not None else None)
        if env is not None:
            env.scopes_for(application)  # unknown application → unknown_environment
            await self._provider_checks(env, application, redirect_uri, checks)
        done = {c.name for c in checks}
        checks += [Check(name, SKIP, "Needs a valid configuration.") for name in CHECKS if name not in done]
        counts = {outcome: sum(c.outcome == outcome for c in checks) for outcome in (PASS, WARN, FAIL, SKIP)}
        return {
            "environment": env.name if env else (environment or "draft"),
            "application": application,
            "draft": draft is not None,
            "issuer": env.issuer if env else "",
            "client_id": env.client_id if env else "",
            "discovery_mode": env.discovery_mode if env else "",
            "redirect_uri": redirect_uri,
            "ok": counts[FAIL] == 0,
            "counts": counts,
            "checks": [c.to_json() for c in checks],
        }

    async def _provider_checks(
        self, env: EnvironmentConfig, application: str | None, redirect_uri: str, checks: list[Check]
    ) -> None:
        found = _Found()
        checks.append(_client_id(env))
        checks += await _discovery(self.http, env, found)
        if env.issuer and found.document is None:
            checks += [
                Check(name, SKIP, "Needs the discovery document.")
                for name in ("endpoints", "jwks", "pkce", "scopes", "grant_types")
            ]
            checks.append(_redirect_uri(self.settings, env, redirect_uri))
            checks.append(Check("registration", SKIP, "Needs the discovery document."))
            return
        checks.append(_endpoints(self.settings, env, found))
        checks.append(await _jwks(self.settings, self.http, found))
        checks.append(_pkce(found))
        checks.append(_scopes(env.scopes_for(application), found))
        checks.append(_grant_types(env, found))
        checks.append(_redirect_uri(self.settings, env, redirect_uri))
        checks.append(await _registration(self.http, env, application, redirect_uri, found))
