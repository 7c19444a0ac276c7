"""Where a provider's redirect goes: the pure decision of the hub-wide callback forwarder.

No tornado in here. :func:`callback_target` reads the user from ``state`` and answers the
*relative* path of that user's ``oidc/callback`` on this hub, or raises
:class:`ForwardRefused`. Nothing else in the request can influence the target: the path
is built from the hub's base URL (admin configuration), the literal ``user/``, the
escaped user name and the literal ``/oidc/callback``; the query is re-encoded so it cannot
carry a fragment, a second ``?`` or a line break.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qsl, quote, urlencode

from ..state import SEPARATOR, USER_NAME, user_of_state

#: Longer queries are refused before parsing (providers send a code, a state and a few more).
MAX_QUERY_LENGTH = 8192
#: More fields than this is not a provider's answer.
MAX_FIELDS = 32
#: A hub base URL: absolute path of unreserved/sub-delim/pct-encoded segments, ending in ``/``.
BASE_URL = re.compile(r"/(?:[A-Za-z0-9._~!$&'()*+,;=:@%-]+/)*")


class ForwardRefused(ValueError):  # noqa: N818 (a refusal, not a crash)
    """The request cannot be forwarded; ``reason`` is short and safe to log and to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def hub_base_url(value: str) -> str:
    """Validate the hub's base URL (``JUPYTERHUB_BASE_URL``): ``/`` or ``/prefix/``, nothing more.

    Raises ``ValueError`` for anything that is not a plain absolute path: a scheme, a host,
    ``//``, a backslash, ``.`` or ``..`` segments, a query or a fragment.
    """
    base = value if value.endswith("/") else value + "/"
    if not BASE_URL.fullmatch(base) or any(segment in (".", "..") for segment in base.split("/")):
        raise ValueError(f"not a hub base URL (an absolute path such as '/' or '/hub-prefix/'): {value!r}")
    return base


def state_user(state: str) -> str | None:
    """The user named by ``state``, checked more strictly than :func:`user_of_state` alone.

    The prefix must be the canonical unpadded base64url of the name (so ``+``, ``/``, ``=``
    and stray trailing bits are refused), and the whole name must be printable and match
    ``USER_NAME`` (no trailing newline slipping past ``$``).
    """
    user = user_of_state(state)
    if user is None:
        return None
    canonical = base64.urlsafe_b64encode(user.encode("utf-8")).rstrip(b"=").decode("ascii")
    if state.partition(SEPARATOR)[0] != canonical or not user.isprintable() or not USER_NAME.fullmatch(user):
        return None
    return user


def user_path(hub_base: str, user: str) -> str:
    """``{hub_base}user/{name}/``, the name escaped as JupyterHub escapes it (``url_escape_path``)."""
    return f"{hub_base}user/{quote(user, safe='@~')}/"


def callback_target(query: str, hub_base: str) -> str:
    """The relative URL to send the browser to, for the raw query string of the provider's redirect.

    ``hub_base`` must come from :func:`hub_base_url`. Refuses (``ForwardRefused``): an
    over-long query, undecodable or too many fields, no ``state`` or several, and a state
    that names no valid JupyterHub user (see :func:`state_user`).
    """
    if len(query) > MAX_QUERY_LENGTH:
        raise ForwardRefused("the query is too long")
    try:
        fields = parse_qsl(query, keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise ForwardRefused("the query cannot be decoded") from None
    except ValueError:  # parse_qsl: more than max_num_fields
        raise ForwardRefused("the query has too many fields") from None
    states = [value for name, value in fields if name == "state"]
    if not states:
        raise ForwardRefused("the query has no state")
    if len(states) > 1:
        raise ForwardRefused("the query has more than one state")
    user = state_user(states[0])
    if user is None:
        raise ForwardRefused("the state names no JupyterHub user")
    target = f"{user_path(hub_base, user)}oidc/callback?{urlencode(fields, quote_via=quote, safe='')}"
    # Belt and braces: a same-origin absolute path under the hub, whatever happened above.
    if not target.startswith(f"{hub_base}user/") or target.startswith(("//", "/\\")) or any(c in target for c in "\\#\r\n"):
        raise ForwardRefused("the target is not a path on this hub")
    return target
