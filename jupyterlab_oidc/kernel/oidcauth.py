"""``OIDCAuth``: the ``satorbis_kit.auth`` sign-in API, run by the server extension.

In a kernel the sign-in itself (PKCE, state, nonce, callback, id_token checks, identity
enforcement) happens in the Jupyter server; this class starts it, shows the link and
waits. The refresh token stays in the server.
"""

from __future__ import annotations

import html
import time
import warnings
from typing import Any

from ..errors import LoginTimeoutError, OIDCError
from .client import TokenClient, default_client
from .environment import Environment, environment_name
from .tokenstore import TokenStore
from .urls import UnsafeURLError, navigable_url

#: satorbis_kit.auth default (the same as the server's ``DEFAULT_SCOPES``).
DEFAULT_SCOPES = "openid profile email offline_access"
#: One ``POST oidc/await`` waits at most this long; await_callback loops until callback_timeout.
AWAIT_POLL_SECONDS = 20.0
#: satorbis_kit.auth parameters that the server's configuration decides in jupyterlab-oidc.
_SERVER_SETTINGS = {
    "redirect_port": (4200, "redirect_port"),
    "scopes": (DEFAULT_SCOPES, "environments[...]['scopes']"),
    "authorization_url": (None, "environments[...]['authorization_url']"),
    "token_url": (None, "environments[...]['token_url']"),
    "verify_jwt": (True, "verify_jwt"),
}


class OIDCAuth:
    """Authorization Code + PKCE sign-in from a notebook: ``start_login(email)``, then ``await_callback()``.

    ``redirect_port``, ``scopes``, ``authorization_url``, ``token_url`` and ``verify_jwt`` are
    accepted for compatibility; in jupyterlab-oidc the server's ``c.OIDCLogin`` configuration
    decides them (a different value here is ignored, with a warning).
    """

    def __init__(
        self,
        environment: Environment | str | None = None,
        application: str | None = None,
        redirect_port: int = 4200,
        scopes: str = DEFAULT_SCOPES,
        callback_timeout: int = 300,
        authorization_url: str | None = None,
        token_url: str | None = None,
        verify_jwt: bool = True,
        *,
        client: TokenClient | None = None,
    ) -> None:
        self.environment = environment_name(environment)
        self.application = application or None
        self.redirect_port = redirect_port
        self.scopes = scopes
        self.callback_timeout = callback_timeout
        self.authorization_url = authorization_url
        self.token_url = token_url
        self.verify_jwt = verify_jwt
        self.tokens = TokenStore()
        self._client = client
        self._state: str | None = None
        self._deadline = 0.0
        given = {
            "redirect_port": redirect_port,
            "scopes": scopes,
            "authorization_url": authorization_url,
            "token_url": token_url,
            "verify_jwt": verify_jwt,
        }
        ignored = [
            f"{name} (c.OIDCLogin.{trait})"
            for name, (default, trait) in _SERVER_SETTINGS.items()
            if given[name] != default
        ]
        if ignored:
            warnings.warn(
                "OIDCAuth: the Jupyter server's configuration decides " + ", ".join(ignored) + "; ignored here.",
                stacklevel=2,
            )

    def __repr__(self) -> str:
        return f"OIDCAuth(environment={self.environment!r}, application={self.application!r})"

    @property
    def client(self) -> TokenClient:
        return self._client or default_client()

    def authenticate(self) -> TokenStore:
        """Not for interactive flows: use ``start_login()`` then ``await_callback()``."""
        raise NotImplementedError("Use start_login(email) and then await_callback() for the interactive sign-in.")

    def start_login(self, login_hint: str = "", prompt: str | None = None, max_age: int | None = None) -> str:
        """Start the sign-in; returns the link to open and shows it as a link in the notebook.

        The link is the Jupyter server's start link (``start_url``): it ties the sign-in to the
        browser that opens it (with your Jupyter login) and sends that browser on to the provider.
        ``login_hint`` (an email) pre-fills the provider's page and is enforced: signing in as
        someone else raises ``IdentityMismatchError`` in :meth:`await_callback`.
        Raises ``UnsafeURLError`` (and cancels the sign-in) when a link is not http(s).

        To switch account or re-authenticate: ``prompt="select_account"`` (pick another account
        at the provider), ``prompt="login"`` (authenticate again), ``max_age=S`` (an
        authentication at most S seconds old; the id_token's ``auth_time`` is checked). The new
        session replaces the current one only once it passes every check; kernels follow it.
        """
        body: dict[str, Any] = {
            "environment": self.environment,
            "application": self.application,
            "login_hint": login_hint,
        }
        if prompt is not None:
            body["prompt"] = prompt
        if max_age is not None:
            body["max_age"] = max_age
        reply = self.client.call("POST", "login", body)
        if reply.get("flow") == "device":  # the environment signs in with the device grant
            shown = self._device_login(reply, login_hint)
            return str(shown["verification_uri_complete"] or shown["verification_uri"])
        state = str(reply["state"])
        try:
            if reply.get("url"):
                navigable_url(reply["url"], "provider's sign-in page")
            link = navigable_url(reply.get("start_url") or reply.get("url"))
        except UnsafeURLError:
            self._cancel_quietly(state)
            raise
        self._state = state
        expires_in = float(reply.get("expires_in") or self.callback_timeout)
        self._deadline = time.monotonic() + min(float(self.callback_timeout), expires_in)
        show_link(link, login_hint, path=reply.get("start_path"))
        return link

    def start_device_login(self, login_hint: str = "") -> dict[str, Any]:
        """Device sign-in (RFC 8628): shows a code to enter at the provider on any device; then :meth:`await_callback`.

        For kernels whose browser cannot reach this server's callback. The server polls the
        provider until the code is approved; ``login_hint`` is enforced as for
        :meth:`start_login`. Answers ``user_code``, ``verification_uri``,
        ``verification_uri_complete`` and ``expires_in``. Raises ``UnsafeURLError`` (and cancels
        the sign-in) when a link is not http(s). Denied: ``DeviceAccessDeniedError``; not approved
        in time: ``DeviceCodeExpiredError`` (both from :meth:`await_callback`).
        """
        body = {
            "environment": self.environment,
            "application": self.application,
            "login_hint": login_hint,
            "flow": "device",
        }
        return self._device_login(self.client.call("POST", "login", body), login_hint)

    def _device_login(self, reply: dict[str, Any], login_hint: str) -> dict[str, Any]:
        state = str(reply["state"])
        try:
            uri = navigable_url(reply.get("verification_uri"), "provider's device page")
            complete = (
                navigable_url(reply["verification_uri_complete"], "provider's device page")
                if reply.get("verification_uri_complete")
                else None
            )
        except UnsafeURLError:
            self._cancel_quietly(state)
            raise
        self._state = state
        expires_in = float(reply.get("expires_in") or self.callback_timeout)
        self._deadline = time.monotonic() + expires_in + 5  # the server ends it first, with a typed error
        shown = {
            "user_code": str(reply["user_code"]),
            "verification_uri": uri,
            "verification_uri_complete": complete,
            "expires_in": expires_in,
        }
        show_device_code(shown, login_hint, str(reply.get("display_name") or self.environment or ""))
        return shown

    def await_callback(self) -> TokenStore:
        """Block until the browser finished the sign-in; returns the tokens (refresh token: see class doc).

        Raises ``RuntimeError`` before ``start_login()``, ``TimeoutError`` (``LoginTimeoutError``)
        after ``callback_timeout`` seconds, ``IdentityMismatchError`` when someone else signed in.
        """
        if self._state is None:
            raise RuntimeError("Call start_login() before await_callback().")
        state = self._state
        try:
            while True:
                remaining = self._deadline - time.monotonic()
                if remaining <= 0:
                    self._cancel_quietly(state)
                    raise LoginTimeoutError(
                        f"No sign-in within {self.callback_timeout:g} s; start it again.", environment=self.environment
                    )
                wait = min(AWAIT_POLL_SECONDS, remaining)
                reply = self.client.call("POST", "await", {"state": state, "wait_seconds": wait}, timeout=wait + 10)
                if isinstance(reply, dict) and reply.get("status") == "signed_in":
                    break
        except KeyboardInterrupt:
            self._cancel_quietly(state)
            raise
        finally:
            if self._state == state:
                self._state = None
        session: dict[str, Any] = reply["session"]
        environment, application = session.get("environment"), session.get("application")
        self.client.forget(environment, application)
        self.tokens = self.client.get_token(environment, application, min_valid=0)
        return self.tokens

    def cancel_login(self) -> None:
        """Cancel the sign-in started by :meth:`start_login`."""
        if self._state is not None:
            state, self._state = self._state, None
            self.client.call("POST", "cancel", {"state": state})

    def refresh_token(self) -> TokenStore:
        """Refresh now (the server extension does it, with its refresh token); returns the new tokens."""
        self.tokens = self.client.refresh(self.environment, self.application)
        return self.tokens

    def _cancel_quietly(self, state: str) -> None:
        try:
            self.client.call("POST", "cancel", {"state": state}, timeout=5)
        except (OIDCError, OSError):
            pass


def show_device_code(device: dict[str, Any], login_hint: str = "", client: str = "") -> None:
    """Show a device sign-in's code and link: HTML under IPython, plain text elsewhere (papermill logs, scripts)."""
    uri, complete, code = device["verification_uri"], device.get("verification_uri_complete"), device["user_code"]
    who = f" as {login_hint}" if login_hint else ""
    text = (
        f"Device sign-in{who} to {client}: open {uri} on any device and enter the code {code}"
        + (f" (or open {complete})" if complete else "")
        + ". Enter it only if you started this sign-in."
    )
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is None or get_ipython() is None:
        print(text)  # the code must reach the person (a script, a papermill log)
        return
    link = complete or uri
    html_text = (
        f"<div>Sign in{' as <b>' + html.escape(login_hint) + '</b>' if login_hint else ''} to "
        f"<b>{html.escape(client)}</b>: open "
        f'<a href="{html.escape(link, quote=True)}" target="_blank" rel="noopener noreferrer">{html.escape(uri)}</a>'
        f' on any device and enter<div style="font-size:2em;font-family:monospace;letter-spacing:.1em">'
        f"{html.escape(code)}</div>Enter it only if you started this sign-in; then run "
        "<code>await_callback()</code>.</div>"
    )
    display({"text/html": html_text, "text/plain": text}, raw=True)


def show_link(url: str, login_hint: str = "", path: object = None) -> None:
    """Show a clickable sign-in link when running under IPython (plain URL in a terminal).

    Only http(s) URLs: anything else raises ``UnsafeURLError`` and shows nothing. ``path``, the
    start link as a path on this server (``start_path``), is what the HTML link points to:
    JupyterLab and Notebook 7 open it on the origin the person's browser uses (the kernel
    reaches the server at 127.0.0.1, which may not be the browser's host, e.g. under a hub).
    """
    url = navigable_url(url)
    href = path if isinstance(path, str) and path.startswith("/") and not path.startswith("//") else url
    if "\\" in href or any(c in href for c in "\r\n\t"):
        href = url
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is None:
        return
    who = f" as <b>{html.escape(login_hint)}</b>" if login_hint else ""
    link = (
        f'<a href="{html.escape(href, quote=True)}" target="_blank" rel="noopener noreferrer">'
        f"Sign in{who}</a> (opens the provider in a new tab; then run <code>await_callback()</code>)"
    )
    display({"text/html": link, "text/plain": f"Sign in: {url}"}, raw=True)
