"""A real ``jupyter server`` subprocess with the extension, and real ipykernel kernels it starts.

Kernels must be started BY THE SERVER (``POST api/kernels``) so they inherit the variables
the extension exports. The test talks to them with jupyter_client over the connection
file the server writes in its runtime directory.

One server per test session (port 0: the OS picks it, which also checks that kernels get
the final port), started on first use: the ``server``, ``kernel`` and ``fresh_kernel``
fixtures of the ``tests.plugins.kernels`` plugin.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from jupyter_client.blocking import BlockingKernelClient

from .idp import ALICE, BOB, CLIENT_ID, IdentityProvider, open_sign_in_link  # noqa: F401 (ALICE, BOB: re-exported to the kernel tests)
from .support import Reply

BASE_URL = "/x%40y/"
ACCESS_TTL = 10
RESULT_MARK = "@@result "
#: ServerApp.port: 0 lets the OS pick (jupyter_server >= 2.20 reports it); tests/compat sets a free one on older servers.
PORT = 0


@dataclass
class CellResult:
    """What a cell produced on IOPub."""

    stdout: str = ""
    error: dict[str, Any] | None = None
    displays: list[dict[str, Any]] = field(default_factory=list)

    @property
    def value(self) -> Any:
        """The JSON the cell printed with :func:`result` (see ``RESULT_MARK``)."""
        for line in reversed(self.stdout.splitlines()):
            if line.startswith(RESULT_MARK):
                return json.loads(line[len(RESULT_MARK) :])
        raise AssertionError(f"the cell printed no result; stdout={self.stdout[-2000:]!r} error={self.error}")


#: Put at the top of cells: ``result(x)`` prints x as JSON for :attr:`CellResult.value`.
PRELUDE = f"import json as _json\ndef result(value):\n    print({RESULT_MARK!r} + _json.dumps(value), flush=True)\n"


class RealKernel:
    """A kernel started by the server, driven over ZMQ with jupyter_client."""

    def __init__(self, server: JupyterServer, kernel_id: str) -> None:
        self.server = server
        self.id = kernel_id
        connection_file = server.runtime_dir / f"kernel-{kernel_id}.json"
        deadline = time.monotonic() + 20
        while not connection_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.client = BlockingKernelClient(connection_file=str(connection_file))
        self.client.load_connection_file()
        self.client.start_channels()
        self._wait_for_ready(timeout=60)
        self.run(PRELUDE)

    def _wait_for_ready(self, timeout: float) -> None:
        """Like jupyter_client's wait_for_ready, without its heartbeat check, which takes a kernel
        slower than 1 s to answer (a busy machine) for a dead one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.client.kernel_info()
            try:
                reply = self.client.get_shell_msg(timeout=1)
            except queue.Empty:
                continue
            if reply["msg_type"] != "kernel_info_reply":  # any of them: the first ones may be slow
                continue
            try:  # IOPub is connected once it shows the status of that request
                self.client.get_iopub_msg(timeout=0.5)
            except queue.Empty:
                continue
            while True:  # drain what is left of the handshake
                try:
                    self.client.get_iopub_msg(timeout=0.2)
                except queue.Empty:
                    return
        raise AssertionError(f"kernel {self.id} did not answer within {timeout} s")

    def start(self, code: str) -> str:
        """Send ``code`` for execution; returns the request's msg_id."""
        return self.client.execute(textwrap.dedent(code), store_history=False, allow_stdin=False)

    def wait(
        self, msg_id: str, timeout: float = 60, on_message: Callable[[dict[str, Any]], None] | None = None
    ) -> CellResult:
        """Collect the cell's IOPub output until it is idle; ``on_message`` sees every IOPub message."""
        result = CellResult()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"cell did not finish within {timeout} s; stdout so far: {result.stdout[-2000:]!r}"
                )
            try:
                msg = self.client.get_iopub_msg(timeout=min(remaining, 0.2))
            except queue.Empty:
                continue
            if on_message is not None:
                on_message(msg)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                result.stdout += content["text"]
            elif kind == "error":
                result.error = {
                    "ename": content["ename"],
                    "evalue": content["evalue"],
                    "traceback": "\n".join(content["traceback"]),
                }
            elif kind in ("display_data", "execute_result"):
                result.displays.append(content["data"])
            elif kind == "status" and content["execution_state"] == "idle":
                return result

    def run(self, code: str, timeout: float = 60, expect_error: bool = False) -> CellResult:
        """Execute and wait; an unexpected error fails the test with the kernel's traceback."""
        result = self.wait(self.start(code), timeout)
        if result.error and not expect_error:
            raise AssertionError(f"{result.error['ename']}: {result.error['evalue']}\n{result.error['traceback']}")
        return result

    def reset_token_client(self) -> None:
        """Forget cached tokens (a fresh ``get_token`` state for the next test)."""
        self.run("import jupyterlab_oidc.kernel.client as _c; _c._default_client = None")

    def stop(self) -> None:
        self.client.stop_channels()
        try:
            self.server.api("DELETE", f"api/kernels/{self.id}")
        except httpx.HTTPError:
            pass


class JupyterServer:
    """``python -m jupyter_server`` in a temporary home, with jupyterlab_oidc and the dev provider."""

    def __init__(self, root: Path, idp: IdentityProvider, environments: dict[str, Any] | None = None) -> None:
        self.root = root
        self.idp = idp
        self.token = "kernel-tests-token"
        self.runtime_dir = root / "runtime"
        self.kernels: list[RealKernel] = []
        config_dir = root / "config"
        for directory in (config_dir, self.runtime_dir, root / "data", root / "notebooks", root / "ipython"):
            directory.mkdir(parents=True, exist_ok=True)
        environments = {
            "prod": {"issuer": idp.issuer, "client_id": CLIENT_ID},
            "dev": {"issuer": idp.issuer, "client_id": CLIENT_ID},
            **(environments or {}),
        }
        off = ("jupyterlab", "notebook", "notebook_shim", "nbclassic", "jupyter_lsp", "jupyter_server_terminals")
        config = {
            "ServerApp": {
                "port": PORT,
                "base_url": BASE_URL,
                "open_browser": False,
                "allow_root": True,
                "root_dir": str(root / "notebooks"),
                "jpserver_extensions": {"jupyterlab_oidc": True, **{name: False for name in off}},
            },
            "IdentityProvider": {"token": self.token},
            "OIDCLogin": {"environments": environments, "default_environment": "prod"},
        }
        (config_dir / "jupyter_server_config.json").write_text(json.dumps(config))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERLAB_OIDC_", "JUPYTERHUB_", "JUPYTER_"))}
        env.update(
            JUPYTER_CONFIG_DIR=str(config_dir),
            JUPYTER_RUNTIME_DIR=str(self.runtime_dir),
            JUPYTER_DATA_DIR=str(root / "data"),
            IPYTHONDIR=str(root / "ipython"),
            PYTHONUNBUFFERED="1",
        )
        self.log_path = root / "server.log"
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server"], env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=root
        )
        self.port = self._wait_for_port()
        self.url = f"http://127.0.0.1:{self.port}{BASE_URL}"
        self.http = httpx.Client(headers={"Authorization": f"token {self.token}"}, timeout=30)
        self._wait_until_up()

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter server exited: {self.log_path.read_text()[-3000:]}")
            for info_file in self.runtime_dir.glob("jpserver-*.json"):
                try:
                    return int(json.loads(info_file.read_text())["port"])
                except (ValueError, KeyError):
                    pass
            time.sleep(0.05)
        raise RuntimeError(f"jupyter server did not start: {self.log_path.read_text()[-3000:]}")

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.http.get(f"{self.url}api/status").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"jupyter server does not answer: {self.log_path.read_text()[-3000:]}")

    # ---------------------------------------------------------------- REST

    def api(self, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is not None:
            kwargs["json"] = body
        return self.http.request(method, f"{self.url}{path}", **kwargs)

    def oidc(self, method: str, endpoint: str, body: dict[str, Any] | None = None, **kwargs: Any) -> Reply:
        response = self.api(method, f"oidc/{endpoint}", body if method != "GET" else None, **kwargs)
        return Reply.of(response.status_code, response.text, response.headers)

    def sign_in(self, email: str, environment: str | None = None, as_email: str | None = None) -> Reply:
        """Sign in through the REST API, playing the person at the provider."""
        started = self.oidc("POST", "login", {"environment": environment, "login_hint": email})
        assert started.status == 200, started.body
        self.complete_login(started.body.get("start_url") or started.body["url"], as_email)
        return self.oidc("POST", "await", {"state": started.body["state"]})

    def complete_login(self, link: str, as_email: str | None = None) -> int:
        """The owner's browser opens the sign-in link (the server's start link, with the Jupyter
        token; or a provider URL), signs in at the provider and follows the redirect to the callback."""

        async def browse() -> int:
            async with httpx.AsyncClient(timeout=20) as browser:
                page = await open_sign_in_link(browser, link, self.token, f"{self.url}oidc/callback", as_email)
                return page.status_code

        return asyncio.run(browse())

    def sign_out(self, environment: str | None = None) -> None:
        assert self.oidc("POST", "logout", {"environment": environment}).status == 200

    def sign_out_everywhere(self) -> None:
        for session in self.oidc("GET", "status").body["sessions"]:
            self.oidc("POST", "logout", {"environment": session["environment"], "application": session["application"]})

    def kernel_env(self) -> dict[str, str]:
        """What a kernel inherits (read through a kernel: only the names and the URL, never the secret)."""
        kernel = self.start_kernel()
        try:
            cell = kernel.run(
                "import os\nresult({k: (v if k.endswith('_URL') else bool(v)) for k, v in os.environ.items() "
                "if k.startswith('JUPYTERLAB_OIDC_')})"
            )
            return cell.value
        finally:
            self.stop_kernel(kernel)

    # ---------------------------------------------------------------- kernels

    def start_kernel(self) -> RealKernel:
        response = self.api("POST", "api/kernels", {"name": "python3"})
        assert response.status_code == 201, response.text
        kernel = RealKernel(self, response.json()["id"])
        self.kernels.append(kernel)
        return kernel

    def stop_kernel(self, kernel: RealKernel) -> None:
        kernel.stop()
        if kernel in self.kernels:
            self.kernels.remove(kernel)

    def stop(self) -> None:
        for kernel in list(self.kernels):
            self.stop_kernel(kernel)
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log.close()


class FakeFrontend:
    """Plays the JupyterLab side of the ``jupyterlab-oidc`` comm over jupyter_client.

    It does what docs/kernel-protocol.md asks of a frontend: answers ``hello`` with ``ready``,
    ``token_request`` with ``POST oidc/token``, ``call`` with the REST call, and sends its
    messages to its own subshell (as JupyterLab ≥ 4.4 does) unless ``subshells=False``.
    ``answer=False`` makes it a frontend that says ``ready`` and then goes quiet (a tab that was
    closed without closing the comm).
    """

    def __init__(self, server: JupyterServer, kernel: RealKernel, subshells: bool = True, answer: bool = True) -> None:
        self.server = server
        self.kernel = kernel
        self.answer = answer
        self.comm_id: str | None = None
        self.hello: dict[str, Any] | None = None
        self.received: list[dict[str, Any]] = []
        self.subshell_id = self._create_subshell() if subshells else None

    def _create_subshell(self) -> str:
        client = self.kernel.client
        msg = client.session.msg("create_subshell_request", {})
        client.control_channel.send(msg)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            reply = client.get_control_msg(timeout=10)
            if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                return reply["content"]["subshell_id"]
        raise AssertionError("no create_subshell_reply")

    def send(self, data: dict[str, Any]) -> None:
        client = self.kernel.client
        msg = client.session.msg("comm_msg", {"comm_id": self.comm_id, "data": data})
        if self.subshell_id:
            msg["header"]["subshell_id"] = self.subshell_id
        client.shell_channel.send(msg)

    def on_iopub(self, msg: dict[str, Any]) -> None:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "comm_open" and content.get("target_name") == "jupyterlab-oidc":
            self.comm_id, self.hello = content["comm_id"], content["data"]
            self.send({"v": 1, "type": "ready", "frontend": "fake", "subshell": self.subshell_id is not None})
        elif kind == "comm_msg" and content.get("comm_id") == self.comm_id:
            data = content["data"]
            self.received.append(data)
            if self.answer:
                self._answer(data)

    def _answer(self, data: dict[str, Any]) -> None:
        if data["type"] == "token_request":
            body = {
                "environment": data["environment"],
                "application": data["application"],
                "min_valid": data["min_valid"],
            }
            if data.get("force"):
                self.server.oidc("POST", "refresh", body)
            reply = self.server.oidc("POST", "token", body)
            if reply.status == 200:
                self.send({"v": 1, "type": "token_reply", "id": data["id"], "token": reply.body})
            else:
                self.send({"v": 1, "type": "error", "id": data["id"], **reply.body})
        elif data["type"] == "call":
            reply = self.server.oidc(data["method"], data["path"], data["body"] if data["method"] != "GET" else None)
            self.send({"v": 1, "type": "call_reply", "id": data["id"], "status": reply.status, "body": reply.body})

    def push(self, reason: str, environment: str = "prod", token: dict[str, Any] | None = None) -> None:
        """A ``token_update`` as the frontend sends it on sign-in, rotation and sign-out."""
        self.send(
            {
                "v": 1,
                "type": "token_update",
                "reason": reason,
                "environment": environment,
                "application": None,
                "token": token,
            }
        )

    def run(self, code: str, timeout: float = 60, expect_error: bool = False) -> CellResult:
        """Run a cell while answering the kernel's comm messages as they come."""
        result = self.kernel.wait(self.kernel.start(code), timeout, on_message=self.on_iopub)
        if result.error and not expect_error:
            raise AssertionError(f"{result.error['ename']}: {result.error['evalue']}\n{result.error['traceback']}")
        return result

    def close(self) -> None:
        if self.subshell_id:
            client = self.kernel.client
            client.control_channel.send(
                client.session.msg("delete_subshell_request", {"subshell_id": self.subshell_id})
            )


#: Cell prelude for comm tests: count HTTP pulls, open the comm, wait until it is live.
COMM_PRELUDE = """
import time
from jupyterlab_oidc import get_token
from jupyterlab_oidc.kernel import default_client
client = default_client()
http_pulls = []
_http_token = client.http.token
client.http.token = lambda *a, **k: http_pulls.append(1) or _http_token(*a, **k)
client.comm.ensure_open()
_deadline = time.monotonic() + WAIT
while not client.comm.live and time.monotonic() < _deadline:
    time.sleep(0.01)
"""
