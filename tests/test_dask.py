"""Dask workers get the notebook's tokens: a real Jupyter server with the extension, a real kernel
it started, a real ``distributed.LocalCluster`` (worker processes) created in that kernel, and
the dev provider with 10 s access tokens. The kernel side is the kernel itself (HTTP channel and
sessions file, no frontend). One server, one kernel, one cluster for the module.

An echo API in the test process asks the provider (``/me``) whether every bearer token it gets
is valid right now.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed")

from .idp import (
    IdentityProvider,
    get_idp,
)
from .kernel_support import ACCESS_TTL, ALICE, JupyterServer, RealKernel

pytestmark = pytest.mark.timeout(240)

#: Cell code: the cluster, the plugin, and what tasks and probes run on the workers.
CLUSTER = """
import logging, time
from pathlib import Path
from distributed import Client, LocalCluster, get_worker
LOGS = Path({logs!r})
def log_to(path):
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    for name in ("distributed", "jupyterlab_oidc"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
log_to(LOGS / "kernel-and-scheduler.log")
cluster = LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None)
client = Client(cluster)
client.run(lambda dask_worker: log_to(LOGS / f"worker-{{dask_worker.name}}.log"))
from jupyterlab_oidc.dask import OIDCPlugin
plugin = OIDCPlugin(environment="prod")
client.register_plugin(plugin)

def probe():
    import jupyterlab_oidc.kernel.client as kc
    from jupyterlab_oidc.dask import states
    return {{"states": {{n: s.describe() for n, s in states().items()}}, "token_client": kc._default_client is not None}}

def reasons(c=None):
    return sorted({{s["reason"] for w in (c or client).run(probe).values() for s in w["states"].values()}})

def wait_reason(reason, c=None, timeout=20):
    deadline = time.monotonic() + timeout
    while reasons(c) != [reason] and time.monotonic() < deadline:
        time.sleep(0.05)
    return reasons(c)

def call_api(url, seconds=0.0, pause=0.25):
    import httpx
    from jupyterlab_oidc import OIDCBearer, get_token
    get_token()  # the plain API works too
    statuses = []
    end = time.monotonic() + seconds
    with httpx.Client(auth=OIDCBearer(), timeout=10) as http:
        while True:
            statuses.append(http.get(url).status_code)
            if time.monotonic() >= end:
                return {{"worker": get_worker().address, "statuses": statuses}}
            time.sleep(pause)

def token_error():
    from jupyterlab_oidc import NotAuthenticatedError, get_token
    try:
        get_token()
    except NotAuthenticatedError as e:
        return {{"error": type(e).__name__, "message": str(e)}}
    return {{"error": None}}

def strings_in(root, limit=20000):
    import gc
    seen, found, todo = set(), [], [root]
    while todo and len(seen) < limit:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, type) or type(obj).__name__ in ("module", "function", "frame"):
            continue
        seen.add(id(obj))
        if isinstance(obj, (str, bytes, bytearray, memoryview)):
            found.append(bytes(obj).decode("latin-1") if not isinstance(obj, str) else obj)
            continue
        todo.extend(gc.get_referents(obj))
    return found

def worker_dump(dask_worker):
    from jupyterlab_oidc.dask import states
    worker = dask_worker
    return "\\n".join(strings_in([states(), [p for n, p in worker.plugins.items() if n.startswith("jupyterlab-oidc")]]))

def scheduler_dump(dask_scheduler):
    return "\\n".join(strings_in([dask_scheduler.plugins.get("jupyterlab-oidc")]))
result(len(client.scheduler_info()["workers"]))
"""


class ProviderCheckedAPI:
    """``GET /data``: 200 when the provider accepts the bearer token right now, else 401."""

    def __init__(self, idp: IdentityProvider) -> None:
        self.calls: list[tuple[str, int]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                header = self.headers.get("Authorization") or ""
                token = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
                status = 200 if token and idp.userinfo(token).status_code == 200 else 401
                api.calls.append((token, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/data"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()


class RefreshTokens:
    """Every refresh token the server's store file held while the module ran (they rotate)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: set[str] = set()
        self._stop = threading.Event()
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self) -> None:
        while not self._stop.wait(0.1):
            self.collect()

    def collect(self) -> set[str]:
        try:
            sessions = json.loads(self.path.read_text())["sessions"]
        except (OSError, ValueError, KeyError):
            return self.seen
        self.seen |= {s["refresh_token"] for s in sessions.values() if s.get("refresh_token")}
        return self.seen

    def stop(self) -> None:
        self._stop.set()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("dask")
    store = root / "store" / "sessions.json"
    (root / "config").mkdir()
    # Read with the JSON config the harness writes: a file store, to know the refresh tokens.
    (root / "config" / "jupyter_server_config.py").write_text(
        f"c.OIDCLogin.store = 'file'\nc.OIDCLogin.store_path = {str(store)!r}\n"
    )
    idp = get_idp("id_token", ACCESS_TTL, owner="dask")
    server = JupyterServer(root, idp)
    api = ProviderCheckedAPI(idp)
    refresh_tokens = RefreshTokens(store)
    logs = root / "logs"
    logs.mkdir()
    try:
        assert server.sign_in(ALICE).status == 200
        kernel = server.start_kernel()
        workers = kernel.run(CLUSTER.format(logs=str(logs)), timeout=120).value
        assert workers == 2
        yield {
            "server": server,
            "kernel": kernel,
            "api": api,
            "refresh_tokens": refresh_tokens,
            "logs": logs,
            "idp": idp,
        }
    finally:
        refresh_tokens.stop()
        api.stop()
        server.stop()


def run(stack: dict[str, Any], code: str, timeout: float = 90) -> Any:
    kernel: RealKernel = stack["kernel"]
    return kernel.run(code, timeout=timeout).value


def test_a_30_s_task_gets_a_valid_token_on_every_call_and_a_worker_added_mid_run_gets_it(stack: dict[str, Any]) -> None:
    api: ProviderCheckedAPI = stack["api"]
    url = api.url
    assert run(stack, f"long = client.submit(call_api, {url!r}, 30, pure=False)\nresult(True)")
    joined = run(
        stack,
        f"""
        before = set(client.scheduler_info()["workers"])
        cluster.scale(3)
        client.wait_for_workers(3)
        new = sorted(set(client.scheduler_info()["workers"]) - before)
        client.run(lambda dask_worker: log_to(LOGS / f"worker-{{dask_worker.name}}.log"), workers=new)
        late = client.submit(call_api, {url!r}, workers=new, pure=False).result()
        result({{"new": new, "late": late, "long_running": not long.done()}})
    """,
    )
    assert joined["late"]["worker"] == joined["new"][0]
    assert joined["late"]["statuses"] == [200]
    assert joined["long_running"], "the worker should join while the long task runs"
    done = run(stack, "result(long.result())", timeout=120)
    assert done["statuses"] and set(done["statuses"]) == {200}
    assert [status for _token, status in api.calls] == [200] * len(api.calls), "the API saw an invalid token"
    assert len({token for token, _ in api.calls}) >= 3, "30 s with 10 s tokens: several rotations"
    probes = run(stack, "result(client.run(probe))")
    assert len(probes) == 3
    assert all(not p["token_client"] for p in probes.values()), "a worker made its own TokenClient (server channel)"


def test_no_refresh_token_in_worker_or_scheduler_memory_or_in_any_log(stack: dict[str, Any]) -> None:
    dumps = run(
        stack, "result({'workers': client.run(worker_dump), 'scheduler': client.run_on_scheduler(scheduler_dump)})"
    )
    refresh_tokens = stack["refresh_tokens"].collect()
    assert refresh_tokens, "the store file shows the refresh token"
    access_tokens = {token for token, _ in stack["api"].calls}
    assert len(dumps["workers"]) == 3
    for worker, dump in dumps["workers"].items():
        assert any(token in dump for token in access_tokens), f"the dump of {worker} does not show its state"
        assert not any(token in dump for token in refresh_tokens), f"a refresh token in the memory of {worker}"
    assert not any(token in dumps["scheduler"] for token in refresh_tokens)
    worker_logs = [p.read_text() for p in stack["logs"].glob("worker-*.log")]
    assert len(worker_logs) == 3
    assert all("'op': 'jupyterlab_oidc_token'" in text for text in worker_logs), "debug logs show every push"
    logs = [
        *worker_logs,
        (stack["logs"] / "kernel-and-scheduler.log").read_text(),
        stack["server"].log_path.read_text(),
    ]
    for text in logs:
        assert not any(token in text for token in refresh_tokens), "a refresh token in a log"
        assert not any(token in text for token in access_tokens), "an access token in a log"


def test_sign_out_reaches_the_workers(stack: dict[str, Any]) -> None:
    stack["server"].sign_out("prod")
    out = run(stack, "result({'reasons': wait_reason('signed_out'), 'tasks': client.run(token_error)})")
    assert out["reasons"] == ["signed_out"]
    for answer in out["tasks"].values():
        assert answer["error"] == "NotAuthenticatedError"
        assert "signed out" in answer["message"]
    url = stack["api"].url
    failed = run(
        stack,
        f"""
        try:
            client.submit(call_api, {url!r}, pure=False).result()
        except Exception as e:
            result([type(e).__name__, str(e)])
    """,
    )
    assert failed[0] == "NotAuthenticatedError" and "signed out of prod" in failed[1]


def test_a_new_sign_in_reaches_the_workers_and_the_client_going_away_drops_their_tokens(stack: dict[str, Any]) -> None:
    assert stack["server"].sign_in(ALICE).status == 200
    assert run(stack, "result(wait_reason('pushed'))") == ["pushed"]
    out = run(
        stack,
        """
        client.close()
        observer = Client(cluster.scheduler_address)
        gone = wait_reason("client_gone", observer)
        plugin.publisher._thread.join(10)
        result({"reasons": gone, "tasks": observer.run(token_error), "stopped": not plugin.publisher._thread.is_alive()})
    """,
    )
    assert out["reasons"] == ["client_gone"]
    assert out["stopped"], "the kernel side stops with its client"
    for answer in out["tasks"].values():
        assert answer["error"] == "NotAuthenticatedError"
        assert "client disconnected" in answer["message"]
