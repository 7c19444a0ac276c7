"""``OIDCPlugin`` (the worker plugin) and the scheduler plugin that relays the notebook's pushes.

Path of a rotation: kernel ``TokenClient`` → :class:`~.publisher.Publisher` (a thread in the
kernel) → one RPC to the scheduler (``jupyterlab_oidc_push``) → the scheduler keeps the latest
push per plugin and calls ``jupyterlab_oidc_token`` on every worker whose plugin is set up (pooled
connections, in parallel, acknowledged). A worker that joins later asks the scheduler for the
latest push while its plugin sets up. When the notebook's client leaves the scheduler
(``remove_client``), the scheduler tells the workers to drop the token.

The token travels as a :class:`~.worker.SealedToken` wrapped in ``to_serialize``: the scheduler
(which does not deserialize) holds opaque frames, and no log line at any level shows the token.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from distributed import WorkerPlugin
from distributed.diagnostics.plugin import SchedulerPlugin

from ..kernel.environment import Environment, environment_name
from .worker import WORKER_HANDLER, WorkerTokens, add_state, remove_state

logger = logging.getLogger("jupyterlab_oidc.dask")

SCHEDULER_PLUGIN = "jupyterlab-oidc"
PUSH_HANDLER = "jupyterlab_oidc_push"
CURRENT_HANDLER = "jupyterlab_oidc_current"


def plugin_name(environment: str | None, application: str | None) -> str:
    return f"jupyterlab-oidc:{environment or ''}:{application or ''}"


class OIDCPlugin(WorkerPlugin):
    """Give every worker the notebook's current access token for ``environment``.

    ``client.register_plugin(OIDCPlugin(environment="prod"))``. Creating it in the kernel starts
    the kernel side (a thread that follows the kernel's token cache and pushes each rotation);
    what is pickled to the workers is only the plugin's name, environment and application.
    ``client`` defaults to the current Dask client; ``token_client`` to the kernel's.
    """

    idempotent = False

    def __init__(
        self,
        environment: Environment | str | None = None,
        application: str | None = None,
        *,
        client: Any = None,
        token_client: Any = None,
    ) -> None:
        from .publisher import Publisher

        self.environment = environment_name(environment)
        self.application = application or None
        self.name = plugin_name(self.environment, self.application)
        if client is None:
            from distributed import default_client

            try:
                client = default_client()
            except ValueError:
                raise ValueError("Create the distributed.Client first: OIDCPlugin pushes tokens through it.") from None
        self.publisher = Publisher(client, self.name, self.environment, self.application, token_client)
        self.publisher.start()

    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name, "environment": self.environment, "application": self.application}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.publisher = None

    def close(self) -> None:
        """Stop pushing (kernel side); the workers drop their tokens."""
        if self.publisher is not None:
            self.publisher.stop("plugin_removed")

    # ------------------------------------------------------------------ on a worker

    async def setup(self, worker: Any) -> None:
        state = WorkerTokens(self.name, self.environment, self.application)
        add_state(state)
        worker.handlers[WORKER_HANDLER] = _receive
        latest = await worker.scheduler.jupyterlab_oidc_current(name=self.name, worker=worker.address)
        if latest:
            state.apply(latest["seq"], latest.get("token"), latest.get("reason"))

    def teardown(self, worker: Any) -> None:
        state = remove_state(self.name)
        if state is not None:
            state.drop("plugin_removed")


def _receive(name: str, seq: int, token: Any = None, reason: str | None = None) -> str:
    from .worker import states

    state = states().get(name)
    if state is None:
        return "unknown"
    state.apply(seq, token, reason)
    return "ok"


class OIDCSchedulerPlugin(SchedulerPlugin):
    """On the scheduler: the latest push per plugin (opaque frames) and the relay to workers."""

    name = SCHEDULER_PLUGIN
    idempotent = True

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        self.ready: dict[str, set[str]] = {}
        self.scheduler: Any = None

    async def start(self, scheduler: Any) -> None:
        self.scheduler = scheduler
        scheduler.handlers[PUSH_HANDLER] = self.push
        scheduler.handlers[CURRENT_HANDLER] = self.current

    async def push(self, name: str, owner: str, token: Any = None, reason: str | None = None) -> int:
        """From the notebook: store and relay; answers how many workers acknowledged.

        The notebook pushes from one thread, one push at a time: arrival order is push order.
        Sequence numbers are the scheduler's, so a new client after ``client_gone`` starts above.
        """
        self.entries[name] = {"owner": owner, "seq": self._next_seq(), "token": token, "reason": reason}
        return await self._relay(name)

    def _next_seq(self) -> int:
        self.seq = getattr(self, "seq", 0) + 1
        return self.seq

    def current(self, name: str, worker: str) -> dict[str, Any] | None:
        """From a worker setting up the plugin: the latest push (and relay the next ones to it)."""
        self.ready.setdefault(name, set()).add(worker)
        return self.entries.get(name)

    async def _relay(self, name: str) -> int:
        entry = self.entries[name]
        workers = [w for w in self.ready.get(name, ()) if w in self.scheduler.workers]
        msg = {"name": name, "seq": entry["seq"], "token": entry["token"], "reason": entry["reason"]}

        async def send(address: str) -> bool:
            try:
                return await self.scheduler.rpc(address).jupyterlab_oidc_token(**msg) == "ok"
            except Exception as e:  # a worker going away: it drops everything anyway
                logger.info("jupyterlab_oidc: worker %s did not take the push (%s)", address, type(e).__name__)
                return False

        results = await asyncio.gather(*(send(w) for w in workers))
        return sum(results)

    def remove_worker(self, scheduler: Any, worker: str, **kwargs: Any) -> None:
        for workers in self.ready.values():
            workers.discard(worker)

    def remove_client(self, scheduler: Any, client: str) -> None:
        for name, entry in self.entries.items():
            if entry["owner"] == client and entry["reason"] != "client_gone":
                self.entries[name] = {**entry, "seq": self._next_seq(), "token": None, "reason": "client_gone"}
                logger.info("jupyterlab_oidc: the notebook's client left; workers drop the token of %s", name)
                scheduler._ongoing_background_tasks.call_soon(self._relay, name)
