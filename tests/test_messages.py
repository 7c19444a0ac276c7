"""Messages that give the right advice (issue 18, item 5 and 9): ``jupyter oidc status`` of an
unknown environment, a typo in the typed email, the sign-in timeout the CLI announces.

Against a real Jupyter server with the extension and the dev provider; the email comparison
also as a unit.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from jupyterlab_oidc.cli import exits
from jupyterlab_oidc.core.identity import edit_distance, enforce_login_hint, looks_like_a_typo
from jupyterlab_oidc.errors import IdentityMismatchError

from .cli_support import Stream, run_cli

TYPO_ADVICE = "check the email you typed"


@pytest.fixture
def cli(jp_fetch: Any, jp_http_port: int, jp_base_url: str, jupyter_token: str) -> Any:
    """``await cli("status", "--json")`` → ``Result``, against the test server."""
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}"

    async def run(*argv: str, stdout: Stream | None = None, stderr: Stream | None = None) -> Any:
        return await run_cli(*argv, "--url", url, "--token", jupyter_token, stdout=stdout, stderr=stderr)

    return run


# ------------------------------------------------------------------ unknown environment


async def test_status_of_an_unknown_environment_exits_2_naming_the_configured_ones(cli: Any) -> None:
    # When
    table, as_json = await cli("status", "--env", "nope"), await cli("status", "--env", "nope", "--json")
    # Then
    assert table.code == as_json.code == exits.USAGE
    assert "Unknown environment 'nope'; configured: dev, prod." in table.stderr
    assert "Not signed in" not in table.stdout + table.stderr
    assert as_json.json["error"] == "unknown_environment" and as_json.json["environment"] == "nope"


async def test_status_of_a_known_environment_without_a_session_still_exits_3(cli: Any) -> None:
    result = await cli("status", "--env", "dev")
    assert result.code == exits.NOT_SIGNED_IN
    assert "Not signed in to dev." in result.stdout


# ------------------------------------------------------------------ the typed email


@pytest.mark.parametrize(
    ("typed", "actual"),
    [
        pytest.param("demo@exmaple.com", "demo@example.com", id="swapped-letters-in-the-domain"),
        pytest.param("alcie@example.com", "alice@example.com", id="swapped-letters-in-the-local-part"),
        pytest.param("alice@example.co", "alice@example.com", id="letter-missing"),
        pytest.param("alice@exampel.con", "alice@example.com", id="two-edits"),
    ],
)
def test_a_small_edit_of_the_email_is_advised_as_a_typo(typed: str, actual: str) -> None:
    with pytest.raises(IdentityMismatchError) as refused:
        enforce_login_hint({"email": actual, "email_verified": True}, typed, require_verified_email=True)
    assert TYPO_ADVICE in refused.value.message
    assert refused.value.details["reason"] == "email_typo"
    assert (refused.value.details["expected"], refused.value.details["actual"]) == (typed, actual)


@pytest.mark.parametrize(
    ("typed", "actual"),
    [
        pytest.param("alice@example.com", "bob@example.com", id="another-person"),
        pytest.param("alice@example.com", "alice@example.org", id="another-domain"),
        pytest.param("al@example.com", "bo@example.com", id="short-names"),
        pytest.param("kelly@example.com", "\u212aelly@example.com", id="kelvin-sign-look-alike"),
        pytest.param("strasse@example.com", "stra\u00dfe@example.com", id="sharp-s-look-alike"),
    ],
)
def test_another_account_is_not_called_a_typo(typed: str, actual: str) -> None:
    with pytest.raises(IdentityMismatchError) as refused:
        enforce_login_hint({"email": actual, "email_verified": True}, typed, require_verified_email=True)
    assert TYPO_ADVICE not in refused.value.message
    assert "sign in again with the right account" in refused.value.message
    assert "reason" not in refused.value.details


def test_edit_distance_counts_a_swap_of_neighbours_as_one() -> None:
    assert edit_distance("exmaple", "example") == 1
    assert edit_distance("", "abc") == 3
    assert edit_distance("alice", "bob") == 5
    assert not looks_like_a_typo("alice@example.com", "alice@example.com")


async def test_signing_in_after_correcting_a_typo_at_the_provider_says_check_the_email_you_typed(
    sign_in: Any, api: Any
) -> None:
    # When demo@exmaple.com was typed and the person signed in as demo@example.com at the provider
    refused = await sign_in("demo@exmaple.com", as_email="demo@example.com")
    # Then
    assert refused.body["error"] == "identity_mismatch"
    assert TYPO_ADVICE in refused.body["message"]
    assert refused.body["reason"] == "email_typo"
    assert (await api("GET", "status")).body["sessions"] == []


# ------------------------------------------------------------------ the timeout the CLI announces


@pytest.mark.oidc(callback_timeout=300)
async def test_login_announces_the_servers_sign_in_timeout(cli: Any, api: Any) -> None:
    # Given
    stdout = Stream()
    running = asyncio.ensure_future(cli("login", "alice@example.com", stdout=stdout))
    printed = await stdout.wait_for("Ctrl-C cancels")
    # When
    pending = (await api("GET", "status")).body["pending"]
    await api("POST", "cancel", {"state": pending[0]["state"]})
    await running
    # Then
    assert re.search(r"Waiting for the sign-in \(up to 5 min; Ctrl-C cancels\)", printed), printed
