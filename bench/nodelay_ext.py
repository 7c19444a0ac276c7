"""Bench-only server extension: TCP_NODELAY on jupyter_server's kernel websockets, switchable.

jupyter_server's ``KernelWebsocketHandler`` leaves Nagle's algorithm on (tornado's default
for websockets). When the server writes several small kernel messages in a row (a
subshell's ``status`` busy/idle, then the next ``comm_msg``), the later ones wait for the
browser's delayed ACK (~40 ms on Linux). ``bench_comm_browser`` measures the comm path with
and without it: ``POST {base_url}bench/nodelay {"on": true}`` applies to websockets opened
from then on (a new notebook's kernel).
"""

from jupyter_server.base.handlers import APIHandler
from jupyter_server.services.kernels.websocket import KernelWebsocketHandler
from tornado import web

STATE = {"on": False, "applied": 0}
_open = KernelWebsocketHandler.open


async def _open_nodelay(self, *args, **kwargs):
    if STATE["on"]:
        self.set_nodelay(True)
        STATE["applied"] += 1
    return await _open(self, *args, **kwargs)


class NodelayHandler(APIHandler):
    @web.authenticated
    async def post(self) -> None:
        STATE["on"] = bool(self.get_json_body().get("on"))
        self.finish(STATE)


def _jupyter_server_extension_points():
    return [{"module": "nodelay_ext"}]


def _load_jupyter_server_extension(serverapp) -> None:
    KernelWebsocketHandler.open = _open_nodelay
    base = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(".*$", [(f"{base}bench/nodelay", NodelayHandler)])
