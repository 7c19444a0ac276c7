"""Refresh storm: 500 sessions whose tokens were issued at the same moment (everyone at 9:00),
kept fresh by the server's refresher, with and without the refresh spread.

One process, the real dev provider (dev/idp) with 60 s access tokens, the production
``Refresher`` and ``TokenEndpoint`` (core/), ``refresh_margin`` 5 s. 1,000 sign-ins at the
provider (code flow + PKCE, 16 at a time, one grant each) are dealt alternately to two
refreshers; then every session is refreshed at once (the common moment, not counted), which
starts the background keepers:

- **spread**: as shipped, each session refreshes inside 40–90 % of the token's lifetime
  (never later than the margin before expiry): at its seeded point, moved to the nearest
  second with fewer than the window's mean of refreshes booked by the refresher's other
  sessions when its own second has that many (the refresher's booking table);
- **baseline**: the same refresher with ``spread = None``: every session refreshes at the
  margin before expiry, as before the spread.

Each runs for two token lifetimes against the one provider, the spread first, then the
baseline (side by side, the baseline's storm at the margin held up the spread's refreshes on
the shared event loop and provider: a run so at load 5–6 gave the spread 43/s). Counted for each:
the provider's answers to its refreshes by the second they arrived (timestamps in the
bench's renewer, which wraps the real token endpoint), the provider's own ``refresh_token``
count (``/_test/stats``) as the check of the sum, failed refreshes, and tokens that had
expired when their refresh came back. **Mean rate**: sessions ÷ the mean time between two
refreshes of a session (the load the provider carries once the storm has washed out);
**peak**: the most refreshes answered in one second, and the per-second rate in the
busiest 5 s; and the most sent to the provider in one second (when the refresher asked).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import ROOT, progress

sys.path.insert(0, str(ROOT))
from jupyterlab_oidc.core.discovery import Discovery
from jupyterlab_oidc.core.endpoint import TokenEndpoint
from jupyterlab_oidc.core.http import ProviderHTTP
from jupyterlab_oidc.core.refresher import REFRESH_SPREAD, Refresher
from jupyterlab_oidc.core.sessions import Session, SessionRegistry
from jupyterlab_oidc.core.settings import Settings
from jupyterlab_oidc.core.store import MemoryStore
from tests.idp import ALICE, CLIENT_ID, provider_login, start_idp

SESSIONS = 500
ACCESS_TTL = 60
MARGIN = 5.0
LIFETIMES = 2.0  # measured after the last sign-in
SIGNIN_CONCURRENCY = 16
REDIRECT_URI = "http://127.0.0.1:9/bench-storm/callback"  # never requested: the code is read from the URL
ENV = "dev"


class CountingRenewer:
    """The real token endpoint, noting when each refresh came back and how."""

    def __init__(self, endpoint: TokenEndpoint) -> None:
        self.endpoint = endpoint
        self.answers: list[float] = []
        self.sent: list[float] = []
        self.failures = 0
        self.expired_before_refresh = 0
        self.least_left: float = float("inf")

    def reset(self) -> None:
        """Count from here (after the common refresh, which may find tokens that expired during the sign-ins)."""
        self.answers.clear()
        self.sent.clear()
        self.failures = self.expired_before_refresh = 0
        self.least_left = float("inf")

    async def refresh(self, session: Session) -> dict[str, Any]:
        expires_at = session.expires_at
        self.least_left = min(self.least_left, expires_at - time.time())
        self.sent.append(time.time())
        try:
            tokens = await self.endpoint.refresh(session)
        except Exception:
            self.failures += 1
            raise
        now = time.time()
        self.answers.append(now)
        if now >= expires_at:
            self.expired_before_refresh += 1
        return tokens

    async def check_refreshed(self, session: Session, tokens: dict[str, Any]) -> None:
        await self.endpoint.check_refreshed(session, tokens)


async def sign_ins(issuer: str, count: int) -> list[dict[str, Any]]:
    """``count`` sign-ins at the provider (one grant each); token answers with ``issued`` times."""
    async with httpx.AsyncClient(timeout=30) as http:
        metadata = (await http.get(f"{issuer}/.well-known/openid-configuration")).json()
    gate = asyncio.Semaphore(SIGNIN_CONCURRENCY)

    async def one() -> dict[str, Any]:
        verifier = generate_token(48)
        query = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid email offline_access",
            "state": generate_token(16),
            "nonce": generate_token(16),
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
            "login_hint": ALICE,
        }
        async with gate, httpx.AsyncClient(timeout=30) as browser:
            callback = await provider_login(
                browser, f"{metadata['authorization_endpoint']}?{urlencode(query)}", None, REDIRECT_URI
            )
            code = parse_qs(urlsplit(callback).query)["code"][0]
            response = await browser.post(
                metadata["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT_URI,
                    "client_id": CLIENT_ID,
                    "code_verifier": verifier,
                },
            )
            response.raise_for_status()
            return {**response.json(), "issued": time.time()}

    return list(await asyncio.gather(*(one() for _ in range(count))))


def make_refresher(
    issuer: str, spread: tuple[float, float] | None, log: logging.Logger
) -> tuple[Refresher, CountingRenewer]:
    settings = Settings(environments={ENV: {"issuer": issuer, "client_id": CLIENT_ID}}, refresh_margin=MARGIN)
    http = ProviderHTTP(settings.http_timeout_seconds, log)
    endpoint = TokenEndpoint(settings, http, Discovery(http, settings.jwks_cache_seconds), log)
    renewer = CountingRenewer(endpoint)
    refresher = Refresher(SessionRegistry(MemoryStore(), log), renewer, MARGIN, log)
    refresher.spread = spread
    return refresher, renewer


def add_sessions(refresher: Refresher, grants: list[dict[str, Any]], issuer: str, prefix: str) -> None:
    for i, tokens in enumerate(grants):
        lifetime = float(tokens["expires_in"])
        session = Session(
            environment=ENV,
            application=f"{prefix}{i}",
            issuer=issuer,
            client_id=CLIENT_ID,
            sub="user-alice",
            email=ALICE,
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            id_token=tokens.get("id_token"),
            expires_at=tokens["issued"] + lifetime,
            lifetime=lifetime,
            signed_in_at=tokens["issued"],
            refreshed_at=tokens["issued"],
        )
        refresher.registry.sessions[session.key] = session


def rates(answers: list[float], sessions: int, intervals: list[float]) -> dict[str, Any]:
    per_second: dict[int, int] = {}
    for t in answers:
        per_second[int(t)] = per_second.get(int(t), 0) + 1
    ordered = sorted(answers)
    busiest_5s = max((sum(1 for u in ordered[i : i + 2000] if u < t + 5.0) for i, t in enumerate(ordered)), default=0)
    mean_interval = sum(intervals) / len(intervals) if intervals else float("nan")
    mean = sessions / mean_interval if intervals else float("nan")
    peak = max(per_second.values(), default=0)
    return {
        "refreshes": len(answers),
        "peak_per_s": peak,
        "peak_5s_per_s": busiest_5s / 5.0,
        "mean_interval_s": mean_interval,
        "mean_per_s": mean,
        "peak_over_mean": peak / mean if intervals else None,
        "peak_5s_over_mean": busiest_5s / 5.0 / mean if intervals else None,
    }


async def _run() -> dict[str, Any]:
    log = logging.getLogger("bench_refresh_storm")
    log.setLevel(logging.ERROR)
    idp = start_idp(access_ttl=ACCESS_TTL)
    try:
        progress(f"refresh_storm: {2 * SESSIONS} sign-ins at the provider")
        t0 = time.time()
        grants = await sign_ins(idp.issuer, 2 * SESSIONS)
        signed_in = time.time()
        grants.sort(key=lambda g: g["issued"])
        spread, spread_renewer = make_refresher(idp.issuer, REFRESH_SPREAD, log)
        base, base_renewer = make_refresher(idp.issuer, None, log)
        add_sessions(spread, grants[0::2], idp.issuer, "s")
        add_sessions(base, grants[1::2], idp.issuer, "b")
        # 9:00: every session gets a fresh token at the same moment (one refresh each, all at once);
        # this starts the keepers. Not counted below.
        for r in (spread, base):  # discovery and JWKS, once per refresher
            await r.refresh(next(iter(r.registry.sessions)))
        gate = asyncio.Semaphore(64)

        async def refresh(r: Refresher, key: str) -> None:
            async with gate:
                await r.refresh(key)

        async def phase(r: Refresher, renewer: CountingRenewer) -> dict[str, Any]:
            burst = time.time()
            await asyncio.gather(*(refresh(r, key) for key in list(r.registry.sessions)))
            synced = time.time()
            origin = {key: s.refreshed_at for key, s in r.registry.sessions.items()}
            renewer.reset()
            before = idp.stats()["token"].get("refresh_token", 0)
            end = synced + LIFETIMES * ACCESS_TTL
            progress(
                f"refresh_storm: the common refresh {synced - burst:.1f} s; refreshing until "
                f"+{LIFETIMES * ACCESS_TTL:.0f} s"
            )
            while time.time() < end:
                await asyncio.sleep(1.0)
            r.stop()
            await asyncio.sleep(0.5)  # refreshes in flight come back (cancelled ones count as nothing)
            return {
                "burst_seconds": synced - burst,
                "measured_seconds": end - synced,
                "origin": origin,
                "provider_refreshes": idp.stats()["token"].get("refresh_token", 0) - before,
            }

        progress(f"refresh_storm: the sign-ins took {signed_in - t0:.1f} s")
        phases = {"spread": await phase(spread, spread_renewer), "baseline": await phase(base, base_renewer)}
        provider = idp.stats()
        out: dict[str, Any] = {
            "sessions": SESSIONS,
            "access_ttl": ACCESS_TTL,
            "margin": MARGIN,
            "window": list(REFRESH_SPREAD),
            "signin_seconds": signed_in - t0,
            "burst_seconds": max(p["burst_seconds"] for p in phases.values()),
            "measured_seconds": phases["spread"]["measured_seconds"],
            "provider_refreshes": sum(p["provider_refreshes"] for p in phases.values()),
            "provider_refresh_errors": provider["token_errors"].get("refresh_token", 0),
        }
        for name, refresher, renewer in (("spread", spread, spread_renewer), ("baseline", base, base_renewer)):
            # A session's time from sign-in to its last refresh over the refreshes it did: the mean interval.
            origin = phases[name]["origin"]
            alive = sum(s.refreshed_at - origin[key] for key, s in refresher.registry.sessions.items())
            done = len(renewer.answers)
            intervals = [alive / done] * done if done else []
            out[name] = {
                **rates(renewer.answers, SESSIONS, intervals),
                "failed": renewer.failures,
                "expired_before_refresh": renewer.expired_before_refresh,
                "least_left_s": renewer.least_left,
                "peak_sent_per_s": rates(renewer.sent, SESSIONS, [])["peak_per_s"],
                "sessions_left": len(refresher.registry.sessions),
            }
        return out
    finally:
        idp.stop()


def run() -> dict[str, Any]:
    return asyncio.run(_run())


def report(r: dict[str, Any]) -> str:
    s, b = r["spread"], r["baseline"]
    low, high = (round(x * 100) for x in r["window"])
    lines = [
        f"{r['sessions']} sessions per side, access tokens of {r['access_ttl']} s, `refresh_margin` {r['margin']:.0f} s; "
        f"the {2 * r['sessions']} sign-ins took {r['signin_seconds']:.1f} s; per side, one after the other, the common "
        f"refresh of its sessions (up to {r['burst_seconds']:.1f} s), then {r['measured_seconds']:.0f} s of background "
        "refreshes, counted.",
        "",
        f"| | spread ({low}–{high} % of the lifetime) | baseline (at the margin) |",
        "|---|---:|---:|",
        f"| refreshes answered | {s['refreshes']} | {b['refreshes']} |",
        f"| **peak, most in one second** | **{s['peak_per_s']}** | **{b['peak_per_s']}** |",
        f"| peak, busiest 5 s (per second) | {s['peak_5s_per_s']:.1f} | {b['peak_5s_per_s']:.1f} |",
        f"| peak, most sent to the provider in one second | {s.get('peak_sent_per_s', '–')} | "
        f"{b.get('peak_sent_per_s', '–')} |",
        f"| mean time between two refreshes of a session | {s['mean_interval_s']:.1f} s | {b['mean_interval_s']:.1f} s |",
        f"| mean rate (sessions ÷ that time) | {s['mean_per_s']:.1f}/s | {b['mean_per_s']:.1f}/s |",
        f"| **peak ÷ mean** (1 s / 5 s) | **{s['peak_over_mean']:.2f}×** / {s['peak_5s_over_mean']:.2f}× | "
        f"**{b['peak_over_mean']:.2f}×** / {b['peak_5s_over_mean']:.2f}× |",
        f"| failed refreshes | {s['failed']} | {b['failed']} |",
        f"| tokens expired before their refresh came back | {s['expired_before_refresh']} | {b['expired_before_refresh']} |",
        f"| least validity left when a refresh started | {s['least_left_s']:.1f} s | {b['least_left_s']:.1f} s |",
        "",
        f"The provider counted {r['provider_refreshes']} `refresh_token` grants ({s['refreshes'] + b['refreshes']} answered "
        f"to the two refreshers) and {r['provider_refresh_errors']} refresh errors.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    result = run()
    print(report(result))
