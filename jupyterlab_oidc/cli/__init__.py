"""``jupyter oidc``: sign in, tokens and checks from a terminal, through the running Jupyter server.

The command talks to the user's running Jupyter server (found like ``jupyter server list``
finds it; under JupyterHub, the user's own server), so it works from a JupyterLab terminal
and shares the sessions of the panel and the kernels. See docs/cli.md.

    jupyter oidc login alice@example.com
    curl -H "Authorization: Bearer $(jupyter oidc token)" https://api.example.com/me
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from ..protocol import LEEWAY_SECONDS
from . import exits, importtoken
from .commands import VERBS
from .output import Output
from .server import CLIError, connect

HELP = {
    "environments": "list the configured environments",
    "login": "sign in: prints the link to open, waits, prints who signed in",
    "logout": "sign out (revokes the refresh token)",
    "status": "sessions: environment, email, expires in (exit 3 when not signed in)",
    "token": "print only the access token (for $(jupyter oidc token))",
    "whoami": "the provider's userinfo for the session",
    "check": "check the session's id_token step by step (exit 1 unless all pass)",
    "preflight": "check an environment's configuration (exit 1 when a check fails)",
    "import-token": importtoken.HELP,
}
EPILOG = """exit codes: 0 ok · 1 check or preflight failed · 2 usage (bad option, unknown environment)
· 3 not signed in · 4 no usable Jupyter server · 5 other error · 130 interrupted"""


class _Parser(argparse.ArgumentParser):
    """Usage errors raise instead of exiting, so ``main`` returns the exit code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CLIError(f"{message} (see {self.prog} --help)", exits.USAGE, "usage")


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """Options every verb takes (before or after the verb)."""
    default = (lambda value: argparse.SUPPRESS) if suppress else (lambda value: value)
    group = parser.add_argument_group("server and output")
    group.add_argument("--url", default=default(None), help="Jupyter server URL with base_url (default: found)")
    group.add_argument("--token", default=default(None), help="Jupyter server token (default: found)")
    group.add_argument("--json", action="store_true", default=default(False), help="print one JSON document")
    group.add_argument("--timeout", type=float, default=default(60.0), metavar="S", help="HTTP timeout (60)")


def _non_negative(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not number >= 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be ≥ 0")
    return number


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(
        prog="jupyter oidc",
        description="OpenID Connect sign-in and tokens through the running Jupyter server (jupyterlab-oidc).",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"jupyterlab-oidc {__version__}")
    _common(parser, suppress=False)
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    for name, help_text in HELP.items():
        sub = verbs.add_parser(
            name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".", epilog=EPILOG
        )
        if name != "environments":
            sub.add_argument("--env", "-e", metavar="NAME", help="environment (default: the server's default)")
            sub.add_argument("--application", "-a", metavar="APP", help="application (Zitadel project) of the session")
        if name == "login":
            sub.add_argument("email", help="the email to sign in as (enforced)")
            sub.add_argument("--open", action="store_true", help="also open the URL in this machine's browser")
            sub.add_argument(
                "--prompt",
                choices=("none", "login", "consent", "select_account"),
                help="switch account (select_account) or authenticate again (login)",
            )
            sub.add_argument(
                "--max-age",
                type=int,
                metavar="S",
                help="the authentication must be at most S seconds old (auth_time is checked)",
            )
            sub.add_argument(
                "--device",
                action="store_true",
                help="device sign-in (RFC 8628): print a code to enter at the provider on any device",
            )
        elif name == "logout":
            sub.add_argument("--all", action="store_true", help="sign out of every session")
        elif name == "token":
            sub.add_argument(
                "--min-valid",
                type=_non_negative,
                default=60.0,
                metavar="S",
                help="seconds the token must stay valid (60; capped at the refresh margin)",
            )
            sub.add_argument("--id-token", action="store_true", help="print the id token instead")
        elif name == "check":
            sub.add_argument(
                "--leeway",
                type=_non_negative,
                default=LEEWAY_SECONDS,
                metavar="S",
                help=f"clock skew tolerated for exp, iat, nbf ({LEEWAY_SECONDS:g})",
            )
        elif name == "import-token":
            importtoken.add_arguments(sub)
        elif name == "preflight":
            draft = sub.add_argument_group("check a draft instead of a configured environment (not saved)")
            draft.add_argument("--issuer", help="issuer URL")
            draft.add_argument("--client-id", help="client id")
            draft.add_argument("--scopes", help="space-separated scopes")
            draft.add_argument("--client-secret", help="client secret (confidential clients)")
        _common(sub, suppress=True)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run ``jupyter oidc`` with ``argv``; returns the exit code (see ``exits``)."""
    import os

    out = Output(
        as_json="--json" in (sys.argv[1:] if argv is None else argv),
        stdout=stdout or sys.stdout,
        stderr=stderr or sys.stderr,
    )
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        out.as_json = bool(args.json)
        if not args.verb:
            out.result(
                parser.format_help(), {"error": "usage", "message": "a verb is required", "exit_code": exits.USAGE}
            )
            return exits.USAGE
        with connect(args.url, args.token, args.timeout, os.environ if environ is None else environ) as client:
            return VERBS[args.verb](client, args, out)
    except CLIError as e:
        out.error(e.message, e.to_json())
        return e.exit_code
    except KeyboardInterrupt:
        out.error("interrupted.", {"error": "interrupted", "message": "Interrupted.", "exit_code": exits.INTERRUPTED})
        return exits.INTERRUPTED
    except SystemExit as e:  # --help, --version
        return int(e.code or 0) if not isinstance(e.code, str) else exits.USAGE


def run() -> Any:
    """Console-script entry point (``jupyter-oidc``)."""
    sys.exit(main())


__all__ = ["main", "run"]
