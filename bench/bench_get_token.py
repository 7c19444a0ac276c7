"""``get_token()`` in a real kernel started by a real Jupyter server.

1. Cached: the kernel holds a valid token. Every call is timed on its own
   (``perf_counter_ns`` before and after) over ≥ 100,000 calls, in blocks of 1,000
   alternating with the floor: a plain attribute read + ``time.time()`` timed the same way
   in the same loop. An empty timed block (timer overhead) is shown too.
2. Pull: each call must fetch a token from the server. ``TokenClient.forget()`` drops the
   cached token before each call, so ``get_token()`` goes cache miss → channel choice → pull,
   and the server answers from its own valid session: a pull from the server with no
   provider refresh (the provider's token-endpoint count is checked to stay at 0).
   - HTTP: the kernel has no frontend, so the pull goes ``POST oidc/kernel/token`` with the
     kernel secret (what happens with no browser tab open).
   - comm, stand-in: a frontend played over jupyter_client by the bench process
     (``FakeFrontend`` of tests/kernel_support.py: answers ``token_request`` from its own
     subshell with ``POST oidc/token``), i.e. the kernel half of the comm path and a Python
     frontend. The JupyterLab-in-Chromium figure is ``bench_comm_browser.py``.
"""

from __future__ import annotations

import json
from typing import Any

from kernels import ALICE, kernel_server, provider_calls

from tests.kernel_support import COMM_PRELUDE, FakeFrontend

CACHED_CALLS = 100_000
#: The kernel has the secret, so it pulls over HTTP by default: the stand-in measures the comm route.
PULL_OVER_COMM = 'import os\nos.environ["JUPYTERLAB_OIDC_PULL"] = "comm"\n'
PULLS = 500

CACHED_CELL = """
import gc, time
from jupyterlab_oidc import get_token
get_token()  # the first call pulls; every timed call below is served from the cache
class _Holder: pass
holder = _Holder()
holder.token = get_token()
pc, tt = time.perf_counter_ns, time.time
N, BLOCK = CALLS, 1000
ours, floor, timer = [], [], []
for _ in range(N // BLOCK):
    for _ in range(BLOCK):
        t0 = pc(); get_token(); t1 = pc(); ours.append(t1 - t0)
    for _ in range(BLOCK):
        t0 = pc(); holder.token; tt(); t1 = pc(); floor.append(t1 - t0)
    for _ in range(BLOCK // 10):
        t0 = pc(); t1 = pc(); timer.append(t1 - t0)
# and untimed: N calls in one loop, for the mean without the timer
t0 = pc()
for _ in range(N):
    get_token()
batch_ns = (pc() - t0) / N
t0 = pc()
for _ in range(N):
    holder.token; tt()
floor_batch_ns = (pc() - t0) / N
def q(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
result({"calls": len(ours),
        "ours": {"p50_ns": q(ours, 50), "p99_ns": q(ours, 99), "mean_untimed_ns": batch_ns},
        "floor": {"p50_ns": q(floor, 50), "p99_ns": q(floor, 99), "mean_untimed_ns": floor_batch_ns},
        "timer": {"p50_ns": q(timer, 50), "p99_ns": q(timer, 99)}})
""".replace("CALLS", str(CACHED_CALLS))

PULL_LOOP = """
import time
from jupyterlab_oidc import get_token
from jupyterlab_oidc.kernel import default_client
client = default_client()
pulls = []
_http_token = client.http.token
client.http.token = lambda *a, **k: pulls.append(1) or _http_token(*a, **k)
for _ in range(20):  # warm-up: connections, imports
    client.forget(); get_token()
del pulls[:]
pc = time.perf_counter_ns
samples = []
for _ in range(PULLS):
    client.forget()
    t0 = pc(); get_token(); samples.append(pc() - t0)
samples.sort()
def q(p):
    return samples[min(len(samples) - 1, int(round(p / 100 * (len(samples) - 1))))]
result({"calls": len(samples), "p50_ms": q(50) / 1e6, "p99_ms": q(99) / 1e6, "max_ms": samples[-1] / 1e6,
        "http_pulls": len(pulls), "comm_live": bool(client.comm and client.comm.live)})
""".replace("PULLS", str(PULLS))


def run() -> dict[str, Any]:
    results: dict[str, Any] = {}
    with kernel_server(access_ttl=300) as server:
        assert server.sign_in(ALICE).status == 200
        kernel = server.start_kernel()
        results["cached"] = kernel.run(CACHED_CELL, timeout=600).value
        before = provider_calls(server.idp)
        results["http"] = kernel.run(PULL_LOOP, timeout=600).value
        results["http"]["provider_refreshes"] = provider_calls(server.idp) - before
        server.stop_kernel(kernel)

        kernel = server.start_kernel()
        frontend = FakeFrontend(server, kernel)
        try:
            frontend.run(PULL_OVER_COMM + COMM_PRELUDE.replace("WAIT", "20"), timeout=60)
            before = provider_calls(server.idp)
            value = frontend.run(PULL_LOOP, timeout=600).value
            value["provider_refreshes"] = provider_calls(server.idp) - before
            results["comm_standin"] = value
        finally:
            frontend.close()
            server.stop_kernel(kernel)
    return results


def report(r: dict[str, Any]) -> str:
    c = r["cached"]
    us = lambda ns: f"{ns / 1000:.2f}"
    lines = [
        f"**Cached** ({c['calls']:,} timed calls in one kernel, blocks of 1,000 alternating with the floor):",
        "",
        "| per call | median µs | p99 µs | mean µs, untimed loop |",
        "|---|---:|---:|---:|",
        f"| `get_token()`, valid cached token | {us(c['ours']['p50_ns'])} | {us(c['ours']['p99_ns'])} | "
        f"{us(c['ours']['mean_untimed_ns'])} |",
        f"| floor: attribute read + `time.time()` | {us(c['floor']['p50_ns'])} | {us(c['floor']['p99_ns'])} | "
        f"{us(c['floor']['mean_untimed_ns'])} |",
        f"| timer alone (two `perf_counter_ns()`), included in both rows above | {us(c['timer']['p50_ns'])} | "
        f"{us(c['timer']['p99_ns'])} | |",
        "",
        f"`get_token()` / floor, medians: {c['ours']['p50_ns'] / c['floor']['p50_ns']:.1f}×; "
        f"untimed means: {c['ours']['mean_untimed_ns'] / c['floor']['mean_untimed_ns']:.1f}×.",
        "",
        f"**Pull** ({r['http']['calls']} calls each; `TokenClient.forget()` before every call, the server answers "
        "from its valid session, so no provider refresh):",
        "",
        "| path | p50 ms | p99 ms | max ms | pulls seen on HTTP | provider refreshes |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, label in (
        ("http", "HTTP: `POST oidc/kernel/token` (no browser tab)"),
        ("comm_standin", "comm, frontend played over jupyter_client (stand-in, not JupyterLab)"),
    ):
        v = r.get(name)
        if v:
            lines.append(
                f"| {label} | {v['p50_ms']:.2f} | {v['p99_ms']:.2f} | {v['max_ms']:.2f} | {v['http_pulls']} | "
                f"{v['provider_refreshes']} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    result = run()
    print(json.dumps(result, indent=1))
    print(report(result))
