"""The kernel side of ``OIDCPlugin``: follow the kernel's token cache, push each change to the workers.

One daemon thread per plugin. It wakes when the kernel's ``TokenClient`` changes (its
``subscribe`` hook: a pull, a rotation pushed by JupyterLab, a sign-out) and when the token
enters the server's refresh margin; then it asks ``get_token(min_valid=margin)`` (the server
refreshes, once for all kernels) and pushes the new token. Every 0.5 s it looks at the server's
sessions file (a ``stat``) so a sign-out reaches the workers without a frontend.
Only :data:`~.worker.PUSHED_FIELDS` leave the kernel: never the refresh token or the id token.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ..errors import NotAuthenticatedError, OIDCError
from ..kernel.client import TokenClient, default_client, token_sha256
from .worker import SealedToken

logger = logging.getLogger("jupyterlab_oidc.dask")

#: How often the sessions file is looked at (sign-outs without a frontend).
FOLLOW_SECONDS = 0.5
#: Ask for the next token this long after the token entered the server's refresh margin.
AFTER_MARGIN_SECONDS = 0.2
#: Waits after a failed pull (server unreachable): the workers keep the token until it expires.
RETRY_SECONDS = (0.5, 1, 2, 5)


class Publisher:
    """Pushes the kernel's token for one (environment, application) to the Dask workers."""

    def __init__(
        self,
        client: Any,
        name: str,
        environment: str | None,
        application: str | None,
        token_client: TokenClient | None = None,
    ) -> None:
        from . import worker
        from .plugin import OIDCSchedulerPlugin

        worker.kernel_process = True
        self.client = client
        self.name = name
        self.environment = environment
        self.application = application
        self.tokens = token_client or default_client()
        self.pushed_sha: str | None = None
        self.pushed_reason: str | None = None
        self.pushes = 0
        #: (sha256 of the token or None, time.time() when the scheduler answered, workers that acknowledged)
        self.last_ack: tuple[str | None, float, int] | None = None
        self._wake = threading.Event()
        self._stopped = threading.Event()
        client.register_plugin(OIDCSchedulerPlugin())
        self._unsubscribe = self.tokens.subscribe(self._on_change)
        self._thread = threading.Thread(target=self._run, name=f"jupyterlab-oidc-dask {name}", daemon=True)

    def start(self) -> None:
        self._push_current()
        self._thread.start()

    def stop(self, reason: str = "plugin_removed") -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._wake.set()
        self._unsubscribe()
        if self._client_running():
            self._push(None, reason)

    # ------------------------------------------------------------------ the thread

    def _on_change(self, key: Any, token: Any, reason: str) -> None:
        if key[1] == self.application and (self.environment is None or key[0] == self.environment):
            self._wake.set()

    def _run(self) -> None:
        failures = 0
        while not self._stopped.is_set():
            self._wake.wait(self._next_wait(failures))
            self._wake.clear()
            if self._stopped.is_set():
                break
            if not self._client_running():
                self.stop("client_gone")
                break
            failures = 0 if self._push_current() else failures + 1

    def _next_wait(self, failures: int) -> float:
        if failures:
            return RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1]
        token = self._cached()
        if token is None or token.expires_at is None:
            return FOLLOW_SECONDS
        due = token.expires_at - token.margin() + AFTER_MARGIN_SECONDS - time.time()
        return max(min(due, FOLLOW_SECONDS), 0.0)

    def _cached(self) -> Any:
        key = (self.environment or self.tokens.default_environment, self.application)
        return self.tokens.cached(key, 0.0)  # also follows the sessions file (sign-outs)

    def _push_current(self) -> bool:
        """Push what the workers should hold now; False when the server could not be asked."""
        token = self._cached()
        if token is None or not token.valid_for(token.margin()):
            try:
                token = self.tokens.get_token(
                    self.environment, self.application, min_valid=token.margin() if token else 0
                )
            except NotAuthenticatedError:
                reason = "signed_out" if self.pushed_sha else "not_signed_in"
                if self.pushed_sha or self.pushed_reason is None:
                    self._push(None, reason)
                return True
            except OIDCError as e:
                logger.warning("jupyterlab_oidc: no fresh token for the Dask workers (%s); retrying", e.code)
                return False
        if self.environment is None and token.environment:
            self.environment = token.environment
        if token_sha256(token.access_token) != self.pushed_sha:
            self._push(token, None)
        return True

    def _push(self, token: Any, reason: str | None) -> None:
        from distributed.protocol import to_serialize

        sealed = to_serialize(SealedToken.of(token)) if token is not None else None
        try:
            acked = self.client.sync(
                self.client.scheduler.jupyterlab_oidc_push,
                name=self.name,
                owner=self.client.id,
                token=sealed,
                reason=reason,
            )
        except Exception as e:  # the scheduler went away: the workers went with it
            logger.warning("jupyterlab_oidc: could not push to the Dask scheduler (%s)", type(e).__name__)
            return
        self.pushed_sha = token_sha256(token.access_token) if token is not None else None
        self.pushed_reason = reason
        self.pushes += 1
        self.last_ack = (self.pushed_sha, time.time(), int(acked or 0))

    def _client_running(self) -> bool:
        return getattr(self.client, "status", "running") in ("running", "connecting", "newly-created")
