"""The kernel helper in JupyterLite (Pyodide): tokens pushed by the browser, nothing pulled.

A Pyodide kernel has no server extension to ask and no thread to wait on: everything it
gets comes over the ``jupyterlab-oidc`` comm from the page, and JupyterLite hands the page's
comm messages to a kernel one at a time, after the running cell. So:

- the site's start-up file (``attach_soon``) opens the comm when the first cell runs; on
  ``ready`` (after that cell) the kernel asks for the default environment's token, and the
  page pushes every sign-in, rotation and sign-out — they land in the kernel's cache between
  cells, so from the second cell on a signed-in page's token is there;
- ``get_token()`` answers from that cache when the token is valid for ``min_valid`` s, else
  raises :class:`TokenNotPushedError` (it cannot block: the answer could only arrive once the
  cell ends) after asking the page for one;
- ``await get_token_async()`` does the same but first waits up to ``PUSH_WAIT_SECONDS`` for
  the token to arrive, yielding to the event loop.
"""

from __future__ import annotations

import logging
import sys
import time
import weakref
from functools import partial
from typing import TYPE_CHECKING, Any

from ..errors import NotAuthenticatedError

if TYPE_CHECKING:
    from .client import Key, TokenClient
    from .tokenstore import TokenStore

log = logging.getLogger("jupyterlab_oidc.kernel")

#: ``get_token_async()`` waits this long for the page's push before giving up.
PUSH_WAIT_SECONDS = 5.0
POLL_SECONDS = 0.05


#: The sessions each client asked the page for (asked again on every ``ready``).
_WANTED: weakref.WeakKeyDictionary[Any, set[Any]] = weakref.WeakKeyDictionary()


def in_pyodide() -> bool:
    """True in a Pyodide kernel (JupyterLite)."""
    return sys.platform == "emscripten"


class TokenNotPushedError(NotAuthenticatedError):
    """JupyterLite (Pyodide): no token valid long enough has reached this kernel from the page."""


def not_pushed(min_valid: float, waited: float = 0.0) -> TokenNotPushedError:
    if waited:
        return TokenNotPushedError(
            f"No token valid for {min_valid:g} s reached this kernel within {waited:g} s. In JupyterLite the "
            "page's answer reaches the kernel only between cells: sign in from the OpenID Connect panel if "
            "you are not, then run the cell again."
        )
    return TokenNotPushedError(
        f"No token valid for {min_valid:g} s has reached this kernel yet, and get_token() cannot wait for "
        "the page in JupyterLite (Pyodide). Use `token = await get_token_async()`, or run the cell again: "
        "the page pushes a fresh token to the kernel between cells."
    )


async def wait_for_token(client: TokenClient, key: Key, min_valid: float, timeout: float | None = None) -> TokenStore:
    """The cached token once the page pushed one valid for ``min_valid`` s (asks for it first)."""
    import asyncio

    wait = PUSH_WAIT_SECONDS if timeout is None else timeout
    prefetch(client, key)
    deadline = time.monotonic() + wait
    while True:
        token = client.cached(key, min_valid)
        if token is not None:
            return token
        if time.monotonic() >= deadline:
            raise not_pushed(min_valid, wait)
        await asyncio.sleep(POLL_SECONDS)


def prefetch(client: TokenClient, key: Key) -> None:
    """Ask the page for the session's token; its answer lands in the cache between cells."""
    from . import messages

    if client not in _WANTED:
        client.subscribe(partial(_learn_default, client))
    _WANTED.setdefault(client, set()).add(key)
    if client.comm is not None:
        client.comm.ensure_open()
        client.comm.send(messages.token_request(key[0], key[1], 0))


def refuse(client: TokenClient, key: Key, min_valid: float) -> TokenNotPushedError:
    """``get_token()`` without a pushed token: ask the page for one (for the next cell), refuse."""
    prefetch(client, key)
    return not_pushed(min_valid)


def _learn_default(client: TokenClient, key: Key, token: TokenStore | None, reason: str) -> None:
    """A token the page sent for "the default environment": its environment is the default."""
    if reason == "pull" and token is not None and client.default_environment is None and token.environment:
        client.default_environment = token.environment


def ask_again(client: TokenClient) -> None:
    """On ``ready`` (JupyterLite only): ask for every session wanted so far and the default one."""
    if not in_pyodide():
        return
    for key in _WANTED.get(client, set()) | {(client.default_environment, None)}:
        prefetch(client, key)


def attach(client: TokenClient | None = None) -> bool:
    """Open the comm now if the kernel can send; True once it is open (or was)."""
    from .client import default_client

    shell = _shell()
    if shell is None or not hasattr(shell, "send_comm"):
        return False  # the kernel is still starting
    client = client or default_client()
    if client.comm is None:
        return False
    client.comm.ensure_open()
    return client.comm.opened


def attach_soon() -> None:
    """From the site's IPython start-up file: open the comm when the first cell starts.

    Not earlier: JupyterLite routes a kernel's messages to the page by the session of the
    request being handled, so a comm opened at start-up, outside any request, reaches nobody.
    The page's ``ready`` and the token the kernel then asks for land right after that cell.
    """
    shell = _shell()
    if shell is None:
        return

    def first_cell(*_args: Any) -> None:
        shell.events.unregister("pre_run_cell", first_cell)
        try:
            attach()
        except Exception as e:  # never break the user's cell
            log.debug("jupyterlab_oidc: cannot open the comm: %s", e)

    shell.events.register("pre_run_cell", first_cell)


def _shell() -> Any:
    try:
        from IPython.core.getipython import get_ipython
    except ImportError:
        return None
    return get_ipython()
