"""Device sign-in: the OAuth 2.0 device authorization grant (RFC 8628).

For places the provider's redirect cannot reach this server (a remote kernel, another
notebook client, an SSH tunnel, a papermill run): the server asks the provider's
``device_authorization_endpoint`` for a device code and a user code (as the client, through
``http.client_auth``), the person opens the verification link on any device and approves the
code there, and meanwhile the server polls the token endpoint:

- every ``interval`` seconds (5 when the provider names none, §3.2);
- ``authorization_pending``: keep waiting; ``slow_down``: 5 s more, for this and every later
  poll (§3.5);
- ``access_denied`` → :class:`~jupyterlab_oidc.errors.DeviceAccessDeniedError`,
  ``expired_token`` or the code's ``expires_in`` passed →
  :class:`~jupyterlab_oidc.errors.DeviceCodeExpiredError`.

The tokens then go through the code flow's checks: the id_token check (``idtoken.py``, no
nonce: the device grant has none), userinfo, the login_hint enforcement (``identity.py``);
nothing is stored when one fails. ``await`` and ``cancel`` work as for the code flow. The
sign-in accepts no browser callback: its state is never a redirect's.

``clock`` and ``sleep`` are injectable so tests step through the polling without waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...errors import (
    ConfigError,
    DeviceAccessDeniedError,
    DeviceCodeExpiredError,
    InvalidIdTokenError,
    InvalidRequestError,
    LoginCancelledError,
    OIDCError,
    ProviderError,
)
from ..discovery import ProviderMetadata, check_provider_url
from ..identity import enforce_login_hint
from ..sessions import Session
from ..settings import FLOWS, EnvironmentConfig
from .pending import PendingLogin, in_background
from .reauth import retire_replaced
from .state import make_state

if TYPE_CHECKING:
    from .flow import SignIns

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: RFC 8628 §3.2: the interval when the provider names none; §3.5: what ``slow_down`` adds.
DEFAULT_INTERVAL = 5.0
SLOW_DOWN_SECONDS = 5.0

Sleep = Callable[[float], Awaitable[Any]]


@dataclass
class DevicePendingLogin(PendingLogin):
    """A device sign-in waiting for the person to approve its user code."""

    user_code: str = ""
    verification_uri: str = ""
    verification_uri_complete: str = ""
    interval: float = DEFAULT_INTERVAL
    display_name: str = ""
    client_id: str = ""
    device_code: str = field(default="", repr=False)
    task: asyncio.Future[None] | None = field(default=None, repr=False)

    def accepts_callback(self) -> bool:
        """Never: no provider redirect belongs to a device sign-in."""
        return False

    def listed(self) -> bool:
        return not self.result.done() and self.expires_in() > 0

    def stop(self) -> None:
        super().stop()
        if self.task is not None:
            self.task.cancel()

    def answer(self) -> dict[str, Any]:
        """What ``POST login`` answers (and ``GET status`` lists): what the person needs, no device code."""
        return {
            "flow": "device",
            "state": self.state,
            "environment": self.environment,
            "application": self.application,
            "login_hint": self.login_hint,
            "user_code": self.user_code,
            "verification_uri": self.verification_uri,
            "verification_uri_complete": self.verification_uri_complete or None,
            "expires_in": round(self.expires_in(), 3),
            "interval": self.interval,
            "client_id": self.client_id,
            "display_name": self.display_name,
        }

    def status(self) -> dict[str, Any]:
        return {**super().status(), **self.answer()}


class DevicePoller:
    """Polls with ``request`` until tokens arrive, honouring ``interval`` and ``slow_down``.

    ``stopped()`` true after a wait (the sign-in was cancelled) ends it with None.
    """

    def __init__(
        self,
        request: Callable[[], Awaitable[dict[str, Any]]],
        interval: float,
        deadline: float,
        clock: Callable[[], float],
        sleep: Sleep,
        stopped: Callable[[], bool] = lambda: False,
        environment: str | None = None,
    ) -> None:
        self.request = request
        self.interval = interval
        self.deadline = deadline
        self.clock = clock
        self.sleep = sleep
        self.stopped = stopped
        self.environment = environment
        self.polls = 0

    async def run(self) -> dict[str, Any] | None:
        while True:
            await self.sleep(self.interval)
            if self.stopped():
                return None
            if self.clock() >= self.deadline:
                raise self._expired()
            self.polls += 1
            try:
                return await self.request()
            except ProviderError as e:
                error = e.details.get("provider_error")
                if error == "authorization_pending":
                    continue
                if error == "slow_down":
                    self.interval += SLOW_DOWN_SECONDS
                    continue
                if error == "access_denied":
                    raise DeviceAccessDeniedError(
                        "The code was denied at the provider, so nobody was signed in. Start the sign-in "
                        "again if that was a mistake.",
                        environment=self.environment,
                    ) from None
                if error == "expired_token":
                    raise self._expired() from None
                raise

    def _expired(self) -> DeviceCodeExpiredError:
        return DeviceCodeExpiredError(
            "The code expired before it was approved at the provider. Start the sign-in again.",
            environment=self.environment,
        )


def device_answer(answer: dict[str, Any], env: EnvironmentConfig) -> dict[str, Any]:
    """The provider's device authorization answer, checked (§3.2): codes, http(s) links, lifetimes."""
    for name in ("device_code", "user_code"):
        if not isinstance(answer.get(name), str) or not answer[name]:
            raise ProviderError(
                f"The provider's device authorization answer has no {name}.", provider_error=f"missing_{name}"
            )
    where = "the device authorization answer's"
    checked = {
        "device_code": answer["device_code"],
        "user_code": answer["user_code"],
        "verification_uri": check_provider_url(answer.get("verification_uri"), "verification_uri", where, env.name),
        "verification_uri_complete": "",
    }
    if answer.get("verification_uri_complete") is not None:
        checked["verification_uri_complete"] = check_provider_url(
            answer["verification_uri_complete"], "verification_uri_complete", where, env.name
        )
    expires_in, interval = answer.get("expires_in"), answer.get("interval", DEFAULT_INTERVAL)
    if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)) or expires_in <= 0:
        raise ProviderError(
            "The provider's device authorization answer has no valid expires_in.", provider_error="invalid_expires_in"
        )
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval <= 0:
        interval = DEFAULT_INTERVAL
    return {**checked, "expires_in": float(expires_in), "interval": float(interval)}


class DeviceSignIns:
    """Starts device sign-ins and runs their polling; the results land in ``signins``' pending table."""

    def __init__(self, signins: SignIns, clock: Callable[[], float] = time.time, sleep: Sleep | None = None) -> None:
        self.signins = signins
        self.clock = clock
        self.sleep = sleep

    def wanted(self, environment: str | None, flow: str | None) -> bool:
        """Whether ``POST login`` with ``flow`` (None: the environment's ``flow``) is a device sign-in."""
        if flow is None or flow == "":
            return self.signins.settings.environment(environment).flow == "device"
        if flow not in FLOWS:
            raise InvalidRequestError(f"'flow' must be one of {', '.join(FLOWS)}.", field="flow")
        return flow == "device"

    async def start(self, environment: str | None, application: str | None, login_hint: str) -> dict[str, Any]:
        """Ask the provider for a user code; answers what to show and the state to ``await``."""
        signins = self.signins
        env = signins.settings.environment(environment)
        scopes = env.scopes_for(application)
        metadata = await signins.discovery.metadata(env)
        if not metadata.device_authorization_url:
            raise ConfigError(
                f"Environment {env.name!r}: the provider advertises no device_authorization_endpoint, so "
                "device sign-in is not possible there. Sign in with the browser, or set device_authorization_url.",
                environment=env.name,
                field="device_authorization_url",
            )
        data = {"scope": " ".join(scopes)}
        if login_hint.strip():
            data["login_hint"] = login_hint.strip()
        device = device_answer(await signins.endpoint.device_authorization(env, metadata, data), env)
        pending = DevicePendingLogin(
            state=make_state(signins.settings.hub_user),
            environment=env.name,
            application=application or None,
            login_hint=login_hint.strip(),
            code_verifier="",
            nonce="",
            redirect_uri="",
            expires_at=time.time() + device["expires_in"],
            device_code=device["device_code"],
            user_code=device["user_code"],
            verification_uri=device["verification_uri"],
            verification_uri_complete=device["verification_uri_complete"],
            interval=device["interval"],
            display_name=env.display_name or env.name,
            client_id=env.client_id,
        )
        signins.pending[pending.state] = pending
        pending.task = asyncio.ensure_future(self._run(pending, env, metadata, self.clock() + device["expires_in"]))
        signins.registry.changed()
        signins.log.info("jupyterlab_oidc: device sign-in started for environment %s", env.name)
        signins.audit.sign_in(
            "started", env.name, pending.application, env.issuer, email=pending.login_hint, method="device_code"
        )
        return pending.answer()

    async def _run(
        self, pending: DevicePendingLogin, env: EnvironmentConfig, metadata: ProviderMetadata, deadline: float
    ) -> None:
        signins = self.signins
        data = {"grant_type": DEVICE_CODE_GRANT, "device_code": pending.device_code}
        poller = DevicePoller(
            lambda: signins.endpoint.token_request(env, data, "device poll", metadata),
            pending.interval,
            deadline,
            self.clock,
            self.sleep or (lambda seconds: asyncio.wait({pending.result}, timeout=seconds)),
            stopped=pending.result.done,
            environment=env.name,
        )
        error: OIDCError | None = None
        try:
            tokens = await poller.run()
            if tokens is None:
                return
            session = await self._session(pending, env, metadata, tokens)
        except OIDCError as e:
            error = e
        except Exception as e:  # the sign-in's await gets a typed error, not a dead task
            error = OIDCError(f"The device sign-in failed unexpectedly ({type(e).__name__}).")
        if pending.result.done():
            return
        if error is None:
            pending.result.set_result(session)
        else:
            pending.result.set_exception(error)
            signins.log.warning("jupyterlab_oidc: device sign-in failed: %s", error.code)
        self._audit(pending, env)
        signins._finish(pending)

    async def _session(
        self, pending: DevicePendingLogin, env: EnvironmentConfig, metadata: ProviderMetadata, tokens: dict[str, Any]
    ) -> Session:
        """The code flow's checks on the tokens, without the nonce (the device grant has none); then stored."""
        signins = self.signins
        if not tokens.get("id_token"):
            raise InvalidIdTokenError(
                "The provider returned no id_token; is the 'openid' scope requested?", check="structure"
            )
        claims = await signins.endpoint.id_token_claims(env, tokens["id_token"], nonce=None)
        claims = await signins.endpoint.with_userinfo(env, claims, tokens["access_token"], metadata)
        email = enforce_login_hint(claims, pending.login_hint, signins.settings.require_verified_email)
        session = signins.endpoint.new_session(env, pending.application, tokens, claims, email)
        if pending.result.done():  # cancelled while the last poll was answered: hand the tokens back
            in_background(signins.endpoint.revoke(env, metadata, session))
            raise LoginCancelledError("The sign-in was cancelled.", environment=env.name)
        replaced = signins.registry.get(session.key)  # replaced only now: every check has passed
        signins.store_session(session)
        retire_replaced(replaced, session, lambda old: signins.endpoint.revoke(env, metadata, old), signins.log)
        signins.log.info("jupyterlab_oidc: signed in to %s (device)", session.key)
        return session

    def _audit(self, pending: DevicePendingLogin, env: EnvironmentConfig) -> None:
        error = pending.result.exception()
        if error is None:
            self.signins.audit.sign_in(
                "succeeded",
                env.name,
                pending.application,
                env.issuer,
                session=pending.result.result(),
                method="device_code",
            )
            return
        code = error.code if isinstance(error, OIDCError) else "oidc_error"
        action = "abandoned" if isinstance(error, DeviceCodeExpiredError) else "refused"
        self.signins.audit.sign_in(
            action,
            env.name,
            pending.application,
            env.issuer,
            email=pending.login_hint,
            error_code=code,
            method="device_code",
        )
