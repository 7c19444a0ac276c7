"""The one HTTP helper the server extension uses to talk to providers.

It logs the label, method, URL without its query and the status, and nothing else:
request and response bodies carry codes, verifiers and tokens.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from ..errors import ProviderError, ProviderUnavailableError
from .audit import Audit

if TYPE_CHECKING:
    from .settings import EnvironmentConfig


def client_auth(env: EnvironmentConfig, data: dict[str, str]) -> tuple[dict[str, str], tuple[str, str] | None]:
    """How this client authenticates at a token-style endpoint (token, revocation, PAR, device).

    A confidential client (``client_secret``) sends HTTP Basic (``client_secret_basic``); a
    public one sends ``client_id`` in the body (RFC 6749 §2.3.1, §3.2.1). Answers the form to
    send and the ``auth`` for httpx.
    """
    if env.client_secret:
        return data, (env.client_id, env.client_secret)
    return {**data, "client_id": env.client_id}, None


def redact_url(url: str) -> str:
    """The URL without query and fragment (they may carry codes or tokens)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class ProviderHTTP:
    """Thin wrapper over one ``httpx.AsyncClient`` that maps failures to typed errors."""

    def __init__(self, timeout_seconds: float, log: logging.Logger, audit: Audit | None = None) -> None:
        self.timeout_seconds = timeout_seconds
        self.log = log
        #: Told about each round trip (endpoint label, seconds, outcome), for the metrics.
        self.audit = audit or Audit(log)
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """Created on first use: building its TLS context is the slowest part of loading."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_seconds, follow_redirects=False)
        return self._client

    async def request(self, label: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request; network failures become ``ProviderUnavailableError``."""
        started = time.monotonic()
        try:
            response = await self.client.request(method, url, **kwargs)
        except httpx.TimeoutException as e:
            self.audit.round_trip(label, time.monotonic() - started, "timeout")
            self.log.warning("oidc %s %s %s: timeout", label, method, redact_url(url))
            raise ProviderUnavailableError(
                f"The provider did not answer in time ({label}). Try again in a moment.", during=label
            ) from e
        except httpx.HTTPError as e:
            self.audit.round_trip(label, time.monotonic() - started, "unreachable")
            self.log.warning("oidc %s %s %s: %s", label, method, redact_url(url), type(e).__name__)
            raise ProviderUnavailableError(
                f"Could not reach the provider ({label}: {type(e).__name__}). Is it running and reachable?",
                during=label,
            ) from e
        self.audit.round_trip(label, time.monotonic() - started, f"{response.status_code // 100}xx")
        self.log.debug(
            "oidc %s %s %s -> %s in %.1f ms",
            label,
            method,
            redact_url(url),
            response.status_code,
            response.elapsed.total_seconds() * 1000,
        )
        if response.status_code >= 500:
            raise ProviderUnavailableError(
                f"The provider failed with HTTP {response.status_code} ({label}). Try again in a moment.",
                during=label,
            )
        return response

    async def get_json(self, label: str, url: str, **kwargs: Any) -> dict[str, Any]:
        """GET a JSON object; a non-200 or non-object answer is a ``ProviderError``."""
        response = await self.request(label, "GET", url, **kwargs)
        return self._json_object(label, response)

    async def post_form(
        self, label: str, url: str, data: dict[str, str], expect: tuple[int, ...] = (200,), **kwargs: Any
    ) -> dict[str, Any]:
        """POST a form to a token-style endpoint; OAuth error answers become ``ProviderError``."""
        response = await self.request(label, "POST", url, data=data, headers={"Accept": "application/json"}, **kwargs)
        return self._json_object(label, response, expect)

    def _json_object(self, label: str, response: httpx.Response, expect: tuple[int, ...] = (200,)) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code not in expect or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            description = body.get("error_description") if isinstance(body, dict) else None
            raise ProviderError(
                f"The provider refused the {label} request: "
                f"{error or 'HTTP ' + str(response.status_code)}" + (f" ({description})" if description else ""),
                provider_error=error or f"http_{response.status_code}",
                during=label,
            )
        return body

    async def client_request(
        self, label: str, url: str, env: EnvironmentConfig, data: dict[str, str]
    ) -> httpx.Response:
        """POST ``data`` as ``env``'s client (see :func:`client_auth`); the raw answer."""
        body, auth = client_auth(env, data)
        return await self.request(label, "POST", url, data=body, auth=auth)

    async def client_form(
        self, label: str, url: str, env: EnvironmentConfig, data: dict[str, str], expect: tuple[int, ...] = (200,)
    ) -> dict[str, Any]:
        """POST ``data`` as ``env``'s client to a token-style endpoint.

        Answers its JSON object (the status must be one of ``expect``).
        """
        body, auth = client_auth(env, data)
        return await self.post_form(label, url, body, expect=expect, auth=auth)

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose()
