"""Shared by the benchmarks: start the demo stack and sign in through the REST API."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.idp import bind_browser, provider_login


@dataclass
class Stack:
    base_url: str
    token: str
    issuer: str
    process: subprocess.Popen[str]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def sign_in(self, email: str = "alice@example.com", environment: str = "prod") -> dict[str, Any]:
        return asyncio.run(self.sign_in_async(email, environment))

    async def sign_in_async(self, email: str = "alice@example.com", environment: str = "prod") -> dict[str, Any]:
        async with httpx.AsyncClient(headers=self.headers, timeout=30) as api, httpx.AsyncClient(timeout=30) as browser:
            started = (
                await api.post(f"{self.base_url}oidc/login", json={"login_hint": email, "environment": environment})
            ).json()
            url = await bind_browser(browser, started["start_url"], self.token)
            callback = await provider_login(browser, url, None, f"{self.base_url}oidc/callback")
            await browser.get(callback)
            return (await api.post(f"{self.base_url}oidc/await", json={"state": started["state"]})).json()


@contextmanager
def demo_stack(
    lab_port: int, idp_port: int, *extra: str, access_ttl: int = 300, env: dict[str, str] | None = None
) -> Iterator[Stack]:
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "dev" / "demo.py"),
            "--app",
            "server",
            "--json",
            "--lab-port",
            str(lab_port),
            "--idp-port",
            str(idp_port),
            "--access-ttl",
            str(access_ttl),
            *extra,
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline())
        yield Stack(ready["base_url"], ready["token"], ready["issuer"], process)
    finally:
        process.terminate()
        process.wait(20)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


_T0 = __import__("time").monotonic()


def progress(message: str) -> None:
    """A progress line on stderr (the reports go to stdout and docs/performance.md)."""
    import time

    print(f"[bench {time.monotonic() - _T0:6.1f}s] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (benches run beside other people's test runs)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()
