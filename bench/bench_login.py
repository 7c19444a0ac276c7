"""How long a full sign-in takes against the local provider, excluding the login page.

Starts the demo stack (dev/demo.py: dev provider + a real Jupyter server with the
extension), then signs in N times through the REST API with an HTTP client playing the
browser. Phases: POST login (discovery cached after the first), the provider's pages
(excluded: a person's time), GET callback (code exchange + id_token verification +
identity check + store), POST await (result delivery). Prints medians and p95.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.idp import provider_login  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def run(base: str, token: str, n: int, profile: str) -> dict[str, list[float]]:
    phases: dict[str, list[float]] = {"login": [], "provider (excluded)": [], "callback": [], "await": [], "total excl. provider": []}
    headers = {"Authorization": f"token {token}"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as api:
        for i in range(n + 1):
            async with httpx.AsyncClient(timeout=30) as browser:
                t0 = time.perf_counter()
                started = (await api.post(f"{base}oidc/login", json={"login_hint": "alice@example.com"})).json()
                t1 = time.perf_counter()
                callback = await provider_login(browser, started["url"], None, f"{base}oidc/callback")
                t2 = time.perf_counter()
                page = await browser.get(callback)
                t3 = time.perf_counter()
                result = await api.post(f"{base}oidc/await", json={"state": started["state"]})
                t4 = time.perf_counter()
                assert page.status_code == 200 and result.status_code == 200, result.text
            if i == 0:
                continue  # warm-up: discovery and JWKS fetch, connection set-up
            for name, value in (("login", t1 - t0), ("provider (excluded)", t2 - t1), ("callback", t3 - t2),
                                ("await", t4 - t3), ("total excl. provider", (t1 - t0) + (t4 - t2))):
                phases[name].append(value * 1000)
    return phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=30)
    parser.add_argument("--profile", default="userinfo", choices=["id_token", "userinfo"])
    args = parser.parse_args()
    demo = subprocess.Popen(
        [sys.executable, str(ROOT / "dev" / "demo.py"), "--app", "server", "--json", "--lab-port", "18961",
         "--idp-port", "18962", "--profile", args.profile],
        stdout=subprocess.PIPE, text=True, env={**os.environ},
    )
    try:
        assert demo.stdout is not None
        ready = json.loads(demo.stdout.readline())
        phases = asyncio.run(run(ready["base_url"], ready["token"], args.n, args.profile))
    finally:
        demo.terminate()
        demo.wait(15)
    print(f"sign-in against the local dev provider ({args.profile} profile), {args.n} runs, ms")
    print(f"{'phase':<24}{'median':>10}{'p95':>10}")
    for name, values in phases.items():
        print(f"{name:<24}{statistics.median(values):>10.1f}{percentile(values, 95):>10.1f}")


if __name__ == "__main__":
    main()
