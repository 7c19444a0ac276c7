"""The comm protocol's messages (target ``jupyterlab-oidc``, version 1): build and check them.

Pure functions over JSON-able dicts, so another kernel language can port them line by line.
docs/kernel-protocol.md is the reference.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..protocol import COMM_PROTOCOL_VERSION as PROTOCOL_VERSION
from ..protocol import COMM_TARGET as TARGET_NAME  # noqa: F401  (comm_channel uses it)
from ..protocol import MSG_CALL as CALL
from ..protocol import MSG_CALL_REPLY as CALL_REPLY
from ..protocol import MSG_ERROR as ERROR
from ..protocol import MSG_HELLO as HELLO
from ..protocol import MSG_READY as READY
from ..protocol import MSG_TOKEN_REPLY as TOKEN_REPLY
from ..protocol import MSG_TOKEN_REQUEST as TOKEN_REQUEST
from ..protocol import MSG_TOKEN_UPDATE as TOKEN_UPDATE
from ..protocol import UPDATE_REASONS

FROM_FRONTEND = (READY, TOKEN_REPLY, TOKEN_UPDATE, CALL_REPLY, ERROR)
#: REST routes under ``{base_url}oidc/`` a kernel may ask the frontend to call for it.
CALLABLE = {
    ("GET", "environments"),
    ("GET", "status"),
    ("POST", "login"),
    ("POST", "await"),
    ("POST", "cancel"),
    ("POST", "token"),
    ("POST", "refresh"),
    ("POST", "logout"),
}


class ProtocolError(ValueError):
    """A comm message that does not follow the protocol (it is ignored, never fatal)."""


def new_id() -> str:
    """A request id, unique within the kernel."""
    return uuid.uuid4().hex


def hello(kernel: dict[str, Any], package_version: str) -> dict[str, Any]:
    """The ``comm_open`` data: who the kernel is and what it can do."""
    return {
        "v": PROTOCOL_VERSION,
        "type": HELLO,
        "versions": [PROTOCOL_VERSION],
        "package": f"jupyterlab_oidc {package_version}",
        "kernel": kernel,
    }


def token_request(
    environment: str | None,
    application: str | None,
    min_valid: float,
    force: bool = False,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Ask the frontend for a token valid ``min_valid`` s (``force``: refresh first)."""
    return {
        "v": PROTOCOL_VERSION,
        "type": TOKEN_REQUEST,
        "id": request_id or new_id(),
        "environment": environment,
        "application": application,
        "min_valid": min_valid,
        "force": force,
    }


def call(method: str, path: str, body: dict[str, Any] | None = None, request_id: str | None = None) -> dict[str, Any]:
    """Ask the frontend to call ``{method} {base_url}oidc/{path}`` with its Jupyter credentials."""
    if (method, path) not in CALLABLE:
        raise ProtocolError(f"{method} oidc/{path} cannot be relayed")
    return {
        "v": PROTOCOL_VERSION,
        "type": CALL,
        "id": request_id or new_id(),
        "method": method,
        "path": path,
        "body": body or {},
    }


def parse(data: Any) -> dict[str, Any]:
    """Check a frontend → kernel message; returns it, or raises ``ProtocolError``."""
    if not isinstance(data, dict):
        raise ProtocolError("a message is a JSON object")
    version = data.get("v")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ProtocolError("'v' must be an integer")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {version} is not supported (this kernel speaks {PROTOCOL_VERSION})")
    kind = data.get("type")
    if kind not in FROM_FRONTEND:
        raise ProtocolError(f"unknown message type {kind!r}")
    if kind in (TOKEN_REPLY, CALL_REPLY) or (kind == ERROR and data.get("id") is not None):
        if not isinstance(data.get("id"), str) or not data["id"]:
            raise ProtocolError(f"{kind} needs the 'id' of the request it answers")
    if kind == TOKEN_REPLY:
        _check_token(data.get("token"), kind)
    elif kind == TOKEN_UPDATE:
        if data.get("reason") not in UPDATE_REASONS:
            raise ProtocolError(f"token_update 'reason' must be one of {', '.join(UPDATE_REASONS)}")
        if not isinstance(data.get("environment"), str) or not data["environment"]:
            raise ProtocolError("token_update needs 'environment'")
        if data["reason"] == "sign_out":
            if data.get("token") is not None:
                raise ProtocolError("a sign_out token_update carries no token")
        else:
            _check_token(data.get("token"), kind)
    elif kind == CALL_REPLY:
        if not isinstance(data.get("status"), int) or isinstance(data.get("status"), bool):
            raise ProtocolError("call_reply needs an integer 'status'")
    elif kind == ERROR:
        if not isinstance(data.get("error"), str) or not data["error"]:
            raise ProtocolError("error needs an 'error' code")
    return data


def _check_token(token: Any, kind: str) -> None:
    if not isinstance(token, dict):
        raise ProtocolError(f"{kind} needs a 'token' object")
    if not isinstance(token.get("access_token"), str) or not token["access_token"]:
        raise ProtocolError(f"{kind} token needs an 'access_token'")
    expires_at = token.get("expires_at")
    if not isinstance(expires_at, (int, float)) or isinstance(expires_at, bool):
        raise ProtocolError(f"{kind} token needs a numeric 'expires_at' (seconds since the epoch)")
