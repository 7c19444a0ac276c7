"""The worker side: the token the notebook pushed, and ``get_token()`` inside tasks.

A worker holds, per plugin, the access token and its metadata (never a refresh token, never an
id token) in a :class:`SealedToken` whose repr hides it. ``get_token()`` and ``OIDCBearer()``
inside a task find it through ``jupyterlab_oidc.kernel.client.worker_client_finder``; they never
call the Jupyter server or the provider from a worker.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from ..errors import NotAuthenticatedError, OIDCError
from ..kernel import client as kernel_client
from ..kernel.client import TokenClient, token_sha256
from ..kernel.environment import Environment, environment_name
from ..kernel.tokenstore import TokenStore

#: The only TokenStore fields that leave the kernel.
PUSHED_FIELDS = (
    "access_token",
    "token_type",
    "expires_at",
    "environment",
    "application",
    "email",
    "sub",
    "issuer",
    "scope",
    "lifetime",
    "refresh_margin",
    "signed_in_at",
)
#: Worker RPC handler the scheduler calls with each push.
WORKER_HANDLER = "jupyterlab_oidc_token"

#: Why a worker has no token, as a task's NotAuthenticatedError says it.
REASONS = {
    "not_signed_in": "nobody is signed in to {env} in the notebook",
    "signed_out": "the user signed out of {env} in the notebook",
    "client_gone": "the notebook's Dask client disconnected from the scheduler",
    "plugin_removed": "the OIDCPlugin was removed from this worker",
    "waiting": "the notebook has not pushed a token to this worker yet",
}


class SealedToken:
    """The pushed fields; ``repr``/``str`` never show the token (Dask logs messages at debug level)."""

    __slots__ = ("fields",)

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = {k: v for k, v in fields.items() if k in PUSHED_FIELDS and v is not None}

    @classmethod
    def of(cls, token: TokenStore) -> SealedToken:
        return cls({name: getattr(token, name) for name in PUSHED_FIELDS})

    def __repr__(self) -> str:
        return f"<SealedToken {self.fields.get('environment')!r} expires_at={self.fields.get('expires_at')}>"

    __str__ = __repr__

    def __getstate__(self) -> dict[str, Any]:
        return self.fields

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.fields = {k: v for k, v in state.items() if k in PUSHED_FIELDS}

    def store(self, received_at: float) -> TokenStore:
        return TokenStore(received_at=received_at).update_from_raw(dict(self.fields))


class WorkerTokens:
    """One plugin's state on one worker: the latest pushed token, or why there is none."""

    def __init__(self, name: str, environment: str | None, application: str | None) -> None:
        self.name = name
        self.environment = environment
        self.application = application
        self.seq = -1
        self.token: TokenStore | None = None
        self.reason = "waiting"
        self.received_at: float | None = None
        self._changed = threading.Condition()

    def apply(self, seq: int, sealed: SealedToken | None, reason: str | None) -> None:
        """A push (from the event loop): newer than what we hold, or ignored."""
        with self._changed:
            if seq <= self.seq:
                return
            self.seq = seq
            self.received_at = time.time()
            self.token = sealed.store(self.received_at) if sealed is not None else None
            if self.token is not None and self.token.environment:
                self.environment = self.token.environment
            self.reason = reason or ("pushed" if sealed is not None else "signed_out")
            self._changed.notify_all()

    def drop(self, reason: str) -> None:
        with self._changed:
            self.seq += 1
            self.token, self.reason = None, reason
            self._changed.notify_all()

    def wait_for(self, min_valid: float, timeout: float, rejected: str | None = None) -> TokenStore:
        """The held token once it is valid ``min_valid`` s (and is not ``rejected``); else why not."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                token = self.token
                if token is None and self.reason != "waiting":
                    raise self._not_authenticated()
                if token is not None and token.valid_for(min_valid) and token_sha256(token.access_token) != rejected:
                    return token
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
        if token is not None and token.valid_for(0) and token_sha256(token.access_token) != rejected:
            return token  # still valid, just not for long: the next push is late
        if token is None:
            raise self._not_authenticated()
        raise OIDCError(
            f"The Dask worker's token for {self.environment or 'the default environment'} "
            f"{'was refused' if rejected else 'expired'} and the notebook pushed no fresh one within {timeout:g} s "
            "(is the kernel busy or gone?). Workers never refresh tokens themselves."
        )

    def _not_authenticated(self) -> NotAuthenticatedError:
        why = REASONS.get(self.reason, self.reason).format(env=self.environment or "the default environment")
        return NotAuthenticatedError(
            f"No token on this Dask worker: {why}. Workers dropped their tokens.",
            environment=self.environment,
            reason=self.reason,
        )

    def describe(self) -> dict[str, Any]:
        """No token in it: what tests and ``client.run`` look at."""
        token = self.token
        return {
            "name": self.name,
            "environment": self.environment,
            "seq": self.seq,
            "reason": self.reason,
            "received_at": self.received_at,
            "expires_at": token.expires_at if token else None,
            "sha256": token_sha256(token.access_token) if token else None,
        }


#: Plugin name → state, in this worker process.
_states: dict[str, WorkerTokens] = {}
_states_lock = threading.Lock()
#: How long a task waits for a push (the first one after setup, or a fresh one near expiry).
WAIT_SECONDS = 30.0


def add_state(state: WorkerTokens) -> None:
    with _states_lock:
        _states[state.name] = state
        kernel_client.worker_client_finder = _find_client


def remove_state(name: str) -> WorkerTokens | None:
    with _states_lock:
        return _states.pop(name, None)


def states() -> dict[str, WorkerTokens]:
    return dict(_states)


def _in_task() -> bool:
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


#: True in the notebook's kernel (a Publisher runs here): only task threads use the worker client.
kernel_process = False


def _find_client() -> TokenClient | None:
    if not _states:
        return None
    if kernel_process and not _in_task():
        return None  # the kernel's own threads, when a LocalCluster runs its workers in threads
    return _worker_client


class WorkerTokenClient(TokenClient):
    """``TokenClient`` for tasks: answers from the pushed tokens only (no channel, no pull)."""

    def __init__(self) -> None:  # no endpoint, no HTTP, no comm: nothing to reach from a worker
        self.default_environment = None
        self.comm = None
        self._subscribers = []
        self._lock = threading.Lock()

    def _state(self, environment: Environment | str | None, application: str | None) -> WorkerTokens:
        wanted, app = environment_name(environment), application or None
        candidates = [
            s for s in states().values() if (wanted is None or s.environment == wanted) and s.application == app
        ]
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise NotAuthenticatedError(
                f"No OIDCPlugin for {wanted or 'the default environment'} on this Dask worker: register one "
                f"with client.register_plugin(OIDCPlugin(environment={wanted!r})).",
                environment=wanted,
            )
        raise OIDCError("Several OIDCPlugins on this worker: name the environment in get_token(environment=...).")

    def get_token(
        self, environment: Environment | str | None = None, application: str | None = None, min_valid: float = 60
    ) -> TokenStore:
        return self._state(environment, application).wait_for(min_valid, WAIT_SECONDS)

    async def get_token_async(
        self, environment: Environment | str | None = None, application: str | None = None, min_valid: float = 60
    ) -> TokenStore:
        import asyncio

        state = self._state(environment, application)
        token = state.token
        if token is not None and token.valid_for(min_valid):
            return token
        return await asyncio.to_thread(state.wait_for, min_valid, WAIT_SECONDS)

    def refresh(
        self, environment: Environment | str | None = None, application: str | None = None, rejected: str | None = None
    ) -> TokenStore:
        """A token other than the refused one: the next push (workers cannot refresh)."""
        return self._state(environment, application).wait_for(0, WAIT_SECONDS, rejected=rejected)

    def cached(self, key: Any, min_valid: float) -> TokenStore | None:
        token = self._state(*key).token
        return token if token is not None and token.valid_for(min_valid) else None

    def forget(self, environment: Environment | str | None = None, application: str | None = None) -> None:
        """Nothing to forget on a worker: the notebook decides (a sign-out reaches every worker)."""

    def status(self) -> dict[str, Any]:
        return {"dask_worker": [state.describe() for state in states().values()]}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 30.0) -> Any:
        raise OIDCError("Sign-in and other REST calls are not available in a Dask task: run them in the notebook.")


_worker_client = WorkerTokenClient()
