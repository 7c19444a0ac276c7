"""A hub's morning rush: 500 provider callbacks in 10 s through the hub forwarder.

A real JupyterHub (tests/hub_support.py: configurable-http-proxy, the forwarder as a
managed service, a ``/jh/`` base URL) and a stub user server (a separate process
answering ``200`` on any path), routed by the proxy at ``/jh/user/alice/`` (where the
forwarder sends alice's callbacks) and at ``/jh/passthrough/`` (the baseline). The bench's
browser logs in to the hub as alice and to the forwarder with the hub's OAuth once (as a
browser does on its first callback), then, open loop, every 10 ms in turn:

- **through the forwarder**: ``GET /jh/services/oidc-callback/?code=…&state=<alice's>``
  (the forwarder checks the query and the hub login, ``303``) and the browser follows to
  ``/jh/user/alice/oidc/callback?…`` (the stub): what a sign-in's redirect costs;
- **passthrough**: ``GET /jh/passthrough/oidc/callback?…``: the proxy and the stub alone.

500 of each in 10 s. **Added by the forwarder**: a percentile of the forwarded callbacks
minus the same percentile of the passthrough requests (each a distribution measured in the
same 10 s). Also the forwarder's own hop (the ``303`` alone) and its resident memory (RSS,
``/proc``) before and after the rush.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import ROOT, free_port, percentile, progress

sys.path.insert(0, str(ROOT))
from jupyterlab_oidc.core.signin.state import make_state
from tests.hub_support import PASSWORD, SERVICE, Hub
from tests.idp import start_idp

CALLBACKS = 500
SECONDS = 10.0
USER = "alice"

STUB = textwrap.dedent("""
    import asyncio, sys
    from tornado import web
    class Ok(web.RequestHandler):
        def get(self, *args):
            self.finish("ok")
    async def main():
        web.Application([(r"/.*", Ok)], log_function=lambda handler: None).listen(int(sys.argv[1]), "127.0.0.1")
        print("ready", flush=True)
        await asyncio.Event().wait()
    asyncio.run(main())
""")


def rss_kb(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return {key: int(re.search(rf"^{key}:\s+(\d+) kB", status, re.M).group(1)) for key in ("VmRSS", "VmHWM")}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def forwarder_pid(hub_pid: int) -> int:
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == hub_pid and b"jupyterlab_oidc.hub" in cmdline:
            return int(proc.name)
    raise RuntimeError("the forwarder's process was not found")


def add_route(hub: Hub, path: str, target: str) -> None:
    config = (hub.root / "jupyterhub_config.py").read_text()
    api = re.search(r"ConfigurableHTTPProxy.api_url = '([^']+)'", config).group(1)
    token = re.search(r"ConfigurableHTTPProxy.auth_token = '([^']+)'", config).group(1)
    response = httpx.post(
        f"{api}/api/routes{path}", json={"target": target}, headers={"Authorization": f"token {token}"}
    )
    response.raise_for_status()


async def login(client: httpx.AsyncClient, hub: Hub) -> None:
    """The browser logs in to the hub, then to the forwarder (the hub's OAuth, on a first callback)."""
    await client.get(f"{hub.url}hub/login")
    form = {"username": USER, "password": PASSWORD, "_xsrf": client.cookies.get("_xsrf", "")}
    response = await client.post(f"{hub.url}hub/login", data=form, follow_redirects=False)
    assert response.status_code == 302, (response.status_code, response.text[:300])
    response = await client.get(f"{hub.service_url}?code=warm-up&state={make_state(USER)}", follow_redirects=True)
    assert response.status_code == 200 and "/jh/user/alice/oidc/callback" in str(response.url), response.url


async def rush(client: httpx.AsyncClient, direct_client: httpx.AsyncClient, hub: Hub) -> dict[str, Any]:
    forwarded: list[float] = []
    hop: list[float] = []
    passthrough: list[float] = []
    errors: list[str] = []
    lag: list[float] = []  # how late the bench's own event loop started each request

    async def callback(due: float) -> None:
        lag.append((time.perf_counter() - due) * 1000)
        query = f"code={secrets.token_urlsafe(32)}&state={make_state(USER)}&iss=http%3A%2F%2Fidp"
        start = time.perf_counter()
        try:
            first = await client.get(f"{hub.service_url}?{query}", follow_redirects=False)
            hopped = time.perf_counter()
            if first.status_code != 303:
                errors.append(f"forwarder {first.status_code}")
                return
            second = await client.get(urljoin(hub.origin, first.headers["location"]), follow_redirects=False)
            if second.status_code != 200:
                errors.append(f"user route {second.status_code}")
                return
        except httpx.HTTPError as e:
            errors.append(type(e).__name__)
            return
        done = time.perf_counter()
        hop.append((hopped - start) * 1000)
        forwarded.append((done - start) * 1000)

    async def direct(due: float) -> None:
        lag.append((time.perf_counter() - due) * 1000)
        query = f"code={secrets.token_urlsafe(32)}&state={make_state(USER)}&iss=http%3A%2F%2Fidp"
        start = time.perf_counter()
        try:
            response = await direct_client.get(f"{hub.url}passthrough/oidc/callback?{query}", follow_redirects=False)
        except httpx.HTTPError as e:
            errors.append(type(e).__name__)
            return
        if response.status_code != 200:
            errors.append(f"passthrough {response.status_code}")
            return
        passthrough.append((time.perf_counter() - start) * 1000)

    step = SECONDS / (2 * CALLBACKS)
    tasks = []
    began = time.perf_counter()
    for i in range(2 * CALLBACKS):
        delay = began + i * step - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due = began + i * step
        tasks.append(asyncio.ensure_future(callback(due) if i % 2 == 0 else direct(due)))
    sent = time.perf_counter() - began
    await asyncio.gather(*tasks)
    return {
        "forwarded": forwarded,
        "hop": hop,
        "passthrough": passthrough,
        "errors": errors,
        "sent_seconds": sent,
        "lag": lag,
    }


def stats(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": percentile(values, 50), "p99": percentile(values, 99), "max": max(values)}


async def _measure(hub: Hub) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
    # Two connection pools, so a slow path cannot hold the other's requests back.
    async with (
        httpx.AsyncClient(timeout=60, limits=limits) as client,
        httpx.AsyncClient(timeout=60, limits=limits) as direct_client,
    ):
        await login(client, hub)
        for _ in range(20):  # warm-up: connections, the forwarder's user cache
            await client.get(f"{hub.service_url}?code=warm&state={make_state(USER)}", follow_redirects=True)
            await direct_client.get(f"{hub.url}passthrough/warm")
        pid = forwarder_pid(hub.process.pid)
        before, cpu_before = rss_kb(pid), cpu_seconds(pid)
        measured = await rush(client, direct_client, hub)
        after, cpu = rss_kb(pid), cpu_seconds(pid) - cpu_before
    return {
        **measured,
        "rss_before_kb": before["VmRSS"],
        "rss_after_kb": after["VmRSS"],
        "rss_peak_kb": after["VmHWM"],
        "forwarder_cpu_s": cpu,
    }


def run() -> dict[str, Any]:
    idp = start_idp()
    stub_port = free_port()
    stub = subprocess.Popen([sys.executable, "-c", STUB, str(stub_port)], stdout=subprocess.PIPE, text=True)
    try:
        assert stub.stdout is not None and stub.stdout.readline().strip() == "ready"
        with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp:
            progress("hub_rush: starting JupyterHub")
            hub = Hub(Path(tmp), idp)
            try:
                add_route(hub, f"/jh/user/{USER}", f"http://127.0.0.1:{stub_port}")
                add_route(hub, "/jh/passthrough", f"http://127.0.0.1:{stub_port}")
                progress(f"hub_rush: {CALLBACKS} callbacks + {CALLBACKS} passthrough requests in {SECONDS:.0f} s")
                raw = asyncio.run(_measure(hub))
            finally:
                hub.stop()
    finally:
        stub.terminate()
        stub.wait(10)
        idp.stop()
    forwarded, passthrough = stats(raw["forwarded"]), stats(raw["passthrough"])
    return {
        "callbacks": CALLBACKS,
        "seconds": SECONDS,
        "sent_seconds": raw["sent_seconds"],
        "service": SERVICE,
        "forwarded": forwarded,
        "hop": stats(raw["hop"]),
        "passthrough": passthrough,
        "added": {"p50": forwarded["p50"] - passthrough["p50"], "p99": forwarded["p99"] - passthrough["p99"]},
        "errors": len(raw["errors"]),
        "error_kinds": sorted(set(raw["errors"])),
        "client_lag": stats(raw["lag"]),
        "forwarder_cpu_ms_per_callback": raw["forwarder_cpu_s"] * 1000 / max(len(raw["hop"]), 1),
        "rss_before_kb": raw["rss_before_kb"],
        "rss_after_kb": raw["rss_after_kb"],
        "rss_peak_kb": raw["rss_peak_kb"],
    }


def report(r: dict[str, Any]) -> str:
    f, h, p, a = r["forwarded"], r["hop"], r["passthrough"], r["added"]
    lines = [
        f"{r['callbacks']} callbacks and {r['callbacks']} passthrough requests, open loop, sent in {r['sent_seconds']:.1f} s.",
        "",
        "| ms | n | p50 | p99 | max |",
        "|---|---:|---:|---:|---:|",
        f"| callback through the forwarder (`303` + the user route) | {f['n']} | {f['p50']:.2f} | {f['p99']:.2f} | {f['max']:.2f} |",
        f"| of which the forwarder's hop (the `303`) | {h['n']} | {h['p50']:.2f} | {h['p99']:.2f} | {h['max']:.2f} |",
        f"| passthrough (the proxy and the stub alone) | {p['n']} | {p['p50']:.2f} | {p['p99']:.2f} | {p['max']:.2f} |",
        f"| **added by the forwarder** (forwarded − passthrough) | | **{a['p50']:.2f}** | **{a['p99']:.2f}** | |",
        "",
        f"Errors: {r['errors']}" + (f" ({', '.join(r['error_kinds'])})" if r["errors"] else "") + ". "
        f"The forwarder's RSS: {r['rss_before_kb'] / 1024:.1f} MB before the rush, {r['rss_after_kb'] / 1024:.1f} MB "
        f"after (peak {r['rss_peak_kb'] / 1024:.1f} MB); its CPU time during the rush: "
        f"{r['forwarder_cpu_ms_per_callback']:.2f} ms per callback. The bench's own client started its requests late by "
        f"p50 {r['client_lag']['p50']:.1f} ms, p99 {r['client_lag']['p99']:.1f} ms (an open loop on a busy machine: "
        "when this is large, every figure above holds the client's queue).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
