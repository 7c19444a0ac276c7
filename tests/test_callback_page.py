"""The pages a sign-in tab ends on, and the headers of every answer that carries a token."""

from __future__ import annotations

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
