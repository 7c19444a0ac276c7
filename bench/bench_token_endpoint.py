"""``POST oidc/token`` throughput and latency at 1, 16 and 64 concurrent clients, next to a
trivial authenticated tornado handler on the same server (the ceiling). The load comes from
wrk (Debian's package; a Python client was slower than the server it measured). The token
stays valid throughout, so the provider must see 0 calls.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from typing import Any

import httpx
from stack import ROOT, demo_stack, free_port

DURATION_SECONDS = 5
SCRIPT = """
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "token {token}"
"""


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, token: str, concurrency: int, body: str) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(SCRIPT.format(body=body, token=token))
        script.flush()
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(min(concurrency, 2)),
                "-c",
                str(concurrency),
                "-d",
                f"{DURATION_SECONDS}s",
                "--latency",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"errors during the run:\n{out}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": _ms(re.search(r"50%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        "p99": _ms(re.search(r"99%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
    }


def run() -> dict[str, Any]:
    results: dict[str, Any] = {"rows": []}
    extensions = "--ServerApp.jpserver_extensions={'jupyterlab_oidc': True, 'ceiling_ext': True}"
    with demo_stack(free_port(), free_port(), "--", extensions, env={"PYTHONPATH": str(ROOT / "bench")}) as stack:
        stack.sign_in()
        httpx.post(f"{stack.issuer}/_test/reset-stats").raise_for_status()
        for concurrency in (1, 16, 64):
            token = wrk(f"{stack.base_url}oidc/token", stack.token, concurrency, '{"min_valid": 0}')
            ceiling = wrk(f"{stack.base_url}bench/ceiling", stack.token, concurrency, "{}")
            results["rows"].append({"concurrency": concurrency, "token": token, "ceiling": ceiling})
        results["provider_token_calls"] = sum(httpx.get(f"{stack.issuer}/_test/stats").json()["token"].values())
    return results


def report(results: dict[str, Any]) -> str:
    lines = [
        "| clients | oidc/token req/s | p50 ms | p99 ms | ceiling req/s | p50 ms | p99 ms | token/ceiling |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["rows"]:
        t, c = row["token"], row["ceiling"]
        lines.append(
            f"| {row['concurrency']} | {t['rps']:.0f} | {t['p50']:.2f} | {t['p99']:.2f} | {c['rps']:.0f} | "
            f"{c['p50']:.2f} | {c['p99']:.2f} | {t['rps'] / c['rps']:.0%} |"
        )
    lines.append(f"\nProvider token-endpoint calls during the run: {results['provider_token_calls']}.")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
