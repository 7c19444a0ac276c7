"""``jupyter oidc`` against a real Jupyter server with the extension and the real test provider.

Most runs call ``main(argv)`` in a worker thread with ``--url``/``--token`` of the test server;
the server-lookup tests leave those out, and a few run the installed console script.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from jupyterlab_oidc.cli import exits
from jupyterlab_oidc.cli.tokencheck import ORDER

from .cli_support import Stream, run_cli, run_subprocess
from .idp import bind_browser, provider_login
from .support import token_fields


@pytest.fixture
def server_url(jp_fetch: Any, jp_http_port: int, jp_base_url: str) -> str:
    """The test server's URL (jp_fetch makes it listen)."""
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}"


@pytest.fixture
def jupyter_token(jp_auth_header: dict[str, str]) -> str:
    return jp_auth_header["Authorization"].split(" ", 1)[1]


@pytest.fixture
def cli(server_url: str, jupyter_token: str) -> Any:
    """``await cli("status", "--json")`` → ``Result``, against the test server."""

    async def run(*argv: str, stdout: Stream | None = None, stderr: Stream | None = None) -> Any:
        return await run_cli(*argv, "--url", server_url, "--token", jupyter_token, stdout=stdout, stderr=stderr)

    return run


# ------------------------------------------------------------------ environments


async def test_environments_lists_the_configured_environments(cli: Any, idp: Any) -> None:
    # When
    table, as_json = await cli("environments"), await cli("environments", "--json")
    # Then
    assert table.code == as_json.code == exits.OK
    assert re.search(
        rf"\* prod\s+prod\s+{re.escape(idp.issuer)}\s+jupyterlab-oidc\s+auto\s+spatial_engine", table.stdout
    )
    assert re.search(r"  dev\s+Development\s", table.stdout)
    assert as_json.json["default_environment"] == "prod"
    assert [e["name"] for e in as_json.json["environments"]] == ["prod", "dev"]
    assert "client_secret" not in as_json.stdout


# ------------------------------------------------------------------ login


async def test_login_prints_the_start_link_waits_and_prints_who_signed_in(
    cli: Any, server_url: str, jupyter_token: str, browser: httpx.AsyncClient, callback_prefix: str
) -> None:
    # Given a person who opens the printed link in a browser logged in to Jupyter
    stdout = Stream()
    running = asyncio.ensure_future(cli("login", "alice@example.com", stdout=stdout))
    printed = await stdout.wait_for("Waiting for the sign-in")
    url = re.search(r"^  (http\S+)$", printed, re.M)
    assert url, printed
    assert url.group(1).startswith(f"{server_url}oidc/start?state=")
    # When
    provider_url = await bind_browser(browser, url.group(1), jupyter_token)
    callback = await provider_login(browser, provider_url, None, callback_prefix)
    await browser.get(callback)
    result = await running
    # Then
    assert result.code == exits.OK, result
    assert re.search(
        r"Signed in as alice@example\.com \(Alice Example\) to prod; the access token expires in \d+ min", result.stdout
    )


async def test_login_json_prints_the_url_on_stderr_and_one_document_on_stdout(
    server_url: str, jupyter_token: str, browser: httpx.AsyncClient, callback_prefix: str
) -> None:
    # Given
    stdout, stderr = Stream(), Stream()
    argv = ("login", "--env", "dev", "bob@example.com", "--json", "--url", server_url, "--token", jupyter_token)
    running = asyncio.ensure_future(run_cli(*argv, stdout=stdout, stderr=stderr))
    url = re.search(r"^  (http\S+)$", await stderr.wait_for("Waiting"), re.M)
    assert url and stdout.getvalue() == ""
    # When
    provider_url = await bind_browser(browser, url.group(1), jupyter_token)
    await browser.get(await provider_login(browser, provider_url, None, callback_prefix))
    result = await running
    # Then
    assert result.code == exits.OK
    assert result.json["status"] == "signed_in"
    session = result.json["session"]
    assert (session["environment"], session["email"], session["has_refresh_token"]) == ("dev", "bob@example.com", True)
    assert not token_fields(result.json)


async def test_login_cancelled_elsewhere_ends_with_exit_5_and_a_json_error(cli: Any, api: Any) -> None:
    # Given
    stdout, stderr = Stream(), Stream()
    running = asyncio.ensure_future(cli("login", "carol@example.com", "--json", stdout=stdout, stderr=stderr))
    await stderr.wait_for("Waiting")
    pending = (await api("GET", "status")).body["pending"]
    # When
    await api("POST", "cancel", {"state": pending[0]["state"]})
    result = await running
    # Then
    assert result.code == exits.ERROR
    assert result.json["error"] == "login_cancelled" and result.json["exit_code"] == exits.ERROR
    assert "cancelled" in result.stderr


async def test_login_as_someone_else_fails_with_identity_mismatch_and_exit_5(
    cli: Any, jupyter_token: str, browser: httpx.AsyncClient, callback_prefix: str
) -> None:
    # Given
    stdout = Stream()
    running = asyncio.ensure_future(cli("login", "alice@example.com", stdout=stdout))
    url = re.search(r"^  (http\S+)$", await stdout.wait_for("Waiting"), re.M)
    assert url
    # When bob is at the keyboard
    provider_url = await bind_browser(browser, url.group(1), jupyter_token)
    callback = await provider_login(browser, provider_url, "bob@example.com", callback_prefix)
    await browser.get(callback)
    result = await running
    # Then
    assert result.code == exits.ERROR
    assert "You signed in as bob@example.com, but this sign-in was for alice@example.com" in result.stderr


# ------------------------------------------------------------------ status, token, whoami


async def test_status_when_not_signed_in_exits_3(cli: Any) -> None:
    # When
    table, as_json = await cli("status"), await cli("status", "--json")
    # Then
    assert table.code == as_json.code == exits.NOT_SIGNED_IN
    assert "Not signed in. Sign in with: jupyter oidc login EMAIL" in table.stdout
    assert as_json.json["sessions"] == [] and as_json.json["default_environment"] == "prod"


async def test_status_is_a_table_of_environment_email_and_expiry(cli: Any, sign_in: Any) -> None:
    # Given
    await sign_in("alice@example.com")
    await sign_in("bob@example.com", environment="dev")
    # When
    table, as_json, only_dev = await cli("status"), await cli("status", "--json"), await cli("status", "--env", "dev")
    # Then
    assert table.code == as_json.code == only_dev.code == exits.OK
    lines = table.stdout.splitlines()
    assert re.match(r"ENVIRONMENT\s+EMAIL\s+EXPIRES IN\s+REFRESH TOKEN$", lines[0])
    assert any(re.match(r"prod\s+alice@example\.com\s+(4|5) min\s+yes$", line) for line in lines[1:]), lines
    assert any(re.match(r"dev\s+bob@example\.com\s+(4|5) min\s+yes$", line) for line in lines[1:]), lines
    assert "alice" not in only_dev.stdout
    sessions = {s["environment"]: s for s in as_json.json["sessions"]}
    assert sessions["prod"]["email"] == "alice@example.com" and 0 < sessions["prod"]["expires_in"] <= 300
    assert not token_fields(as_json.json)


async def test_token_prints_only_the_access_token(cli: Any, sign_in: Any, idp: Any) -> None:
    # Given
    await sign_in("alice@example.com")
    # When
    plain = await cli("token")
    as_json = await cli("token", "--json", "--min-valid", "30")
    id_token = await cli("token", "--id-token")
    # Then
    assert plain.code == as_json.code == id_token.code == exits.OK
    assert plain.stdout.endswith("\n") and plain.stdout.strip() == plain.stdout[:-1] and " " not in plain.stdout.strip()
    assert idp.userinfo(plain.stdout.strip()).status_code == 200
    body = as_json.json
    assert (body["access_token"], body["token_type"], body["email"]) == (
        plain.stdout.strip(),
        "Bearer",
        "alice@example.com",
    )
    assert "refresh_token" not in body and body["expires_in"] > 30
    assert id_token.stdout.count(".") == 2 and id_token.stdout.strip() == body["id_token"]


async def test_token_when_not_signed_in_exits_3_with_the_server_error(cli: Any) -> None:
    # When
    result = await cli("token", "--env", "dev", "--json")
    # Then
    assert result.code == exits.NOT_SIGNED_IN and result.stdout.count("\n") > 1
    assert result.json["error"] == "not_authenticated" and result.json["environment"] == "dev"
    assert "Not signed in to 'dev'" in result.stderr


async def test_whoami_prints_the_userinfo(cli: Any, sign_in: Any) -> None:
    # Given
    await sign_in("alice@example.com")
    # When
    plain, as_json = await cli("whoami"), await cli("whoami", "--json")
    # Then
    assert plain.code == as_json.code == exits.OK
    assert plain.stdout.startswith("alice@example.com (Alice Example)\n") and "  sub: user-alice" in plain.stdout
    assert as_json.json["environment"] == "prod"
    assert as_json.json["userinfo"]["sub"] == "user-alice" and as_json.json["userinfo"]["email_verified"] is True


# ------------------------------------------------------------------ check


async def test_check_passes_every_step_of_a_fresh_id_token(cli: Any, sign_in: Any, idp: Any) -> None:
    # Given
    await sign_in("alice@example.com")
    jwks = httpx.get(idp.url("/jwks")).json()
    # When
    plain, as_json = await cli("check"), await cli("check", "--json")
    # Then
    assert plain.code == as_json.code == exits.OK, plain.stdout
    report = as_json.json
    assert [s["name"] for s in report["steps"]] == list(ORDER)
    assert {s["outcome"] for s in report["steps"]} == {"pass"} and report["valid"] is True
    key = KeySet.import_key_set(jwks).get_by_kid(report["header"]["kid"])
    assert report["thumbprint"] == key.thumbprint()
    assert report["payload"]["email"] == "alice@example.com"
    # ... and the id_token it checked is the one the server holds, signed by the provider's key
    id_token = (await cli("token", "--id-token")).stdout.strip()
    verified = jwt.decode(id_token, KeySet.import_key_set(jwks))
    assert verified.claims == report["payload"] and verified.header["kid"] == report["header"]["kid"]
    assert re.search(r"^PASS  signature\s+Valid RS256 signature by key ", plain.stdout, re.M)
    assert plain.stdout.rstrip().endswith("The id_token checks out.")


async def test_check_fails_a_tampered_id_token_with_exit_1(cli: Any, sign_in: Any, broker: Any) -> None:
    # Given an id_token whose payload was changed after signing
    await sign_in("alice@example.com")
    session = broker.sessions["prod"]
    header, _, signature = session.id_token.split(".")
    forged = dict(
        session.identity, sub="user-bob", iss=session.issuer, aud=session.client_id, exp=2**31, iat=1, nonce="x"
    )
    payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
    session.id_token = f"{header}.{payload}.{signature}"
    # When
    result = await cli("check", "--json")
    # Then
    assert result.code == exits.FAILED
    outcomes = {s["name"]: s["outcome"] for s in result.json["steps"]}
    assert outcomes["signature"] == "fail" and outcomes["key"] == "pass" and result.json["valid"] is False


async def test_check_when_not_signed_in_exits_3(cli: Any) -> None:
    result = await cli("check")
    assert result.code == exits.NOT_SIGNED_IN


# ------------------------------------------------------------------ logout


async def test_logout_signs_out_and_offers_the_end_session_url(cli: Any, sign_in: Any, idp: Any) -> None:
    # Given
    await sign_in("alice@example.com")
    # When
    first, again = await cli("logout", "--json"), await cli("logout")
    status = await cli("status")
    # Then
    assert first.code == again.code == exits.OK
    assert first.json["signed_out"] is True and first.json["end_session_url"].startswith(idp.url("/session/end?"))
    assert again.stdout.startswith("Not signed in to the default environment.")
    assert status.code == exits.NOT_SIGNED_IN
    assert idp.stats()["revocation"] >= 1


async def test_logout_all_signs_out_of_every_session(cli: Any, sign_in: Any) -> None:
    # Given
    await sign_in("alice@example.com")
    await sign_in("bob@example.com", environment="dev")
    # When
    result = await cli("logout", "--all", "--json")
    # Then
    assert result.code == exits.OK
    assert sorted((r["environment"], r["signed_out"]) for r in result.json) == [("dev", True), ("prod", True)]
    assert (await cli("status")).code == exits.NOT_SIGNED_IN


# ------------------------------------------------------------------ usage and server errors


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([], id="00-no-verb"),
        pytest.param(["frobnicate"], id="01-unknown-verb"),
        pytest.param(["token", "--min-valid", "soon"], id="02-not-a-number"),
        pytest.param(["token", "--min-valid", "-5"], id="03-negative"),
        pytest.param(["login"], id="04-login-without-email"),
        pytest.param(["status", "--colour"], id="05-unknown-option"),
    ],
)
async def test_usage_errors_exit_2(cli: Any, argv: list[str]) -> None:
    result = await cli(*argv, "--json")
    assert result.code == exits.USAGE
    assert result.json["error"] == "usage" and result.json["exit_code"] == exits.USAGE


async def test_unknown_environment_exits_2(cli: Any) -> None:
    result = await cli("token", "--env", "staging", "--json")
    assert result.code == exits.USAGE
    assert result.json["error"] == "unknown_environment" and "prod" in result.json["message"]


async def test_an_unreachable_server_exits_4() -> None:
    result = await run_cli("status", "--json", "--url", "http://127.0.0.1:1/")
    assert result.code == exits.NO_SERVER and result.json["error"] == "server_unreachable"


async def test_a_wrong_jupyter_token_exits_4(server_url: str) -> None:
    result = await run_cli("status", "--json", "--url", server_url, "--token", "not-the-token")
    assert result.code == exits.NO_SERVER and result.json["error"] == "server_refused"
    assert "--token" in result.json["message"]


async def test_a_server_without_the_extension_exits_4(server_url: str, jupyter_token: str) -> None:
    # The base URL is wrong, like a server where jupyterlab_oidc did not load: oidc/ routes answer 404.
    result = await run_cli("status", "--json", "--url", server_url + "elsewhere/", "--token", jupyter_token)
    assert result.code == exits.NO_SERVER and result.json["error"] == "extension_not_loaded"


async def test_no_running_server_exits_4(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "empty"))
    result = await run_cli("status", "--json")
    assert result.code == exits.NO_SERVER and result.json["error"] == "server_not_found"


# ------------------------------------------------------------------ the console script


async def test_jupyter_oidc_console_script(server_url: str, jp_runtime_dir: Any, sign_in: Any, idp: Any) -> None:
    # Given a real `jupyter oidc` process that finds the server through the runtime directory
    env = {"JUPYTER_RUNTIME_DIR": str(jp_runtime_dir), "JUPYTERLAB_OIDC_SERVER_URL": "", "JUPYTERHUB_API_TOKEN": ""}
    before = await run_subprocess("status", "--json", env=env)
    await sign_in("alice@example.com")
    # When
    token = await run_subprocess("token", env=env)
    help_text = await run_subprocess("--help", env=env)
    # Then
    assert before.code == exits.NOT_SIGNED_IN and before.json["sessions"] == []
    assert token.code == exits.OK and idp.userinfo(token.stdout.strip()).status_code == 200
    assert help_text.code == exits.OK and "exit codes: 0 ok" in help_text.stdout
