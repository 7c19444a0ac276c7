"""``jupyter oidc`` finding the server, and which credential it sends where (docs/cli.md,
"Which server"), against the real test server and real listeners posing as servers."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from jupyterlab_oidc.cli import exits
from jupyterlab_oidc.cli.local import hub_scopes, scope_of_server, scope_of_url

from .cli_support import browser_recorder, echo_api, run_cli, run_subprocess
from .idp import ALICE


@pytest.fixture
def server_url(jp_fetch: Any, jp_http_port: int, jp_base_url: str) -> str:
    """The test server's URL (jp_fetch makes it listen)."""
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}"


# ------------------------------------------------------------------ finding the server


async def test_finds_the_server_like_jupyter_server_list(server_url: str, sign_in: Any) -> None:
    # Given no --url, no token: only the runtime directory's jpserver-*.json (pytest-jupyter's)
    await sign_in("alice@example.com")
    # When
    result = await run_cli("status", "--json", environ={})
    # Then
    assert result.code == exits.OK and result.json["sessions"][0]["email"] == "alice@example.com"


async def test_finds_the_server_a_jupyterlab_terminal_runs_in(server_url: str, sign_in: Any) -> None:
    # Given the variable the extension exports to its kernels and terminals (token from the runtime file)
    await sign_in("alice@example.com")
    # When
    result = await run_cli("token", environ={"JUPYTERLAB_OIDC_SERVER_URL": server_url})
    # Then
    assert result.code == exits.OK and result.stdout.strip()


async def test_finds_the_users_server_under_jupyterhub(
    jp_http_port: int, jp_base_url: str, jupyter_token: str, server_url: str, sign_in: Any
) -> None:
    # Given what JupyterHub puts into a single-user server's environment (it binds 0.0.0.0)
    await sign_in("alice@example.com")
    environ = {
        "JUPYTERHUB_API_TOKEN": jupyter_token,
        "JUPYTERHUB_SERVICE_URL": f"http://0.0.0.0:{jp_http_port}{jp_base_url}",
    }
    # When
    result = await run_cli("status", "--json", environ=environ)
    # Then
    assert result.code == exits.OK and result.json["sessions"][0]["email"] == "alice@example.com"


async def test_url_without_token_sends_the_token_of_the_local_server_at_that_url(
    jp_http_port: int, jp_base_url: str, server_url: str, sign_in: Any
) -> None:
    # Given only --url (localhost: the server's jpserver-*.json says localhost, we connect to either)
    await sign_in(ALICE)
    for host in ("localhost", "127.0.0.1"):
        # When
        result = await run_cli("status", "--json", "--url", f"http://{host}:{jp_http_port}{jp_base_url}", environ={})
        # Then
        assert result.code == exits.OK and result.json["sessions"][0]["email"] == ALICE


async def test_jupyterhub_api_token_goes_to_the_users_own_server_url(
    jp_http_port: int,
    jp_base_url: str,
    jupyter_token: str,
    server_url: str,
    sign_in: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given no local server file, and the hub's description of the user's server (it binds 0.0.0.0)
    await sign_in(ALICE)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "empty"))
    environ = {
        "JUPYTERHUB_API_TOKEN": jupyter_token,
        "JUPYTERHUB_SERVICE_URL": f"http://0.0.0.0:{jp_http_port}{jp_base_url}",
    }
    # When
    mine = await run_cli("status", "--json", "--url", server_url, environ=environ)
    other_path = await run_cli("status", "--json", "--url", f"{server_url}elsewhere/", environ=environ)
    # Then
    assert mine.code == exits.OK and mine.json["sessions"][0]["email"] == ALICE
    assert other_path.code == exits.NO_SERVER  # under the prefix, so the token went: the extension is not there
    assert other_path.json["error"] == "extension_not_loaded"


async def test_url_of_another_server_gets_no_credential_and_the_error_says_token(server_url: str) -> None:
    with echo_api() as other:
        other.reset(status=401)
        result = await run_cli("status", "--json", "--url", other.url("/"), environ={"JUPYTER_TOKEN": "t"})
    assert [s.credential for s in other.seen] == [False]
    assert result.code == exits.NO_SERVER and "--token" in result.json["message"]


async def test_an_explicit_token_goes_to_the_url_given(server_url: str) -> None:
    with echo_api() as other:
        other.reset(status=401)
        await run_cli("status", "--url", other.url("/"), "--token", "given", environ={})
    assert [s.credential for s in other.seen] == [True]


@pytest.mark.parametrize(
    ("url", "covered"),
    [
        ("http://127.0.0.1:8888/user/alice/", True),
        ("http://localhost:8888/user/alice/oidc/", True),
        ("http://[::1]:8888/user/alice/", True),
        ("http://127.0.0.1:8888/user/alice2/", False),
        ("http://127.0.0.1:8888/user/bob/", False),
        ("http://127.0.0.1:8888/user/alice/../bob/", False),
        ("http://127.0.0.1:8888/user/alice/%2e%2e/bob/", False),
        ("https://127.0.0.1:8888/user/alice/", False),
        ("http://127.0.0.1:8889/user/alice/", False),
        ("http://127.0.0.2:8888/user/alice/", False),
        ("http://127.0.0.1:8888@evil.example/user/alice/", False),
        ("http://evil.example:8888/user/alice/", False),
        ("https://hub.example.com/user/alice/", True),
        ("https://hub.example.com:443/user/alice/x/", True),
        ("https://hub.example.com/user/bob/", False),
        ("https://hub.example.com/hub/", False),
        ("http://hub.example.com/user/alice/", False),
        ("javascript:alert(1)//127.0.0.1:8888/user/alice/", False),
    ],
)
def test_the_hub_token_scope_is_the_users_own_server(url: str, covered: bool) -> None:
    environ = {
        "JUPYTERHUB_SERVICE_URL": "http://0.0.0.0:8888/user/alice/",
        "JUPYTERHUB_PUBLIC_HUB_URL": "https://hub.example.com/hub/",
        "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/",
    }
    assert any(scope.covers(url) for scope in hub_scopes(environ)) is covered


def test_a_local_servers_scope_is_its_own_url() -> None:
    concrete = scope_of_server(
        {"url": "https://10.0.0.5:9999/lab%40x/", "hostname": "10.0.0.5", "port": 9999, "base_url": "/lab%40x/"}
    )
    assert concrete is not None and concrete.covers("https://10.0.0.5:9999/lab@x/")
    assert not concrete.covers("https://127.0.0.1:9999/lab@x/") and not concrete.covers("http://10.0.0.5:9999/lab@x/")
    assert not concrete.covers("https://10.0.0.5:9999/")
    local = scope_of_server({"url": "http://localhost:8888/", "hostname": "localhost", "port": 8888, "base_url": "/"})
    assert local is not None and local.covers("http://127.0.0.1:8888/") and local.covers("http://[::1]:8888/")
    assert scope_of_url("file:///tmp/x") is None


# ------------------------------------------------------------------ login --open


async def test_login_open_opens_the_start_link_in_the_browser(
    server_url: str, jupyter_token: str, api: Any, tmp_path: Path
) -> None:
    # Given a browser that records what it is asked to open
    browser, opened = browser_recorder(tmp_path)
    env = {"BROWSER": browser, **{k: "" for k in os.environ if k.startswith("JUPYTERHUB_")}}
    running = asyncio.ensure_future(
        run_subprocess("login", ALICE, "--open", "--url", server_url, "--token", jupyter_token, env=env)
    )
    # When the command has opened it (then the sign-in is cancelled)
    for _ in range(400):
        if opened.exists() and opened.read_text().strip():
            break
        await asyncio.sleep(0.05)
    for pending in (await api("GET", "status")).body["pending"]:
        await api("POST", "cancel", {"state": pending["state"]})
    result = await running
    # Then the start link was opened
    assert opened.read_text().strip().startswith(f"{server_url}oidc/start?state="), result


@pytest.mark.parametrize("as_json", [False, True])
async def test_logout_does_not_show_an_end_session_link_that_is_not_http(as_json: bool) -> None:
    with echo_api() as other:
        other.answers = {"/oidc/logout": (200, {"signed_out": True, "end_session_url": "javascript:alert(1)//"})}
        result = await run_cli("logout", *(["--json"] if as_json else []), "--url", other.url("/"), environ={})
    assert result.code == exits.OK and "javascript" not in result.stdout + result.stderr
    if as_json:
        assert result.json["signed_out"] is True and result.json["end_session_url"] is None
    else:
        assert "not http(s); not shown" in result.stdout
