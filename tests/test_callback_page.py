"""The pages a sign-in tab ends on, and the headers of every answer that carries a token."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import pytest

from jupyterlab_oidc.protocol import KERNEL_HEADER

from .idp import ALICE, provider_login

MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.mark.parametrize("field", ["error", "error_description"])
async def test_markup_in_the_providers_error_is_escaped_on_the_callback_page(
    field: str, begin_sign_in: Any, browser: Any, callback_prefix: str
) -> None:
    started, url = await begin_sign_in({"login_hint": ALICE})
    callback = await provider_login(browser, url, None, callback_prefix)
    params = {"state": started.body["state"], "error": "access_denied", field: MARKUP}
    page = await browser.get(callback.split("?")[0], params=params)
    assert 'data-status="provider_error"' in page.text
    assert MARKUP not in page.text and "<script>" not in page.text and "<img" not in page.text
    assert "&lt;script&gt;" in page.text


async def test_callback_page_is_never_cached_framed_or_sent_as_referrer(
    begin_sign_in: Any, browser: Any, callback_prefix: str
) -> None:
    started, url = await begin_sign_in({"login_hint": ALICE})
    callback = await provider_login(browser, url, None, callback_prefix)
    for answer in (await browser.get(callback), await browser.get(f"{callback_prefix}?state=unknown")):
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["x-content-type-options"] == "nosniff"


async def test_every_answer_that_carries_a_token_is_no_store(sign_in: Any, api: Any, jp_serverapp: Any) -> None:
    assert (await sign_in(ALICE)).status == 200
    secret = jp_serverapp.web_app.settings["jupyterlab_oidc_kernel_access"].secret
    from_browser = await api("POST", "token", {})
    from_kernel = await api("POST", "kernel/token", {}, headers={KERNEL_HEADER: secret})
    for reply in (from_browser, from_kernel):
        assert reply.status == 200 and reply.body["access_token"]
        assert reply.headers["Cache-Control"] == "no-store"


def _csp_script_hashes(csp: str) -> set[str]:
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives["default-src"] == ["'none'"]
    return {source.strip("'").removeprefix("sha256-") for source in directives["script-src"]}


async def test_signed_in_page_closes_itself_with_the_one_script_its_csp_hash_allows(
    begin_sign_in: Any, browser: Any, callback_prefix: str
) -> None:
    _started, url = await begin_sign_in({"login_hint": ALICE})
    callback = await provider_login(browser, url, None, callback_prefix)
    page = await browser.get(callback)
    assert 'data-status="signed_in"' in page.text
    assert "You can close this tab and return to Jupyter" in page.text
    scripts = re.findall(r"<script>(.*?)</script>", page.text, re.S)
    assert scripts and "window.close()" in scripts[0] and page.text.count("<script") == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert _csp_script_hashes(page.headers["content-security-policy"]) == {digest}


async def test_an_error_page_has_no_script(begin_sign_in: Any, browser: Any, callback_prefix: str) -> None:
    await begin_sign_in({"login_hint": ALICE})
    page = await browser.get(f"{callback_prefix}?state=unknown")
    assert 'data-status="signed_in"' not in page.text
    assert "<script" not in page.text and "window.close" not in page.text
