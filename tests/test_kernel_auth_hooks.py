"""OIDCBearer (requests, httpx) retries once after a 401 (from the same origin only); ServiceAuth uses client credentials."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .cli_support import EchoAPI, echo_api
from .idp import SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET
from .kernel_support import ALICE, JupyterServer, RealKernel


@pytest.fixture(scope="module")
def protected_api() -> Iterator[EchoAPI]:
    with echo_api() as api:
        yield api


CLIENTS = {
    "requests": "import requests\nr = requests.get(URL, auth=OIDCBearer(), timeout=10)\nresult(r.status_code)",
    "httpx": "import httpx\nwith httpx.Client(auth=OIDCBearer(), follow_redirects=True) as c:\n    result(c.get(URL).status_code)",
    "httpx-async": "import httpx\nasync with httpx.AsyncClient(auth=OIDCBearer(), follow_redirects=True) as c:\n    result((await c.get(URL)).status_code)",
}


@pytest.mark.parametrize("library", list(CLIENTS))
def test_a_401_forces_one_refresh_and_one_retry(
    library: str, server: JupyterServer, fresh_kernel: RealKernel, protected_api: EchoAPI
) -> None:
    # Given a signed-in user and an API that refuses the first token it sees
    server.sign_in(ALICE)
    fresh_kernel.run("from jupyterlab_oidc import OIDCBearer, get_token\nget_token()")
    server.idp.reset_stats()
    protected_api.reset(reject=1)
    # When
    cell = fresh_kernel.run(CLIENTS[library].replace("URL", repr(protected_api.url("/data"))))
    # Then: one retry, with a new token the server refreshed once for it
    assert cell.value == 200
    assert len(protected_api.tokens) == 2
    assert protected_api.tokens[0] != protected_api.tokens[1]
    assert server.idp.token_calls("refresh_token") == 1


@pytest.mark.parametrize("library", list(CLIENTS))
def test_a_second_401_is_returned_without_another_retry(
    library: str, server: JupyterServer, fresh_kernel: RealKernel, protected_api: EchoAPI
) -> None:
    server.sign_in(ALICE)
    fresh_kernel.run("from jupyterlab_oidc import OIDCBearer")
    server.idp.reset_stats()
    protected_api.reset(reject=100)
    cell = fresh_kernel.run(CLIENTS[library].replace("URL", repr(protected_api.url("/data"))))
    assert cell.value == 401
    assert len(protected_api.tokens) == 2
    assert server.idp.token_calls("refresh_token") == 1


@pytest.mark.parametrize("library", list(CLIENTS))
def test_a_401_after_a_redirect_within_the_origin_is_retried_with_a_fresh_token(
    library: str, server: JupyterServer, fresh_kernel: RealKernel, protected_api: EchoAPI
) -> None:
    # Given an API that redirects to another path of its own origin, which refuses the first token
    server.sign_in(ALICE)
    fresh_kernel.run("from jupyterlab_oidc import OIDCBearer, get_token\nget_token()")
    server.idp.reset_stats()
    protected_api.reset(reject=1)
    url = protected_api.redirect_url(protected_api.url("/data"))
    # When
    cell = fresh_kernel.run(CLIENTS[library].replace("URL", repr(url)))
    # Then: the same origin got the retry with a refreshed token
    assert cell.value == 200
    tokens = protected_api.tokens
    assert len(tokens) == 2 and None not in tokens and tokens[0] != tokens[1]
    assert server.idp.token_calls("refresh_token") == 1


def test_a_401_from_a_token_another_caller_already_replaced_does_not_refresh_again(
    server: JupyterServer, fresh_kernel: RealKernel, protected_api: EchoAPI
) -> None:
    server.sign_in(ALICE)
    server.idp.reset_stats()
    cell = fresh_kernel.run(
        """
        from jupyterlab_oidc import get_token
        from jupyterlab_oidc.kernel import default_client
        from jupyterlab_oidc.kernel.client import token_sha256
        old = get_token()
        first = default_client().refresh(rejected=token_sha256(old.access_token))
        # A second caller was refused with the same old token: it gets the new one, no refresh.
        second = default_client().refresh(rejected=token_sha256(old.access_token))
        result([first.access_token != old.access_token, second.access_token == first.access_token])
        """
    )
    assert cell.value == [True, True]
    assert server.idp.token_calls("refresh_token") == 1


def test_service_auth_gets_a_token_by_client_credentials_and_refresh_reauthenticates(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    # When (the issuer is learnt from the server extension: no token_url given)
    cell = fresh_kernel.run(
        f"""
        import hashlib, httpx
        from jupyterlab_oidc import ServiceAuth
        auth = ServiceAuth({SERVICE_CLIENT_ID!r}, {SERVICE_CLIENT_SECRET!r}, environment="dev", scopes="api:read")
        first = auth.authenticate()
        second = auth.refresh_token()
        active = [httpx.post({server.idp.url("/token/introspection")!r}, data={{"token": t.access_token}},
                             auth=({SERVICE_CLIENT_ID!r}, {SERVICE_CLIENT_SECRET!r})).json() for t in (first, second)]
        result({{"tokens": [hashlib.sha256(t.access_token.encode()).hexdigest() for t in (first, second)],
                 "scope": second.scope, "expires_in": second.expires_in, "refresh": second.refresh_token,
                 "repr": repr(auth) + repr(second), "active": [[a["active"], a["client_id"]] for a in active]}})
        """
    )
    value = cell.value
    # Then: two client_credentials grants, two different tokens, both active at the provider
    assert value["tokens"][0] != value["tokens"][1]
    assert value["scope"] == "api:read" and 0 < value["expires_in"] <= 10 and value["refresh"] is None
    assert "service-secret" not in value["repr"] and "<hidden>" in value["repr"]
    assert value["active"] == [[True, SERVICE_CLIENT_ID]] * 2
    assert server.idp.token_calls("client_credentials") == 2


def test_service_auth_with_a_wrong_secret_is_a_provider_error(server: JupyterServer, fresh_kernel: RealKernel) -> None:
    cell = fresh_kernel.run(
        f"""
        from jupyterlab_oidc import ServiceAuth
        from jupyterlab_oidc.errors import ProviderError
        try:
            ServiceAuth({SERVICE_CLIENT_ID!r}, "wrong", token_url={server.idp.url("/token")!r}, scopes="api:read").authenticate()
        except ProviderError as e:
            result(e.details["provider_error"])
        """
    )
    assert cell.value == "invalid_client"
