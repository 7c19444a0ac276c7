"""The OAuth ``state``: 256 random bits, prefixed with the JupyterHub user when there is one.

Behind a hub-wide callback service the prefix tells the service whose server to forward
the provider's redirect to: ``{user}.{nonce}`` for the user's default server, and
``{user}.{server}.{nonce}`` for a named server (``/user/{name}/{server}/``), each name as
unpadded base64url. The nonce has no ``.``, so a forwarder that knows only the first form
still reads the user from the second. It is not a secret and grants nothing: the server that started
the sign-in still checks the whole state (single use), and the code is useless without the
PKCE verifier that never left that server.
"""

from __future__ import annotations

import base64
import binascii
import re

from authlib.common.security import generate_token

#: JupyterHub user names are normalised to this (lower case, no slashes or control chars).
USER_NAME = re.compile(r"^[^/\\\x00-\x1f\x7f?#%]{1,255}$")
SEPARATOR = "."


def make_state(user: str = "", server: str = "") -> str:
    """A fresh single-use state; ``user.`` (and ``server.`` for a named server) prefix under JupyterHub."""
    nonce = str(generate_token(43))
    if not user:
        return nonce
    return SEPARATOR.join([make_prefix(user), *([make_prefix(server)] if server else []), nonce])


def make_prefix(user: str) -> str:
    """The user as unpadded base64url."""
    return base64.urlsafe_b64encode(user.encode("utf-8")).rstrip(b"=").decode("ascii")


def user_of_state(state: str) -> str | None:
    """The JupyterHub user a state belongs to, or None when it names none or a bad one."""
    prefix, separator, rest = state.partition(SEPARATOR)
    if not separator or not prefix or not rest or len(prefix) > 400:
        return None
    try:
        user = base64.urlsafe_b64decode(prefix + "=" * (-len(prefix) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    # Only the exact encoding make_state() writes: no padding, no stray bits, no "+" or "/".
    if make_prefix(user) != prefix:
        return None
    return user if USER_NAME.fullmatch(user) and user.isprintable() and user not in (".", "..") else None


def server_of_state(state: str) -> str | None:
    """The named server a hub user's state is for: ``""`` for the default server, None when invalid.

    Only the exact form ``{user}.{server}.{nonce}`` names a server, and then it must be the
    canonical encoding of a valid name; any other state of a valid user is for the default
    server, as before named servers (that server then refuses a state it never issued).
    """
    if user_of_state(state) is None:
        return None
    parts = state.split(SEPARATOR)
    if len(parts) != 3:
        return ""
    if not parts[1] or len(parts[1]) > 400:
        return None
    try:
        server = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if make_prefix(server) != parts[1] or not USER_NAME.fullmatch(server) or not server.isprintable():
        return None
    return server if server not in (".", "..") else None
