"""Footprint: size of the built labextension, the server extension's load time, server RSS
with 1 and 50 signed-in environments, the kernel RSS added by importing the helper, and
what a kernel pays at start-up.

Kernel start-up: ipykernel kernels started with jupyter_client (``start_new_kernel``: from
launch to the first ``kernel_info`` reply, which comes after the kernel's ``exec_lines``)
in three variants taking turns, 8 rounds: plain (the baseline), ``import jupyterlab_oidc``
in ``exec_lines``, and ``from jupyterlab_oidc import get_token`` (what a notebook's first
cell does; it loads the kernel helper and httpx). Each kernel's RSS once ready. The import
itself is also timed inside fresh plain kernels (``perf_counter`` around it, first import).
"""

from __future__ import annotations

import gzip
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from stack import ROOT, demo_stack, free_port

STATIC = ROOT / "jupyterlab_oidc" / "labextension" / "static"

LOAD_PROBE = r"""
import time
from jupyter_server.serverapp import ServerApp
app = ServerApp()
app.initialize(argv=["--port=0", "--allow-root"], find_extensions=False, new_httpserver=False)
start = time.perf_counter()
from jupyterlab_oidc.server.app import OIDCExtensionApp
OIDCExtensionApp._load_jupyter_server_extension(app)
print(time.perf_counter() - start)
"""

KERNEL_PROBE = r"""
import json, sys
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name="python3")
def rss():
    reply = kc.execute_interactive(
        "import re; print(re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read()).group(1))",
        output_hook=lambda m: out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
    return int(out.pop().strip())
out = []
before = rss()
kc.execute_interactive("from jupyterlab_oidc import get_token, OIDCAuth, OIDCBearer", output_hook=lambda m: None)
after = rss()
km.shutdown_kernel(now=True)
print(json.dumps({"before_kb": before, "after_kb": after}))
"""


STARTUP_ROUNDS = 8
STARTUP_VARIANTS = {
    "plain": "",
    "import": "import jupyterlab_oidc",
    "get_token": "from jupyterlab_oidc import get_token",
}

STARTUP_PROBE = r"""
import json, re, sys, time
from jupyter_client.manager import start_new_kernel
variants, rounds = json.loads(sys.argv[1]), int(sys.argv[2])
def rss(pid):
    return int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{pid}/status").read()).group(1))
def run(kc, code):
    out = []
    kc.execute_interactive(code, output_hook=lambda m: out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
    return "".join(out)
results = {name: {"start_ms": [], "rss_kb": []} for name in variants}
imports = {"import": [], "get_token": []}
start_new_kernel(kernel_name="python3")[0].shutdown_kernel(now=True)  # warm the file cache
for _ in range(rounds):
    for name, line in variants.items():
        extra = [f"--IPKernelApp.exec_lines={line}"] if line else []
        t0 = time.perf_counter()
        km, kc = start_new_kernel(kernel_name="python3", extra_arguments=extra)
        results[name]["start_ms"].append((time.perf_counter() - t0) * 1000)
        results[name]["rss_kb"].append(rss(km.provisioner.process.pid))
        if not line:
            timed = run(kc, "import time\nt0 = time.perf_counter()\nimport jupyterlab_oidc\nt1 = time.perf_counter()\n"
                            "from jupyterlab_oidc import get_token\nt2 = time.perf_counter()\n"
                            "print((t1 - t0) * 1000, (t2 - t0) * 1000)")
            a, b = (float(x) for x in timed.split())
            imports["import"].append(a)
            imports["get_token"].append(b)
        kc.stop_channels()
        km.shutdown_kernel(now=True)
print(json.dumps({"variants": results, "imports": imports}))
"""


def kernel_startup() -> dict[str, Any]:
    """Start-up time and RSS of kernels with and without the helper imported (see the docstring)."""
    out = subprocess.run(
        [sys.executable, "-c", STARTUP_PROBE, json.dumps(STARTUP_VARIANTS), str(STARTUP_ROUNDS)],
        capture_output=True,
        text=True,
        check=True,
    )
    raw = json.loads(out.stdout.strip().splitlines()[-1])
    summary: dict[str, Any] = {"rounds": STARTUP_ROUNDS}
    for name, values in raw["variants"].items():
        summary[name] = {
            "start_ms": statistics.median(values["start_ms"]),
            "start_min_ms": min(values["start_ms"]),
            "rss_kb": statistics.median(values["rss_kb"]),
        }
    for name, values in raw["imports"].items():
        summary[name]["import_ms"] = statistics.median(values)
        summary[name]["import_max_ms"] = max(values)
    for name in ("import", "get_token"):
        summary[name]["added_start_ms"] = summary[name]["start_ms"] - summary["plain"]["start_ms"]
        summary[name]["added_rss_kb"] = summary[name]["rss_kb"] - summary["plain"]["rss_kb"]
    return summary


def labextension_size() -> dict[str, Any]:
    files = [p for p in STATIC.iterdir() if p.suffix == ".js"]
    chunks = sorted(
        ({"file": p.name, "bytes": p.stat().st_size, "gzip": len(gzip.compress(p.read_bytes(), 9))} for p in files),
        key=lambda c: -c["gzip"],
    )
    modules: dict[str, int] = {}
    for source_map in STATIC.glob("*.js.map"):
        data = json.loads(source_map.read_text())
        for name, content in zip(data.get("sources", []), data.get("sourcesContent") or []):
            key = name.split("node_modules/")[-1].split("/")[0] if "node_modules/" in name else name.split("/")[-1]
            modules[key] = modules.get(key, 0) + len(content or "")
    return {
        "total": sum(c["bytes"] for c in chunks),
        "gzip": sum(c["gzip"] for c in chunks),
        "chunks": chunks,
        "largest_sources": sorted(modules.items(), key=lambda kv: -kv[1])[:6],
    }


def load_time(runs: int = 5) -> dict[str, float]:
    """Import + load of the server extension into an initialised server, fresh process each run."""
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", LOAD_PROBE], capture_output=True, text=True, check=True)
        samples.append(float(out.stdout.strip().splitlines()[-1]) * 1000)
    return {"median_ms": statistics.median(samples), "max_ms": max(samples)}


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def server_memory() -> dict[str, int]:
    with demo_stack(free_port(), free_port(), "--extra-environments", "49") as stack:
        pid = int(
            subprocess.run(
                ["pgrep", "-P", str(stack.process.pid), "-f", "jupyter_server"], capture_output=True, text=True
            ).stdout.split()[0]
        )
        baseline = rss_kb(pid)
        stack.sign_in(environment="prod")
        one = rss_kb(pid)
        for i in range(1, 50):
            stack.sign_in(environment=f"env{i}")
        fifty = rss_kb(pid)
    return {"no_session_kb": baseline, "one_kb": one, "fifty_kb": fifty}


def kernel_memory() -> dict[str, int]:
    out = subprocess.run([sys.executable, "-c", KERNEL_PROBE], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def page_load(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """The chunks a JupyterLab page downloads when it starts and its panel opens (Chromium)."""
    if not shutil.which("node") or not (ROOT / "node_modules" / "playwright-core").is_dir():
        return {"skipped": "node or playwright-core is missing"}
    if not Path("/usr/bin/chromium").exists():
        return {"skipped": "Debian's Chromium (/usr/bin/chromium) is missing"}
    with demo_stack(free_port(), free_port(), "--app", "lab", "--expose-app") as stack:
        out = subprocess.run(
            [
                "node",
                str(ROOT / "bench" / "page_load.mjs"),
                json.dumps({"url": f"{stack.base_url}lab?token={stack.token}"}),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
        )
    if out.returncode != 0:
        raise RuntimeError(f"page_load.mjs failed:\n{out.stderr[-3000:]}")
    files = set(json.loads(out.stdout.strip().splitlines()[-1])["files"])
    loaded = [c for c in chunks if c["file"] in files]
    return {
        "gzip": sum(c["gzip"] for c in loaded),
        "total": sum(c["bytes"] for c in loaded),
        "files": [c["file"] for c in loaded],
        "on_demand": [c["file"] for c in chunks if c["file"] not in files],
    }


def run() -> dict[str, Any]:
    lab = labextension_size()
    lab["page"] = page_load(lab["chunks"])
    return {
        "labextension": lab,
        "load": load_time(),
        "server": server_memory(),
        "kernel": kernel_memory(),
        "startup": kernel_startup(),
    }


def report(r: dict[str, Any]) -> str:
    lab, load, server, kernel = r["labextension"], r["load"], r["server"], r["kernel"]
    chunks = ", ".join(f"{c['file']} {c['gzip'] / 1024:.1f} KB" for c in lab["chunks"][:4])
    largest = ", ".join(f"{name} ({size / 1024:.0f} KB of source)" for name, size in lab["largest_sources"])
    added = kernel["after_kb"] - kernel["before_kb"]
    return "\n".join(
        [
            "| what | figure |",
            "|---|---:|",
            f"| labextension JavaScript, total | {lab['total'] / 1024:.1f} KB |",
            f"| labextension JavaScript, gzipped | {lab['gzip'] / 1024:.1f} KB |",
            *page_rows(lab.get("page")),
            f"| server extension import + load, median / max of 5 fresh processes | {load['median_ms']:.0f} ms / {load['max_ms']:.0f} ms |",
            f"| server RSS: no session / 1 / 50 signed-in environments | {server['no_session_kb'] / 1024:.1f} / {server['one_kb'] / 1024:.1f} / {server['fifty_kb'] / 1024:.1f} MB |",
            f"| per signed-in environment | {(server['fifty_kb'] - server['one_kb']) / 49:.0f} KB |",
            f"| kernel RSS before / after importing the helper | {kernel['before_kb'] / 1024:.1f} / {kernel['after_kb'] / 1024:.1f} MB |",
            f"| kernel RSS added by the helper | {added / 1024:.2f} MB |",
            "",
            f"Largest chunks (gzipped): {chunks}. Largest sources: {largest}.",
            *startup_report(r.get("startup")),
        ]
    )


def page_rows(page: dict[str, Any] | None) -> list[str]:
    if not page or "skipped" in page:
        return [f"| downloaded by a JupyterLab page | not measured: {(page or {}).get('skipped', 'no figure')} |"]
    return [
        f"| downloaded by a JupyterLab page (start + the panel), gzipped | {page['gzip'] / 1024:.1f} KB "
        f"({len(page['files'])} files; on demand only: {', '.join(_short(f) for f in page['on_demand']) or 'none'}) |"
    ]


def _short(name: str) -> str:
    """A chunk's name without its content hash and the long vendor suffix."""
    stem = name.rsplit(".", 2)[0]
    return stem if len(stem) <= 48 else stem[:45] + "…"


def startup_report(s: dict[str, Any] | None) -> list[str]:
    if not s:
        return []
    plain, bare, full = s["plain"], s["import"], s["get_token"]
    return [
        "",
        f"Kernel start-up (median of {s['rounds']} rounds, the variants taking turns; launch → first `kernel_info` reply):",
        "",
        "| kernel | start-up ms (min) | added ms | RSS MB | added MB | the import alone, in a running kernel |",
        "|---|---:|---:|---:|---:|---:|",
        f"| plain (baseline) | {plain['start_ms']:.0f} ({plain['start_min_ms']:.0f}) | | {plain['rss_kb'] / 1024:.1f} | | |",
        f"| `import jupyterlab_oidc` at start | {bare['start_ms']:.0f} ({bare['start_min_ms']:.0f}) | {bare['added_start_ms']:+.0f} | "
        f"{bare['rss_kb'] / 1024:.1f} | {bare['added_rss_kb'] / 1024:+.2f} | {bare['import_ms']:.2f} ms (max {bare['import_max_ms']:.2f}) |",
        f"| `from jupyterlab_oidc import get_token` at start | {full['start_ms']:.0f} ({full['start_min_ms']:.0f}) | "
        f"{full['added_start_ms']:+.0f} | {full['rss_kb'] / 1024:.1f} | {full['added_rss_kb'] / 1024:+.2f} | "
        f"{full['import_ms']:.1f} ms (max {full['import_max_ms']:.1f}) |",
    ]


if __name__ == "__main__":
    print(report(run()))
