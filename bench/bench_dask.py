"""Dask: a rotation in the server → the new access token on N worker processes (N = 1, 4, 16).

A real kernel started by the server creates ``LocalCluster(n_workers=N, processes=True)``. Each
sample forces a rotation in the server (``TokenClient.refresh``: the server refreshes at the
provider); t0 is when the kernel holds the new token (its ``subscribe`` hook), the end is the
latest ``time.time()`` at which a worker stored it (same machine, same clock).

- ours: ``OIDCPlugin`` (kernel thread → one RPC to the scheduler → pooled RPCs to the workers);
- baseline: ``client.run`` of a function that stores the token on every worker, started at t0.

Both in the same run, on the same cluster, baseline first (the plugin is registered after it).
"""

from __future__ import annotations

import statistics
import sys
from typing import Any

from kernels import ALICE, kernel_server
from stack import percentile, progress

SIZES = (1, 4, 16)
ROTATIONS = 15

CELL = """
import time, threading
from distributed import Client, LocalCluster
from jupyterlab_oidc.kernel import default_client
from jupyterlab_oidc.kernel.client import token_sha256
from jupyterlab_oidc.dask import OIDCPlugin
from jupyterlab_oidc.dask.worker import SealedToken
tc = default_client()
tc.get_token("prod")
rotated = {{}}
tc.subscribe(lambda key, token, reason: token is not None and rotated.setdefault(token_sha256(token.access_token), time.time()))
cluster = LocalCluster(n_workers={n}, threads_per_worker=1, processes=True, dashboard_address=None)
client = Client(cluster)
client.wait_for_workers({n})

def baseline_set(fields, dask_worker):
    dask_worker._oidc_baseline = (fields, time.time())

def baseline_times(sha, dask_worker):
    fields, at = dask_worker._oidc_baseline
    return at if token_sha256(fields["access_token"]) == sha else None

def plugin_times(sha):
    from jupyterlab_oidc.dask import states
    d = next(iter(states().values())).describe()
    return d["received_at"] if d["sha256"] == sha else None

def rotate():
    token = tc.refresh("prod")
    sha = token_sha256(token.access_token)
    return sha, rotated[sha]

base, ours = [], []
client.run(baseline_set, {{"access_token": "warm-up"}})
for _ in range({r} + 1):
    sha, t0 = rotate()
    client.run(baseline_set, SealedToken.of(tc.cached(("prod", None), 0)).fields)
    times = client.run(baseline_times, sha)
    assert None not in times.values()
    base.append((max(times.values()) - t0) * 1000)
plugin = OIDCPlugin(environment="prod")
client.register_plugin(plugin)
for _ in range({r} + 1):
    sha, t0 = rotate()
    deadline = time.monotonic() + 30
    while (plugin.publisher.last_ack or (None,))[0] != sha and time.monotonic() < deadline:
        time.sleep(0.0005)
    times = client.run(plugin_times, sha)
    assert None not in times.values(), times
    ours.append((max(times.values()) - t0) * 1000)
plugin.close()
client.close()
cluster.close()
result({{"ours": ours[1:], "baseline": base[1:]}})
"""


def _summary(values: list[float]) -> dict[str, float]:
    return {"p50_ms": statistics.median(values), "p95_ms": percentile(values, 95), "max_ms": max(values)}


def run(sizes: tuple[int, ...] = SIZES, rotations: int = ROTATIONS) -> dict[str, Any]:
    results: dict[str, Any] = {"rotations": rotations, "sizes": {}}
    with kernel_server(access_ttl=300) as server:
        assert server.sign_in(ALICE).status == 200
        for n in sizes:
            progress(f"dask: {n} worker process(es), {rotations} rotations each way")
            kernel = server.start_kernel()
            try:
                raw = kernel.run(CELL.format(n=n, r=rotations), timeout=600).value
            finally:
                server.stop_kernel(kernel)
            ours, base = _summary(raw["ours"]), _summary(raw["baseline"])
            results["sizes"][str(n)] = {
                "ours": ours,
                "baseline": base,
                "ratio_p50": base["p50_ms"] / ours["p50_ms"] if ours["p50_ms"] else None,
            }
    return results


def report(r: dict[str, Any]) -> str:
    lines = [
        f"Rotation in the server → new access token stored on every worker ({r['rotations']} rotations per size, "
        "worker processes on this machine). Ours: `OIDCPlugin` (kernel thread → scheduler → workers); "
        "baseline: `client.run` setting the token on every worker, started the moment the kernel has it.",
        "",
        "| workers | ours p50 | ours p95 | baseline p50 | baseline p95 | baseline / ours (p50) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for n, s in r["sizes"].items():
        o, b = s["ours"], s["baseline"]
        ratio = f"{s['ratio_p50']:.2f}×" if s["ratio_p50"] else "–"
        lines.append(
            f"| {n} | {o['p50_ms']:.1f} ms | {o['p95_ms']:.1f} ms | {b['p50_ms']:.1f} ms | "
            f"{b['p95_ms']:.1f} ms | {ratio} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sizes = tuple(int(x) for x in sys.argv[1].split(",")) if len(sys.argv) > 1 else SIZES
    out = run(sizes)
    print(report(out))
