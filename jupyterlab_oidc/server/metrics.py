"""Prometheus metrics on the server's own ``/metrics`` (prometheus_client's default registry).

Fed by the broker's audit records (``core/audit.py``) and by the registry's change feed:

- ``jupyterlab_oidc_sign_ins_total{environment,outcome}``: started, succeeded, refused, abandoned
- ``jupyterlab_oidc_refreshes_total{environment,outcome}``: succeeded, failed
- ``jupyterlab_oidc_failures_total{operation,code}``: failed sign-ins and refreshes by error code
- ``jupyterlab_oidc_sessions_ended_total{environment,reason}``
- ``jupyterlab_oidc_kernel_token_pulls_total{environment}``
- ``jupyterlab_oidc_provider_request_duration_seconds{endpoint,outcome}``: round trips to the
  provider by endpoint (``code exchange``, ``refresh``, ``discovery``, ``jwks``, ``userinfo``, ...)
- ``jupyterlab_oidc_active_sessions{environment}``

The metrics are module-level, like jupyter_server's own: one set per process.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram

from ..core.audit import AuditRecord

if TYPE_CHECKING:
    from ..core.broker import Broker

SIGN_INS = Counter("jupyterlab_oidc_sign_ins", "Sign-ins by outcome", ["environment", "outcome"])
REFRESHES = Counter("jupyterlab_oidc_refreshes", "Token refreshes by outcome", ["environment", "outcome"])
FAILURES = Counter("jupyterlab_oidc_failures", "Failed sign-ins and refreshes by error code", ["operation", "code"])
SESSIONS_ENDED = Counter("jupyterlab_oidc_sessions_ended", "Sessions ended, by reason", ["environment", "reason"])
KERNEL_PULLS = Counter("jupyterlab_oidc_kernel_token_pulls", "Access tokens handed to kernels", ["environment"])
PROVIDER_REQUESTS = Histogram(
    "jupyterlab_oidc_provider_request_duration_seconds",
    "Round trips to the OpenID provider by endpoint",
    ["endpoint", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, float("inf")),
)
ACTIVE_SESSIONS = Gauge("jupyterlab_oidc_active_sessions", "Signed-in sessions", ["environment"])


class MetricsObserver:
    """An audit observer (``core.audit.AuditObserver``) that counts into the metrics above."""

    def record(self, record: AuditRecord) -> None:
        environment = record.environment or "unknown"
        if record.kind == "sign_in":
            SIGN_INS.labels(environment, record.action).inc()
            if record.action in ("refused", "abandoned"):
                FAILURES.labels("sign_in", record.error_code or "oidc_error").inc()
        elif record.kind == "refresh":
            REFRESHES.labels(environment, record.action).inc()
            if record.action == "failed":
                FAILURES.labels("refresh", record.error_code or "oidc_error").inc()
        elif record.kind == "session":
            SESSIONS_ENDED.labels(environment, record.action).inc()
        elif record.kind == "kernel_token":
            KERNEL_PULLS.labels(environment).inc(record.count or 1)

    def round_trip(self, endpoint: str, seconds: float, outcome: str) -> None:
        PROVIDER_REQUESTS.labels(endpoint, outcome).observe(seconds)


def attach(broker: Broker) -> Callable[[], None]:
    """Count ``broker``'s records and follow its sessions; answers the function that detaches."""
    names = [env.name for env in broker.settings.all_environments()]

    def sessions_changed(_revision: int = 0) -> None:
        counts = Tally(session.environment for session in broker.sessions.values())
        for name in {*names, *counts}:
            ACTIVE_SESSIONS.labels(name).set(counts.get(name, 0))

    remove_observer = broker.audit.add(MetricsObserver())
    unsubscribe = broker.registry.subscribe(sessions_changed)
    sessions_changed()

    def detach() -> None:
        remove_observer()
        unsubscribe()

    return detach
