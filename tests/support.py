"""Plain helpers the tests import (fixtures live in tests/plugins/, never imported)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: The ``project_ids`` of the ``prod`` environment (Zitadel-style audience scopes).
PROJECT_IDS = {"spatial_engine": "360000000000000001"}


@dataclass
class Reply:
    """An API answer: status and JSON body (text if not JSON), whatever the status."""

    status: int
    body: Any
    headers: Any = None

    @classmethod
    def of(cls, status: int, raw: str, headers: Any = None) -> Reply:
        try:
            body = json.loads(raw) if raw.lstrip().startswith(("{", "[")) else raw
        except ValueError:
            body = raw
        return cls(status, body, headers)


def token_fields(body: Any) -> set[str]:
    """Names of token fields anywhere in a JSON body."""
    names = {"access_token", "refresh_token", "id_token"}
    if isinstance(body, dict):
        return {k for k in body if k in names} | set().union(*(token_fields(v) for v in body.values()))
    if isinstance(body, list):
        return set().union(*(token_fields(v) for v in body))
    return set()


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def budget(name: str, small: int, full: int | None = None) -> int:
    """A size from the environment (``OIDC_FUZZ_EXAMPLES`` ...); ``OIDC_SECURITY_FULL=1`` picks ``full``."""
    value = os.environ.get(name)
    if value:
        return int(value)
    return full if full is not None and os.environ.get("OIDC_SECURITY_FULL") == "1" else small


@dataclass
class TokenRequests:
    """When requests for a token entered and left the broker (see the ``token_requests`` fixture)."""

    entered: list[float]
    left: list[float]

    def clear(self) -> None:
        self.entered.clear()
        self.left.clear()

    def __len__(self) -> int:
        return len(self.entered)

    @property
    def overlapped(self) -> bool:
        """Every request arrived before the first one was answered."""
        return bool(self.entered) and (not self.left or max(self.entered) < min(self.left))


async def until(condition: Any, what: str, timeout: float = 30) -> None:
    """Wait on the test's event loop (the in-process server keeps serving) until ``condition()``."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.02)


def make_due(broker: Any, session: Any) -> None:
    """Move a session's expiry into its refresh window (white-box): a refresh is due now and the
    access token is still valid for a while. Tests need not wait for a token to age."""
    session.expires_at = time.time() + broker.margin(session) / 2
