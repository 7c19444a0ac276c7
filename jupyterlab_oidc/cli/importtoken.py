"""``jupyter oidc import-token``: start a session from a refresh token obtained elsewhere.

The token is read from standard input (typed without echo on a terminal, or piped) or from
a file (``--file PATH``, ``--file -`` for stdin), never from the command line: arguments are
visible to every user of the machine (``ps``, ``/proc/*/cmdline``) and stay in the shell's
history. It goes to ``POST oidc/grants/refresh-token``; the server refreshes with it at once,
checks the id_token and the identity (``--login-hint``) and keeps the session.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from . import exits
from .output import Output, duration
from .server import CLIError, ServerClient

HELP = "start a session from a refresh token read from stdin or --file (never from the command line)"
ARGV_REFUSED = (
    "import-token does not take the refresh token as an argument: command-line arguments are visible to "
    "other users of this machine (ps, /proc) and stay in your shell history. Pipe it in "
    "(jupyter oidc import-token < token.txt), give a file (--file token.txt), or run the command "
    "without arguments and paste it at the prompt. The token you typed may now be in your shell "
    "history: revoke it at the provider if that matters."
)


class _RefuseArgv(argparse.Action):
    """A positional that ends the run at once, never repeating what was given."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        if values:
            raise CLIError(ARGV_REFUSED, exits.USAGE, "token_in_argv")


def add_arguments(sub: argparse.ArgumentParser) -> None:
    """The options of ``import-token`` (``--env``/``--application`` come with every verb)."""
    sub.add_argument("--file", "-f", metavar="PATH", help="read the refresh token from PATH ('-' for stdin)")
    sub.add_argument("--login-hint", metavar="EMAIL", help="the session must be this email's (enforced)")
    sub.add_argument("refused", nargs="*", action=_RefuseArgv, metavar="", help=argparse.SUPPRESS)


def _read(path: str | None) -> str:
    """The token from ``path`` or stdin: the first non-empty line, stripped."""
    if path and path != "-":
        try:
            text = Path(path).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeError) as e:
            raise CLIError(f"Cannot read {path}: {e.__class__.__name__}.", exits.USAGE, "usage") from None
    elif sys.stdin is not None and sys.stdin.isatty():
        text = getpass.getpass("Refresh token (not shown): ")
    else:
        text = sys.stdin.read() if sys.stdin is not None else ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        source = path if path and path != "-" else "standard input"
        raise CLIError(f"No refresh token in {source}.", exits.USAGE, "usage")
    if len(lines) > 1:
        raise CLIError("Expected one refresh token (one line); found several lines.", exits.USAGE, "usage")
    return lines[0]


def import_token(client: ServerClient, args: argparse.Namespace, out: Output) -> int:
    """Import the refresh token; print who the session is for."""
    refresh_token = _read(args.file)
    body = {"environment": args.env, "application": args.application, "refresh_token": refresh_token}
    if args.login_hint:
        body["login_hint"] = args.login_hint
    _, session = client.call("POST", "grants/refresh-token", body)
    app = session.get("application")
    where = f"{session['environment']}/{app}" if app else str(session["environment"])
    out.result(
        f"Signed in as {session.get('email') or session.get('sub')} to {where} with the imported refresh token; "
        f"the access token expires in {duration(session.get('expires_in'))}. With rotating refresh tokens the "
        "imported one is now used up: the session keeps the new one.",
        session,
    )
    return exits.OK
