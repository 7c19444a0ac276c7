"""JupyterHub without a hub: the settings a single-user server takes from JupyterHub's
environment, and the documented hub examples (docs/examples)."""

from __future__ import annotations

import ast
import asyncio
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from traitlets.config import Config

from jupyterlab_oidc.core.broker import Broker
from jupyterlab_oidc.core.sessions import Session
from jupyterlab_oidc.core.store import FileStore
from jupyterlab_oidc.server.config import OIDCLogin

from .cli_support import Request, echo_api

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"


# ------------------------------------------------------------------ a single-user server under JupyterHub


def test_public_url_from_jupyterhub_drops_the_servers_own_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # JupyterHub >= 5 sets JUPYTERHUB_PUBLIC_URL to this server's URL, /user/{name}/ included.
    monkeypatch.setenv("JUPYTERHUB_PUBLIC_URL", "https://hub.example.com/jh/user/alice/")
    settings = OIDCLogin(environments={"prod": {"issuer": "https://idp.example", "client_id": "c"}})
    assert settings.public_url == "https://hub.example.com"
    broker = Broker(settings, base_url="/jh/user/alice/")
    assert broker.redirect_uri("http://10.0.0.7:8888") == "https://hub.example.com/jh/user/alice/oidc/callback"
    monkeypatch.setenv("JUPYTERHUB_PUBLIC_URL", "")
    assert OIDCLogin().public_url == ""


def test_the_hub_wide_redirect_uri_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    service = "https://hub.example.com/services/oidc-callback/"
    monkeypatch.setenv("JUPYTERLAB_OIDC_REDIRECT_URI", service)
    monkeypatch.setenv("JUPYTERLAB_OIDC_ISSUER", "https://idp.example")
    monkeypatch.setenv("JUPYTERLAB_OIDC_CLIENT_ID", "c")
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    settings = OIDCLogin()
    assert settings.redirect_uri == service and settings.hub_user == "alice"
    assert Broker(settings, base_url="/user/alice/").redirect_uri("http://x") == service
    # One path per environment on the forwarder, as docs/jupyterhub.md recommends.
    monkeypatch.setenv("JUPYTERLAB_OIDC_REDIRECT_URI", f"{service}callback/{{environment}}")
    per_environment = Broker(OIDCLogin(), base_url="/user/alice/")
    assert per_environment.redirect_uri("http://x") == f"{service}callback/prod"
    config = Config({"OIDCLogin": {"redirect_uri": "https://other.example/cb"}})
    assert OIDCLogin(config=config).redirect_uri == "https://other.example/cb"  # config wins


def test_sessions_restored_before_the_loop_runs_are_kept_fresh(tmp_path: Path) -> None:
    """A server the hub restarts restores its sessions in ``initialize_settings``, before its loop
    runs; the restored session is then refreshed in the background (seen at a stand-in provider)."""
    with echo_api() as provider:
        issuer = provider.origin
        provider.on(
            "GET",
            "/.well-known/openid-configuration",
            lambda _r: (
                200,
                {
                    "issuer": issuer,
                    "authorization_endpoint": f"{issuer}/authorize",
                    "token_endpoint": f"{issuer}/token",
                    "jwks_uri": f"{issuer}/jwks",
                    "code_challenge_methods_supported": ["S256"],
                },
            ),
        )
        refreshed_with: list[str] = []

        def token(request: Request) -> tuple[int, Any]:
            refreshed_with.append(f"{request.form.get('grant_type')}:{request.form.get('refresh_token')}")
            return 200, {"access_token": "t2", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "r2"}

        provider.on("POST", "/token", token)
        path = str(tmp_path / "sessions.json")
        # A restored session whose refresh is due (its token expires within the margin)
        session = Session(
            environment="prod",
            application=None,
            issuer=issuer,
            client_id="c",
            sub="s",
            email="alice@example.com",
            access_token="t",
            expires_at=time.time() + 20,
            lifetime=3600,
            refresh_token="r",
        )
        FileStore(path).save({session.key: session})
        settings = OIDCLogin(environments={"prod": {"issuer": issuer, "client_id": "c"}}, store="file", store_path=path)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            broker = Broker(settings)
            broker.start()  # no running loop here, as in ExtensionApp.initialize_settings
            assert [s.email for s in broker.sessions.values()] == ["alice@example.com"]

            async def refreshed() -> None:
                while broker.sessions["prod"].access_token != "t2":
                    await asyncio.sleep(0.02)

            loop.run_until_complete(asyncio.wait_for(refreshed(), 30))
            assert refreshed_with == ["refresh_token:r"]
            assert FileStore(path).load()["prod"].refresh_token == "r2"  # the rotation was saved
            loop.run_until_complete(broker.stop())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


# ------------------------------------------------------------------ the documented examples


def test_the_jupyterhub_config_example_declares_the_service_and_the_servers_environment() -> None:
    source = (EXAMPLES / "jupyterhub_config.py").read_text()
    ast.parse(source)
    c = Config()
    exec(compile(source, "jupyterhub_config.py", "exec"), {"get_config": lambda: c, "c": c})
    (service,) = [s for s in c.JupyterHub.services if s["name"] == "oidc-callback"]
    assert service["command"][-2:] == ["-m", "jupyterlab_oidc.hub"] and service["url"].startswith("http://")
    assert service["oauth_no_confirm"] is True and service.get("oauth_client_allowed_scopes", []) == []
    (user_role,) = [r for r in c.JupyterHub.load_roles if r["name"] == "user"]
    assert {"self", "access:services!service=oidc-callback"} <= set(user_role["scopes"])
    environment = c.Spawner.environment
    assert {"JUPYTERLAB_OIDC_ISSUER", "JUPYTERLAB_OIDC_CLIENT_ID", "JUPYTERLAB_OIDC_REDIRECT_URI"} <= set(environment)
    assert environment["JUPYTERLAB_OIDC_REDIRECT_URI"].endswith("/services/oidc-callback/callback/{environment}")


def test_the_z2jh_example_wires_image_environment_service_and_network() -> None:
    values = yaml.safe_load((EXAMPLES / "z2jh-values.yaml").read_text())
    env = values["singleuser"]["extraEnv"]
    assert {"JUPYTERLAB_OIDC_ISSUER", "JUPYTERLAB_OIDC_CLIENT_ID", "JUPYTERLAB_OIDC_REDIRECT_URI"} <= set(env)
    assert env["JUPYTERLAB_OIDC_REDIRECT_URI"].endswith("/services/oidc-callback/callback/{environment}")
    # Jupyter reads settings from jupyter_server_config.json in a config directory, not from
    # jupyter_server_config.d/ (extension switches only); tests/hub_support.py does the same.
    (store,) = values["singleuser"]["extraFiles"].values()
    assert store["mountPath"] == "/usr/local/etc/jupyter/jupyter_server_config.json"
    assert store["data"] == {"OIDCLogin": {"store": "file"}}
    service = values["hub"]["services"]["oidc-callback"]
    assert service["command"][1:3] == ["-m", "jupyterlab_oidc.hub"] and service["oauth_no_confirm"] is True
    (user_role,) = [r for r in values["hub"]["loadRoles"].values() if r["name"] == "user"]
    assert {"self", "access:services!service=oidc-callback"} <= set(user_role["scopes"])
    port = urlsplit(service["url"]).port
    assert str(port) in service["command"]
    assert port in [p["port"] for p in values["hub"]["service"]["extraPorts"]]
    assert port in [p["port"] for rule in values["hub"]["networkPolicy"]["ingress"] for p in rule["ports"]]
    assert port in [p["port"] for rule in values["proxy"]["chp"]["networkPolicy"]["egress"] for p in rule["ports"]]


@pytest.mark.parametrize("server", ["work", "gpu-1", "../../etc", "a/b"])
def test_a_named_servers_default_store_file_is_its_own_next_to_the_default_servers(server: str) -> None:
    default = Path(OIDCLogin(hub_server_name="").store_path)
    named = Path(OIDCLogin(hub_server_name=server).store_path)
    assert default.name == "sessions.json"
    assert named != default and named.parent == default.parent  # the name never leaves the directory
    assert named.name.startswith("sessions-") and named.name.endswith(".json")


def test_two_named_servers_never_share_a_default_store_file() -> None:
    assert OIDCLogin(hub_server_name="work").store_path != OIDCLogin(hub_server_name="play").store_path
