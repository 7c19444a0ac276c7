"""OIDCLogin configuration: environment variables, default environment, validation."""

from __future__ import annotations

import json

import pytest
from traitlets import TraitError
from traitlets.config import Config

from jupyterlab_oidc.errors import ConfigError, UnknownEnvironmentError
from jupyterlab_oidc.server.config import OIDCLogin

ENV_VARS = (
    "JUPYTERLAB_OIDC_ENVIRONMENTS",
    "JUPYTERLAB_OIDC_ISSUER",
    "JUPYTERLAB_OIDC_CLIENT_ID",
    "JUPYTERLAB_OIDC_CLIENT_SECRET",
    "JUPYTERLAB_OIDC_SCOPES",
    "JUPYTERLAB_OIDC_ENV",
    "SATORBIS_ENV",
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def test_one_environment_from_issuer_and_client_id_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERLAB_OIDC_ISSUER", "https://id.example.com/")
    monkeypatch.setenv("JUPYTERLAB_OIDC_CLIENT_ID", "lab")
    monkeypatch.setenv("JUPYTERLAB_OIDC_SCOPES", "openid email")
    monkeypatch.setenv("JUPYTERLAB_OIDC_ENV", "dev")
    settings = OIDCLogin()
    env = settings.environment(None)
    assert (env.name, env.issuer, env.client_id, env.scopes) == (
        "dev",
        "https://id.example.com",
        "lab",
        ("openid", "email"),
    )


def test_whole_environments_dict_from_json_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "JUPYTERLAB_OIDC_ENVIRONMENTS",
        json.dumps(
            {"prod": {"issuer": "https://a", "client_id": "x"}, "dev": {"issuer": "https://b", "client_id": "y"}}
        ),
    )
    assert sorted(OIDCLogin().environments) == ["dev", "prod"]


def test_config_file_wins_over_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERLAB_OIDC_ISSUER", "https://from-env")
    monkeypatch.setenv("JUPYTERLAB_OIDC_CLIENT_ID", "env")
    config = Config({"OIDCLogin": {"environments": {"prod": {"issuer": "https://from-config", "client_id": "cfg"}}}})
    assert OIDCLogin(config=config).environment("prod").issuer == "https://from-config"


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        pytest.param({}, "prod", id="00-prod-by-default"),
        pytest.param({"SATORBIS_ENV": "dev"}, "dev", id="01-satorbis-env"),
        pytest.param({"JUPYTERLAB_OIDC_ENV": "dev", "SATORBIS_ENV": "prod"}, "dev", id="02-ours-first"),
    ],
)
def test_default_environment_resolution(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], expected: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    config = Config(
        {
            "OIDCLogin": {
                "environments": {
                    "prod": {"issuer": "https://a", "client_id": "x"},
                    "dev": {"issuer": "https://b", "client_id": "y"},
                }
            }
        }
    )
    assert OIDCLogin(config=config).default_environment == expected


def test_configured_default_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERLAB_OIDC_ENV", "dev")
    assert OIDCLogin(config=Config({"OIDCLogin": {"default_environment": "prod"}})).default_environment == "prod"


def test_single_environment_is_the_default_whatever_its_name() -> None:
    config = Config({"OIDCLogin": {"environments": {"staging": {"issuer": "https://a", "client_id": "x"}}}})
    assert OIDCLogin(config=config).default_environment == "staging"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param({"issuer": "https://a"}, "client_id", id="00-no-client-id"),
        pytest.param({"client_id": "x"}, "issuer", id="01-no-issuer-nor-endpoints"),
        pytest.param({"client_id": "x", "issuer": "https://a", "isuer": "typo"}, "unknown field", id="02-typo"),
        pytest.param(
            {"client_id": "x", "issuer": "https://a", "project_ids": ["a"]}, "project_ids", id="03-project-ids"
        ),
    ],
)
def test_invalid_environment_is_refused_naming_the_field(raw: dict[str, object], message: str) -> None:
    with pytest.raises(TraitError, match=message):
        OIDCLogin(config=Config({"OIDCLogin": {"environments": {"prod": raw}}}))


def test_hmac_and_none_algorithms_cannot_be_allowed() -> None:
    with pytest.raises(TraitError, match="HS256"):
        OIDCLogin(config=Config({"OIDCLogin": {"id_token_algorithms": ["RS256", "HS256"]}}))


def test_no_environment_configured_is_a_config_error_that_says_what_to_set() -> None:
    with pytest.raises(ConfigError, match="JUPYTERLAB_OIDC_ISSUER"):
        OIDCLogin().environment(None)


def test_unknown_environment_lists_the_known_ones() -> None:
    config = Config({"OIDCLogin": {"environments": {"prod": {"issuer": "https://a", "client_id": "x"}}}})
    with pytest.raises(UnknownEnvironmentError, match="prod"):
        OIDCLogin(config=config).environment("qa")


def test_every_trait_has_help() -> None:
    missing = [name for name, trait in OIDCLogin.class_traits(config=True).items() if not trait.help.strip()]
    assert missing == []


def test_hub_user_defaults_to_jupyterhub_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    assert OIDCLogin().hub_user == "alice"
