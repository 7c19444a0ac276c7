"""``get_token()``: the kernel's token cache and how it pulls fresh tokens.

A pull: HTTP with the kernel secret, else the comm when a frontend answers (``pull_route``),
else the REST API with the server's own credentials. Pushes come through the comm; the server
alone refreshes at the provider, once for all kernels.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from ..errors import ConfigError, NotAuthenticatedError, OIDCError
from ..protocol import session_key as _session_key
from ..protocol import token_sha256
from . import lite, messages
from .comm_channel import ChannelUnavailable, CommChannel
from .environment import Environment, environment_name
from .http_channel import HTTPChannel, ServerEndpoint
from .pull_route import pull_over_comm
from .tokenstore import TokenStore

#: The sessions file is looked at no more often than this (sign-outs reach the cache this fast).
SESSIONS_CHECK_SECONDS = 0.05
#: A caller waiting for another thread's pull gives up after this long.
PULL_TIMEOUT_SECONDS = 60.0

Key = tuple[str | None, str | None]
#: ``callback(key, token, reason)``: the cache of a session changed (``token`` None: dropped).
Subscriber = Callable[[Key, "TokenStore | None", str], None]


class _Pull:
    """One pull in flight; other threads asking for the same session wait for it."""

    __slots__ = ("done", "error", "token")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.token: TokenStore | None = None
        self.error: BaseException | None = None


class _SessionsWatch:
    """Follows the server's sessions file (a ``stat`` at most every 50 ms) to see sign-outs."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._next_check = 0.0

    def changed(self) -> dict[str, Any] | None:
        """The file's content (``sessions``: key → signed_in_at, ...) if it changed since last time."""
        if not self.path:
            return None
        now = time.monotonic()
        if now < self._next_check:
            return None
        self._next_check = now + SESSIONS_CHECK_SECONDS
        try:
            info = os.stat(self.path)
        except OSError:
            return None  # not written yet, or the server stopped: nothing to conclude
        stamp = (info.st_ino, info.st_mtime_ns)
        if stamp == self._stamp:
            return None
        try:
            with open(self.path) as f:
                content = json.load(f)
        except (OSError, ValueError):
            return None
        self._stamp = stamp
        if not isinstance(content, dict) or not isinstance(content.get("sessions"), dict):
            return None
        return content


class TokenClient:
    """The token cache of one kernel process and its channels to the server extension."""

    def __init__(self, endpoint: ServerEndpoint | None = None, use_comm: bool = True) -> None:
        from .. import __version__

        self.endpoint = endpoint or ServerEndpoint.from_environ()
        self.http = HTTPChannel(self.endpoint)
        self.comm = CommChannel(self._on_update, __version__, self._on_ready) if use_comm else None
        self.default_environment: str | None = None
        self._lock = threading.Lock()
        self._cache: dict[Key, TokenStore] = {}
        self._pulls: dict[Key, _Pull] = {}
        self._sessions = _SessionsWatch(self.endpoint.sessions_file)
        self._subscribers: list[Subscriber] = []

    # ---------------------------------------------------------------- public

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(key, token, reason)`` after every change of the cache; returns unsubscribe.

        ``reason``: ``pull`` (a token fetched), ``sign_in``/``rotation`` (pushed by the frontend),
        ``sign_out``, ``session_ended`` (the sessions file), ``forget``. Runs on the thread that made
        the change, outside the cache lock: keep it short (``jupyterlab_oidc.dask`` only wakes a thread).
        """
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def _notify(self, changes: list[tuple[Key, TokenStore | None, str]]) -> None:
        for key, token, reason in changes:
            for callback in list(self._subscribers):
                try:
                    callback(key, token, reason)
                except Exception:  # a subscriber's bug must not break get_token()
                    pass

    def get_token(
        self, environment: Environment | str | None = None, application: str | None = None, min_valid: float = 60
    ) -> TokenStore:
        """A token valid for ``min_valid`` s (capped at the server's refresh margin)."""
        self._follow_sessions()
        key = self._key(environment, application)
        token = self._cache.get(key)
        if token is not None and token.valid_for(min_valid):
            return token
        return self._pull(key, min_valid)

    async def get_token_async(
        self, environment: Environment | str | None = None, application: str | None = None, min_valid: float = 60
    ) -> TokenStore:
        """Like :meth:`get_token`; a pull runs in a worker thread, the cached path does not."""
        self._follow_sessions()
        key = self._key(environment, application)
        token = self._cache.get(key)
        if token is not None and token.valid_for(min_valid):
            return token
        if lite.in_pyodide():  # no thread to wait on: the page's push, awaited
            return await lite.wait_for_token(self, key, min_valid)
        import asyncio

        return await asyncio.get_running_loop().run_in_executor(None, partial(self._pull, key, min_valid))

    def refresh(
        self,
        environment: Environment | str | None = None,
        application: str | None = None,
        rejected: str | None = None,
    ) -> TokenStore:
        """A token other than the one an API refused (``rejected``: its sha256): refresh unless done.

        Without ``rejected``, refresh now.
        """
        key = self._key(environment, application)
        current = self._cache.get(key)
        if rejected and current is not None and token_sha256(current.access_token) != rejected and current.valid_for(0):
            return current
        return self._pull(key, 0.0, force=True, rejected=rejected)

    def cached(self, key: Key, min_valid: float) -> TokenStore | None:
        """The cached token if it is still valid long enough (after dropping ended sessions)."""
        self._follow_sessions()
        token = self._cache.get(key)
        if token is not None and token.valid_for(min_valid):
            return token
        return None

    def _follow_sessions(self) -> None:
        """One ``stat``; when the server's sessions file changed, drop tokens of ended sessions."""
        content = self._sessions.changed()
        if content is None:
            return
        if isinstance(content.get("default_environment"), str):
            self.default_environment = content["default_environment"]
        written_at = content.get("written_at")
        self._forget_ended(content["sessions"], written_at if isinstance(written_at, (int, float)) else None)

    def forget(self, environment: Environment | str | None = None, application: str | None = None) -> None:
        """Drop the cached token (after a new sign-in, for example)."""
        key = self._key(environment, application)
        with self._lock:
            dropped = self._cache.pop(key, None)
        if dropped is not None:
            self._notify([(key, None, "forget")])

    def status(self) -> dict[str, Any]:
        """Sessions (no tokens) and environments, from the server extension."""
        if self.http.available:
            return self.http.status()
        return self.call("GET", "status")

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 30.0) -> Any:
        """A REST call under ``oidc/`` that needs Jupyter credentials: via the frontend, else directly."""
        if self.comm is not None:
            self.comm.ensure_open()
            if self.comm.live:
                try:
                    reply = self.comm.request(messages.call(method, path, body), timeout=timeout)
                except ChannelUnavailable:
                    pass
                else:
                    if reply["type"] == messages.ERROR:
                        raise OIDCError.from_json(reply)
                    if reply["status"] >= 400:
                        body_ = reply.get("body")
                        raise OIDCError.from_json(body_ if isinstance(body_, dict) else {"error": "oidc_error"})
                    return reply.get("body")
        return self.http.rest(method, path, body, timeout=timeout)

    # ---------------------------------------------------------------- pulling

    def _key(self, environment: Environment | str | None, application: str | None) -> Key:
        return (environment_name(environment) or self.default_environment, application or None)

    def _pull(self, key: Key, min_valid: float, force: bool = False, rejected: str | None = None) -> TokenStore:
        """Single flight per session: one thread fetches, the others wait for its answer."""
        deadline = time.monotonic() + PULL_TIMEOUT_SECONDS
        for _attempt in range(3):
            with self._lock:
                pull = self._pulls.get(key)
                leader = pull is None
                if pull is None:
                    pull = self._pulls[key] = _Pull()
            if leader:
                try:
                    pull.token = self._fetch(key, min_valid, force, rejected)
                except BaseException as e:
                    pull.error = e
                    raise
                finally:
                    with self._lock:
                        self._pulls.pop(key, None)
                    pull.done.set()
                return pull.token
            if not pull.done.wait(max(deadline - time.monotonic(), 0.0)):
                raise OIDCError(f"No token after {PULL_TIMEOUT_SECONDS:g} s (another thread's request is stuck).")
            if pull.error is not None:
                if isinstance(pull.error, OIDCError):
                    raise OIDCError.from_json(pull.error.to_json())
                raise pull.error
            token = pull.token
            if token is not None and (
                token.valid_for(min_valid) if not force else self._answers_force(token, rejected)
            ):
                return token
        raise OIDCError("Could not get a token that is valid long enough.")

    @staticmethod
    def _answers_force(token: TokenStore, rejected: str | None) -> bool:
        return rejected is not None and token_sha256(token.access_token) != rejected

    def _fetch(self, key: Key, min_valid: float, force: bool, rejected: str | None) -> TokenStore:
        environment, application = key
        if lite.in_pyodide():  # JupyterLite: only what the page pushed (asked for, for later)
            raise lite.refuse(self, key, min_valid)
        reply: dict[str, Any] | None = None
        if self.comm is not None:
            self.comm.ensure_open()
        if self.comm is not None and pull_over_comm(self.comm.live, self.http.available, force):
            reply = self._fetch_comm(environment, application, min_valid, force)
        if reply is None:
            if self.http.available:
                reply = self.http.token(environment, application, min_valid, force, rejected)
            elif self.endpoint.url:
                body = {"environment": environment, "application": application}
                if force:
                    self.http.rest("POST", "refresh", body)
                reply = self.http.rest("POST", "token", {**body, "min_valid": min_valid})
            else:
                raise ConfigError(
                    "This kernel cannot reach jupyterlab_oidc: it was not started by a Jupyter server with the "
                    "extension and no JupyterLab tab answers. Start the kernel from JupyterLab."
                )
        token = TokenStore.from_reply(reply)
        self._store(key, token)
        return token

    def _fetch_comm(
        self, environment: str | None, application: str | None, min_valid: float, force: bool
    ) -> dict[str, Any] | None:
        assert self.comm is not None
        try:
            reply = self.comm.request(messages.token_request(environment, application, min_valid, force))
        except ChannelUnavailable:
            return None
        if reply["type"] == messages.ERROR:
            raise OIDCError.from_json(reply)
        if reply["type"] != messages.TOKEN_REPLY:
            return None
        return reply["token"]

    def _store(self, key: Key, token: TokenStore) -> None:
        with self._lock:
            if token.environment:
                if key[0] is None:
                    self.default_environment = token.environment
                key = (token.environment, key[1])
            self._cache[key] = token
        self._notify([(key, token, "pull")])

    # ---------------------------------------------------------------- pushed news

    def _on_update(self, update: dict[str, Any]) -> None:
        """A ``token_update`` from the frontend: sign-in, rotation or sign-out."""
        key = (update["environment"], update.get("application") or None)
        with self._lock:
            if update["reason"] == "sign_out":
                self._cache.pop(key, None)
                change: tuple[Key, TokenStore | None, str] | None = (key, None, "sign_out")
            else:
                token = TokenStore.from_reply(update["token"])
                current = self._cache.get(key)
                newer = current is None or (token.expires_at or 0) >= (current.expires_at or 0)
                change = None
                if update["reason"] == "sign_in" or newer:
                    self._cache[key] = token
                    change = (key, token, str(update["reason"]))
        if change is not None:
            self._notify([change])

    def _on_ready(self, ready: dict[str, Any]) -> None:
        if isinstance(ready.get("default_environment"), str) and ready["default_environment"]:
            self.default_environment = ready["default_environment"]
        lite.ask_again(self)  # JupyterLite: the page pushes changes only, ask for the rest

    def _forget_ended(self, sessions: dict[str, Any], written_at: float | None) -> None:
        """Drop tokens whose session the file no longer lists (or lists with another sign-in).

        A token received after the file was written is newer than the file: kept.
        """
        ended: list[tuple[Key, TokenStore | None, str]] = []
        with self._lock:
            for key, token in list(self._cache.items()):
                if written_at is not None and token.received_at is not None and token.received_at > written_at:
                    continue
                entry = sessions.get(_session_key(token.environment or key[0], token.application or key[1]))
                if not isinstance(entry, dict) or (
                    token.signed_in_at is not None and entry.get("signed_in_at") != token.signed_in_at
                ):
                    del self._cache[key]
                    ended.append((key, None, "session_ended"))
        if ended:
            self._notify(ended)


_default_client: TokenClient | None = None
_default_lock = threading.Lock()
#: Set by ``jupyterlab_oidc.dask`` in a worker: the plugin's token client in a task, else None.
worker_client_finder: Callable[[], TokenClient | None] | None = None


def default_client() -> TokenClient:
    """The process-wide client (created on first use from the kernel's environment).

    Inside a Dask task on a worker with ``jupyterlab_oidc.dask.OIDCPlugin``: the plugin's client,
    which holds the token the notebook pushed (workers never ask the server or the provider).
    """
    global _default_client
    if worker_client_finder is not None:
        worker = worker_client_finder()
        if worker is not None:
            return worker
    if _default_client is None:
        with _default_lock:
            if _default_client is None:
                _default_client = TokenClient()
    return _default_client


def get_token(
    environment: Environment | str | None = None, application: str | None = None, min_valid: float = 60
) -> TokenStore:
    """A ``TokenStore`` whose access token is valid for at least ``min_valid`` seconds.

    Returns at once from the kernel's cache when it can; otherwise asks the server extension,
    which refreshes when needed (one refresh for all kernels). ``min_valid`` is capped at the
    server's refresh margin (at most half the token's lifetime), as the server caps it.

    Raises ``NotAuthenticatedError`` when nobody is signed in to ``environment``: sign in
    from the OIDC panel, or with ``OIDCAuth(environment).start_login(email)``.
    """
    return default_client().get_token(environment, application, min_valid)


async def get_token_async(
    environment: Environment | str | None = None, application: str | None = None, min_valid: float = 60
) -> TokenStore:
    """``await get_token_async()``: :func:`get_token` without blocking the event loop."""
    return await default_client().get_token_async(environment, application, min_valid)


__all__ = ["NotAuthenticatedError", "TokenClient", "default_client", "get_token", "get_token_async", "token_sha256"]
