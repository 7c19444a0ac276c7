"""Tokens over time in real kernels (HTTP path, no browser): long cells, many kernels, 10 s tokens."""

from __future__ import annotations

import time

from .kernel_support import ACCESS_TTL, ALICE, JupyterServer, RealKernel, fresh_kernel, kernel, server  # noqa: F401

LONG_CELL = """
import hashlib, time, httpx
from jupyterlab_oidc import get_token
seen, checks = [], []
started = time.monotonic()
with httpx.Client(timeout=5) as provider:
    while time.monotonic() - started < DURATION:
        t = get_token()
        left = t.expires_at - time.time()
        # Ask the provider at once whether it accepts the token we were just given.
        me = provider.get(ISSUER + "/me", headers={"Authorization": t.authorization})
        checks.append([me.status_code, round(left, 2)])
        digest = hashlib.sha256(t.access_token.encode()).hexdigest()[:12]
        if not seen or seen[-1] != digest:
            seen.append(digest)
        time.sleep(1)
result({"checks": checks, "tokens": len(seen), "seconds": time.monotonic() - started})
"""


def test_a_cell_running_three_token_lifetimes_always_gets_tokens_the_provider_accepts(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    # Given 10 s access tokens
    assert server.sign_in(ALICE).status == 200
    duration = 3 * ACCESS_TTL + 1
    # When one cell calls get_token() every second for three lifetimes
    code = LONG_CELL.replace("DURATION", str(duration)).replace("ISSUER", repr(server.idp.issuer))
    cell = fresh_kernel.run(code, timeout=duration + 30)
    # Then every token was accepted by userinfo the moment it was returned
    value = cell.value
    assert value["seconds"] >= 3 * ACCESS_TTL
    assert len(value["checks"]) >= 3 * ACCESS_TTL
    assert [status for status, _ in value["checks"]] == [200] * len(value["checks"])
    # ... each valid for at least the refresh margin (half the lifetime), and it rotated.
    assert min(left for _, left in value["checks"]) >= ACCESS_TTL / 2 - 0.5
    assert value["tokens"] >= 3


FOUR_KERNELS_CELL = """
import hashlib, time
from jupyterlab_oidc import get_token
seen = []
started = time.monotonic()
while time.monotonic() - started < DURATION:
    digest = hashlib.sha256(get_token().access_token.encode()).hexdigest()[:12]
    if digest not in seen:
        seen.append(digest)
    time.sleep(0.02)
result(seen)
"""


def test_four_kernels_asking_in_a_loop_cause_one_refresh_per_window(server: JupyterServer) -> None:
    # Given four kernels and a fresh sign-in (10 s tokens: refreshed every 5 s)
    kernels = [server.start_kernel() for _ in range(4)]
    try:
        server.sign_out_everywhere()
        assert server.sign_in(ALICE).status == 200
        server.idp.reset_stats()
        signed_in = time.monotonic()
        # When they all ask for a token every 20 ms across two refresh windows
        duration = ACCESS_TTL + 1
        pending = [(k, k.start(FOUR_KERNELS_CELL.replace("DURATION", str(duration)))) for k in kernels]
        results = [k.wait(msg_id, timeout=duration + 30) for k, msg_id in pending]
        windows = int((time.monotonic() - signed_in) // (ACCESS_TTL / 2))
        # Then the provider saw one refresh per window, whatever the number of kernels
        refreshes = server.idp.token_calls("refresh_token")
        assert refreshes == windows == 2
        seen = [r.value for r in results]
        assert all(tokens == seen[0] for tokens in seen), seen
        assert len(seen[0]) == refreshes + 1
    finally:
        for k in kernels:
            server.stop_kernel(k)
