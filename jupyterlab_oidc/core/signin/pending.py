"""Sign-ins that were started and wait for the provider's callback."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode


@dataclass
class PendingLogin:
    """One started sign-in. ``state`` is single use: ``callback_received`` flips once."""

    state: str
    environment: str
    application: str | None
    login_hint: str
    code_verifier: str = field(repr=False)
    nonce: str = field(repr=False)
    redirect_uri: str
    expires_at: float
    #: The environment the redirect URI's path names (None: the legacy shared path).
    redirect_environment: str | None = None
    #: The provider's authorization endpoint and the request's parameters (redirect_uri aside).
    authorization_endpoint: str = ""
    authorization_params: dict[str, str] = field(default_factory=dict, repr=False)
    #: Every redirect URI handed out for this sign-in (one per browser origin that was bound).
    redirect_uris: set[str] = field(default_factory=set)
    #: Scheme and host of the last browser bound to it (the local listener sends it back there).
    browser_origin: str = ""
    #: ``{origin}{base_url}oidc/start?state=…``: binds the browser that opens it (needs the owner's login).
    start_url: str = ""
    #: SHA-256 of the binding secrets held by the browsers allowed to deliver the callback.
    bindings: set[str] = field(default_factory=set, repr=False)
    result: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    callback_received: bool = False
    timer: asyncio.TimerHandle | None = None

    def authorization_url(self, redirect_uri: str | None = None) -> str:
        """The provider URL a browser opens, for ``redirect_uri`` (default: the first one)."""
        params = {**self.authorization_params, "redirect_uri": redirect_uri or self.redirect_uri}
        separator = "&" if "?" in self.authorization_endpoint else "?"
        return f"{self.authorization_endpoint}{separator}{urlencode(params)}"

    def expires_in(self) -> float:
        """Seconds left before ``login_timeout``."""
        return self.expires_at - time.time()

    def listed(self) -> bool:
        """Shown in ``GET status`` (a panel follows sign-ins started elsewhere)."""
        return self.accepts_callback()

    def stop(self) -> None:
        """The server stops: nothing of this sign-in keeps running."""
        if self.timer:
            self.timer.cancel()

    def accepts_callback(self) -> bool:
        """True while the callback for this state may still arrive."""
        return not self.callback_received and not self.result.done() and self.expires_in() > 0

    def status(self) -> dict[str, Any]:
        """For ``GET status``: lets a panel follow a sign-in started elsewhere (a notebook cell)."""
        return {
            "state": self.state,
            "environment": self.environment,
            "application": self.application,
            "login_hint": self.login_hint,
            "expires_in": round(self.expires_in(), 3),
            "callback_received": self.callback_received,
            "start_url": self.start_url,
        }


#: Tasks started in the background (revocations, stopping the local listener): kept here so
#: they are not garbage-collected before they finish.
_BACKGROUND: set[asyncio.Task[Any]] = set()


def in_background(work: Any) -> None:
    """Run the coroutine ``work`` without waiting for it, keeping a reference until it ends."""
    task = asyncio.ensure_future(work)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)
