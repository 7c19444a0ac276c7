"""Preflight (``GET/POST oidc/preflight``, ``jupyter oidc preflight``) against the real test provider:
a correct configuration passes every check; five broken ones each fail the right check."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from jupyterlab_oidc.cli import exits
from jupyterlab_oidc.core.preflight import CHECKS

from .cli_support import echo_api, run_cli
from .idp import CLIENT_ID, IdentityProvider, start_idp


@pytest.fixture(scope="module")
def par_idp() -> Iterator[IdentityProvider]:
    """The dev provider with pushed authorization requests on (--par on): the registration check asks through them."""
    provider = start_idp(par="on")
    yield provider
    provider.stop()


@pytest.fixture
def idp(par_idp: IdentityProvider) -> IdentityProvider:
    par_idp.reset_stats()
    return par_idp


@pytest.fixture
def no_pkce_issuer(idp: Any) -> Iterator[str]:
    """A provider whose discovery offers PKCE 'plain' only (everything else is the real provider's)."""
    with echo_api() as stand_in:
        document = httpx.get(idp.url("/.well-known/openid-configuration")).json()
        document = {**document, "issuer": stand_in.origin, "code_challenge_methods_supported": ["plain"]}
        stand_in.on("GET", "/.well-known/openid-configuration", lambda _request: (200, document))
        yield stand_in.origin


@pytest.fixture
def oidc_environments(idp: Any, no_pkce_issuer: str) -> dict[str, Any]:
    return {
        "prod": {"issuer": idp.issuer, "client_id": CLIENT_ID},
        # the same provider under another name: its discovery document names 127.0.0.1
        "wrong_issuer": {"issuer": idp.issuer.replace("127.0.0.1", "localhost"), "client_id": CLIENT_ID},
        "unreachable": {"issuer": "http://127.0.0.1:1", "client_id": CLIENT_ID},
        "no_pkce": {"issuer": no_pkce_issuer, "client_id": CLIENT_ID},
        "unknown_scope": {"issuer": idp.issuer, "client_id": CLIENT_ID, "scopes": "openid email profile made_up_scope"},
    }


@pytest.fixture
def preflight(jp_fetch: Any, jp_http_port: int, jp_base_url: str, jp_auth_header: dict[str, str]) -> Any:
    """``await preflight("--env", "prod")`` → ``jupyter oidc preflight … --json`` against the test server."""
    url, token = f"http://127.0.0.1:{jp_http_port}{jp_base_url}", jp_auth_header["Authorization"].split(" ", 1)[1]

    async def run(*argv: str, as_json: bool = True) -> Any:
        return await run_cli("preflight", *argv, *(["--json"] if as_json else []), "--url", url, "--token", token)

    return run


def outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["outcome"] for c in report["checks"]}


async def test_a_correct_configuration_passes_every_check(preflight: Any, jp_http_port: int, jp_base_url: str) -> None:
    # When
    result, plain = await preflight("--env", "prod"), await preflight("--env", "prod", as_json=False)
    # Then
    assert result.code == plain.code == exits.OK
    report = result.json
    assert [c["name"] for c in report["checks"]] == list(CHECKS)
    assert set(outcomes(report).values()) == {"pass"}, report["checks"]
    assert report["ok"] is True and report["counts"] == {"pass": len(CHECKS), "warn": 0, "fail": 0, "skip": 0}
    assert report["redirect_uri"] == f"http://127.0.0.1:{jp_http_port}{jp_base_url}oidc/callback/prod"
    assert re.search(r"^PASS  pkce\s+Supported: S256\.$", plain.stdout, re.M)
    assert f"Redirect URI: {report['redirect_uri']} (register it with the provider)" in plain.stdout
    assert plain.stdout.rstrip().endswith("11 pass. Ready to sign in.")


async def test_a_scope_the_provider_does_not_list_is_a_warning_not_a_failure(preflight: Any) -> None:
    # Stock Ory Hydra lists only "offline_access offline openid", yet profile and email work
    # there: OpenID Connect Discovery lets a provider leave scopes unlisted.
    result = await preflight("--env", "unknown_scope")
    scopes = next(c for c in result.json["checks"] if c["name"] == "scopes")
    assert scopes["outcome"] == "warn" and "Not listed by the provider: made_up_scope" in scopes["message"]
    assert "fail" not in outcomes(result.json).values()


@pytest.mark.parametrize(
    ("argv", "failing", "says"),
    [
        pytest.param(
            ["--env", "wrong_issuer"],
            "issuer",
            r"names issuer 'http://127\.0\.0\.1:\d+', but "
            r"'http://localhost:\d+' is configured",
            id="00-wrong-issuer",
        ),
        pytest.param(
            ["--env", "unreachable"],
            "discovery",
            r"Could not read http://127\.0\.0\.1:1/\.well-known/"
            r"openid-configuration",
            id="01-unreachable-discovery",
        ),
        pytest.param(["--env", "no_pkce"], "pkce", r"supports PKCE plain, not S256", id="02-no-pkce-s256"),
        pytest.param(
            ["--issuer", "{issuer}", "--client-id", ""], "client_id", r"No client id is set", id="04-empty-client-id"
        ),
    ],
)
async def test_a_broken_configuration_fails_the_right_check(
    preflight: Any, idp: Any, argv: list[str], failing: str, says: str
) -> None:
    # When
    result = await preflight(*[a.format(issuer=idp.issuer) for a in argv])
    plain = await preflight(*[a.format(issuer=idp.issuer) for a in argv], as_json=False)
    # Then
    assert result.code == plain.code == exits.FAILED
    report = result.json
    assert report["ok"] is False
    assert [name for name, outcome in outcomes(report).items() if outcome == "fail"] == [failing], report["checks"]
    check = next(c for c in report["checks"] if c["name"] == failing)
    assert re.search(says, check["message"]), check
    assert check["hint"]
    assert re.search(rf"^FAIL  {failing}\s", plain.stdout, re.M) and f"→ {check['hint']}" in plain.stdout
    assert plain.stdout.rstrip().endswith("Not ready: fix the failures above.")


async def test_unreachable_discovery_skips_what_depends_on_it(preflight: Any) -> None:
    report = (await preflight("--env", "unreachable")).json
    assert outcomes(report) == {
        "configuration": "pass",
        "client_id": "pass",
        "discovery": "fail",
        "issuer": "skip",
        "endpoints": "skip",
        "jwks": "skip",
        "pkce": "skip",
        "scopes": "skip",
        "grant_types": "skip",
        "redirect_uri": "pass",
        "registration": "skip",
    }


async def test_a_draft_configuration_is_checked_without_being_saved(preflight: Any, idp: Any, api: Any) -> None:
    # When
    result = await preflight("--env", "staging", "--issuer", idp.issuer, "--client-id", CLIENT_ID)
    # Then
    assert result.code == exits.OK
    assert result.json["draft"] is True and result.json["environment"] == "staging"
    environments = (await api("GET", "environments")).body["environments"]
    assert "staging" not in [e["name"] for e in environments]


async def test_an_unknown_client_id_fails_the_registration_check(preflight: Any, idp: Any) -> None:
    result = await preflight("--issuer", idp.issuer, "--client-id", "nobody-registered-this")
    assert result.code == exits.FAILED
    check = next(c for c in result.json["checks"] if c["name"] == "registration")
    assert check["outcome"] == "fail" and "invalid_client" in check["message"]


async def test_the_rest_route_answers_the_report_and_typed_errors(api: Any) -> None:
    # When
    ok = await api("GET", "preflight", params={"environment": "no_pkce"})
    unknown = await api("GET", "preflight", params={"environment": "staging"})
    bad_draft = await api("POST", "preflight", {"config": "issuer=x"})
    invalid_draft = await api("POST", "preflight", {"config": {"client_id": "x", "isuer": "typo"}})
    # Then
    assert ok.status == 200 and ok.body["ok"] is False and ok.body["environment"] == "no_pkce"
    assert unknown.status == 404 and unknown.body["error"] == "unknown_environment"
    assert bad_draft.status == 400 and bad_draft.body["error"] == "invalid_request"
    assert invalid_draft.status == 200 and outcomes(invalid_draft.body)["configuration"] == "fail"
    assert "unknown field(s) isuer" in invalid_draft.body["checks"][0]["message"]
