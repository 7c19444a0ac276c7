"""SIGKILL while the broker refreshes and writes the file store, against the real provider.

A child process refreshes as fast as the real oidc-provider answers (rotating refresh
tokens: each use returns a new one and reusing an old one revokes the whole grant) and
saves every rotation. It is killed with SIGKILL at a random moment, ``OIDC_STORE_KILLS``
times (20 by default, 100 with ``OIDC_SECURITY_FULL=1``; ``OIDC_KILL_SEED`` repeats a run).
After each kill, a new broker loads the store, as a restarted server would, and refreshes
with it. Required:

- the store file always loads (never corrupt, never half written);
- it holds the refresh token of the last completed save, or the one just answered when the
  kill fell between the file's rename and the broker returning: never an older one;
- a store holding the newest token the provider issued is accepted by the provider
  (always, when no refresh was in flight);
- when the kill landed after the provider rotated the token and before the save finished
  (a window no client can close: the provider has moved on, the file cannot have), the
  provider refuses the stale token and the session ends cleanly (``session_expired``),
  never a crash or a corrupt store.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from jupyterlab_oidc.core.broker import Broker
from jupyterlab_oidc.core.store import STALE_TEMP_SECONDS, TEMP_PREFIX, FileStore
from jupyterlab_oidc.errors import SessionExpiredError
from jupyterlab_oidc.server.config import OIDCLogin

from ..idp import ALICE, CLIENT_ID, ROOT, get_idp, provider_login
from ..support import budget, query_of
from .store_writer import short_hash

KILLS = budget("OIDC_STORE_KILLS", 20, 100)
ORIGIN = "http://127.0.0.1:1"


def settings_for(issuer: str, store_path: Path) -> OIDCLogin:
    return OIDCLogin(
        environments={"prod": {"issuer": issuer, "client_id": CLIENT_ID}},
        default_environment="prod",
        store="file",
        store_path=str(store_path),
    )


async def sign_in(settings: OIDCLogin) -> None:
    """A sign-in through a broker of our own (no Jupyter server needed), stored in the file."""
    broker = Broker(settings)
    broker.start()
    try:
        started = await broker.start_login("prod", None, ALICE, ORIGIN)
        async with httpx.AsyncClient() as browser:
            callback = await provider_login(browser, started["url"], None, f"{ORIGIN}/oidc/callback")
        binding, _, _ = broker.bind_browser(started["state"], ORIGIN)
        await broker.handle_callback(query_of(callback), binding=binding)
    finally:
        await broker.stop()


async def restart_and_refresh(settings: OIDCLogin) -> str:
    """What a restarted server does: load the store, refresh. ``accepted`` or ``refused``."""
    broker = Broker(settings)
    broker.start()
    try:
        assert broker.store_error is None, broker.store_error.message
        assert "prod" in broker.sessions
        try:
            await broker.refresh("prod")
        except SessionExpiredError:
            return "refused"
        return "accepted"
    finally:
        await broker.stop()


class Writer:
    """The zygote process (tests/security/store_writer.py)."""

    def __init__(self, issuer: str, store_path: Path, phase_log: Path) -> None:
        self.phase_log = phase_log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.security.store_writer", issuer, CLIENT_ID, str(store_path), str(phase_log)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )

    def command(self, text: str) -> str:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def phases(self) -> list[str]:
        return self.phase_log.read_text().splitlines() if self.phase_log.exists() else []

    def close(self) -> None:
        self.process.kill()
        self.process.wait(5)


@pytest.mark.security_case("sigkill-store")
@pytest.mark.timeout(60 + KILLS * 5)
def test_sigkill_during_refresh_and_store_writes_never_corrupts_or_loses_the_token(tmp_path: Path) -> None:
    idp = get_idp("id_token", 300)
    store_path = tmp_path / "oidc" / "sessions.json"
    settings = settings_for(idp.issuer, store_path)
    asyncio.run(sign_in(settings))
    seed = int(os.environ.get("OIDC_KILL_SEED") or random.randrange(2**32))
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    refreshes = 0
    writer = Writer(idp.issuer, store_path, tmp_path / "phases.log")
    try:
        for run in range(KILLS):
            writer.phase_log.unlink(missing_ok=True)
            pid = int(writer.command("run"))
            deadline = time.monotonic() + 20
            while not writer.phases():
                assert time.monotonic() < deadline, f"run {run}: the writer never got ready"
                time.sleep(0.002)
            assert writer.phases()[0].startswith("ready"), writer.phases()
            time.sleep(rng.uniform(0, 1.0))
            os.kill(pid, signal.SIGKILL)
            assert int(writer.command("wait")) == signal.SIGKILL, f"run {run} (seed {seed}): the writer died by itself"
            phases = [p.split() for p in writer.phases()]
            where = f"run {run} (seed {seed}), last phases {phases[-3:]}"
            refreshes += sum(p[0] == "saved" for p in phases)
            # The file is whole JSON and loads (FileStore moves a corrupt file aside: it must not)
            json.loads(store_path.read_text())
            stored = FileStore(str(store_path)).load()["prod"].refresh_token
            last_saved = [p[-1] for p in phases if p[0] in ("ready", "saved")][-1]
            answered = phases[-1][-1] if phases[-1][0] == "answered" else None
            assert short_hash(stored) in (last_saved, answered), f"an older or unknown token was stored; {where}"
            newest = short_hash(stored) == (answered or last_saved) and phases[-1][0] != "send"
            state = {"ready": "idle", "saved": "idle", "send": "request sent"}.get(phases[-1][0], "answer received")
            verdict = asyncio.run(restart_and_refresh(settings))
            outcomes[f"{state}, {'newest' if newest else 'previous'} token stored: {verdict}"] += 1
            assert verdict == "accepted" or not newest, f"the newest token was stored but refused; {where}"
            if verdict == "refused":
                asyncio.run(sign_in(settings))
    finally:
        writer.close()
    # A kill between writing the temporary file and the rename leaves it behind, tokens and
    # all; the next start (load) removes those older than STALE_TEMP_SECONDS.
    leftovers = [p for p in store_path.parent.iterdir() if p.name != "sessions.json"]
    assert all(p.name.startswith(TEMP_PREFIX) and p.stat().st_mode & 0o077 == 0 for p in leftovers)
    for path in leftovers:
        os.utime(path, (time.time() - STALE_TEMP_SECONDS - 1,) * 2)
    FileStore(str(store_path)).load()
    assert [p.name for p in store_path.parent.iterdir()] == ["sessions.json"]
    print(
        f"SIGKILL x{KILLS} (seed {seed}): {refreshes} refreshes saved, {dict(outcomes)}, "
        f"{len(leftovers)} temporary files left by kills, removed at the next load"
    )
    assert sum(outcomes.values()) == KILLS
