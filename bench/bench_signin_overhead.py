"""Sign-in overhead: from the provider's redirect reaching the server (``GET oidc/callback``)
to the token being visible in a kernel that waits for it, minus the provider round trips.

The kernel signs in from a cell as a notebook user would: ``OIDCAuth("prod").start_login(email)``
then ``await_callback()``, which long-polls ``POST oidc/await`` and then fetches the token
(``get_token``, HTTP: no browser in this bench). The bench process plays the person at the
provider, waits until the kernel is blocked in ``await_callback()``, notes ``time.time()`` and
sends the callback; the cell notes ``time.time()`` when ``await_callback()`` has returned the
token. Same machine, same clock.

Provider round trips inside that span (code exchange, userinfo: the provider runs the
``userinfo`` profile, which keeps email out of the id_token like Zitadel) are read from the
server's own debug log (``oidc <label> <method> <url> -> <status> in <ms> ms``, httpx's
``elapsed``) for each sign-in and subtracted. One warm-up sign-in first (discovery, JWKS,
connections, imports).
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import threading
import time
from typing import Any

import httpx
from kernels import ALICE, kernel_server
from stack import percentile, progress

from tests.idp import bind_browser, provider_login

RUNS = 20
PROVIDER_LINE = re.compile(r"oidc (?P<label>[\w ]+?) (?:GET|POST) \S+ -> \d+ in (?P<ms>[\d.]+) ms")
URL_MARK = "@@signin-url "

CELL = """
import time
from jupyterlab_oidc import OIDCAuth
auth = OIDCAuth("prod")
url = auth.start_login(EMAIL)
print(URL_MARK + url, flush=True)
tokens = auth.await_callback()
visible = time.time()
result({"visible": visible, "email": tokens.email, "token": bool(tokens.access_token)})
"""


def one_sign_in(server: Any, kernel: Any) -> dict[str, Any]:
    got_url = threading.Event()
    found: dict[str, Any] = {}

    def on_message(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            for line in msg["content"]["text"].splitlines():
                if line.startswith(URL_MARK):
                    found["url"] = line[len(URL_MARK) :]
                    got_url.set()

    msg_id = kernel.start(CELL.replace("EMAIL", repr(ALICE)).replace("URL_MARK", repr(URL_MARK)))
    outcome: dict[str, Any] = {}
    waiter = threading.Thread(target=lambda: outcome.update(cell=kernel.wait(msg_id, 60, on_message)), daemon=True)
    waiter.start()
    if not got_url.wait(30):
        raise RuntimeError("the cell did not start the sign-in")

    cookies = httpx.Cookies()

    async def at_provider() -> str:
        async with httpx.AsyncClient(timeout=20, cookies=cookies) as browser:
            url = await bind_browser(browser, found["url"], server.token)  # the cell shows the start link
            callback = await provider_login(browser, url, None, f"{server.url}oidc/callback")
            cookies.update(browser.cookies)
            return callback

    callback = asyncio.run(at_provider())
    time.sleep(0.5)  # the kernel is now blocked in await_callback()'s long poll
    log_offset = server.log_path.stat().st_size
    with httpx.Client(timeout=30, cookies=cookies) as browser:
        sent = time.time()
        page = browser.get(callback)
        answered = time.time()
    waiter.join(60)
    cell = outcome["cell"]
    if cell.error or page.status_code != 200:
        raise RuntimeError(f"sign-in failed: {page.status_code} {cell.error}")
    value = cell.value
    time.sleep(0.1)
    with open(server.log_path, encoding="utf-8", errors="replace") as log:
        log.seek(log_offset)
        calls = [(m["label"], float(m["ms"])) for m in PROVIDER_LINE.finditer(log.read())]
    provider_ms = sum(ms for label, ms in calls if label in ("code exchange", "userinfo", "jwks", "discovery"))
    total_ms = (value["visible"] - sent) * 1000
    server.sign_out()
    return {
        "total_ms": total_ms,
        "provider_ms": provider_ms,
        "provider_calls": [label for label, _ in calls],
        "overhead_ms": total_ms - provider_ms,
        "callback_ms": (answered - sent) * 1000 - provider_ms,
        "email_ok": value["email"] == ALICE,
    }


def run(runs: int = RUNS) -> dict[str, Any]:
    with kernel_server(profile="userinfo", debug_log=True) as server:
        kernel = server.start_kernel()
        progress(f"sign-in overhead: 1 warm-up + {runs} sign-ins from a kernel")
        one_sign_in(server, kernel)
        samples = [one_sign_in(server, kernel) for _ in range(runs)]
        server.stop_kernel(kernel)
    if not all(s["email_ok"] for s in samples):
        raise RuntimeError("a sign-in returned another identity")
    summary = {}
    for key in ("total_ms", "provider_ms", "overhead_ms", "callback_ms"):
        values = [s[key] for s in samples]
        summary[key] = {"p50": statistics.median(values), "p95": percentile(values, 95), "max": max(values)}
    return {"runs": runs, "summary": summary, "provider_calls": samples[-1]["provider_calls"], "samples": samples}


def report(r: dict[str, Any]) -> str:
    s = r["summary"]
    rows = [
        ("callback arrives → token visible in the waiting kernel", "total_ms"),
        ("provider round trips inside it (from the server's log)", "provider_ms"),
        ("**overhead: total − provider**", "overhead_ms"),
        ("of which the callback request itself (excl. provider)", "callback_ms"),
    ]
    lines = [
        f"{r['runs']} sign-ins from a kernel (`OIDCAuth.start_login` + `await_callback`), provider profile "
        f"`userinfo`; provider calls per sign-in: {', '.join(r['provider_calls'])}.",
        "",
        "| ms | median | p95 | max |",
        "|---|---:|---:|---:|",
    ]
    for label, key in rows:
        lines.append(f"| {label} | {s[key]['p50']:.1f} | {s[key]['p95']:.1f} | {s[key]['max']:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    result = run()
    print(json.dumps(result["summary"], indent=1))
    print(report(result))
