"""Provider metadata: discovery (auto / hybrid / manual) and the cached JWKS."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .config import EnvironmentConfig
from .errors import DiscoveryFailedError, OIDCError
from .http import ProviderHTTP

if TYPE_CHECKING:
    from joserfc.jwk import KeySet


@dataclass
class ProviderMetadata:
    """The endpoints and capabilities the broker uses for one environment."""

    issuer: str
    authorization_url: str
    token_url: str
    userinfo_url: str = ""
    jwks_uri: str = ""
    revocation_url: str = ""
    end_session_url: str = ""
    code_challenge_methods: list[str] = field(default_factory=list)
    iss_parameter_supported: bool = False
    id_token_algorithms: list[str] = field(default_factory=list)
    fetched_at: float = field(default_factory=time.monotonic)


class Discovery:
    """Fetches and caches metadata and JWKS per environment."""

    def __init__(self, http: ProviderHTTP, cache_seconds: float) -> None:
        self.http = http
        self.cache_seconds = cache_seconds
        self._metadata: dict[str, ProviderMetadata] = {}
        self._jwks: dict[str, tuple[float, KeySet]] = {}

    async def metadata(self, env: EnvironmentConfig) -> ProviderMetadata:
        """Metadata for ``env``: discovered, overridden by explicit endpoints, cached."""
        cached = self._metadata.get(env.name)
        if cached and time.monotonic() - cached.fetched_at < self.cache_seconds:
            return cached
        document: dict[str, Any] = {}
        if env.issuer:
            document = await self._fetch_discovery(env)
        merged = {
            "authorization_url": document.get("authorization_endpoint", ""),
            "token_url": document.get("token_endpoint", ""),
            "userinfo_url": document.get("userinfo_endpoint", ""),
            "jwks_uri": document.get("jwks_uri", ""),
            "revocation_url": document.get("revocation_endpoint", ""),
            "end_session_url": document.get("end_session_endpoint", ""),
            **env.endpoints,
        }
        if not merged["authorization_url"] or not merged["token_url"]:
            raise DiscoveryFailedError(
                f"Environment {env.name!r}: the provider publishes no authorization or token "
                "endpoint; set authorization_url and token_url.",
                environment=env.name,
            )
        metadata = ProviderMetadata(
            issuer=env.issuer,
            code_challenge_methods=list(document.get("code_challenge_methods_supported") or []),
            iss_parameter_supported=bool(document.get("authorization_response_iss_parameter_supported")),
            id_token_algorithms=list(document.get("id_token_signing_alg_values_supported") or []),
            **merged,
        )
        self._metadata[env.name] = metadata
        return metadata

    async def _fetch_discovery(self, env: EnvironmentConfig) -> dict[str, Any]:
        url = f"{env.issuer}/.well-known/openid-configuration"
        try:
            document = await self.http.get_json("discovery", url)
        except OIDCError as e:
            raise DiscoveryFailedError(
                f"Environment {env.name!r}: could not read the discovery document at {url} "
                f"({e.message}). Check the issuer URL.",
                environment=env.name,
            ) from e
        if str(document.get("issuer", "")).rstrip("/") != env.issuer:
            raise DiscoveryFailedError(
                f"Environment {env.name!r}: the discovery document names issuer "
                f"{document.get('issuer')!r}, but {env.issuer!r} is configured. Use the exact issuer.",
                environment=env.name,
            )
        return document

    async def key_set(self, env: EnvironmentConfig, *, refresh: bool = False) -> KeySet:
        """The provider's JWKS; ``refresh=True`` refetches (used once on an unknown ``kid``)."""
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        cached = self._jwks.get(env.name)
        if cached and not refresh and time.monotonic() - cached[0] < self.cache_seconds:
            return cached[1]
        metadata = await self.metadata(env)
        if not metadata.jwks_uri:
            raise DiscoveryFailedError(
                f"Environment {env.name!r} has no jwks_uri, so id_tokens cannot be verified.",
                environment=env.name,
            )
        try:
            document = await self.http.get_json("jwks", metadata.jwks_uri)
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except OIDCError as e:
            raise DiscoveryFailedError(
                f"Environment {env.name!r}: could not fetch the provider's keys ({e.message}).",
                environment=env.name,
            ) from e
        except (JoseError, ValueError, TypeError, KeyError) as e:
            raise DiscoveryFailedError(
                f"Environment {env.name!r}: the provider's JWKS is not valid ({type(e).__name__}).",
                environment=env.name,
            ) from e
        self._jwks[env.name] = (time.monotonic(), keys)
        return keys

    def forget(self, env_name: str) -> None:
        """Drop cached metadata and keys (after a configuration change)."""
        self._metadata.pop(env_name, None)
        self._jwks.pop(env_name, None)
