"""get_token() in real kernels started by a real Jupyter server, with no browser (HTTP path)."""

from __future__ import annotations

import httpx

from .kernel_support import ALICE, BOB, JupyterServer, RealKernel


def test_kernels_inherit_the_final_server_url_and_a_secret(server: JupyterServer) -> None:
    env = server.kernel_env()
    assert env["JUPYTERLAB_OIDC_SERVER_URL"] == server.url  # port 0: the port the OS picked, not 0
    assert env["JUPYTERLAB_OIDC_KERNEL_SECRET"] is True
    assert env["JUPYTERLAB_OIDC_SESSIONS_FILE"] is True


def test_kernel_routes_refuse_a_missing_or_wrong_secret(server: JupyterServer) -> None:
    anonymous = httpx.Client(timeout=10)
    for headers in ({}, {"X-JupyterLab-OIDC-Kernel": "not-the-secret"}):
        token = anonymous.post(f"{server.url}oidc/kernel/token", json={}, headers=headers)
        status = anonymous.get(f"{server.url}oidc/kernel/status", headers=headers)
        assert token.status_code == status.status_code == 403
        assert token.json()["error"] == "forbidden"
    # Jupyter's own token is not the kernel secret either.
    assert server.api("POST", "oidc/kernel/token", {}).status_code == 403


def test_get_token_without_a_browser_returns_the_signed_in_identity(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    # Given
    assert server.sign_in(ALICE).status == 200
    # When
    cell = fresh_kernel.run(
        """
        from jupyterlab_oidc import get_token
        t = get_token()
        result({"email": t.email, "environment": t.environment, "refresh_token": t.refresh_token,
                "has_access": bool(t.access_token), "has_id": bool(t.id_token), "repr": repr(t),
                "sub": t.decode_jwt_payload_str(t.id_token)["sub"], "valid": t.expires_in})
        """
    )
    # Then
    value = cell.value
    assert value["email"] == ALICE and value["environment"] == "prod"
    assert value["sub"] == "user-alice" and value["has_access"] and value["has_id"]
    assert value["refresh_token"] is None  # stays in the server (kernel_refresh_token is off)
    assert "access_token=<hidden>" in value["repr"] and value["valid"] > 0


def test_the_token_the_kernel_gets_is_accepted_by_the_provider(server: JupyterServer, fresh_kernel: RealKernel) -> None:
    server.sign_in(ALICE)
    cell = fresh_kernel.run(
        """
        import httpx, os
        from jupyterlab_oidc import get_token
        me = httpx.get(ISSUER + "/me", headers={"Authorization": get_token().authorization})
        result([me.status_code, me.json().get("sub")])
        """.replace("ISSUER", repr(server.idp.issuer))
    )
    assert cell.value == [200, "user-alice"]


def test_cached_calls_do_not_reach_the_server(server: JupyterServer, fresh_kernel: RealKernel) -> None:
    server.sign_in(ALICE)
    cell = fresh_kernel.run(
        """
        from jupyterlab_oidc import get_token
        import jupyterlab_oidc.kernel.client as c
        first = get_token(min_valid=1)
        calls = []
        original = c.default_client().http.token
        c.default_client().http.token = lambda *a, **k: calls.append(1) or original(*a, **k)
        same = all(get_token(min_valid=1) is first for _ in range(1000))
        result({"same": same, "pulls": len(calls)})
        """
    )
    assert cell.value == {"same": True, "pulls": 0}


def test_signed_out_raises_not_authenticated_after_one_request_with_how_to_sign_in(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    cell = fresh_kernel.run(
        """
        from jupyterlab_oidc import get_token, NotAuthenticatedError
        from jupyterlab_oidc.kernel import default_client
        pulls = []
        _pull = default_client().http.token
        default_client().http.token = lambda *a, **k: pulls.append(1) or _pull(*a, **k)
        try:
            get_token()
        except NotAuthenticatedError as e:
            result({"pulls": len(pulls), "message": str(e), "code": e.code})
        """
    )
    assert cell.value["pulls"] == 1  # one answer from the server, no retries, no waiting
    assert cell.value["code"] == "not_authenticated"
    assert (
        "OpenID Connect panel" in cell.value["message"]
        and "OIDCAuth(environment='prod').start_login" in cell.value["message"]
    )


def test_signing_out_drops_the_kernels_cached_token_without_a_request(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    # Given a kernel that holds a cached token
    server.sign_in(ALICE)
    fresh_kernel.run(
        """
        from jupyterlab_oidc import get_token, NotAuthenticatedError
        from jupyterlab_oidc.kernel import default_client
        client = default_client()
        held = get_token(min_valid=1)
        pulls = []
        _pull = client.http.token
        client.http.token = lambda *a, **k: pulls.append(1) or _pull(*a, **k)
        """
    )
    # When the user signs out (the refresh and access tokens are revoked at the provider)
    server.sign_out()
    # Then the kernel drops the token on its own (the sessions file), and the next call raises
    cell = fresh_kernel.run(
        """
        import time
        deadline = time.monotonic() + 30
        while client.cached((held.environment, None), 0) is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        dropped, asked = client.cached((held.environment, None), 0) is None, len(pulls)
        try:
            get_token()
            after = "token"
        except NotAuthenticatedError:
            after = "not_authenticated"
        result({"dropped": dropped, "pulls_before": asked, "after": after, "revoked": held.access_token})
        """
    )
    assert cell.value["dropped"] is True and cell.value["pulls_before"] == 0
    assert cell.value["after"] == "not_authenticated"
    assert server.idp.userinfo(cell.value["revoked"]).status_code == 401


def test_tokens_are_per_environment(server: JupyterServer, fresh_kernel: RealKernel) -> None:
    server.sign_in(ALICE, environment="prod")
    server.sign_in(BOB, environment="dev")
    cell = fresh_kernel.run(
        """
        from jupyterlab_oidc import get_token, Environment
        result([get_token().email, get_token(Environment.DEV).email, get_token("prod").email])
        """
    )
    assert cell.value == [ALICE, BOB, ALICE]


def test_get_token_async_awaits_in_a_cell(server: JupyterServer, fresh_kernel: RealKernel) -> None:
    server.sign_in(ALICE)
    cell = fresh_kernel.run(
        """
        from jupyterlab_oidc import get_token_async
        first = await get_token_async()
        second = await get_token_async()
        result([first.email, second is first])
        """
    )
    assert cell.value == [ALICE, True]


def test_without_the_kernel_secret_the_kernel_uses_the_servers_own_token(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    # A kernel that lost the secret (or predates the extension) still finds its server's token
    # in the runtime directory, as `jupyter server list` does, and uses the Jupyter REST API.
    server.sign_in(ALICE)
    cell = fresh_kernel.run(
        """
        import os
        from jupyterlab_oidc.kernel import TokenClient
        from jupyterlab_oidc.kernel.http_channel import ServerEndpoint
        environ = {k: v for k, v in os.environ.items() if k != "JUPYTERLAB_OIDC_KERNEL_SECRET"}
        client = TokenClient(ServerEndpoint.from_environ(environ), use_comm=False)
        result([client.http.available, client.get_token().email])
        """
    )
    assert cell.value == [False, ALICE]


def test_unknown_environment_is_a_typed_error_in_the_kernel(server: JupyterServer, fresh_kernel: RealKernel) -> None:
    server.sign_in(ALICE)
    cell = fresh_kernel.run(
        """
        from jupyterlab_oidc import get_token
        from jupyterlab_oidc.errors import UnknownEnvironmentError
        try:
            get_token("staging")
        except UnknownEnvironmentError as e:
            result(e.code)
        """
    )
    assert cell.value == "unknown_environment"


def test_importing_the_package_in_a_kernel_stays_light(fresh_kernel: RealKernel) -> None:
    cell = fresh_kernel.run(
        """
        import subprocess, sys
        code = ("import sys; from jupyterlab_oidc import get_token, TokenStore, OIDCAuth, ServiceAuth; "
                "print(sorted(m for m in ('tornado', 'jupyter_server', 'httpx', 'requests', 'joserfc') if m in sys.modules))")
        result(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip())
        """
    )
    assert cell.value == "[]"
