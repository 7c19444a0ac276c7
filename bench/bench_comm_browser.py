"""``get_token()`` in JupyterLab in Debian's Chromium: as shipped, the HTTP pull alone, and the comm.

Starts the demo stack as JupyterLab (``dev/demo.py --app lab --expose-app``, plus the
bench-only ``nodelay_ext``), signs in through the REST API, then ``node bench/comm_browser.mjs``
(playwright-core, /usr/bin/chromium, no browser download) opens JupyterLab and, in a new
notebook per variant, times 500 pulls per position and mode (``TokenClient.forget()`` before
each ``get_token()``, so each is a pull; the server answers from its valid session, and the
provider's token-endpoint count is checked to stay at 0). Positions: back to back in one cell;
100 ms apart in one cell (a pull on its own, as when a long cell's token runs out); the first
statement of a cell (``token = get_token()`` at the top of a cell), 500 cells. Modes:

- **as shipped**: ``get_token()``; a kernel the server started has the kernel secret, so it
  pulls over HTTP (``POST oidc/kernel/token``) and keeps the comm for pushes;
- **HTTP alone** (the baseline): the client's own HTTP call with the arguments ``get_token()``
  used, without the cache, the route choice or the single flight, in the same notebook and
  position, alternating with the shipped pulls pull by pull (cell by cell at the top of cells);
- **comm**: ``get_token()`` with ``JUPYTERLAB_OIDC_PULL=comm``, the route of a kernel without
  the secret (a ``token_request`` the :kernel-bridge plugin answers with ``POST oidc/token``);
  and once more at the top of a cell in a second notebook whose kernel websocket has
  TCP_NODELAY (``nodelay_ext.py``, bench only): what Nagle's algorithm costs that route.

The notebooks and modes take turns (10 rounds of 50 pulls each), so a busy moment of the
machine hits all of them alike.
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
KINDS = ("cell_start", "spaced", "back_to_back")
VARIANTS = [
    {"name": "default", "kinds": list(KINDS), "modes": ["shipped", "http", "comm"]},
    {"name": "nodelay", "nodelay": True, "kinds": ["cell_start"], "modes": ["comm"]},
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
            f"JupyterLab in Chromium: {pulls} pulls each back to back, spaced, at cell start; as shipped, HTTP "
            "alone, through the comm; through the comm at cell start with TCP_NODELAY"
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
        "| pull in JupyterLab (Chromium) | p50 ms | p99 ms | max ms | over the comm | over HTTP | "
        "p50 / HTTP alone | p99 / HTTP alone |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    places = {
        "cell_start": "first statement of a cell",
        "spaced": f"alone in a running cell ({r['gap_ms']:.0f} ms apart)",
        "back_to_back": "back to back in a cell",
    }
    modes = [
        ("", "as shipped"),
        ("_http", "HTTP call alone (baseline)"),
        ("_comm", "through the comm"),
    ]
    d = r.get("default") or {}
    for kind, place in places.items():
        base = d.get(f"{kind}_http")
        for suffix, label in modes:
            v = d.get(kind + suffix)
            if not v:
                continue
            ratios = f"{v['p50_ms'] / base['p50_ms']:.2f}× | {v['p99_ms'] / base['p99_ms']:.2f}×" if base else "— | —"
            lines.append(
                f"| {place}: {label} | {v['p50_ms']:.2f} | {v['p99_ms']:.2f} | {v['max_ms']:.2f} | "
                f"{v['comm_pulls']} | {v['http_pulls']} | {ratios} |"
            )
    n = (r.get("nodelay") or {}).get("cell_start_comm")
    if n:
        lines.append(
            f"| first statement of a cell: through the comm, TCP_NODELAY on the kernel websocket (bench-only) | "
            f"{n['p50_ms']:.2f} | {n['p99_ms']:.2f} | {n['max_ms']:.2f} | {n['comm_pulls']} | {n['http_pulls']} | "
            "— | — |"
        )
    lines.append(f"\nFrontend: `{d.get('frontend')}`; provider refreshes during the run: {r['provider_refreshes']}.")
    return "\n".join(lines)


if __name__ == "__main__":
    result = run()
    print(json.dumps(result, indent=1))
    print(report(result))
