"""The small HTML pages a sign-in tab ends on, and the headers every such page carries.

Shared by the server's callback route, the local listener (``redirect_mode=local``) and the
start link. No tornado in here: handlers set :data:`PAGE_HEADERS` and write the page.
"""

from __future__ import annotations

import base64
import hashlib
import html
from typing import Any

from ..errors import OIDCError

#: The one script these pages may run: on a finished sign-in only, the tab closes itself when
#: the browser allows it (a tab the panel opened with ``window.open``), after two seconds in
#: which "Signed in as …" can be read; the text still says the tab can be closed by hand, for
#: browsers that refuse.
CLOSE_SCRIPT = "setTimeout(function () { window.close(); }, 2000);"

#: The CSP source that allows exactly :data:`CLOSE_SCRIPT` (computed once from its text).
CLOSE_SCRIPT_SOURCE = "'sha256-" + base64.b64encode(hashlib.sha256(CLOSE_SCRIPT.encode()).digest()).decode() + "'"

#: The URL of these pages can hold a code and a state: never cached, never sent on as a
#: referrer, never framed, nothing executable but :data:`CLOSE_SCRIPT`.
PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": f"default-src 'none'; script-src {CLOSE_SCRIPT_SOURCE}; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;margin:4rem auto;max-width:36rem;padding:0 1rem;
color:#1f1f1f;background:#fff}}@media (prefers-color-scheme:dark){{body{{color:#e6e6e6;background:#111}}}}
h1{{font-size:1.4rem}} code{{font-size:.9em}}</style></head>
<body><main><h1 id="{page_id}" data-status="{status}">{title}</h1><p>{detail}</p></main></body></html>
"""


def plain_page(title: str, detail: str, status: str, page_id: str) -> str:
    """A page of ``title`` and ``detail`` (plain text, escaped here), e.g. the hub forwarder's."""
    return PAGE.format(
        page_id=page_id, title=html.escape(title), detail=html.escape(detail), status=html.escape(status)
    )


def error_page(error: OIDCError) -> tuple[int, str]:
    """Status and page for a refused or failed sign-in (every value escaped)."""
    title = "Sign-in refused" if error.code == "browser_mismatch" else "Sign-in failed"
    detail = f"{html.escape(error.message)} <code>({html.escape(error.code)})</code>"
    return error.status, PAGE.format(page_id="oidc-result", title=title, detail=detail, status=html.escape(error.code))


def signed_in_page(email: str, environment: str) -> tuple[int, str]:
    """Status and page for a finished sign-in."""
    title = f"Signed in as {html.escape(email)}"
    detail = f"Environment <b>{html.escape(environment)}</b>. You can close this tab and return to Jupyter."
    return 200, PAGE.format(page_id="oidc-result", title=title, detail=detail, status="signed_in").replace(
        "</main></body>", f"</main><script>{CLOSE_SCRIPT}</script></body>"
    )


def render_callback_page(result: Any) -> tuple[int, str]:
    """The page for a callback's result: a ``Session`` or an ``OIDCError``."""
    if isinstance(result, OIDCError):
        return error_page(result)
    return signed_in_page(result.email or result.sub, result.environment)
