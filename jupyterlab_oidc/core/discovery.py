"""Provider metadata: discovery (auto / hybrid / manual) and the cached JWKS.

Every URL the broker will use comes through :func:`check_provider_url`, whether the
discovery document or the configuration gave it: ``https:``, or ``http:`` on a loopback
host only. A provider that publishes ``javascript:``/``data:``/``file:`` or plain-http
endpoints elsewhere is refused with ``discovery_failed`` naming the field.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import DiscoveryFailedError, OIDCError
from ..protocol import discovery_url
from .http import ProviderHTTP
from .settings import EnvironmentConfig

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

#: An unknown ``kid`` refetches the JWKS at most once per this many seconds per environment,
#: so a flood of id_tokens naming random key ids costs the provider one request, not one each.
JWKS_REFETCH_COOLDOWN_SECONDS = 60.0

#: Metadata field → the discovery document's name for it (RFC 8414 / OIDC Discovery).
DOCUMENT_FIELDS = {
    "authorization_url": "authorization_endpoint",
    "token_url": "token_endpoint",
    "userinfo_url": "userinfo_endpoint",
    "jwks_uri": "jwks_uri",
    "revocation_url": "revocation_endpoint",
    "end_session_url": "end_session_endpoint",
    "device_authorization_url": "device_authorization_endpoint",  # RFC 8628
    "pushed_authorization_request_url": "pushed_authorization_request_endpoint",  # RFC 9126
}
LOOPBACK_NAMES = ("localhost",)


def is_loopback_host(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ``::1``."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_provider_url(value: Any, field_name: str, where: str, environment: str) -> str:
    """``value`` if it is an absolute ``https:`` URL (``http:`` for a loopback host only).

    Anything else raises ``DiscoveryFailedError`` naming ``field_name`` and ``where`` it came
    from. Only the scheme and host are quoted: the value is the provider's, not ours.
    """

    def refuse(why: str) -> DiscoveryFailedError:
        return DiscoveryFailedError(
            f"Environment {environment!r}: {where} {field_name} {why}. Provider endpoints must be "
            "https: URLs (http: only on localhost, 127.0.0.0/8 or ::1). Nothing was sent to it.",
            environment=environment,
            field=field_name,
        )

    if not isinstance(value, str):
        raise refuse(f"is not a URL (a JSON {type(value).__name__})")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in value):
        raise refuse("contains spaces or control characters")
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (a malformed port raises here)
    except ValueError:
        raise refuse("is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise refuse(f"uses the scheme {scheme + ':' if scheme else '(none)'!s}, not https:")
    if not host:
        raise refuse("has no host")
    if scheme == "http" and not is_loopback_host(host):
        raise refuse(f"is plain http: on {host!r}, which is not a loopback host")
    return value


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
    device_authorization_url: str = ""
    pushed_authorization_request_url: str = ""
    #: RFC 9126 §5: the provider accepts authorization requests only through PAR.
    require_pushed_authorization_requests: bool = False
    code_challenge_methods: list[str] = field(default_factory=list)
    iss_parameter_supported: bool = False
    id_token_algorithms: list[str] = field(default_factory=list)
    fetched_at: float = field(default_factory=time.monotonic)

    def summary(self) -> dict[str, Any]:
        """The discovery document's names for these values (``GET oidc/jwks``)."""
        return {
            "issuer": self.issuer,
            "id_token_signing_alg_values_supported": self.id_token_algorithms,
            **{DOCUMENT_FIELDS[name]: getattr(self, name) for name in DOCUMENT_FIELDS},
            "code_challenge_methods_supported": self.code_challenge_methods,
        }


class Discovery:
    """Fetches and caches metadata and JWKS per environment.

    ``clock`` (monotonic seconds) is injectable so tests can step over the caches and the
    unknown-``kid`` cooldown without sleeping.
    """

    def __init__(self, http: ProviderHTTP, cache_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.http = http
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._metadata: dict[str, ProviderMetadata] = {}
        self._jwks: dict[str, tuple[float, KeySet]] = {}
        self._refetched_at: dict[str, float] = {}
        self._jwks_fetches: dict[str, asyncio.Future[KeySet]] = {}

    async def metadata(self, env: EnvironmentConfig) -> ProviderMetadata:
        """Metadata for ``env``: discovered, overridden by explicit endpoints, checked, cached."""
        cached = self._metadata.get(env.name)
        if cached and self.clock() - cached.fetched_at < self.cache_seconds:
            return cached
        document: dict[str, Any] = {}
        issuer = ""
        if env.issuer:
            check_provider_url(env.issuer, "issuer", "the configured", env.name)
            document = await self._fetch_discovery(env)
            issuer = str(document["issuer"])
        merged: dict[str, str] = {}
        for name, document_name in DOCUMENT_FIELDS.items():
            if name in env.endpoints:
                value: Any = env.endpoints[name]
                where, label = "the configured", name
            else:
                value = document.get(document_name)
                where, label = "the discovery document's", document_name
            if value is None or value == "":
                merged[name] = ""
                continue
            merged[name] = check_provider_url(value, label, where, env.name)
        if not merged["authorization_url"] or not merged["token_url"]:
            raise DiscoveryFailedError(
                f"Environment {env.name!r}: the provider publishes no authorization or token "
                "endpoint; set authorization_url and token_url.",
                environment=env.name,
            )
        metadata = ProviderMetadata(
            issuer=issuer,
            code_challenge_methods=list(document.get("code_challenge_methods_supported") or []),
            iss_parameter_supported=bool(document.get("authorization_response_iss_parameter_supported")),
            require_pushed_authorization_requests=document.get("require_pushed_authorization_requests") is True,
            id_token_algorithms=list(document.get("id_token_signing_alg_values_supported") or []),
            fetched_at=self.clock(),
            **merged,
        )
        self._metadata[env.name] = metadata
        return metadata

    async def _fetch_discovery(self, env: EnvironmentConfig) -> dict[str, Any]:
        url = discovery_url(env.issuer)
        try:
            document = await fetch_document(self.http, env.issuer)
        except OIDCError as e:
            raise DiscoveryFailedError(
                f"Environment {env.name!r}: could not read the discovery document at {url} "
                f"({e.message}). Check the issuer URL.",
                environment=env.name,
            ) from e
        named = document.get("issuer")
        if not isinstance(named, str) or not issuer_matches_configured(named, env.issuer):
            raise DiscoveryFailedError(
                f"Environment {env.name!r}: the discovery document names issuer "
                f"{named!r}, but {env.issuer!r} is configured. Use the exact issuer.",
                environment=env.name,
                field="issuer",
            )
        return document

    async def key_set(self, env: EnvironmentConfig, *, refresh: bool = False) -> KeySet:
        """The provider's JWKS.

        ``refresh=True`` (an unknown ``kid``) refetches, but at most once per
        :data:`JWKS_REFETCH_COOLDOWN_SECONDS` per environment; within the cooldown it answers
        the keys it has. Concurrent fetches for one environment share one request.
        """
        cached = self._jwks.get(env.name)
        now = self.clock()
        if refresh:
            last = self._refetched_at.get(env.name)
            if last is not None and now - last < JWKS_REFETCH_COOLDOWN_SECONDS:
                in_flight = self._jwks_fetches.get(env.name)
                if in_flight is not None:
                    return await asyncio.shield(in_flight)
                if cached:
                    return cached[1]
            else:
                self._refetched_at[env.name] = now
        elif cached and now - cached[0] < self.cache_seconds:
            return cached[1]
        in_flight = self._jwks_fetches.get(env.name)
        if in_flight is None:
            in_flight = asyncio.ensure_future(self._fetch_keys(env))
            self._jwks_fetches[env.name] = in_flight
            in_flight.add_done_callback(lambda done: self._fetch_done(env.name, done))
        return await asyncio.shield(in_flight)

    def _fetch_done(self, env_name: str, done: asyncio.Future[KeySet]) -> None:
        if self._jwks_fetches.get(env_name) is done:
            del self._jwks_fetches[env_name]
        if not done.cancelled():
            done.exception()  # retrieved: a failure is raised to every waiter, not logged as lost

    async def _fetch_keys(self, env: EnvironmentConfig) -> KeySet:
        from joserfc.errors import JoseError

        metadata = await self.metadata(env)
        if not metadata.jwks_uri:
            raise DiscoveryFailedError(
                f"Environment {env.name!r} has no jwks_uri, so id_tokens cannot be verified.",
                environment=env.name,
            )
        try:
            keys = await fetch_key_set(self.http, metadata.jwks_uri)
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
        self._jwks[env.name] = (self.clock(), keys)
        return keys

    def forget(self, env_name: str) -> None:
        """Drop cached metadata and keys (after a configuration change)."""
        self._metadata.pop(env_name, None)
        self._jwks.pop(env_name, None)
        self._refetched_at.pop(env_name, None)


def issuer_matches_configured(named: str, configured: str) -> bool:
    """OIDC Discovery §4.3: the document's ``issuer`` is the configured issuer, exactly.

    The one allowance: ``config.parse_environment`` drops a trailing ``/`` from the configured
    issuer, so a document naming ``{configured}/`` (Auth0, Ory Hydra) is the issuer as the
    admin typed it. From here on the document's value is *the* issuer: id_tokens' ``iss`` and
    the RFC 9207 ``iss`` parameter are compared with it exactly.
    """
    return named == configured or named == f"{configured}/"


async def fetch_document(http: ProviderHTTP, issuer: str, label: str = "discovery") -> dict[str, Any]:
    """The provider's discovery document, fetched now (the one ``.well-known`` request)."""
    return await http.get_json(label, discovery_url(issuer))


async def fetch_key_set(http: ProviderHTTP, url: str, label: str = "jwks") -> KeySet:
    """The JWKS at ``url``, fetched now; ``OIDCError`` or joserfc's errors when it is not one."""
    from joserfc.jwk import KeySet

    key_set: KeySet = KeySet.import_key_set(await http.get_json(label, url))  # type: ignore[arg-type]
    return key_set
