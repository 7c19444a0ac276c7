"""Attacks on the kernel helper and ``jupyter oidc``: where tokens are sent, what is opened.

- ``OIDCBearer`` in a real kernel (the kernel tests' Jupyter server and provider) against two
  real APIs on 127.0.0.1 (two ports, two origins): a redirect to the other origin answered 401.
- ``jupyter oidc --url`` pointed at a real listener that poses as the Jupyter server, while the
  real test server (pytest-jupyter) runs with its token in the runtime directory and
  ``JUPYTER_TOKEN`` / ``JUPYTERHUB_API_TOKEN`` are set.
- Sign-in links that are not http(s), from a foreign server (the listener again): the kernel
  cell shows nothing, ``jupyter oidc login --open`` opens nothing (``BROWSER`` is a recorder).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..cli_support import EchoAPI, browser_recorder, echo_api, run_cli, run_subprocess
from ..kernel_support import ALICE, JupyterServer, RealKernel

CLIENTS = {
    "requests": "import requests\nr = requests.get(URL, auth=OIDCBearer(), timeout=10)\nresult(r.status_code)",
    "httpx": "import httpx\nwith httpx.Client(auth=OIDCBearer(), follow_redirects=True) as c:\n"
    "    result(c.get(URL).status_code)",
    "httpx-async": "import httpx\nasync with httpx.AsyncClient(auth=OIDCBearer(), follow_redirects=True) as c:\n"
    "    result((await c.get(URL)).status_code)",
}


@pytest.fixture
def echo() -> Iterator[EchoAPI]:
    """The API the token is for; or a foreign server."""
    with echo_api() as a:
        yield a


@pytest.fixture
def elsewhere() -> Iterator[EchoAPI]:
    """Another origin: 127.0.0.1, another port."""
    with echo_api() as a:
        yield a


# ------------------------------------------------------------------ OIDCBearer and redirects


@pytest.mark.security_case("bearer-cross-origin-redirect")
@pytest.mark.parametrize("library", list(CLIENTS))
def test_bearer_token_not_sent_across_redirect_to_another_origin(
    library: str, server: JupyterServer, fresh_kernel: RealKernel, echo: EchoAPI, elsewhere: EchoAPI
) -> None:
    # Given a signed-in user, and an API that redirects to another origin, which answers 401
    server.sign_in(ALICE)
    fresh_kernel.run("from jupyterlab_oidc import OIDCBearer, get_token\nget_token()")
    server.idp.reset_stats()
    elsewhere.reset(reject=100)
    url = echo.redirect_url(elsewhere.url("/data"))
    # When
    cell = fresh_kernel.run(CLIENTS[library].replace("URL", repr(url)))
    # Then the 401 comes back as it is: the other origin never saw a token, none was refreshed for it
    assert cell.value == 401
    assert elsewhere.seen and not any(s.credential for s in elsewhere.seen)
    assert [s.path for s in echo.seen] == ["/redirect"]
    assert server.idp.token_calls("refresh_token") == 0


# ------------------------------------------------------------------ jupyter oidc --url and credentials


@pytest.fixture
def server_url(jp_fetch: Any, jp_http_port: int, jp_base_url: str) -> str:
    """The real test server (jp_fetch makes it listen; its jpserver-*.json holds its token)."""
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}"


def _foreign(kind: str, jp_http_port: int) -> tuple[str, int]:
    """Where the poser listens: another port on the same host, or the same port on another host."""
    return ("127.0.0.2", jp_http_port) if kind == "same-port-other-host" else ("127.0.0.1", 0)


@pytest.mark.security_case("cli-credential-to-foreign-url")
@pytest.mark.parametrize("kind", ["other-port-same-path", "same-port-other-host", "other-hub-user"])
async def test_cli_does_not_send_local_token_to_foreign_url(
    kind: str, server_url: str, jupyter_token: str, jp_http_port: int, jp_base_url: str
) -> None:
    # Given a listener posing as a Jupyter server at a URL no local credential belongs to
    host, port = _foreign(kind, jp_http_port)
    with echo_api(host, port) as poser:
        poser.reset(status=403)
        path = "/user/bob/" if kind == "other-hub-user" else jp_base_url
        environ = {
            "JUPYTER_TOKEN": jupyter_token,
            "JUPYTERHUB_API_TOKEN": "hub-api-token-of-alice",
            # the hub describes alice's own server: the poser's origin, but alice's prefix
            "JUPYTERHUB_SERVICE_URL": f"{poser.origin}/user/alice/" if kind == "other-hub-user" else server_url,
            "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/",
        }
        # When
        result = await run_cli("status", "--json", "--url", f"{poser.origin}{path}", environ=environ)
    # Then it asked, with no credential at all, and says to pass --token
    assert poser.seen and not any(s.credential for s in poser.seen)
    assert result.code == 4 and result.json["error"] == "server_refused" and "--token" in result.json["message"]


# ------------------------------------------------------------------ links that are not http(s)

UNSAFE_LINKS = {
    "javascript": {"url": "javascript:alert(document.cookie)//", "start_url": "javascript:alert(document.cookie)//"},
    "data": {"url": "data:text/html,<script>alert(1)</script>", "start_url": ""},
    "file": {"url": "file:///etc/passwd", "start_url": ""},
    "safe-start-unsafe-provider": {
        "url": "javascript:alert(1)//",
        "start_url": "http://127.0.0.1:9/oidc/start?state=s",
    },
    "no-host": {"url": "https:///path", "start_url": ""},
}


def _login_answer(poser: EchoAPI, links: dict[str, str]) -> None:
    poser.reset()
    poser.answers = {
        "/oidc/login": (200, {**links, "state": "s-1", "expires_in": 300}),
        "/oidc/cancel": (200, {"cancelled": True}),
        "/oidc/environments": (200, {"environments": []}),
    }


@pytest.mark.security_case("kernel-non-http-sign-in-link")
@pytest.mark.parametrize("name", list(UNSAFE_LINKS))
def test_non_http_sign_in_link_is_never_shown_in_a_kernel_cell(
    name: str, fresh_kernel: RealKernel, echo: EchoAPI
) -> None:
    # Given a server (here a foreign one) that answers POST oidc/login with a link that is not http(s)
    _login_answer(echo, UNSAFE_LINKS[name])
    # When a cell starts the sign-in
    cell = fresh_kernel.run(
        f"""
        from jupyterlab_oidc import OIDCAuth
        from jupyterlab_oidc.kernel import TokenClient, UnsafeURLError
        from jupyterlab_oidc.kernel.http_channel import ServerEndpoint
        auth = OIDCAuth(client=TokenClient(ServerEndpoint(url={echo.url("/")!r}), use_comm=False))
        try:
            auth.start_login("alice@example.com")
        except UnsafeURLError as e:
            result([e.code, str(e)])
        """
    )
    # Then a typed error, no link displayed, the sign-in cancelled, no Jupyter token sent there
    code, message = cell.value
    assert code == "unsafe_url" and "only http: and https:" in message
    assert "alert" not in message and "passwd" not in message
    assert cell.displays == []
    assert [(s.method, s.path) for s in echo.seen] == [("POST", "/oidc/login"), ("POST", "/oidc/cancel")]
    assert not any(s.credential for s in echo.seen)


@pytest.mark.security_case("cli-open-non-http-link")
@pytest.mark.parametrize("name", list(UNSAFE_LINKS))
async def test_cli_login_open_refuses_a_non_http_link(name: str, echo: EchoAPI, tmp_path: Path) -> None:
    # Given a server (here a foreign one) whose sign-in link is not http(s), and a recording browser
    _login_answer(echo, UNSAFE_LINKS[name])
    browser, opened = browser_recorder(tmp_path)
    env = {"BROWSER": browser, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    # When
    result = await run_subprocess("login", ALICE, "--open", "--json", "--url", echo.url("/"), env=env)
    # Then nothing was opened or printed, the sign-in was cancelled, the error is typed
    assert result.code == 5 and result.json["error"] == "unsafe_url", result
    assert not opened.exists()
    assert "alert" not in result.stdout + result.stderr and "passwd" not in result.stdout + result.stderr
    assert ("POST", "/oidc/cancel") in [(s.method, s.path) for s in echo.seen]
