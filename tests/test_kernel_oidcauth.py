"""OIDCAuth (the satorbis_kit.auth sign-in API) from a real kernel, through the server extension.

No browser tab: the kernel reaches the REST API with the Jupyter server's own token, found
in the runtime directory as ``jupyter server list`` finds it. The provider login is played
by the test, from the link the cell displayed.
"""

from __future__ import annotations

from .kernel_support import ALICE, BOB, JupyterServer, RealKernel


def _link(cell_displays: list[dict[str, str]]) -> str:
    [display] = [d for d in cell_displays if "text/html" in d]
    assert 'target="_blank"' in display["text/html"] and "Sign in" in display["text/html"]
    return display["text/plain"].removeprefix("Sign in: ")


def test_start_login_shows_the_start_link_and_await_callback_returns_the_tokens(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    # Given
    started = fresh_kernel.run(
        """
        from jupyterlab_oidc import OIDCAuth, Environment
        auth = OIDCAuth(environment=Environment.DEV)
        url = auth.start_login("bob@example.com")
        """
    )
    # Then the link is the server's start link, which binds the browser that opens it
    link = _link(started.displays)
    assert link.startswith(f"{server.url}oidc/start?state=")
    # and the HTML link is its path, so the browser opens it on the host it uses for Jupyter
    [html_display] = [d["text/html"] for d in started.displays if "text/html" in d]
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert f'href="{path}"' in html_display
    # When the person opens it (with their Jupyter login) and signs in at the provider
    assert server.complete_login(link) == 200
    # Then
    cell = fresh_kernel.run(
        "t = auth.await_callback()\nresult([t.email, t.environment, t.refresh_token, bool(t.access_token), url == LINK])".replace(
            "LINK", repr(link)
        )
    )
    assert cell.value == [BOB, "dev", None, True, True]
    sessions = server.oidc("GET", "status").body["sessions"]
    assert [(s["environment"], s["email"]) for s in sessions] == [("dev", BOB)]


def test_another_persons_login_raises_identity_mismatch_and_stores_nothing(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    started = fresh_kernel.run(
        """
        from jupyterlab_oidc import OIDCAuth, IdentityMismatchError
        auth = OIDCAuth()
        url = auth.start_login("alice@example.com")
        """
    )
    server.complete_login(_link(started.displays), as_email=BOB)
    cell = fresh_kernel.run(
        """
        try:
            auth.await_callback()
        except IdentityMismatchError as e:
            result([e.code, e.details.get("expected"), e.details.get("actual")])
        """
    )
    assert cell.value == ["identity_mismatch", ALICE, BOB]
    assert server.oidc("GET", "status").body["sessions"] == []


def test_await_callback_before_start_login_is_a_runtime_error(fresh_kernel: RealKernel) -> None:
    cell = fresh_kernel.run(
        """
        from jupyterlab_oidc import OIDCAuth
        try:
            OIDCAuth().await_callback()
        except RuntimeError as e:
            result(str(e))
        """
    )
    assert "start_login" in cell.value


def test_no_sign_in_within_callback_timeout_is_a_timeout_error_that_cancels_the_sign_in(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    cell = fresh_kernel.run(
        """
        from jupyterlab_oidc import OIDCAuth
        auth = OIDCAuth(callback_timeout=1)
        calls = []
        _call = auth.client.call
        auth.client.call = lambda method, path, body=None, **kw: calls.append([path, body]) or _call(method, path, body, **kw)
        auth.start_login("alice@example.com")
        try:
            auth.await_callback()
        except TimeoutError as e:
            result([type(e).__name__, str(e), calls])
        """
    )
    name, message, calls = cell.value
    assert name == "LoginTimeoutError" and "No sign-in within 1 s" in message
    # It waited on the server (never longer than the timeout it was given), then cancelled
    [login, *awaits, cancel] = calls
    state = cancel[1]["state"]
    assert login[0] == "login" and cancel[0] == "cancel" and awaits
    assert all(path == "await" and body["state"] == state and 0 < body["wait_seconds"] <= 1 for path, body in awaits)
    after = server.oidc("POST", "await", {"state": state, "wait_seconds": 0})
    assert after.status >= 400, after.body


def test_authenticate_is_not_for_interactive_sign_in(fresh_kernel: RealKernel) -> None:
    cell = fresh_kernel.run(
        """
        from jupyterlab_oidc import OIDCAuth
        try:
            OIDCAuth().authenticate()
        except NotImplementedError as e:
            result(str(e))
        """
    )
    assert "start_login" in cell.value


def test_refresh_token_refreshes_through_the_server(server: JupyterServer, fresh_kernel: RealKernel) -> None:
    server.sign_in(ALICE)
    server.idp.reset_stats()
    cell = fresh_kernel.run(
        """
        from jupyterlab_oidc import OIDCAuth, get_token
        before = get_token()
        after = OIDCAuth().refresh_token()
        result([after.access_token != before.access_token, after.refresh_token, get_token() is after])
        """
    )
    assert cell.value == [True, None, True]
    assert server.idp.token_calls("refresh_token") == 1


def test_settings_the_server_decides_are_ignored_with_a_warning(fresh_kernel: RealKernel) -> None:
    cell = fresh_kernel.run(
        """
        import warnings
        from jupyterlab_oidc import OIDCAuth
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            OIDCAuth(redirect_port=5000, verify_jwt=False)
        result([str(w.message) for w in caught])
        """
    )
    [message] = cell.value
    assert "redirect_port" in message and "verify_jwt" in message
