"""How long a full sign-in takes against the local provider, excluding the login page.

Starts the demo stack (dev/demo.py: dev provider + a real Jupyter server with the
extension), then signs in N times through the REST API with an HTTP client playing the
browser. Phases: POST login (discovery cached after the first), the provider's pages
(excluded: a person's time), GET callback (code exchange + id_token verification +
identity check + store), POST await (result delivery). One warm-up sign-in first.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

import httpx
from stack import demo_stack, free_port, percentile

from tests.idp import bind_browser, provider_login

RUNS = 30
PHASES = ("login", "provider (excluded)", "callback", "await", "total excl. provider")


async def _sign_ins(base: str, token: str, n: int) -> dict[str, list[float]]:
    phases: dict[str, list[float]] = {name: [] for name in PHASES}
    async with httpx.AsyncClient(headers={"Authorization": f"token {token}"}, timeout=30) as api:
        for i in range(n + 1):
            async with httpx.AsyncClient(timeout=30) as browser:
                t0 = time.perf_counter()
                started = (await api.post(f"{base}oidc/login", json={"login_hint": "alice@example.com"})).json()
                t1 = time.perf_counter()
                url = await bind_browser(browser, started["start_url"], token)
                callback = await provider_login(browser, url, None, f"{base}oidc/callback")
                t2 = time.perf_counter()
                page = await browser.get(callback)
                t3 = time.perf_counter()
                result = await api.post(f"{base}oidc/await", json={"state": started["state"]})
                t4 = time.perf_counter()
                assert page.status_code == 200 and result.status_code == 200, result.text
            if i == 0:
                continue  # warm-up: discovery and JWKS fetch, connection set-up
            for name, value in zip(PHASES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, (t1 - t0) + (t4 - t2))):
                phases[name].append(value * 1000)
    return phases


def run(runs: int = RUNS, profile: str = "userinfo") -> dict[str, Any]:
    with demo_stack(free_port(), free_port(), "--profile", profile) as stack:
        phases = asyncio.run(_sign_ins(stack.base_url, stack.token, runs))
    return {
        "runs": runs,
        "profile": profile,
        "phases": {name: {"p50": statistics.median(v), "p95": percentile(v, 95)} for name, v in phases.items()},
    }


def report(r: dict[str, Any]) -> str:
    lines = [
        f"{r['runs']} sign-ins through the REST API, provider profile `{r['profile']}` (email from userinfo, "
        "as Zitadel by default).",
        "",
        "| phase, ms | median | p95 |",
        "|---|---:|---:|",
    ]
    for name, v in r["phases"].items():
        lines.append(f"| {name} | {v['p50']:.1f} | {v['p95']:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    result = run()
    print(json.dumps(result, indent=1))
    print(report(result))
