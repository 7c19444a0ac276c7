"""``get_token()`` pulls through the comm with the real JupyterLab in Debian's Chromium.

Starts the demo stack as JupyterLab (``dev/demo.py --app lab --expose-app``, plus the
bench-only ``nodelay_ext``), signs in through the REST API, then ``node bench/comm_browser.mjs``
(playwright-core, /usr/bin/chromium, no browser download) opens JupyterLab and, in a new
notebook per variant, times 500 comm pulls (``TokenClient.forget()`` before each call, so each
is a ``token_request`` over the comm that the :kernel-bridge plugin answers with ``POST
oidc/token``; the server answers from its valid session, and the provider's token-endpoint
count is checked to stay at 0):

- ``default``: JupyterLab as shipped. 500 pulls back to back in one cell; 500 pulls 100 ms
  apart in one cell (a pull on its own, as when a long cell's token runs out); 500 cells
  whose first statement pulls (``token = get_token()`` at the top of a cell).
- ``nodelay``: the 500 cells again, in a second notebook whose kernel websocket has
  TCP_NODELAY (``nodelay_ext.py``, bench only): what Nagle's algorithm on jupyter_server's
  kernel websocket costs a pull that follows other kernel output.

The notebooks take turns (10 rounds of 50 pulls each), so a busy moment of the machine
hits all of them alike.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import httpx
from stack import ROOT, demo_stack, free_port, progress

PULLS = 500
GAP_SECONDS = 0.1
ROUNDS = 10  # the variants take turns, 50 pulls each per round
VARIANTS = [
    {"name": "default", "kinds": ["back_to_back", "spaced", "cell_start"]},
    {"name": "nodelay", "nodelay": True, "kinds": ["cell_start"]},
]


def run(pulls: int = PULLS) -> dict[str, Any]:
    if not shutil.which("node") or not (ROOT / "node_modules" / "playwright-core").is_dir():
        return {"skipped": "node or playwright-core (npm devDependency) is missing: run `make install`"}
    if not shutil.which("/usr/bin/chromium"):
        return {"skipped": "Debian's Chromium (/usr/bin/chromium) is missing: `apt-get install -y chromium`"}
    extensions = "--ServerApp.jpserver_extensions={'jupyterlab_oidc': True, 'nodelay_ext': True}"
    with demo_stack(
        free_port(),
        free_port(),
        "--app",
        "lab",
        "--expose-app",
        "--",
        extensions,
        env={"PYTHONPATH": str(ROOT / "bench")},
    ) as stack:
        stack.sign_in()
        stats = lambda: httpx.get(f"{stack.issuer}/_test/stats").json()["token"].get("refresh_token", 0)
        before = stats()
        progress(
            f"comm in Chromium: {pulls} pulls each back to back, spaced, at cell start, at cell start with TCP_NODELAY"
        )
        options = {
            "url": f"{stack.base_url}lab?token={stack.token}",
            "token": stack.token,
            "pulls": pulls,
            "rounds": ROUNDS,
            "gap": GAP_SECONDS,
            "nodelayUrl": f"{stack.base_url}bench/nodelay",
            "variants": VARIANTS,
        }
        out = subprocess.run(
            ["node", str(ROOT / "bench" / "comm_browser.mjs"), json.dumps(options)],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=ROOT,
        )
        if out.returncode != 0:
            raise RuntimeError(f"comm_browser.mjs failed:\n{out.stderr[-3000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["provider_refreshes"] = stats() - before
        result["nodelay_websockets"] = httpx.post(
            options["nodelayUrl"], json={"on": False}, headers=stack.headers
        ).json()["applied"]
        result["gap_ms"] = GAP_SECONDS * 1000
    return result


def report(r: dict[str, Any]) -> str:
    if "skipped" in r:
        return f"Not measured: {r['skipped']}."
    lines = [
        "| comm path, JupyterLab in Chromium | p50 ms | p99 ms | max ms | pulls over the comm | over HTTP |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows = [
        ("default", "cell_start", "as shipped: `get_token()` first thing in a cell"),
        ("nodelay", "cell_start", "the same with TCP_NODELAY on the kernel websocket (bench-only patch)"),
        ("default", "spaced", f"as shipped: one pull every {r['gap_ms']:.0f} ms inside a running cell"),
        ("default", "back_to_back", "as shipped: pulls back to back inside a cell"),
    ]
    for variant, kind, label in rows:
        v = (r.get(variant) or {}).get(kind)
        if v:
            lines.append(
                f"| {label} | {v['p50_ms']:.2f} | {v['p99_ms']:.2f} | {v['max_ms']:.2f} | {v['comm_pulls']} | "
                f"{v['http_pulls']} |"
            )
    lines.append(
        f"\nFrontend: `{r['default']['frontend']}`; provider refreshes during the run: {r['provider_refreshes']}."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    result = run()
    print(json.dumps(result, indent=1))
    print(report(result))
