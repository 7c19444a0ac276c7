"""Pushed authorization requests (RFC 9126) against the real dev provider (dev/idp --par on|required)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jupyterlab_oidc.core.discovery import ProviderMetadata
from jupyterlab_oidc.core.settings import EnvironmentConfig
from jupyterlab_oidc.core.signin.par import uses_par
from jupyterlab_oidc.errors import ConfigError

from .idp import ALICE, CLIENT_ID, IdentityProvider, get_idp, provider_login, start_idp
from .support import query_of


def metadata(par: bool, required: bool = False) -> ProviderMetadata:
    return ProviderMetadata(
        issuer="https://idp.example",
        authorization_url="https://idp.example/auth",
        token_url="https://idp.example/token",
        pushed_authorization_request_url="https://idp.example/par" if par else "",
        require_pushed_authorization_requests=required,
    )


def env(par: str) -> EnvironmentConfig:
    return EnvironmentConfig(name="prod", client_id=CLIENT_ID, issuer="https://idp.example", par=par)


@pytest.mark.parametrize(
    ("mode", "offered", "required", "pushed"),
    [
        ("auto", True, False, True),
        ("auto", False, False, False),
        ("never", True, False, False),
        ("always", True, False, True),
        ("auto", True, True, True),
    ],
)
def test_par_mode_and_the_providers_discovery_decide(mode: str, offered: bool, required: bool, pushed: bool) -> None:
    assert uses_par(env(mode), metadata(offered, required)) is pushed


@pytest.mark.parametrize(
    ("mode", "offered", "required"), [("always", False, False), ("never", True, True), ("auto", False, True)]
)
def test_par_that_cannot_be_honoured_is_a_config_error_naming_it(mode: str, offered: bool, required: bool) -> None:
    with pytest.raises(ConfigError) as refused:
        uses_par(env(mode), metadata(offered, required))
    assert refused.value.details == {"environment": "prod", "field": "par"}


# ---------------------------------------------------------------- against the real dev provider


@pytest.fixture(scope="module")
def par_idp() -> Iterator[IdentityProvider]:
    provider = start_idp(par="on")
    yield provider
    provider.stop()


@pytest.fixture
def idp(par_idp: IdentityProvider) -> IdentityProvider:
    par_idp.reset_stats()
    return par_idp


@pytest.fixture
def oidc_environments(idp: IdentityProvider) -> dict[str, Any]:
    without_par = get_idp()  # the default dev provider: no pushed_authorization_request_endpoint
    return {
        "prod": {"issuer": idp.issuer, "client_id": CLIENT_ID},
        "never": {"issuer": idp.issuer, "client_id": CLIENT_ID, "par": "never"},
        "always": {"issuer": without_par.issuer, "client_id": CLIENT_ID, "par": "always"},
    }


async def test_sign_in_through_par_gives_the_browser_only_client_id_and_request_uri(
    begin_sign_in: Any, api: Any, browser: Any, callback_prefix: str, idp: IdentityProvider
) -> None:
    # When
    started, url = await begin_sign_in({"login_hint": ALICE})
    callback = await provider_login(browser, url, ALICE, callback_prefix)
    page = await browser.get(callback)
    result = await api("POST", "await", {"state": started.body["state"]})
    # Then
    for sent in (started.body["url"], url):
        assert set(query_of(sent)) == {"client_id", "request_uri"} and query_of(sent)["client_id"] == CLIENT_ID
        assert sent.startswith(idp.url("/auth?"))
    assert query_of(started.body["url"])["request_uri"] != query_of(url)["request_uri"]  # one push per browser
    assert page.status_code == 200 and result.status == 200 and result.body["session"]["email"] == ALICE
    pushed = idp.last_authorization()
    assert pushed["login_hint"] == ALICE and pushed["state"] == started.body["state"]
    assert pushed["code_challenge_method"] == "S256" and pushed["nonce_present"] is True


async def test_par_never_puts_the_parameters_in_the_url(api: Any) -> None:
    started = await api("POST", "login", {"environment": "never", "login_hint": ALICE})
    query = query_of(started.body["url"])
    assert "request_uri" not in query and query["login_hint"] == ALICE and query["code_challenge_method"] == "S256"


async def test_par_always_without_the_endpoint_is_a_config_error_naming_it(api: Any) -> None:
    result = await api("POST", "login", {"environment": "always", "login_hint": ALICE})
    assert result.status == 500 and result.body["error"] == "config_error" and result.body["field"] == "par"
    assert "pushed_authorization_request_endpoint" in result.body["message"]
    assert (await api("GET", "status")).body["pending"] == []


async def test_the_start_link_pushes_again_for_each_opening(api: Any, browser: Any, jupyter_token: str) -> None:
    started = await api("POST", "login", {"login_hint": ALICE})
    first = await browser.get(started.body["start_url"], headers={"Authorization": f"token {jupyter_token}"})
    second = await browser.get(started.body["start_url"], headers={"Authorization": f"token {jupyter_token}"})
    uris = {query_of(r.headers["location"])["request_uri"] for r in (first, second)}
    assert first.status_code == second.status_code == 303 and len(uris) == 2
