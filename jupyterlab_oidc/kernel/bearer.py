"""``OIDCBearer``: bearer-token auth for requests and httpx, with one retry after a 401.

``requests.get(url, auth=OIDCBearer())`` and ``httpx.Client(auth=OIDCBearer())``. On a
401 it asks the server extension for a token other than the refused one (the server
refreshes unless another caller already did) and sends the request once more.

The token goes only to the origin (scheme, host, port) of the request it was attached to.
Redirects are the library's business (both drop the header when the origin changes, except
httpx/requests keep it on a same-host http→https upgrade); a 401 retry, which attaches a fresh
token, happens only when the 401 came from the original request's origin: after a redirect to
another origin the 401 is returned as it is, and nothing is refreshed.

In JupyterLite (Pyodide) there is no httpx: ``requests`` patched by ``pyodide_http`` takes
``auth=OIDCBearer()`` (the token the page pushed, see ``kernel/lite.py``), and
``pyodide.http.pyfetch(url, headers=await OIDCBearer().headers())`` the header.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Generator
from functools import partial
from typing import Any

try:
    import httpx
except ImportError:  # JupyterLite (Pyodide): requests under pyodide-http, or pyfetch
    httpx = None  # type: ignore[assignment]

from .client import TokenClient, default_client, token_sha256
from .environment import Environment, environment_name
from .tokenstore import TokenStore
from .urls import same_origin


class OIDCBearer(httpx.Auth if httpx is not None else object):  # type: ignore[misc]
    """Adds ``Authorization: Bearer <token>`` from :func:`get_token`; retries once after a 401."""

    requires_request_body = False
    requires_response_body = False

    def __init__(
        self,
        environment: Environment | str | None = None,
        application: str | None = None,
        min_valid: float = 60,
        *,
        client: TokenClient | None = None,
    ) -> None:
        self.environment = environment_name(environment)
        self.application = application or None
        self.min_valid = min_valid
        self._client = client

    def __repr__(self) -> str:
        return f"OIDCBearer(environment={self.environment!r}, application={self.application!r})"

    @property
    def client(self) -> TokenClient:
        return self._client or default_client()

    def token(self) -> TokenStore:
        return self.client.get_token(self.environment, self.application, self.min_valid)

    async def headers(self, headers: dict[str, str] | None = None) -> dict[str, str]:
        """``headers`` plus ``Authorization`` (``pyfetch(url, headers=await auth.headers())``)."""
        token = await self.client.get_token_async(self.environment, self.application, self.min_valid)
        return {**(headers or {}), "Authorization": token.authorization}

    def refreshed(self, refused: str | None) -> TokenStore:
        """A token other than ``refused`` (the one the API answered 401 to)."""
        rejected = token_sha256(refused) if refused else None
        return self.client.refresh(self.environment, self.application, rejected)

    # ---------------------------------------------------------------- requests

    def __call__(self, request: Any) -> Any:
        """requests' auth protocol: set the header and watch the response for a 401."""
        request.headers["Authorization"] = self.token().authorization
        # requests copies the hook onto redirected requests: remember where the token belongs.
        request.register_hook("response", partial(self._retry_after_401, token_origin=str(request.url)))
        return request

    def _retry_after_401(self, response: Any, token_origin: str = "", **kwargs: Any) -> Any:
        sent = response.request
        connection = getattr(response, "connection", None)  # pyodide-http's responses have none
        if response.status_code != 401 or getattr(sent, "_oidc_retried", False) or connection is None:
            return response
        if not same_origin(str(sent.url), token_origin):
            return response  # a redirect took the request elsewhere: no token goes there
        refused = _bearer_of(sent.headers.get("Authorization"))
        token = self.refreshed(refused)
        response.content  # noqa: B018  (read it so the connection can be reused)
        response.close()
        retry = sent.copy()
        retry._oidc_retried = True
        retry.headers["Authorization"] = token.authorization
        answer = connection.send(retry, **kwargs)
        answer.history.append(response)
        answer.request = retry
        return answer

    # ---------------------------------------------------------------- httpx

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.token()
        request.headers["Authorization"] = token.authorization
        response = yield request
        if _retry(request, response):
            request.headers["Authorization"] = self.refreshed(token.access_token).authorization
            yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.client.get_token_async(self.environment, self.application, self.min_valid)
        request.headers["Authorization"] = token.authorization
        response = yield request
        if _retry(request, response):
            loop = asyncio.get_running_loop()
            fresh = await loop.run_in_executor(None, partial(self.refreshed, token.access_token))
            request.headers["Authorization"] = fresh.authorization
            yield request


def _retry(request: httpx.Request, response: httpx.Response) -> bool:
    """A 401 from the request's own origin (httpx hands the flow the response after redirects)."""
    return response.status_code == 401 and same_origin(str(response.request.url), str(request.url))


def _bearer_of(header: str | None) -> str | None:
    if header and header[:7].lower() == "bearer ":
        return header[7:]
    return None
