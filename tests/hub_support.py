"""A real JupyterHub on loopback for the hub tests.

configurable-http-proxy from node_modules, a shared-password authenticator (DummyAuthenticator
with a password, as JupyterHub >= 5.3 spells it), SimpleLocalProcessSpawner running
``jupyterhub-singleuser`` with the extension, and the callback forwarder as a managed service,
set up as docs/jupyterhub.md tells an admin: issuer, client and redirect URI reach the
single-user servers as environment variables, ``store = "file"`` comes from a
``jupyter_server_config.json`` in a system config directory.

The hub has a base URL (``/jh/``) so every route is checked behind a prefix. Users:

- ``alice`` and ``bob``: the provider sends them back through the hub service, alice on the
  legacy redirect URI (``JUPYTERLAB_OIDC_REDIRECT_URI`` = ``{hub}/services/oidc-callback/``),
  bob on the per-environment one (``{hub}/services/oidc-callback/callback/{environment}``);
- ``dave@example.org``: no redirect URI configured, so his server computes its own
  (``JUPYTERHUB_PUBLIC_URL`` + ``/jh/user/dave@example.org/oidc/callback``).

The forwarder is a hub OAuth client (``oauth_no_confirm``), and every user may access it
(the ``user`` role gets ``access:services!service=oidc-callback``), as docs/jupyterhub.md says.

One hub per test module (the ``hub`` fixture of the ``tests.plugins.hub`` plugin); the three servers start in parallel with it and
stay up. Tests talk to a user's server with that user's own hub token (``HubUser.oidc``),
play the browser with httpx (``HubUser.browser``: logged in to the hub) or with Chromium
(``sign_in_with_chromium`` in tests/hub_helpers.py), and run code in a kernel of the user's server over the kernel
websocket (``HubUser.run_cell``). The browser that brings the provider's redirect back is
the one that started the sign-in (``HubUser.start_in_browser``: it opens the ``start_url``,
which binds the sign-in to it).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import websocket

from .idp import CLIENT_ID, USERS, IdentityProvider, provider_login
from .support import Reply

ROOT = Path(__file__).resolve().parent.parent
CHP = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
BASE_URL = "/jh/"
SERVICE = "oidc-callback"
PASSWORD = "hub-test-password"
FORWARDED = ("alice", "bob")
DIRECT = "dave@example.org"
EMAILS = {"alice": USERS["alice"].email, "bob": USERS["bob"].email, DIRECT: USERS["alice"].email}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


HUB_CONFIG = """\
# Written by tests/hub_support.py
import os

c = get_config()  # noqa
c.JupyterHub.bind_url = {bind_url!r}
c.JupyterHub.public_url = {public_url!r}
c.JupyterHub.hub_bind_url = {hub_bind_url!r}
c.JupyterHub.db_url = {db_url!r}
c.JupyterHub.cookie_secret_file = {cookie_secret_file!r}
c.JupyterHub.pid_file = {pid_file!r}
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.ConfigurableHTTPProxy.api_url = {proxy_api_url!r}
c.ConfigurableHTTPProxy.auth_token = {proxy_token!r}
c.ConfigurableHTTPProxy.pid_file = {proxy_pid_file!r}
c.ConfigurableHTTPProxy.debug = False

# DummyAuthenticator with a password, as JupyterHub >= 5.3 spells it.
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = {password!r}
c.Authenticator.allowed_users = set({users!r})

c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {home_template!r}
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.args = [
    "--allow-root",
    "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, for the Chromium test (as galata does)
    # Not needed here; they only slow the start down.
    "--ServerApp.jpserver_extensions=jupyter_lsp=False",
    "--ServerApp.jpserver_extensions=jupyter_server_terminals=False",
]
c.Spawner.start_timeout = 90
c.Spawner.http_timeout = 90
c.Spawner.default_url = "/lab"

def redirect_uri(spawner):
    # The hub service for everyone but {direct!r}, whose server computes its own.
    return {redirects!r}.get(spawner.user.name, "")

c.Spawner.environment = {{
    "JUPYTERLAB_OIDC_ISSUER": {issuer!r},
    "JUPYTERLAB_OIDC_CLIENT_ID": {client_id!r},
    "JUPYTERLAB_OIDC_REDIRECT_URI": redirect_uri,
    # A system config directory, as /usr/local/etc/jupyter in an image: {{"OIDCLogin": {{"store": "file"}}}}
    "JUPYTER_CONFIG_PATH": {system_config!r},
}}

c.JupyterHub.services = [
    {{"name": {service!r}, "url": {service_bind_url!r}, "display": False, "oauth_no_confirm": True,
      "command": [{python!r}, "-m", "jupyterlab_oidc.hub"]}},
    {{"name": "test-admin", "api_token": {admin_token!r}}},
]
c.JupyterHub.load_roles = [
    # Browsers log in to the forwarder with the hub's OAuth: every user may access it.
    {{"name": "user", "scopes": ["self", "access:services!service={service}"]}},
    {{"name": "test-admin", "services": ["test-admin"],
      "scopes": ["admin:users", "admin:servers", "tokens"]}},
]
"""


class Hub:
    """``jupyterhub`` in a temporary directory, driven through its REST API as an admin service."""

    def __init__(
        self, root: Path, idp: IdentityProvider, port: int = 0, host: str = "", service_host: str = "", extra: str = ""
    ) -> None:
        """``host``, ``service_host``: the names browsers use for the hub and the forwarder (default
        127.0.0.1; the proxy listens on 127.0.0.1:``port``); ``extra``: more hub configuration."""
        if not CHP.exists():
            raise RuntimeError(f"{CHP} is missing: run `npm ci` (configurable-http-proxy is a devDependency)")
        self.root = root
        self.idp = idp
        self.port = port or free_port()
        self.origin = f"http://{host or '127.0.0.1'}:{self.port}"
        self.url = f"{self.origin}{BASE_URL}"
        self.service_url = f"http://{service_host or host or '127.0.0.1'}:{self.port}{BASE_URL}services/{SERVICE}/"
        self.admin_token = secrets.token_hex(16)
        self.service_bind_url = f"http://127.0.0.1:{free_port()}"  # the forwarder itself, behind the proxy
        bin_dir = Path(sys.executable).parent
        config = HUB_CONFIG.format(
            bind_url=f"http://127.0.0.1:{self.port}{BASE_URL}",
            public_url=self.url,
            hub_bind_url=f"http://127.0.0.1:{free_port()}",
            db_url=f"sqlite:///{root / 'jupyterhub.sqlite'}",
            cookie_secret_file=str(root / "cookie_secret"),
            pid_file=str(root / "jupyterhub.pid"),
            chp=str(CHP),
            proxy_api_url=f"http://127.0.0.1:{free_port()}",
            proxy_token=secrets.token_hex(16),
            proxy_pid_file=str(root / "proxy.pid"),
            password=PASSWORD,
            users=sorted([*FORWARDED, DIRECT]),
            home_template=str(root / "home" / "{username}"),
            singleuser=str(bin_dir / "jupyterhub-singleuser"),
            direct=DIRECT,
            redirects={"alice": self.service_url, "bob": f"{self.service_url}callback/{{environment}}"},
            issuer=idp.issuer,
            client_id=CLIENT_ID,
            service=SERVICE,
            service_bind_url=self.service_bind_url,
            python=sys.executable,
            admin_token=self.admin_token,
            system_config=str(root / "etc-jupyter"),
        )
        (root / "jupyterhub_config.py").write_text(config + extra)
        (root / "etc-jupyter").mkdir()
        (root / "etc-jupyter" / "jupyter_server_config.json").write_text(json.dumps({"OIDCLogin": {"store": "file"}}))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JUPYTERLAB_OIDC_", "CONFIGPROXY"))}
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
        self.log_path = root / "jupyterhub.log"
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [str(bin_dir / "jupyterhub"), "-f", str(root / "jupyterhub_config.py")],
            cwd=root,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.http = httpx.Client(headers={"Authorization": f"token {self.admin_token}"}, timeout=30)
        self.users: dict[str, HubUser] = {}
        self._wait(lambda: self.http.get(f"{self.url}hub/api/").status_code == 200, 60, "the hub")
        self._wait(lambda: self.http.get(f"{self.service_url}health").status_code == 200, 30, "the forwarder")

    def _wait(self, predicate: Any, timeout: float, what: str, interval: float = 0.1) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyterhub exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                if predicate():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(interval)
        raise RuntimeError(f"{what} did not come up within {timeout:g} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        self._log.flush()
        return self.log_path.read_text()[-chars:]

    def api(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """The hub's REST API as the admin service."""
        return self.http.request(method, f"{self.url}hub/api/{path}", json=body)

    def user(self, name: str) -> HubUser:
        """A user whose server is running (started on first use)."""
        if name not in self.users:
            self.users[name] = HubUser(self, name)
        user = self.users[name]
        if not user.server_ready():
            user.start_server()
        return user

    def users_running(self, *names: str) -> list[HubUser]:
        """Several users at once: their servers start in parallel."""
        with ThreadPoolExecutor(len(names)) as pool:
            return list(pool.map(self.user, names))

    def stop(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # stops the servers, the service and the proxy
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self._log.close()


class HubUser:
    """One hub user: their own API token (scoped to them), their server, their browser."""

    def __init__(self, hub: Hub, name: str) -> None:
        self.hub = hub
        self.name = name
        self.email = EMAILS[name]
        self.url = f"{hub.url}user/{quote(name, safe='@~')}/"
        response = hub.api("POST", f"users/{quote(name, safe='')}/tokens", {"note": "hub tests", "expires_in": 3600})
        assert response.status_code == 201, response.text
        self.token = response.json()["token"]
        self.http = httpx.Client(headers={"Authorization": f"token {self.token}"}, timeout=60)

    # ------------------------------------------------------------ server life cycle

    def _model(self) -> dict[str, Any]:
        response = self.hub.api("GET", f"users/{quote(self.name, safe='')}")
        assert response.status_code == 200, response.text
        return response.json()

    def server_ready(self) -> bool:
        server = self._model()["servers"].get("")
        return bool(server and server["ready"])

    def start_server(self) -> None:
        response = self.hub.api("POST", f"users/{quote(self.name, safe='')}/server")
        assert response.status_code in (201, 202), response.text
        self.hub._wait(self.server_ready, 90, f"{self.name}'s server", interval=0.5)

    def stop_server(self) -> None:
        response = self.hub.api("DELETE", f"users/{quote(self.name, safe='')}/server")
        assert response.status_code in (202, 204), response.text
        self.hub._wait(lambda: "" not in self._model()["servers"], 60, f"{self.name}'s server to stop", interval=0.5)

    # ------------------------------------------------------------ REST with the user's token

    def request(self, method: str, path: str, body: Any = None, token: str | None = None) -> httpx.Response:
        """``path`` under this user's server; another user's ``token`` to try a cross-user call."""
        headers = {"Authorization": f"token {token}"} if token else {}
        return self.http.request(method, f"{self.url}{path}", json=body, headers=headers, follow_redirects=False)

    def oidc(self, method: str, endpoint: str, body: dict[str, Any] | None = None, token: str | None = None) -> Reply:
        response = self.request(method, f"oidc/{endpoint}", body if method != "GET" else None, token)
        try:
            return Reply(response.status_code, response.json())
        except ValueError:
            return Reply(response.status_code, response.text)

    def sessions(self) -> list[dict[str, Any]]:
        status = self.oidc("GET", "status")
        assert status.status == 200, status.body
        return status.body["sessions"]

    # ------------------------------------------------------------ the browser

    def browser(self) -> httpx.Client:
        """A browser logged in to the hub as this user (the login form, with its XSRF token)."""
        client = httpx.Client(timeout=60, follow_redirects=True)
        client.get(f"{self.hub.url}hub/login")
        form = {"username": self.name, "password": PASSWORD, "_xsrf": client.cookies.get("_xsrf", "")}
        response = client.post(f"{self.hub.url}hub/login", data=form, follow_redirects=False)
        assert response.status_code == 302, (response.status_code, response.text[:500])
        # Open her server once: its OAuth handshake with the hub sets the server's own cookie
        # (API routes answer 403 to a browser without it; they never redirect).
        opened = client.get(self.url)
        assert opened.status_code == 200 and str(opened.url).startswith(self.url), (opened.status_code, opened.url)
        return client

    def start_login(self, login_hint: str | None = None) -> dict[str, Any]:
        started = self.oidc("POST", "login", {"login_hint": login_hint or self.email})
        assert started.status == 200, started.body
        return started.body

    def redirect_uri(self, environment: str = "prod") -> str:
        """Where the provider sends this user's browser back (as the hub config above says)."""
        if self.name == "bob":
            return f"{self.hub.service_url}callback/{environment}"
        return self.hub.service_url if self.name == "alice" else f"{self.url}oidc/callback"

    def start_in_browser(self, browser: httpx.Client, login_hint: str | None = None) -> tuple[dict[str, Any], str]:
        """Start a sign-in (REST, the user's token) and bind it to ``browser``: it opens the
        ``start_url`` with the user's credentials, which sets the binding cookie and sends it on
        to the provider. Returns the login answer and the provider URL the browser was sent to
        (servers without ``start_url``: the login answer's ``url``)."""
        started = self.start_login(login_hint)
        if "start_url" not in started:
            return started, started["url"]
        opened = browser.get(
            started["start_url"], headers={"Authorization": f"token {self.token}"}, follow_redirects=False
        )
        assert opened.status_code in (302, 303), (opened.status_code, opened.text[:300])
        return started, opened.headers["location"]

    def at_provider(self, authorization_url: str, as_email: str | None = None) -> str:
        """Play the person at the provider; returns the redirect it sends the browser to."""
        redirect_uri = dict(httpx.URL(authorization_url).params)["redirect_uri"]

        async def browse() -> str:
            async with httpx.AsyncClient(timeout=30) as client:
                return await provider_login(client, authorization_url, as_email, redirect_uri)

        return asyncio.run(browse())

    def sign_in(self, browser: httpx.Client | None = None) -> tuple[dict[str, Any], httpx.Response]:
        """Start in ``browser`` (by default a fresh one logged in to the hub as this user), sign
        in at the provider, follow the redirect in that browser. Returns the await result and
        the browser's final response (its ``history`` shows the forwarder's redirects)."""
        own = browser is None
        browser = browser or self.browser()
        try:
            started, authorization_url = self.start_in_browser(browser)
            redirect = self.at_provider(authorization_url)
            page = browser.get(redirect, follow_redirects=True)
        finally:
            if own:
                browser.close()
        result = self.oidc("POST", "await", {"state": started["state"]})
        assert result.status == 200, (result.body, page.status_code, page.text[:500])
        return result.body, page

    def ensure_signed_in(self) -> None:
        if not any(s["email"] == self.email for s in self.sessions()):
            self.sign_in()

    # ------------------------------------------------------------ kernels

    def start_kernel(self) -> str:
        response = self.request("POST", "api/kernels", {"name": "python3"})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def run_cell(self, kernel_id: str, code: str, timeout: float = 60) -> str:
        """Execute ``code`` over the kernel websocket (as JupyterLab does); returns stdout.

        Fails with the kernel's traceback if the cell raised.
        """
        ws_url = f"ws{self.url[4:]}api/kernels/{kernel_id}/channels"
        ws = websocket.create_connection(ws_url, header=[f"Authorization: token {self.token}"], timeout=timeout)
        msg_id = uuid.uuid4().hex
        try:
            ws.send(
                json.dumps(
                    {
                        "header": {
                            "msg_id": msg_id,
                            "msg_type": "execute_request",
                            "username": self.name,
                            "session": uuid.uuid4().hex,
                            "date": "",
                            "version": "5.3",
                        },
                        "parent_header": {},
                        "metadata": {},
                        "channel": "shell",
                        "buffers": [],
                        "content": {
                            "code": code,
                            "silent": False,
                            "store_history": False,
                            "user_expressions": {},
                            "allow_stdin": False,
                            "stop_on_error": True,
                        },
                    }
                )
            )
            stdout, error = "", None
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                msg = json.loads(ws.recv())
                if msg.get("parent_header", {}).get("msg_id") != msg_id or msg.get("channel") != "iopub":
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream":
                    stdout += content["text"]
                elif kind == "error":
                    error = "\n".join(content["traceback"])
                elif kind == "status" and content["execution_state"] == "idle":
                    assert error is None, error
                    return stdout
            raise AssertionError(f"the cell did not finish within {timeout} s; stdout: {stdout!r}")
        finally:
            ws.close()

    def close(self) -> None:
        self.http.close()
