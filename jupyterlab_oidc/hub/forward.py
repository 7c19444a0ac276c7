"""Where a provider's redirect goes: the pure decision of the hub-wide callback forwarder.

No tornado and no JupyterHub in here. :func:`callback_target` reads the user (and the named
server, if any) from ``state`` and answers the *relative* path of that server's
``oidc/callback[/{environment}]`` on this hub — or, under ``subdomain_host``, that path on the
user's own host, which only the hub's configuration decides (``subdomain.py``) — or raises
:class:`ForwardRefused`. Nothing else in the request can influence the
target: the path is built from the hub's base URL (admin configuration), the literal
``user/``, the escaped user name, the literal ``/oidc/callback`` and the environment of the
forwarder's own path (one segment, re-quoted); the query is re-encoded so it cannot carry a
fragment, a second ``?`` or a line break.

:func:`check_browser_user` is the second half: the browser that brings the callback must be
logged in to the hub as the user named in the state. Otherwise another hub user could start
a sign-in on their own server, send the provider's link to a victim, and receive the
victim's code (the PKCE verifier is theirs, so the exchange would succeed).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from ..core.signin.state import SEPARATOR, USER_NAME, server_of_state, user_of_state

#: Longer queries are refused before parsing (providers send a code, a state and a few more).
MAX_QUERY_LENGTH = 8192
#: More fields than this is not a provider's answer.
MAX_FIELDS = 32
#: A hub base URL: absolute path of unreserved/sub-delim/pct-encoded segments, ending in ``/``.
BASE_URL = re.compile(r"/(?:[A-Za-z0-9._~!$&'()*+,;=:@%-]+/)*")


#: Longest environment name the forwarder passes on (in characters, before quoting).
MAX_ENVIRONMENT = 255


class ForwardRefused(ValueError):  # noqa: N818 (a refusal, not a crash)
    """The request cannot be forwarded; ``reason`` is short and safe to log and to show."""

    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OtherUsersSignIn(ForwardRefused):
    """The browser is logged in to the hub as someone other than the user named in the state."""

    status = 403


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


def server_segment(server: str) -> str:
    """``""`` for the user's default server, else ``{server}/`` escaped as JupyterHub escapes it."""
    return f"{quote(server, safe='@~')}/" if server else ""


def environment_segment(environment: str | None) -> str:
    """``""`` for the legacy path, else ``/{environment}`` re-quoted as one path segment.

    ``environment`` is the decoded path segment after ``callback/``. Refused: empty, longer
    than :data:`MAX_ENVIRONMENT`, ``.`` or ``..``, a ``/`` or ``\\`` (from ``%2F``/``%5C``),
    control or other unprintable characters.
    """
    if environment is None:
        return ""
    if (
        not environment
        or len(environment) > MAX_ENVIRONMENT
        or environment in (".", "..")
        or any(c in environment for c in "/\\")
        or not environment.isprintable()
    ):
        raise ForwardRefused("the environment in the path is not valid")
    return "/" + quote(environment, safe="")


def _fields(query: str) -> tuple[str, list[tuple[str, str]]]:
    """The user named by the query's single state, and the query's fields (see :func:`_owner`)."""
    user, _, fields = _owner(query)
    return user, fields


def _owner(query: str) -> tuple[str, str, list[tuple[str, str]]]:
    """The user and named server (``""``: the default one) of the query's single state, and its fields."""
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
    server = server_of_state(states[0])
    if server is None:
        raise ForwardRefused("the state names no valid JupyterHub server")
    return user, server, fields


def owner_of(query: str) -> str:
    """The JupyterHub user whose server started this sign-in (named in ``state``), or ``ForwardRefused``."""
    return _fields(query)[0]


def callback_target(
    query: str, hub_base: str, environment: str | None = None, origin_of: Callable[[str], str] | None = None
) -> str:
    """The URL to send the browser to, for the raw query string of the provider's redirect.

    ``hub_base`` must come from :func:`hub_base_url`; ``environment`` is the path segment
    after ``callback/`` (None: the legacy ``oidc/callback``). A named server in the state
    (``/user/{name}/{server}/``) is part of the path. ``origin_of(user)``, under
    ``subdomain_host`` only, answers the user's own ``scheme://host[:port]`` from the hub's
    configuration (``subdomain.user_origin``): the target is then absolute on that host;
    otherwise it is a relative path on this hub. Refuses (``ForwardRefused``):
    an over-long query, undecodable or too many fields, no ``state`` or several, a state
    that names no valid JupyterHub user (see :func:`state_user`), and an invalid environment
    (see :func:`environment_segment`).
    """
    user, server, fields = _owner(query)
    segment = environment_segment(environment)
    path = f"{user_path(hub_base, user)}{server_segment(server)}oidc/callback{segment}"
    target = f"{path}?{urlencode(fields, quote_via=quote, safe='')}"
    # Belt and braces: a same-origin absolute path under the hub, whatever happened above.
    unsafe = target.startswith(("//", "/\\")) or any(c in target for c in "\\#\r\n")
    if not target.startswith(f"{hub_base}user/") or unsafe:
        raise ForwardRefused("the target is not a path on this hub")
    if origin_of is None:
        return target
    try:
        origin = origin_of(user)
    except ValueError:
        raise ForwardRefused("the user has no valid host under the hub's subdomain host") from None
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname or f"{parts.scheme}://{parts.netloc}" != origin:
        raise ForwardRefused("the user's host is not valid")
    return f"{origin}{target}"


def check_browser_user(owner: str, browser_user: str) -> None:
    """Forward only to the browser's own server: ``browser_user`` (the hub user the browser is
    logged in as) must be ``owner`` (the user named in the state), exactly.

    Raises :class:`OtherUsersSignIn` otherwise; admins get no exception either (an admin's
    browser has no business delivering another user's code).
    """
    if browser_user != owner:
        raise OtherUsersSignIn("this sign-in was started by another hub user")
