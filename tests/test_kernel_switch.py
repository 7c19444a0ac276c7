"""Switching account from a real kernel: OIDCAuth.start_login(prompt=..., max_age=...), and a
kernel that holds the old account's token follows the switch (the sessions file is rewritten)."""

from __future__ import annotations

from .kernel_support import ALICE, BOB, JupyterServer, RealKernel


def _link(displays: list[dict[str, str]]) -> str:
    [display] = [d for d in displays if "text/plain" in d and d["text/plain"].startswith("Sign in: ")]
    return display["text/plain"].removeprefix("Sign in: ")


def test_start_login_with_prompt_and_max_age_switches_the_account(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    # Given Alice signed in, and a kernel holding her token
    assert server.sign_in(ALICE).status == 200
    assert fresh_kernel.run("from jupyterlab_oidc import get_token\nresult(get_token().email)").value == ALICE
    # When the cell asks for Bob's account, re-authenticated at most 5 minutes ago
    started = fresh_kernel.run(
        """
        from jupyterlab_oidc import OIDCAuth
        auth = OIDCAuth()
        url = auth.start_login("bob@example.com", prompt="login", max_age=300)
        """
    )
    assert server.complete_login(_link(started.displays)) == 200
    done = fresh_kernel.run("t = auth.await_callback()\nresult(t.email)")
    # Then prompt and max_age reached the provider, Bob replaced Alice, and get_token() follows
    sent = server.idp.last_authorization()
    assert (sent["prompt"], sent["max_age"], sent["login_hint"]) == ("login", "300", BOB)
    assert done.value == BOB
    assert [s["email"] for s in server.oidc("GET", "status").body["sessions"]] == [BOB]
    cell = fresh_kernel.run("from jupyterlab_oidc import get_token\nresult([get_token().email, get_token().sub])")
    assert cell.value == [BOB, "user-bob"]


def test_a_kernel_holding_the_old_token_follows_a_switch_made_elsewhere(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    # Given a kernel with Alice's token cached
    assert server.sign_in(ALICE).status == 200
    assert fresh_kernel.run("from jupyterlab_oidc import get_token\nresult(get_token().email)").value == ALICE
    # When the account is switched from the panel or a terminal (REST, prompt=login)
    started = server.oidc("POST", "login", {"login_hint": BOB, "prompt": "login"})
    server.complete_login(started.body["start_url"])
    assert server.oidc("POST", "await", {"state": started.body["state"]}).status == 200
    # Then the kernel's next get_token() is Bob's, without any reset on its side
    assert fresh_kernel.run("result(get_token().email)").value == BOB


def test_invalid_prompt_from_a_kernel_is_invalid_request(fresh_kernel: RealKernel) -> None:
    cell = fresh_kernel.run(
        """
        from jupyterlab_oidc import OIDCAuth, OIDCError
        try:
            OIDCAuth().start_login("bob@example.com", prompt="sometimes")
        except OIDCError as e:
            result([e.code, e.details.get("field")])
        """
    )
    assert cell.value == ["invalid_request", "prompt"]
