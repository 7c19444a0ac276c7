"""``ServiceAuth``: client credentials (a service account), straight from the kernel to the provider.

No user and no refresh token: the kernel holds the client secret it was given and asks
the provider's token endpoint directly. The endpoint comes from ``token_url``, or from
discovery on the environment's issuer (which the server extension reports, or
``JUPYTERLAB_OIDC_ISSUER``).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ..errors import ConfigError, OIDCError, ProviderError, ProviderUnavailableError
from ..protocol import discovery_url
from .client import TokenClient, default_client
from .environment import Environment, environment_name
from .tokenstore import TokenStore

HTTP_TIMEOUT_SECONDS = 10.0


class ServiceAuth:
    """Service-account sign-in (OAuth 2.0 client credentials, RFC 6749 §4.4)."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        environment: Environment | str | None = None,
        scopes: str = "openid profile email",
        token_url: str | None = None,
        *,
        client: TokenClient | None = None,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.environment = environment_name(environment)
        self.scopes = scopes
        self.token_url = token_url
        self.tokens = TokenStore()
        self._client = client
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ServiceAuth(client_id={self.client_id!r}, environment={self.environment!r}, client_secret=<hidden>)"

    def authenticate(self) -> TokenStore:
        """Get a token with the client credentials grant; returns the ``TokenStore``."""
        import httpx

        url = self.token_url or self._discover_token_url()
        data = {"grant_type": "client_credentials"}
        if self.scopes:
            data["scope"] = self.scopes
        try:
            with httpx.Client(timeout=HTTP_TIMEOUT_SECONDS) as http:
                response = http.post(url, data=data, auth=(self.client_id, self._client_secret))
        except httpx.HTTPError as e:
            raise ProviderUnavailableError(
                f"The provider's token endpoint did not answer ({type(e).__name__})."
            ) from None
        raw = _json(response)
        if response.status_code >= 400 or not raw.get("access_token"):
            error = str(raw.get("error") or f"http_{response.status_code}")
            description = raw.get("error_description")
            raise ProviderError(
                f"The provider refused the client credentials: {error}" + (f" ({description})" if description else ""),
                provider_error=error,
            )
        tokens = TokenStore(environment=self.environment).update_from_raw(raw)
        with self._lock:
            self.tokens = tokens
        return tokens

    def refresh_token(self) -> TokenStore:
        """Client credentials have no refresh token: authenticate again."""
        return self.authenticate()

    def get_token(self, min_valid: float = 60) -> TokenStore:
        """The current token if valid for ``min_valid`` s (at most half its lifetime), else a new one."""
        tokens = self.tokens
        if tokens.valid_for(min_valid):
            return tokens
        with self._lock:
            if self.tokens is not tokens and self.tokens.valid_for(min_valid):
                return self.tokens
        return self.authenticate()

    # ---------------------------------------------------------------- discovery

    def _discover_token_url(self) -> str:
        import httpx

        issuer = self._issuer()
        url = discovery_url(issuer)
        try:
            with httpx.Client(timeout=HTTP_TIMEOUT_SECONDS) as http:
                response = http.get(url)
        except httpx.HTTPError as e:
            raise ProviderUnavailableError(
                f"The provider's discovery document did not answer ({type(e).__name__})."
            ) from None
        token_url = _json(response).get("token_endpoint")
        if response.status_code != 200 or not isinstance(token_url, str):
            raise ConfigError(f"No token_endpoint in {url} (HTTP {response.status_code}); pass token_url=.")
        self.token_url = token_url
        return token_url

    def _issuer(self) -> str:
        """The environment's issuer: from the server extension, else ``JUPYTERLAB_OIDC_ISSUER``."""
        client = self._client or default_client()
        try:
            status = client.status()
        except OIDCError:
            status = None
        if isinstance(status, dict):
            name = self.environment or status.get("default_environment")
            for env in status.get("environments") or []:
                if env.get("name") == name and env.get("issuer"):
                    return str(env["issuer"])
        issuer = os.environ.get("JUPYTERLAB_OIDC_ISSUER")
        named = os.environ.get("JUPYTERLAB_OIDC_ENV") or "prod"
        if issuer and self.environment in (None, named):
            return issuer
        raise ConfigError(
            f"No issuer known for environment {self.environment or 'default'!r}: pass token_url=, or set "
            "JUPYTERLAB_OIDC_ISSUER."
        )


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
