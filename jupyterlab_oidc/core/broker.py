"""The broker: the one object a Jupyter server holds, wiring the core's parts together.

No tornado in here: handlers call these coroutines and turn ``OIDCError`` into HTTP. Each
job lives in its own module: sign-ins (``signin/``), sessions and their change feed
(``sessions``), refresh and back-off (``refresher``), the provider's endpoints
(``endpoint``), other grants (``grants``), and the preflight (``preflight``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..errors import NotAuthenticatedError, StoreError
from ..protocol import ID_TOKEN_ALGORITHMS, session_key
from .audit import Audit
from .discovery import Discovery
from .endpoint import TokenEndpoint
from .grants import Grants
from .http import ProviderHTTP
from .preflight import Preflight
from .refresher import MIN_RETRY_SECONDS, Clock, Refresher
from .sessions import Session, SessionRegistry
from .settings import Settings, as_settings
from .signin.flow import LocalListener, SignIns
from .store import FileStore, MemoryStore, SessionStore

__all__ = ["MIN_RETRY_SECONDS", "Broker"]


class Broker:
    """Sign-in flow, id_token checks, identity enforcement, single-flight refresh, store."""

    def __init__(
        self,
        settings: Settings | Any,
        base_url: str = "/",
        log: logging.Logger | None = None,
        store: SessionStore | None = None,
        local_listener: Callable[[Broker], LocalListener] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings = as_settings(settings)
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.log = log or logging.getLogger("jupyterlab_oidc")
        #: Audit records and provider round trips, for observers (server/events.py, server/metrics.py).
        self.audit = Audit(self.log)
        self.http = ProviderHTTP(settings.http_timeout_seconds, self.log, audit=self.audit)
        self.discovery = Discovery(self.http, settings.jwks_cache_seconds)
        keys = settings.store_encryption_keys
        self.store = store or (FileStore(settings.store_path, keys) if settings.store == "file" else MemoryStore())
        self.registry = SessionRegistry(self.store, self.log)
        self.endpoint = TokenEndpoint(settings, self.http, self.discovery, self.log)
        self.refresher = Refresher(
            self.registry, self.endpoint, settings.refresh_margin, self.log, clock, audit=self.audit
        )
        self.signins = SignIns(
            settings,
            self.base_url,
            self.discovery,
            self.endpoint,
            self.registry,
            self.refresher.add,
            self.log,
            audit=self.audit,
        )
        self.grants = Grants(settings, self.endpoint, self._granted, self.log)
        self.preflight = Preflight(settings, self.http, self.redirect_uri)
        if local_listener is not None:
            self.signins.local_listener = local_listener(self)
        self._loaded = False
        # The sign-in flow's entry points (signin/flow.py), for handlers and the local listener.
        self.start_login = self.signins.start_login
        self.bind_browser = self.signins.bind_browser
        self.await_login = self.signins.await_login
        self.cancel = self.signins.cancel
        self.pending_for_callback = self.signins.pending_for_callback
        self.handle_callback = self.signins.handle_callback
        self._expire = self.signins._expire

    # ---------------------------------------------------------------- life cycle

    def load(self) -> None:
        """Restore stored sessions (no event loop needed)."""
        if not self._loaded:
            self._loaded = True
            self.registry.load()

    def start(self) -> None:
        """Restore stored sessions (if not yet) and keep them fresh; the server calls this once its loop runs."""
        self.load()
        self.refresher.start()

    async def stop(self) -> None:
        """Cancel timers and background refreshes, close connections."""
        self.audit.flush_pulls()
        self.refresher.stop()
        self.signins.stop()
        if self.signins.local_listener is not None:
            await self.signins.local_listener.stop()
        await self.http.aclose()

    # ---------------------------------------------------------------- state, read-only

    @property
    def sessions(self) -> dict[str, Session]:
        return self.registry.sessions

    @property
    def pending(self) -> dict[str, Any]:
        return self.signins.pending

    @property
    def store_error(self) -> StoreError | None:
        return self.registry.store_error

    @property
    def revision(self) -> int:
        return self.registry.revision

    @property
    def _keepers(self) -> dict[str, Any]:
        return self.refresher.keepers

    def environments(self) -> dict[str, Any]:
        """Configured environments, without secrets."""
        return {
            "default_environment": self.settings.default_environment,
            "redirect_mode": self.settings.redirect_mode,
            "callback_timeout": self.settings.callback_timeout,
            "environments": [env.public_info() for env in self.settings.all_environments()],
        }

    async def provider_keys(self, environment: str | None) -> dict[str, Any]:
        """Discovery summary, JWKS (public keys), and the check's leeway and algorithms, for the browser."""
        env = self.settings.environment(environment)
        metadata = await self.discovery.metadata(env)
        keys = await self.discovery.key_set(env)
        return {
            "environment": env.name,
            "issuer": env.issuer,
            "client_id": env.client_id,
            "discovery_mode": env.discovery_mode,
            "discovery": metadata.summary(),
            "jwks": keys.as_dict(private=False),
            "leeway_seconds": self.settings.leeway_seconds,
            "id_token_algorithms": list(self.settings.id_token_algorithms or ID_TOKEN_ALGORITHMS),
        }

    def status(self) -> dict[str, Any]:
        """Signed-in sessions and pending sign-ins; never a token."""
        return {
            "revision": self.registry.revision,
            "default_environment": self.settings.default_environment,
            "sessions": [s.status() for s in self.sessions.values()],
            "pending": self.signins.status(),
            "store_error": self.store_error.to_json() if self.store_error else None,
        }

    async def wait_for_change(self, after_revision: int, timeout: float) -> None:
        """Return once ``revision`` > ``after_revision`` or ``timeout`` passed (long poll)."""
        await self.registry.wait_for_change(after_revision, timeout)

    # ---------------------------------------------------------------- sign-in (signin/flow.py)

    def redirect_uri(self, origin: str, environment: str | None = None) -> str:
        """Where the provider sends the browser back (see ``OIDCLogin.redirect_mode``)."""
        return self.signins.redirect_uri(origin, environment)

    # ---------------------------------------------------------------- tokens

    def session(self, environment: str | None, application: str | None) -> Session:
        """The session for (environment, application), or ``NotAuthenticatedError``."""
        env = self.settings.environment(environment)
        env.scopes_for(application)  # an unknown application is unknown_environment, naming the known ones
        session = self.sessions.get(session_key(env.name, application))
        if session is None:
            target = f"{env.name!r} for application {application!r}" if application else repr(env.name)
            args = f"environment={env.name!r}" + (f", application={application!r}" if application else "")
            raise NotAuthenticatedError(
                f"Not signed in to {target}. Sign in from the OpenID Connect panel in the left sidebar, "
                f"or run OIDCAuth({args}).start_login('you@example.com') in a cell.",
                environment=env.name,
                application=application,
            )
        return session

    def token_reply(self, session: Session, for_kernel: bool = False) -> dict[str, Any]:
        """What ``POST token`` answers: tokens, identity, and ``lifetime``/``refresh_margin`` so
        clients cap ``min_valid`` as we do. The refresh token only on the kernel routes, and only
        when the admin allows it (``kernel_refresh_token``): never to the browser."""
        if for_kernel:
            self.audit.kernel_pull(session)
        return {
            **session.token_response(for_kernel and self.settings.kernel_refresh_token),
            "lifetime": session.lifetime,
            "refresh_margin": self.margin(session),
        }

    def margin(self, session: Session) -> float:
        """How early to refresh: ``refresh_margin``, at most half the token's lifetime."""
        return self.refresher.margin(session)

    async def get_token(self, environment: str | None, application: str | None, min_valid: float) -> Session:
        """A session whose access token is valid for ``min_valid`` s (capped at the refresh margin)."""
        return await self.refresher.get_token(self.session(environment, application), min_valid)

    async def refresh(self, key: str) -> Session:
        """Refresh now; concurrent callers share one request to the provider (single flight)."""
        return await self.refresher.refresh(key)

    async def logout(self, environment: str | None, application: str | None) -> dict[str, Any]:
        """Revoke the refresh token (RFC 7009), forget the session, offer the end-session URL."""
        env = self.settings.environment(environment)
        key = session_key(env.name, application)
        session = self.sessions.get(key)
        await self.refresher.end(key)
        if session is not None:
            self.audit.session_ended(session, "signed_out")
        end_session_url = await self.endpoint.sign_out(env, session)
        return {"signed_out": session is not None, "end_session_url": end_session_url}

    def _granted(self, session: Session) -> None:
        """A session from another grant (``grants``): stored like a sign-in's, and audited."""
        self.refresher.add(session)
        self.audit.sign_in(
            "succeeded", session.environment, session.application, session.issuer, session=session, method="grant"
        )

    async def userinfo(self, environment: str | None, application: str | None) -> dict[str, Any]:
        """The provider's userinfo answer for the session, asked with a fresh access token."""
        session = await self.get_token(environment, application, 10.0)
        env = self.settings.environment(session.environment)
        return await self.endpoint.userinfo(env, session.access_token)
