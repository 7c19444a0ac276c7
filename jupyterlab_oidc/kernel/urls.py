"""URL checks shared by the kernel helper and ``jupyter oidc``: what may be shown as a link or
opened in a browser, and whether two URLs have the same origin.

Standard library only (the CLI imports it without loading the rest of the kernel helper's
dependencies).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..errors import OIDCError

#: The only schemes a sign-in link may have (RFC 6749 §3.1: the authorization endpoint is a URL
#: a browser opens; anything else, ``javascript:``, ``data:``, ``file:``, runs or reads locally).
NAVIGABLE_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}


class UnsafeURLError(OIDCError):
    """A URL to show or open is not ``http:``/``https:`` (a provider or server sent e.g. ``javascript:``)."""

    code = "unsafe_url"
    status = 502


def navigable_url(url: object, what: str = "sign-in link") -> str:
    """``url`` if it is an absolute ``http(s)://host…`` URL; else :class:`UnsafeURLError`.

    The message names only the scheme: the URL itself may carry a state or worse.
    """
    text = url if isinstance(url, str) else ""
    try:
        parts = urlsplit(text)
        scheme, host = parts.scheme.lower(), parts.hostname
    except ValueError:
        scheme, host = "", None
    if scheme not in NAVIGABLE_SCHEMES or not host or any(c in text for c in "\r\n\t\x00"):
        shown = f"a {scheme}: URL" if scheme else "no absolute URL"
        raise UnsafeURLError(
            f"Refused to show or open the {what}: it is {shown}, and only http: and https: links are "
            "followed. The identity provider's configuration (its authorization endpoint) is wrong "
            "or malicious; ask its administrator.",
            scheme=scheme or None,
        )
    return text


def origin(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of ``url``, lower-case, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme, 0)


def same_origin(a: str, b: str) -> bool:
    """Same scheme, host and port (RFC 6454), e.g. for deciding where a token may go."""
    return origin(a) == origin(b)
