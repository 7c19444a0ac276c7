"""Subprocess for the SIGKILL test: a broker that refreshes in a loop with ``store="file"``.

Run as ``python -m tests.security.store_writer ISSUER CLIENT_ID STORE_PATH PHASE_LOG``. It
imports everything once, then serves commands on stdin (a "zygote", so each of the 100
runs costs a fork, not a Python start):

``run``   fork a child that loads the store, refreshes "prod" as fast as the provider
          answers (each refresh rotates the refresh token and saves it), forever; the
          child's pid is printed. The test kills it with SIGKILL at a random moment.
``wait``  reap the child; print its exit status.

The child appends ``ready H``, ``send N`` (before refresh N goes to the provider),
``answered N H`` (the provider's answer arrived: it has rotated) and ``saved N H`` (the
broker returned; the store holds it) to PHASE_LOG, with single ``write(2)`` calls that
survive SIGKILL. ``H`` is a short SHA-256 of the refresh token (never the token), so the
test can tell which token the store should hold.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from typing import Any

from jupyterlab_oidc.core.broker import Broker
from jupyterlab_oidc.server.config import OIDCLogin


def short_hash(token: str | None) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()[:16]


def child(issuer: str, client_id: str, store_path: str, phase_log: str) -> None:
    fd = os.open(phase_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def phase(text: str) -> None:
        os.write(fd, f"{text}\n".encode())

    async def main() -> None:
        settings = OIDCLogin(
            environments={"prod": {"issuer": issuer, "client_id": client_id}},
            default_environment="prod",
            store="file",
            store_path=store_path,
        )
        broker = Broker(settings)
        broker.start()
        if "prod" not in broker.sessions:
            phase(f"no-session {broker.store_error.code if broker.store_error else ''}")
            os._exit(3)
        phase(f"ready {short_hash(broker.sessions['prod'].refresh_token)}")
        n = 0
        post_form = broker.http.post_form

        async def observed(label: str, url: str, data: dict[str, str], **kwargs: Any) -> dict[str, Any]:
            body = await post_form(label, url, data, **kwargs)
            phase(f"answered {n} {short_hash(body.get('refresh_token'))}")
            return body

        broker.http.post_form = observed  # type: ignore[method-assign]
        while True:
            n += 1
            phase(f"send {n}")
            session = await broker.refresh("prod")
            phase(f"saved {n} {short_hash(session.refresh_token)}")

    asyncio.run(main())


def serve(issuer: str, client_id: str, store_path: str, phase_log: str) -> None:
    pid = 0
    for line in sys.stdin:
        command = line.strip()
        if command == "run":
            pid = os.fork()
            if pid == 0:
                try:
                    child(issuer, client_id, store_path, phase_log)
                finally:
                    os._exit(1)
            print(pid, flush=True)
        elif command == "wait":
            _, status = os.waitpid(pid, 0)
            print(status, flush=True)


if __name__ == "__main__":
    serve(*sys.argv[1:5])
