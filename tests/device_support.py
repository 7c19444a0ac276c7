"""The person at the provider's device page (RFC 8628), for the device sign-in tests.

A plain HTTP client with a cookie jar plays a phone: it opens the verification link, posts
the provider's hidden forms (confirm or deny the user code) and signs in as someone
(dev/idp/README.md, "Device sign-in without a person").
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def hidden_inputs(html: str) -> dict[str, str]:
    return dict(HIDDEN.findall(html))


async def approve_device_code(verification_uri_complete: str, email: str, deny: bool = False) -> httpx.Response:
    """Open the link on another device, confirm the code (or deny it) and sign in as ``email``.

    Returns the provider's last page (``#device-success`` once approved).
    """
    issuer = "{0.scheme}://{0.netloc}".format(urlsplit(verification_uri_complete))
    async with httpx.AsyncClient(timeout=20) as phone:
        page = await phone.get(verification_uri_complete)
        assert page.status_code == 200, page.text[:300]
        page = await phone.post(urljoin(issuer, "/device"), data=hidden_inputs(page.text))
        assert page.status_code == 200 and 'id="user-code"' in page.text, page.text[:300]
        form = hidden_inputs(page.text)
        if deny:
            form.pop("confirm", None)
            return await phone.post(urljoin(issuer, "/device"), data={**form, "abort": "yes"})
        page = await phone.post(urljoin(issuer, "/device"), data=form, follow_redirects=True)
        assert urlsplit(str(page.url)).path.startswith("/interaction/"), (page.status_code, str(page.url))
        return await phone.post(f"{page.url}/login", data={"email": email}, follow_redirects=True)
