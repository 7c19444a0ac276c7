"""What every ``oidc/`` handler shares: the broker, JSON bodies, ``OIDCError`` → status + JSON, page headers."""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.base.handlers import APIHandler, JupyterHandler

from ..core.broker import Broker
from ..core.pages import PAGE_HEADERS
from ..core.signin.binding import cookie_name
from ..errors import InvalidRequestError, OIDCError

AUTH_RESOURCE = "oidc"


class OIDCHandler(APIHandler):
    """Base: exposes the broker and answers ``OIDCError`` as ``{error, message}`` JSON."""

    auth_resource = AUTH_RESOURCE

    @property
    def broker(self) -> Broker:
        return self.settings["jupyterlab_oidc_broker"]

    def body(self) -> dict[str, Any]:
        """The JSON body (an empty body is ``{}``); anything but an object is refused."""
        if not self.request.body:
            return {}
        try:
            body = json.loads(self.request.body)
        except ValueError:
            raise InvalidRequestError("The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise InvalidRequestError("The request body must be a JSON object.")
        return body

    def origin(self) -> str:
        """Scheme and host the browser used to reach this server."""
        return f"{self.request.protocol}://{self.request.host}"

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, OIDCError):
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(exc.to_json()))
            return
        super().write_error(status_code, **kwargs)

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, OIDCError):
            self.log.info("jupyterlab_oidc: %s %s -> %s", self.request.method, self.request.path, e.code)
            self.send_error(e.status, exc_info=(type(e), e, e.__traceback__))
            return
        super()._handle_request_exception(e)  # type: ignore[arg-type]


def text_field(body: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise InvalidRequestError(f"'{name}' is required.")
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(f"'{name}' must be a string.")
    return value


def number_field(body: dict[str, Any], name: str, default: float | None) -> float | None:
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != value:
        raise InvalidRequestError(f"'{name}' must be a non-negative number of seconds.")
    try:
        return float(value)
    except OverflowError:  # an integer too large for a float (JSON allows any length)
        raise InvalidRequestError(f"'{name}' must be a non-negative number of seconds.") from None


def set_binding_cookie(handler: JupyterHandler, base_url: str, state: str, secret: str, max_age: float) -> None:
    """The browser's proof that it started ``state``: HttpOnly, SameSite=Lax, callback path only."""
    handler.set_cookie(
        cookie_name(state),
        secret,
        path=f"{base_url}oidc/callback",
        httponly=True,
        samesite="Lax",
        secure=handler.request.protocol == "https",
        max_age=max(int(max_age), 1),
    )


class PageHandler(JupyterHandler):
    """Base of the HTML routes a sign-in tab visits: the security headers of ``pages.py``."""

    @property
    def broker(self) -> Broker:
        return self.settings["jupyterlab_oidc_broker"]

    def origin(self) -> str:
        """Scheme and host the browser used to reach this server."""
        return f"{self.request.protocol}://{self.request.host}"

    def page(self, status: int, body: str) -> None:
        self.set_status(status)
        for name, value in PAGE_HEADERS.items():
            self.set_header(name, value)
        self.finish(body)

    def _request_summary(self) -> str:
        """Tornado logs ``method uri (ip)``; the query holds a code or a state, so log the path."""
        return f"{self.request.method} {self.request.path} ({self.request.remote_ip})"
