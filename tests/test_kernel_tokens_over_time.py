"""Tokens over time in real kernels (HTTP path, no browser): long cells, many kernels, 10 s tokens."""

from __future__ import annotations

from .kernel_support import ACCESS_TTL, ALICE, JupyterServer, RealKernel

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
    assert value["seconds"] >= 3 * ACCESS_TTL and value["checks"]
    assert [status for status, _ in value["checks"]] == [200] * len(value["checks"])
    # ... none had expired when it was handed out, and it rotated (three lifetimes: three tokens at least).
    assert min(left for _, left in value["checks"]) > 0
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
        # When they all ask for a token every 20 ms across at least two refresh windows
        duration = ACCESS_TTL + 1
        pending = [(k, k.start(FOUR_KERNELS_CELL.replace("DURATION", str(duration)))) for k in kernels]
        results = [k.wait(msg_id, timeout=duration + 30) for k, msg_id in pending]
        refreshes = server.idp.token_calls("refresh_token")
        # Then every kernel saw the same tokens in the same order, and each new token was one
        # refresh at the provider: one per window, shared by all kernels, however long the run took
        seen = [r.value for r in results]
        assert all(tokens == seen[0] for tokens in seen), seen
        assert len(seen[0]) >= 2  # the first token and at least one shared refresh
        # (a last background refresh may land after the kernels stopped asking)
        assert len(seen[0]) - 1 <= refreshes <= len(seen[0]), (refreshes, seen[0])
    finally:
        for k in kernels:
            server.stop_kernel(k)
