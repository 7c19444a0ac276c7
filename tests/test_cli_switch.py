"""``jupyter oidc login --prompt ... --max-age ...``: switching account from a terminal, against the
real provider and a real Jupyter server."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest

from jupyterlab_oidc.cli import exits

from .cli_support import Stream, run_cli
from .idp import ALICE, BOB, IdentityProvider, bind_browser, provider_login


@pytest.fixture
def server_url(jp_fetch: Any, jp_http_port: int, jp_base_url: str) -> str:
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}"


async def test_login_with_prompt_and_max_age_switches_the_account(
    server_url: str,
    jupyter_token: str,
    browser: httpx.AsyncClient,
    callback_prefix: str,
    sign_in: Any,
    api: Any,
    idp: IdentityProvider,
) -> None:
    # Given Alice signed in
    assert (await sign_in(ALICE)).status == 200
    # When Bob signs in from a terminal, asked to authenticate anew
    stdout = Stream()
    running = asyncio.ensure_future(
        run_cli(
            "login",
            BOB,
            "--prompt",
            "login",
            "--max-age",
            "300",
            "--url",
            server_url,
            "--token",
            jupyter_token,
            stdout=stdout,
        )
    )
    printed = await stdout.wait_for("Waiting for the sign-in")
    link = re.search(r"^  (http\S+)$", printed, re.M)
    assert link, printed
    provider_url = await bind_browser(browser, link.group(1), jupyter_token)
    await browser.get(await provider_login(browser, provider_url, None, callback_prefix))
    result = await running
    # Then prompt and max_age reached the provider and Bob's session replaced Alice's
    assert result.code == exits.OK, result
    sent = idp.last_authorization()
    assert (sent["prompt"], sent["max_age"], sent["login_hint"]) == ("login", "300", BOB)
    assert [s["email"] for s in (await api("GET", "status")).body["sessions"]] == [BOB]


async def test_login_with_an_unknown_prompt_is_a_usage_error(server_url: str, jupyter_token: str) -> None:
    result = await run_cli("login", BOB, "--prompt", "always", "--url", server_url, "--token", jupyter_token)
    assert result.code == exits.USAGE and "--prompt" in result.stderr
