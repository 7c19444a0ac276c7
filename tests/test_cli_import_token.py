"""``jupyter oidc import-token``: a refresh token from stdin or a file, never from argv, against the real provider."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from jupyterlab_oidc.cli import exits

from .cli_support import JUPYTER, Result, run_cli
from .idp import IdentityProvider
from .test_grants import tokens_from_elsewhere


@pytest.fixture
def server_url(jp_fetch: Any, jp_http_port: int, jp_base_url: str) -> str:
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}"


@pytest.fixture
def jupyter_token(jp_auth_header: dict[str, str]) -> str:
    return jp_auth_header["Authorization"].split(" ", 1)[1]


@pytest.fixture
def cli(server_url: str, jupyter_token: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``await cli("import-token", stdin="...")`` → ``Result``, in-process against the test server."""

    async def run(*argv: str, stdin: str = "") -> Result:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return await run_cli(*argv, "--url", server_url, "--token", jupyter_token)

    return run


async def offline_token(idp: IdentityProvider, email: str = "alice@example.com") -> str:
    return str((await tokens_from_elsewhere(idp, email))["refresh_token"])


async def test_import_token_from_a_pipe_starts_a_session(
    server_url: str, jupyter_token: str, api: Any, idp: IdentityProvider
) -> None:
    # Given a refresh token from a sign-in done elsewhere, piped into the real console script
    token = await offline_token(idp)
    process = await asyncio.create_subprocess_exec(
        str(JUPYTER),
        "oidc",
        "import-token",
        "--url",
        server_url,
        "--token",
        jupyter_token,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ},
    )
    # When
    stdout, stderr = await asyncio.wait_for(process.communicate(f"{token}\n".encode()), 60)
    # Then
    assert process.returncode == exits.OK, stderr.decode()
    assert "Signed in as alice@example.com to prod" in stdout.decode()
    assert token not in stdout.decode() + stderr.decode()
    sessions = (await api("GET", "status")).body["sessions"]
    summary = [(s["environment"], s["email"], s["has_refresh_token"]) for s in sessions]
    assert summary == [("prod", "alice@example.com", True)]
    access = (await api("POST", "token", {})).body["access_token"]
    assert idp.userinfo(access).status_code == 200


async def test_import_token_from_a_file_with_login_hint(
    cli: Any, api: Any, idp: IdentityProvider, tmp_path: Path
) -> None:
    token_file = tmp_path / "token.txt"
    token_file.write_text(f"\n  {await offline_token(idp)}  \n")
    result = await cli("import-token", "--file", str(token_file), "--login-hint", "alice@example.com", "--json")
    assert result.code == exits.OK, result.stderr
    assert result.json["email"] == "alice@example.com" and "refresh_token" not in result.json
    assert [s["email"] for s in (await api("GET", "status")).body["sessions"]] == ["alice@example.com"]


@pytest.mark.security_case("cli-token-in-argv")
async def test_a_refresh_token_on_the_command_line_is_refused(cli: Any, api: Any, idp: IdentityProvider) -> None:
    # Given a real token, typed as an argument
    token = await offline_token(idp)
    idp.reset_stats()
    # When
    result = await cli("import-token", token, "--json")
    # Then: usage error, the reason given, the token never repeated, the provider never asked
    assert result.code == exits.USAGE and result.json["error"] == "token_in_argv"
    assert "visible to other users" in result.stderr and "shell history" in result.stderr
    assert token not in result.stdout + result.stderr
    assert idp.token_calls("refresh_token") == 0
    assert (await api("GET", "status")).body["sessions"] == []


async def test_an_imported_token_for_someone_else_than_login_hint_stores_nothing(
    cli: Any, api: Any, idp: IdentityProvider
) -> None:
    token = await offline_token(idp, "bob@example.com")
    result = await cli("import-token", "--login-hint", "alice@example.com", "--json", stdin=token)
    assert result.code == exits.ERROR and result.json["error"] == "identity_mismatch"
    assert token not in result.stdout + result.stderr
    assert (await api("GET", "status")).body["sessions"] == []


@pytest.mark.parametrize("stdin", ["", "\n  \n", "tok-first\ntok-second\n"], ids=["empty", "blank", "two-lines"])
async def test_import_token_without_exactly_one_token_is_a_usage_error(cli: Any, api: Any, stdin: str) -> None:
    result = await cli("import-token", stdin=stdin)
    assert result.code == exits.USAGE
    assert "tok-" not in result.stdout + result.stderr  # the input is not echoed
    assert (await api("GET", "status")).body["sessions"] == []


async def test_an_unreadable_token_file_is_a_usage_error(cli: Any, tmp_path: Path) -> None:
    result = await cli("import-token", "--file", str(tmp_path / "missing.txt"))
    assert result.code == exits.USAGE and "Cannot read" in result.stderr
