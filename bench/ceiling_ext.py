"""A trivial authenticated JSON handler: the ceiling ``POST oidc/token`` is compared with."""

from jupyter_server.base.handlers import APIHandler
from tornado import web


class CeilingHandler(APIHandler):
    @web.authenticated
    async def post(self) -> None:
        self.finish({"ok": True})


def _jupyter_server_extension_points():
    return [{"module": "ceiling_ext"}]


def _load_jupyter_server_extension(serverapp) -> None:
    base = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(".*$", [(f"{base}bench/ceiling", CeilingHandler)])
