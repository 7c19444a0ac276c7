"""The verbs of ``jupyter oidc``: each takes the server client, the parsed arguments and the output.

Each returns an exit code (see ``exits``); failures the server reports arrive as ``CLIError``.
"""

from __future__ import annotations

import argparse
import time
import webbrowser
from typing import Any

from ..kernel.urls import UnsafeURLError, navigable_url
from . import exits
from .importtoken import import_token
from .output import Output, duration, outcome_lines, table
from .server import CLIError, ServerClient
from .tokencheck import check_id_token

#: One ``POST oidc/await`` waits at most this long; ``login`` loops until the sign-in ends.
AWAIT_POLL_SECONDS = 15.0


def _selector(args: argparse.Namespace) -> dict[str, Any]:
    return {"environment": args.env, "application": getattr(args, "application", None)}


def _label(session: dict[str, Any]) -> str:
    app = session.get("application")
    return f"{session['environment']}/{app}" if app else str(session["environment"])


def environments(client: ServerClient, args: argparse.Namespace, out: Output) -> int:
    """Configured environments (no secrets)."""
    _, body = client.call("GET", "environments")
    default = body.get("default_environment")
    rows = [
        [
            ("* " if e["name"] == default else "  ") + e["name"],
            e.get("display_name") or e["name"],
            e.get("issuer") or "-",
            e.get("client_id") or "-",
            e.get("discovery_mode") or "-",
            ", ".join(e.get("applications") or []) or "-",
        ]
        for e in body.get("environments", [])
    ]
    text = (
        table(["  ENVIRONMENT", "NAME", "ISSUER", "CLIENT ID", "DISCOVERY", "APPLICATIONS"], rows)
        if rows
        else (
            "No environment is configured (c.OIDCLogin.environments, or JUPYTERLAB_OIDC_ISSUER "
            "and JUPYTERLAB_OIDC_CLIENT_ID)."
        )
    )
    out.result(text + ("\n* default" if rows else ""), body)
    return exits.OK


def _cancel_quietly(client: ServerClient, state: str) -> None:
    try:
        client.call("POST", "cancel", {"state": state}, timeout=5)
    except CLIError:
        pass


def _sign_in_link(client: ServerClient, started: dict[str, Any]) -> str:
    """The server's start link (``start_url``, else the provider's ``url``); http(s) only.

    A provider URL that is not http(s) (``javascript:``, ``file:``, …) ends the sign-in: the
    start link would send the browser there.
    """
    try:
        if started.get("url"):
            navigable_url(started["url"], "provider's sign-in page")
        return navigable_url(started.get("start_url") or started.get("url"))
    except UnsafeURLError as e:
        _cancel_quietly(client, started["state"])
        raise CLIError(e.message, exits.ERROR, e.code, **e.details) from None


def _device_link(client: ServerClient, started: dict[str, Any]) -> tuple[str, str]:
    """A device sign-in's verification link (the complete one when given) and what to print; http(s) only."""
    try:
        link = navigable_url(started.get("verification_uri"), "provider's device page")
        if started.get("verification_uri_complete"):
            link = navigable_url(started["verification_uri_complete"], "provider's device page")
    except UnsafeURLError as e:
        _cancel_quietly(client, started["state"])
        raise CLIError(e.message, exits.ERROR, e.code, **e.details) from None
    who = f" as {started['login_hint']}" if started.get("login_hint") else ""
    text = (
        f"To sign in{who} to {started.get('display_name') or started.get('environment')} "
        f"(client {started.get('client_id')}), open on any device:\n\n  {started['verification_uri']}\n\n"
        f"and enter the code\n\n  {started['user_code']}\n"
    )
    if started.get("verification_uri_complete"):
        text += f"\nor open this link, which carries the code:\n\n  {link}\n"
    return link, text + "\nEnter the code only if you started this sign-in yourself.\n"


def login(client: ServerClient, args: argparse.Namespace, out: Output) -> int:
    """Start a sign-in, print the start link (or the device code), wait for it to finish, print who signed in."""
    body: dict[str, Any] = {**_selector(args), "login_hint": args.email}
    for name in ("prompt", "max_age"):  # switching account, re-authentication (the server validates them)
        if getattr(args, name, None) is not None:
            body[name] = getattr(args, name)
    if getattr(args, "device", False):
        body["flow"] = "device"
    _, started = client.call("POST", "login", body)
    state = started["state"]
    if started.get("flow") == "device":
        link, text = _device_link(client, started)
        out.info(text)
    else:
        link = _sign_in_link(client, started)
        out.info(
            f"Open this link in a browser where you are logged in to this Jupyter server, to sign in as "
            f"{args.email}:\n\n  {link}\n"
        )
    if args.open:
        webbrowser.open(link)
    expires_in = float(started.get("expires_in") or 300)
    deadline = time.monotonic() + expires_in
    out.info(f"Waiting for the sign-in (up to {duration(expires_in)}; Ctrl-C cancels)…")
    try:
        while True:
            wait = max(min(AWAIT_POLL_SECONDS, deadline - time.monotonic()), 0.0)
            status, body = client.call("POST", "await", {"state": state, "wait_seconds": wait}, timeout=wait + 30)
            if status == 200:
                break
    except KeyboardInterrupt:
        _cancel_quietly(client, state)
        out.error("the sign-in was cancelled.", {"error": "login_cancelled", "message": "Cancelled.", "exit_code": 130})
        return exits.INTERRUPTED
    session = body["session"]
    name = session.get("name")
    out.result(
        f"Signed in as {session['email'] or session['sub']}{f' ({name})' if name else ''} to {_label(session)}; "
        f"the access token expires in {duration(session.get('expires_in'))}.",
        body,
    )
    return exits.OK


def logout(client: ServerClient, args: argparse.Namespace, out: Output) -> int:
    """Sign out: revoke the refresh token, forget the session, show the provider's end-session URL."""
    if args.all:
        _, status = client.call("GET", "status")
        selectors = [{"environment": s["environment"], "application": s.get("application")} for s in status["sessions"]]
    else:
        selectors = [_selector(args)]
    results, lines = [], []
    for selector in selectors:
        _, body = client.call("POST", "logout", selector)
        environment = selector["environment"] or "the default environment"
        lines.append(f"Signed out of {environment}." if body.get("signed_out") else f"Not signed in to {environment}.")
        if body.get("end_session_url"):
            try:
                navigable_url(body["end_session_url"], "provider's end-session link")
                lines.append(f"  To end the provider's browser session too, open: {body['end_session_url']}")
            except UnsafeURLError:
                body = {**body, "end_session_url": None}
                lines.append("  The provider's end-session link is not http(s); not shown.")
        results.append({**selector, **body})
    if args.all and not selectors:
        lines.append("Not signed in anywhere.")
    out.result("\n".join(lines), results if args.all else results[0])
    return exits.OK


def _require_environment(client: ServerClient, name: str) -> None:
    """Usage error (exit 2) when the server has no environment ``name``, naming the configured ones."""
    _, body = client.call("GET", "environments")
    known = sorted(e["name"] for e in body.get("environments", []))
    if name not in known:
        raise CLIError(
            f"Unknown environment {name!r}; configured: {', '.join(known) or 'none'}.",
            exits.USAGE,
            "unknown_environment",
            environment=name,
        )


def status(client: ServerClient, args: argparse.Namespace, out: Output) -> int:
    """Sessions as a table; exit 3 when none (for the environment asked)."""
    _, body = client.call("GET", "status")
    sessions = [s for s in body.get("sessions", []) if not args.env or s["environment"] == args.env]
    if args.env and not sessions:
        _require_environment(client, args.env)
    body = {**body, "sessions": sessions}
    rows = [
        [
            _label(s),
            s.get("email") or s.get("sub") or "-",
            duration(s.get("expires_in")),
            "yes" if s.get("has_refresh_token") else "no",
        ]
        for s in sessions
    ]
    text = (
        table(["ENVIRONMENT", "EMAIL", "EXPIRES IN", "REFRESH TOKEN"], rows)
        if rows
        else (f"Not signed in{f' to {args.env}' if args.env else ''}. Sign in with: jupyter oidc login EMAIL")
    )
    pending = [p for p in body.get("pending", []) if not args.env or p.get("environment") == args.env]
    for p in pending:
        left = duration(p.get("expires_in"))
        text += f"\nSign-in waiting: {p.get('login_hint') or '-'} to {p.get('environment')} ({left} left)"
    if body.get("store_error"):
        text += f"\nToken store problem: {body['store_error'].get('message')}"
    out.result(text, body)
    return exits.OK if sessions else exits.NOT_SIGNED_IN


def token(client: ServerClient, args: argparse.Namespace, out: Output) -> int:
    """Print only the access token (or the id token), refreshed first if it would expire within --min-valid."""
    _, body = client.call("POST", "token", {**_selector(args), "min_valid": args.min_valid})
    value = body.get("id_token") if args.id_token else body.get("access_token")
    if not value:
        raise CLIError("The session has no id_token.", exits.ERROR, "no_id_token")
    out.result(value, body)
    return exits.OK


def whoami(client: ServerClient, args: argparse.Namespace, out: Output) -> int:
    """The provider's userinfo for the session."""
    _, body = client.call("GET", "userinfo", params=_selector(args))
    info = body.get("userinfo") or {}
    head = str(info.get("email") or info.get("preferred_username") or info.get("sub") or "?")
    if info.get("name"):
        head += f" ({info['name']})"
    lines = [head] + [f"  {k}: {v}" for k, v in info.items()]
    out.result("\n".join(lines), body)
    return exits.OK


def check(client: ServerClient, args: argparse.Namespace, out: Output) -> int:
    """The token check: each step pass/fail; exit 0 only when all pass."""
    _, session = client.call("POST", "token", {**_selector(args), "min_valid": 0})
    jwks: dict[str, Any] | Exception
    try:
        _, jwks = client.call("GET", "jwks", params={"environment": session["environment"]})
    except CLIError as e:
        if e.exit_code == exits.NO_SERVER and e.code != "extension_not_loaded":
            raise
        jwks = RuntimeError(e.message)
    report = check_id_token(
        session.get("id_token"), session.get("issuer") or "", session.get("client_id") or "", jwks, args.leeway
    )
    data = {"environment": session["environment"], "application": session.get("application"), **report.to_json()}
    steps = [s.to_json() for s in report.steps]
    verdict = "The id_token checks out." if report.valid else "The id_token does NOT check out."
    out.result(
        f"id_token of {_label(session)} ({session.get('email')}):\n{outcome_lines(steps, 'detail')}\n{verdict}", data
    )
    return exits.OK if report.valid else exits.FAILED


def preflight(client: ServerClient, args: argparse.Namespace, out: Output) -> int:
    """The configuration check of an environment (or of a draft given with --issuer/--client-id)."""
    draft = {
        k: v
        for k, v in {
            "issuer": args.issuer,
            "client_id": args.client_id,
            "scopes": args.scopes,
            "client_secret": args.client_secret,
        }.items()
        if v is not None
    }
    if draft:
        _, report = client.call("POST", "preflight", {**_selector(args), "config": draft})
    else:
        _, report = client.call("GET", "preflight", params=_selector(args))
    counts = report.get("counts", {})
    head = f"Preflight of {'draft ' if report.get('draft') else ''}environment {report['environment']}"
    head += f" ({report.get('issuer') or 'manual endpoints'}, client {report.get('client_id') or '-'}):"
    summary = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("pass", "warn", "fail", "skip") if counts.get(k))
    verdict = "Ready to sign in." if report.get("ok") else "Not ready: fix the failures above."
    text = "\n".join(
        [
            head,
            outcome_lines(report["checks"], "message"),
            f"Redirect URI: {report.get('redirect_uri')} (register it with the provider)",
            f"{summary}. {verdict}",
        ]
    )
    out.result(text, report)
    return exits.OK if report.get("ok") else exits.FAILED


VERBS = {
    "environments": environments,
    "login": login,
    "logout": logout,
    "status": status,
    "token": token,
    "whoami": whoami,
    "check": check,
    "preflight": preflight,
    "import-token": import_token,
}
