"""Kernel side of the ``jupyterlab-oidc`` comm: pull tokens from the frontend, take its pushes.

The kernel opens the comm lazily (``hello``); the frontend answers ``ready``. Pulls go
through the comm only when the frontend's messages reach the kernel while a cell runs,
i.e. they are handled on a subshell thread (JupyterLab ≥ 4.4 sends comm messages to a
kernel subshell; ipykernel ≥ 7 runs them there). Otherwise the caller uses HTTP.
Nothing here imports ipykernel or comm until a running ipykernel is found.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from . import messages

log = logging.getLogger("jupyterlab_oidc.kernel")

#: A comm request not answered in this time falls back to HTTP.
REQUEST_TIMEOUT_SECONDS = 1.5
#: Without ``ready`` within this time, the next pull says ``hello`` again (a tab may have opened).
READY_WAIT_SECONDS = 30.0
#: After a timeout or a close, wait this long before opening the comm again; the wait
#: doubles while no frontend says ``ready`` (a JupyterLab without the bridge closes it).
REOPEN_AFTER_SECONDS = 10.0
MAX_REOPEN_AFTER_SECONDS = 600.0


class ChannelUnavailable(Exception):  # noqa: N818 (a state the caller falls back on, not a failure)
    """The comm cannot carry this request now (use HTTP)."""


class _Waiter:
    __slots__ = ("event", "reply")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reply: dict[str, Any] | None = None


def running_kernel() -> Any:
    """The ipykernel ``Kernel`` of this process (or JupyterLite's Pyodide kernel), or None.

    Never imports ipykernel itself.
    """
    kernelbase = sys.modules.get("ipykernel.kernelbase")
    if kernelbase is None:
        lite = sys.modules.get("pyodide_kernel")  # JupyterLite: its comms go through the page
        return getattr(lite, "kernel_instance", None) if lite is not None else None
    kernel_cls = getattr(kernelbase, "Kernel", None)
    try:
        return kernel_cls.instance() if kernel_cls is not None and kernel_cls.initialized() else None
    except Exception:
        return None


def kernel_supports_subshells(kernel: Any) -> bool:
    """ipykernel ≥ 7 with subshells on (JEP 91): comm messages may run beside a busy main thread."""
    return bool(getattr(kernel, "_supports_kernel_subshells", False)) and hasattr(kernel, "shell_channel_thread")


class CommChannel:
    """One comm per kernel process, shared by every ``get_token`` call."""

    def __init__(
        self,
        on_update: Callable[[dict[str, Any]], None],
        package_version: str = "",
        on_ready: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self._on_update = on_update
        self._on_ready = on_ready
        #: Ids of requests sent with :meth:`send` (nobody waits: the answer is an update).
        self._sent: set[str] = set()
        self._package_version = package_version
        self._lock = threading.Lock()
        self._comm: Any = None
        self._next_open_at = 0.0
        self._ready = False
        self._concurrent = False
        self._waiters: dict[str, _Waiter] = {}
        self._reopen_after = REOPEN_AFTER_SECONDS
        #: What the frontend said in ``ready`` (name, version, subshell).
        self.frontend: dict[str, Any] = {}

    @property
    def live(self) -> bool:
        """True when a pull through the comm can be answered while the main thread waits."""
        return self._comm is not None and self._ready and self._concurrent

    @property
    def attached(self) -> bool:
        """True when a frontend answered ``ready`` (it pushes updates, maybe only between cells)."""
        return self._comm is not None and self._ready

    @property
    def opened(self) -> bool:
        """True when a comm is open (answered ``ready`` or not yet)."""
        return self._comm is not None

    def send(self, message: dict[str, Any]) -> bool:
        """Send without waiting (JupyterLite: the answer arrives after the cell); False if not ready."""
        channel = self._comm
        if channel is None or not self._ready:
            return False
        try:
            channel.send(data=message)
        except Exception as e:
            log.debug("jupyterlab_oidc: cannot send on the comm: %s", e)
            return False
        if len(self._sent) > 64:
            self._sent.clear()
        self._sent.add(message["id"])
        return True

    def ensure_open(self) -> None:
        """Open the comm if there is a kernel and none is open (cheap when nothing to do)."""
        if self._ready or time.monotonic() < self._next_open_at:
            return
        kernel = running_kernel()
        if kernel is None:
            self._next_open_at = float("inf")
            return
        with self._lock:
            if self._ready or time.monotonic() < self._next_open_at:
                return
            old, self._comm = self._comm, None
            if old is not None:  # nobody answered the last hello
                self._reopen_after = min(self._reopen_after * 2, MAX_REOPEN_AFTER_SECONDS)
            self._next_open_at = time.monotonic() + max(READY_WAIT_SECONDS, self._reopen_after)
        if old is not None:
            self._close_quietly(old)
        try:
            self._open(kernel)
        except Exception as e:  # no comm manager, closed iopub, ...: HTTP still works
            log.debug("jupyterlab_oidc: cannot open the comm: %s", e)

    def _open(self, kernel: Any) -> None:
        import comm as comm_module

        hello = messages.hello(
            {
                "language": "python",
                "implementation": type(kernel).__module__.split(".")[0],
                "subshells": kernel_supports_subshells(kernel),
                "python": sys.version.split()[0],
            },
            self._package_version,
        )
        channel = comm_module.create_comm(target_name=messages.TARGET_NAME, primary=False)
        if hasattr(channel, "_reply_subshell_for"):
            # ipykernel builds that route comm replies back to the sender's subshell would
            # send them to the busy main thread: keep the subshell the frontend chose.
            channel._reply_subshell_for = lambda _data, default: default
        channel.on_msg(self._handle_msg)
        channel.on_close(self._handle_close)
        with self._lock:
            self._comm = channel
            self._ready = self._concurrent = False
        channel.open(data=hello)

    def request(self, message: dict[str, Any], timeout: float = REQUEST_TIMEOUT_SECONDS) -> dict[str, Any]:
        """Send a request and wait for the message that answers its ``id``."""
        channel = self._comm
        if channel is None or not self.live:
            raise ChannelUnavailable("no frontend can answer while this cell runs")
        waiter = _Waiter()
        self._waiters[message["id"]] = waiter
        try:
            channel.send(data=message)
            if not waiter.event.wait(timeout):
                self._give_up(channel, f"no answer to {message['type']} within {timeout:g} s")
                raise ChannelUnavailable(f"the frontend did not answer within {timeout:g} s")
        finally:
            self._waiters.pop(message["id"], None)
        assert waiter.reply is not None
        if waiter.reply.get("type") == messages.ERROR and waiter.reply.get("error") == "unavailable":
            raise ChannelUnavailable(str(waiter.reply.get("message") or "the frontend cannot answer"))
        return waiter.reply

    def _give_up(self, channel: Any, why: str) -> None:
        """The frontend went quiet (tab closed or reloaded): drop the comm, use HTTP, retry later."""
        log.info("jupyterlab_oidc: %s; using HTTP", why)
        with self._lock:
            if self._comm is not channel:
                return
            self._comm = None
            self._ready = self._concurrent = False
            self._back_off()
        self._close_quietly(channel)

    # ---------------------------------------------------------------- incoming

    def _handle_msg(self, msg: dict[str, Any]) -> None:
        try:
            data = messages.parse(msg.get("content", {}).get("data"))
        except messages.ProtocolError as e:
            log.warning("jupyterlab_oidc: comm message ignored: %s", e)
            return
        kind = data["type"]
        if kind == messages.READY:
            self.frontend = {k: v for k, v in data.items() if k not in ("v", "type")}
            # Handled on a subshell thread: answers can reach a cell that blocks the main thread.
            self._concurrent = threading.current_thread() is not threading.main_thread()
            self._ready = True
            self._reopen_after = REOPEN_AFTER_SECONDS
            if self._on_ready is not None:
                self._on_ready(data)
            return
        if kind == messages.TOKEN_UPDATE:
            self._on_update(data)
            return
        waiter = self._waiters.get(data.get("id") or "")
        if waiter is not None:
            waiter.reply = data
            waiter.event.set()
        elif data.get("id") in self._sent:  # the answer to send(): a token is kept, an error dropped
            self._sent.discard(data["id"])
            if kind == messages.TOKEN_REPLY:
                token = data["token"]
                environment, application = token.get("environment"), token.get("application") or None
                update = {"reason": "pull", "environment": environment, "application": application, "token": token}
                self._on_update(update)
        elif kind == messages.ERROR:
            log.warning("jupyterlab_oidc: the frontend reported %s: %s", data["error"], data.get("message", ""))

    def _handle_close(self, _msg: dict[str, Any]) -> None:
        with self._lock:
            self._comm = None
            self._ready = self._concurrent = False
            self._back_off()
        for waiter in list(self._waiters.values()):
            waiter.reply = {"type": messages.ERROR, "error": "unavailable", "message": "the frontend closed the comm"}
            waiter.event.set()

    def _back_off(self) -> None:
        """Called with the lock held: wait before the next ``hello``, longer each time."""
        self._next_open_at = time.monotonic() + self._reopen_after
        self._reopen_after = min(self._reopen_after * 2, MAX_REOPEN_AFTER_SECONDS)

    @staticmethod
    def _close_quietly(channel: Any) -> None:
        try:
            channel.close()
        except Exception:
            pass
