"""The Jupyter server extension: builds the broker from ``OIDCLogin`` config and adds the routes."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp

from .broker import Broker
from .config import OIDCLogin
from .handlers import route_table
from .kernel_access import KernelAccess
from .local_listener import LocalCallbackListener


class OIDCExtensionApp(ExtensionApp):
    """Loads jupyterlab_oidc into a Jupyter server (configure it with ``c.OIDCLogin.*``)."""

    name = "jupyterlab_oidc"
    load_other_extensions = True

    def initialize_settings(self) -> None:
        settings = OIDCLogin(parent=self.serverapp)
        broker = Broker(settings, base_url=self.serverapp.base_url, log=self.log)
        if settings.redirect_mode == "local":
            listener = LocalCallbackListener(broker, settings.redirect_port, self.log)
            broker.local_listener_start = lambda _broker: listener.start()
            broker.local_listener_stop = listener.stop
        broker.start()
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

    async def stop_extension(self) -> None:
        broker = self.settings.get("jupyterlab_oidc_broker")
        if broker is not None:
            await broker.stop()
        kernel_access = self.settings.get("jupyterlab_oidc_kernel_access")
        if kernel_access is not None:
            await kernel_access.stop()
