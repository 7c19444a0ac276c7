"""Plugin: requests that really overlap, whatever the machine's speed.

``token_requests`` records when requests for a token enter and leave the broker;
``held_refresh`` keeps the broker's refresh requests from leaving for the provider until the
test releases them (white-box: it wraps the broker's HTTP helper), so a test can see many
requests wait for one refresh instead of hoping they arrive in time. The misbehaving provider
holds requests on its side (``MisbehavingProvider.hold``).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from ..support import TokenRequests


@pytest.fixture
def token_requests(broker: Any, monkeypatch: pytest.MonkeyPatch) -> TokenRequests:
    """Requests that reached the broker for a token (wraps ``broker.get_token``)."""
    record = TokenRequests([], [])
    get_token = broker.get_token

    async def counted(*args: Any, **kwargs: Any) -> Any:
        record.entered.append(time.monotonic())
        try:
            return await get_token(*args, **kwargs)
        finally:
            record.left.append(time.monotonic())

    monkeypatch.setattr(broker, "get_token", counted)
    return record


@dataclass
class HeldRefresh:
    """Refresh requests the broker wants to send, held until :meth:`release`."""

    waiting: int = 0
    sent: int = 0
    _go: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self._go.set()


@pytest.fixture
def held_refresh(broker: Any, monkeypatch: pytest.MonkeyPatch) -> HeldRefresh:
    held = HeldRefresh()
    post_form = broker.http.post_form

    async def gated(label: str, *args: Any, **kwargs: Any) -> Any:
        if label == "refresh":
            held.waiting += 1
            try:
                await held._go.wait()
            finally:
                held.waiting -= 1
            held.sent += 1
        return await post_form(label, *args, **kwargs)

    monkeypatch.setattr(broker.http, "post_form", gated)
    return held
