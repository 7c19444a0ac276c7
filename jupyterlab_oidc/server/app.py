"""The Jupyter server extension: builds the broker from ``OIDCLogin`` config and adds the routes."""

from __future__ import annotations

from typing import Any

from jupyter_server.extension.application import ExtensionApp

from ..core.broker import Broker
from .config import OIDCLogin
from .events import EventsObserver
from .kernel_access import KernelAccess
from .local_listener import LocalCallbackListener
from .metrics import attach as attach_metrics
from .routes import route_table


class OIDCExtensionApp(ExtensionApp):
    """Loads jupyterlab_oidc into a Jupyter server (configure it with ``c.OIDCLogin.*``)."""

    name = "jupyterlab_oidc"
    load_other_extensions = True

    def initialize_settings(self) -> None:
        """Build the broker and restore stored sessions; export the kernel variables (no loop yet)."""
        settings = OIDCLogin(parent=self.serverapp).to_settings()
        listener = None
        if settings.redirect_mode == "local":
            port, log = settings.redirect_port, self.log
            listener = lambda broker: LocalCallbackListener(broker, port, log)  # noqa: E731
        broker = Broker(settings, base_url=self.serverapp.base_url, log=self.log, local_listener=listener)
        broker.load()
        # Audit: Jupyter events on the server's event logger, Prometheus metrics on /metrics.
        broker.audit.add(EventsObserver(self.serverapp.event_logger, self.log))
        self._detach_metrics = attach_metrics(broker)
        if not settings.environments:
            self.log.warning(
                "jupyterlab_oidc: no environment configured; set c.OIDCLogin.environments or "
                "JUPYTERLAB_OIDC_ISSUER and JUPYTERLAB_OIDC_CLIENT_ID"
            )
        self.settings["jupyterlab_oidc_broker"] = broker
        kernel_access = KernelAccess(self.serverapp, broker)
        kernel_access.start()
        self.settings["jupyterlab_oidc_kernel_access"] = kernel_access

    def initialize_handlers(self) -> None:
        self.handlers.extend(route_table())

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """The loop runs: keep restored sessions fresh, export the final port to kernels."""
        self.settings["jupyterlab_oidc_broker"].start()
        self.settings["jupyterlab_oidc_kernel_access"].export()

    async def stop_extension(self) -> None:
        broker = self.settings.get("jupyterlab_oidc_broker")
        if broker is not None:
            await broker.stop()
        detach_metrics = getattr(self, "_detach_metrics", None)
        if detach_metrics is not None:
            detach_metrics()
        kernel_access = self.settings.get("jupyterlab_oidc_kernel_access")
        if kernel_access is not None:
            await kernel_access.stop()
