"""Audit records as Jupyter events: the server's own ``serverapp.event_logger`` (jupyter_events).

The schemas ship in ``event_schemas/`` (one per kind of record, ``$id``
``https://schema.jupyter.org/jupyterlab_oidc/{kind}/v1``). Nothing is written until the
server's ``EventLogger`` has handlers or listeners: see docs/operations.md for routing the
events to a file or a log collector.
"""

from __future__ import annotations

import logging
from importlib import resources
from typing import Any

from ..core.audit import KINDS, AuditRecord

SCHEMA_BASE = "https://schema.jupyter.org/jupyterlab_oidc"
#: ``$id`` of each kind's schema.
SCHEMA_IDS = {kind: f"{SCHEMA_BASE}/{kind}/v1" for kind in KINDS}


def schema_paths() -> dict[str, Any]:
    """The schema file of each kind (a path inside the installed package)."""
    folder = resources.files("jupyterlab_oidc.server") / "event_schemas"
    return {kind: folder / f"{kind}.v1.yaml" for kind in KINDS}


def register_schemas(event_logger: Any) -> None:
    """Register the schemas with ``event_logger`` (once; a second server in the process reuses them)."""
    for kind, path in schema_paths().items():
        if SCHEMA_IDS[kind] not in event_logger.schemas:
            with resources.as_file(path) as file:
                event_logger.register_event_schema(file)


def event_data(record: AuditRecord) -> dict[str, Any]:
    """The event's fields: the record's, without those that are unset."""
    data: dict[str, Any] = {
        "action": record.action,
        "environment": record.environment,
        "application": record.application,
        "issuer": record.issuer,
        "email": record.email,
        "sub_sha256": record.sub_sha256,
        "duration_seconds": record.duration_seconds,
        "error_code": record.error_code,
    }
    if record.kind == "sign_in":
        data["method"] = record.method
    if record.kind == "kernel_token":
        data["count"] = record.count
    return {k: v for k, v in data.items() if v not in (None, "")}


class OIDCEventsOnly(logging.Filter):
    """A filter for an ``EventLogger`` handler that passes this extension's events only
    (the server's event logger also carries contents and kernel events)::

        handler = logging.FileHandler("/var/log/jupyter/oidc-audit.jsonl")
        handler.addFilter(OIDCEventsOnly())
        c.EventLogger.handlers = [handler]
    """

    def filter(self, record: logging.LogRecord) -> bool:
        event = record.msg
        return isinstance(event, dict) and str(event.get("__schema__", "")).startswith(SCHEMA_BASE + "/")


class EventsObserver:
    """An audit observer (``core.audit.AuditObserver``) that emits each record on the event logger."""

    def __init__(self, event_logger: Any, log: logging.Logger) -> None:
        self.event_logger = event_logger
        self.log = log
        register_schemas(event_logger)

    def record(self, record: AuditRecord) -> None:
        data = event_data(record)
        data.setdefault("environment", "")
        self.event_logger.emit(schema_id=SCHEMA_IDS[record.kind], data=data)

    def round_trip(self, endpoint: str, seconds: float, outcome: str) -> None:
        """Round trips are metrics (server/metrics.py), not events."""
