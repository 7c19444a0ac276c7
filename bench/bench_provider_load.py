"""Provider load: token-endpoint calls counted by the provider while 8 kernels and 2 browser
tabs ask for tokens continuously, next to 8 kernels that each refresh for themselves with
authlib's ``OAuth2Session`` (requests) and its automatic refresh.

Access tokens live 10 s. ``refresh_margin`` is capped at half the lifetime (5 s), and the
server refreshes at its seeded point of the refresh spread (40–90 % of the lifetime, cut at the
margin): 4–5 s after the token was issued, so one token serves a **refresh window** of 4.5 s on
average and never less than 4 s. The baseline gets the same mean refresh point (authlib
``leeway=5.5``: refresh 5.5 s before expiry; its default, 60 s, is longer than the token, so
it would refresh on every call). Both phases run 10 windows (45 s), one after the other
against the same provider, because the provider counts token calls by grant type, not by
client.

- **jupyterlab-oidc**: one sign-in (the server holds the grant). 8 real kernels started by
  the server loop on ``get_token()`` (default ``min_valid``) every 20 ms; 2 "tabs" (threads of
  the bench process) loop on ``POST oidc/token`` as the panel does, every 20 ms.
- **baseline**: 8 more sign-ins at the provider (one grant per kernel, so rotating refresh
  tokens do not collide), code flow + PKCE with authlib. The same 8 kernels loop on
  ``session.ensure_active_token()`` (what authlib runs before each request) every 20 ms; the
  ``update_token`` callback counts the refreshes each kernel did.

Counted: the provider's successful ``refresh_token`` grants (``/_test/stats``) from 0.5 s
before the common start (clients whose token is already old refresh right at the start) to
0.2 s after the common end; for jupyterlab-oidc also sampled every 0.1 s to
find the most refreshes in any window and the shortest time between two. The server is
signed out before the baseline phase, so its own background refreshes do not count there.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from kernels import ALICE, JupyterServer, kernel_server, run_cells
from stack import progress

from jupyterlab_oidc.core.refresher import REFRESH_SPREAD
from tests.idp import CLIENT_ID, provider_login

ACCESS_TTL = 10
MARGIN = ACCESS_TTL / 2  # refresh_margin (60 s by default), capped at half the lifetime
#: The part of a token's life at whose seeded point the server refreshes it (the spread, cut at the margin).
EARLIEST, LATEST = min(REFRESH_SPREAD[0] * ACCESS_TTL, ACCESS_TTL - MARGIN), ACCESS_TTL - MARGIN
WINDOWS = 10
KERNELS = 8
TABS = 2
INTERVAL = 0.02
START_DELAY = 4.0  # s between sending the cells and the common start time

OURS_CELL = """
import hashlib, time
from jupyterlab_oidc import get_token
from jupyterlab_oidc.kernel import default_client
client = default_client()
pulls = []
_http_token = client.http.token
client.http.token = lambda *a, **k: pulls.append(1) or _http_token(*a, **k)
get_token()
del pulls[:]
seen, calls, least_left = set(), 0, 1e9
while time.time() < START:
    time.sleep(0.005)
while time.time() < END:
    t = get_token()
    calls += 1
    seen.add(hashlib.sha256(t.access_token.encode()).hexdigest())
    least_left = min(least_left, t.expires_at - time.time())
    time.sleep(INTERVAL)
result({"calls": calls, "tokens": sorted(seen), "pulls": len(pulls), "least_left": least_left})
"""

BASELINE_CELL = """
import hashlib, json, time
from authlib.integrations.requests_client import OAuth2Session
refreshes = []
session = OAuth2Session(
    client_id=CLIENT_ID, token=json.loads(TOKEN), token_endpoint=TOKEN_URL, token_endpoint_auth_method="none",
    update_token=lambda token, refresh_token=None, access_token=None: refreshes.append(time.time()), leeway=LEEWAY)
seen, calls, least_left = set(), 0, 1e9
while time.time() < START:
    time.sleep(0.005)
while time.time() < END:
    session.ensure_active_token(session.token)
    calls += 1
    seen.add(hashlib.sha256(session.token["access_token"].encode()).hexdigest())
    least_left = min(least_left, session.token["expires_at"] - time.time())
    time.sleep(INTERVAL)
result({"calls": calls, "tokens": sorted(seen), "refreshes": len(refreshes), "least_left": least_left})
"""


class StatsSampler(threading.Thread):
    """Polls the provider's refresh_token count; notes when it went up."""

    def __init__(self, issuer: str) -> None:
        super().__init__(daemon=True)
        self.issuer = issuer
        self.samples: list[tuple[float, int]] = []
        self.errors: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=10) as http:
            while not self.stop.is_set():
                stats = http.get(f"{self.issuer}/_test/stats").json()
                now = time.time()
                self.samples.append((now, int(stats["token"].get("refresh_token", 0))))
                self.errors.append((now, sum(int(v) for v in stats["token_errors"].values())))
                self.stop.wait(0.1)

    def between(self, start: float, end: float) -> dict[str, Any]:
        inside = [(t, n) for t, n in self.samples if start <= t <= end]
        before = [n for t, n in self.samples if t < start]
        base = before[-1] if before else inside[0][1]
        times: list[float] = []
        previous = base
        for t, n in inside:
            times.extend([t] * (n - previous))
            previous = n
        gaps = [b - a for a, b in zip(times, times[1:])]
        errors_in = [n for t, n in self.errors if start <= t <= end]
        errors_before = [n for t, n in self.errors if t < start]
        return {
            "refreshes": previous - base,
            "shortest_gap_s": min(gaps) if gaps else None,
            "most_in_one_window": _most_in_window(times, EARLIEST),
            "token_errors": (errors_in[-1] if errors_in else 0) - (errors_before[-1] if errors_before else 0),
        }


def _most_in_window(times: list[float], window: float) -> int:
    """The most refreshes seen in any window-long stretch (0.1 s sampling; a pair straddling
    the stretch's end by less than the sampling step counts in it)."""
    most = 0
    for i, start in enumerate(times):
        most = max(most, sum(1 for t in times[i:] if t < start + window - 0.15))
    return most


def tab(url: str, token: str, end: float, out: dict[str, Any]) -> None:
    """A browser tab's worth of ``POST oidc/token`` (what the panel and the comm bridge send)."""
    calls, errors, seen = 0, 0, set()
    with httpx.Client(headers={"Authorization": f"token {token}"}, timeout=30) as http:
        while time.time() < end:
            response = http.post(f"{url}oidc/token", json={})
            calls += 1
            if response.status_code == 200:
                seen.add(response.json()["access_token"][-16:])
            else:
                errors += 1
            time.sleep(INTERVAL)
    out.update(calls=calls, errors=errors, tokens=len(seen))


def own_grants(issuer: str, n: int) -> list[dict[str, Any]]:
    """n separate sign-ins (code flow + PKCE with authlib), one grant each."""
    metadata = httpx.get(f"{issuer}/.well-known/openid-configuration").json()
    redirect_uri = "http://127.0.0.1:9/bench-baseline/callback"  # never requested: the code is taken from the URL
    grants = []
    for _ in range(n):
        client = OAuth2Session(
            CLIENT_ID,
            scope="openid email offline_access",
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="none",
        )
        verifier = generate_token(48)
        url, _state = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce=generate_token(16), login_hint=ALICE
        )

        async def login(url: str = url) -> str:
            async with httpx.AsyncClient(timeout=20) as browser:
                return await provider_login(browser, url, None, redirect_uri)

        callback = asyncio.run(login())
        token = client.fetch_token(metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier)
        grants.append(dict(token))
        client.close()
    return grants


def _phase(
    server: JupyterServer, kernels: list[Any], cells: list[str], duration: float, tabs: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    sampler = StatsSampler(server.idp.issuer)
    sampler.start()
    start = time.time() + START_DELAY
    end = start + duration
    ids = [
        kernel.start(cell.replace("START", repr(start)).replace("END", repr(end)))
        for kernel, cell in zip(kernels, cells)
    ]
    tab_results: list[dict[str, Any]] = [{} for _ in range(tabs)]
    threads = []
    for out in tab_results:
        thread = threading.Thread(
            target=lambda out=out: (time.sleep(max(start - time.time(), 0)), tab(server.url, server.token, end, out)),
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    time.sleep(max(start - 0.5 - time.time(), 0))  # the clients wait for `start`; some refresh right then
    at_start = server.idp.stats()
    time.sleep(max(end + 0.2 - time.time(), 0))  # +0.2 s: a refresh sent just before the end is answered
    at_end = server.idp.stats()
    counted = {
        "refreshes": at_end["token"].get("refresh_token", 0) - at_start["token"].get("refresh_token", 0),
        "token_errors": sum(at_end["token_errors"].values()) - sum(at_start["token_errors"].values()),
    }
    results = []
    for kernel, msg_id in zip(kernels, ids):
        cell = kernel.wait(msg_id, timeout=duration + 120)
        if cell.error:
            raise RuntimeError(f"bench cell failed: {cell.error}")
        results.append(cell.value)
    for thread in threads:
        thread.join(30)
    time.sleep(0.3)
    sampler.stop.set()
    sampler.join(5)
    return results, tab_results, {**sampler.between(start, end), **counted, "seconds": duration}


def run(windows: int = WINDOWS) -> dict[str, Any]:
    window = (EARLIEST + LATEST) / 2
    duration = windows * window
    with kernel_server(access_ttl=ACCESS_TTL) as server:
        assert server.sign_in(ALICE).status == 200
        progress("provider load: starting 8 kernels")
        kernels = [server.start_kernel() for _ in range(KERNELS)]
        run_cells(kernels, "import authlib.integrations.requests_client, jupyterlab_oidc")  # imports off the clock
        progress(f"provider load: jupyterlab-oidc, {duration:g} s")
        cell = OURS_CELL.replace("INTERVAL", repr(INTERVAL))
        ours, tabs, ours_provider = _phase(server, kernels, [cell] * KERNELS, duration, TABS)

        progress("provider load: 8 sign-ins for the baseline")
        grants = own_grants(server.idp.issuer, KERNELS)
        token_url = httpx.get(f"{server.idp.issuer}/.well-known/openid-configuration").json()["token_endpoint"]
        cells = [
            BASELINE_CELL.replace("TOKEN_URL", repr(token_url))
            .replace("CLIENT_ID", repr(CLIENT_ID))
            .replace("TOKEN", repr(json.dumps(grant)))
            .replace("LEEWAY", repr(ACCESS_TTL - window))
            .replace("INTERVAL", repr(INTERVAL))
            for grant in grants
        ]
        progress(f"provider load: baseline, {duration:g} s")
        server.sign_out()  # its background refreshes would count as the baseline's
        baseline, _, baseline_provider = _phase(server, kernels, cells, duration, 0)
    return {
        "access_ttl": ACCESS_TTL,
        "window_s": window,
        "shortest_window_s": EARLIEST,
        "windows": windows,
        "kernels": KERNELS,
        "tabs": TABS,
        "interval_s": INTERVAL,
        "ours": {
            "provider": ours_provider,
            "kernel_calls": sum(k["calls"] for k in ours),
            "kernel_pulls": sum(k["pulls"] for k in ours),
            "tab_calls": sum(t.get("calls", 0) for t in tabs),
            "tab_errors": sum(t.get("errors", 0) for t in tabs),
            "distinct_tokens": len({h for k in ours for h in k["tokens"]}),
            "least_left_s": min(k["least_left"] for k in ours),
        },
        "baseline": {
            "provider": baseline_provider,
            "kernel_calls": sum(k["calls"] for k in baseline),
            "client_refreshes": sum(k["refreshes"] for k in baseline),
            "distinct_tokens": len({h for k in baseline for h in k["tokens"]}),
            "least_left_s": min(k["least_left"] for k in baseline),
        },
    }


def report(r: dict[str, Any]) -> str:
    ours, base = r["ours"], r["baseline"]
    op, bp = ours["provider"], base["provider"]
    ratio = bp["refreshes"] / op["refreshes"] if op["refreshes"] else float("inf")
    per = lambda n: n / r["windows"]
    lines = [
        f"{r['windows']} refresh windows of {r['window_s']:g} s on average (access tokens of {r['access_ttl']} s; "
        f"the server refreshes {r['shortest_window_s']:g}–{r['access_ttl'] / 2:g} s after issue, the baseline "
        f"{r['access_ttl'] - r['window_s']:g} s before expiry) per side; every client asks every "
        f"{r['interval_s'] * 1000:.0f} ms.",
        "",
        "| | jupyterlab-oidc: 8 kernels + 2 tabs, one sign-in | baseline: 8 kernels, authlib OAuth2Session each |",
        "|---|---:|---:|",
        f"| token requests by the clients | {ours['kernel_calls']:,} `get_token()` + {ours['tab_calls']:,} "
        f"`POST oidc/token` | {base['kernel_calls']:,} `ensure_active_token()` |",
        f"| **refresh_token calls at the provider** | **{op['refreshes']}** | **{bp['refreshes']}** |",
        f"| per window | {per(op['refreshes']):.1f} | {per(bp['refreshes']):.1f} |",
        f"| most refreshes in any {r['shortest_window_s']:g} s | {op['most_in_one_window']} | (independent clients) |",
        f"| shortest time between two refreshes | {_s(op['shortest_gap_s'])} | (independent clients) |",
        f"| token-endpoint errors | {op['token_errors']} | {bp['token_errors']} |",
        f"| distinct access tokens the kernels saw | {ours['distinct_tokens']} | {base['distinct_tokens']} |",
        f"| least validity left in a returned token | {ours['least_left_s']:.1f} s | {base['least_left_s']:.1f} s |",
        f"| kernel pulls from the server (cache misses) | {ours['kernel_pulls']} | — |",
        f"| refreshes the clients say they did | — | {base['client_refreshes']} |",
        "",
        f"Ratio: the baseline made **{ratio:.1f}×** the provider calls of jupyterlab-oidc.",
    ]
    return "\n".join(lines)


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


if __name__ == "__main__":
    import sys

    result = run(int(sys.argv[1]) if len(sys.argv) > 1 else WINDOWS)
    print(json.dumps(result, indent=1))
    print(report(result))
