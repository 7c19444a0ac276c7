"""The OAuth state: random, single use, and under JupyterHub it names the user."""

from __future__ import annotations

import pytest

from jupyterlab_oidc.core.signin.state import make_state, user_of_state


def test_state_without_hub_user_is_256_random_bits_and_names_nobody() -> None:
    state = make_state()
    assert len(state) == 43 and user_of_state(state) is None
    assert len({make_state() for _ in range(100)}) == 100


@pytest.mark.parametrize("user", ["alice", "bob@example.com", "user-1", "ünïcode"])
def test_state_names_its_hub_user(user: str) -> None:
    assert user_of_state(make_state(user)) == user


@pytest.mark.parametrize(
    "state",
    [
        "",
        ".",
        "abc",
        ".abc",
        "abc.",
        "!!!.abc",
        "Li4.abc",
        "Lw.abc",
        "YS9i.abc",
        "JQ.abc",
        "x" * 500 + ".abc",
        "YWxpY2UK.abc",
        "YWxpY2U=.abc",
        "YWxpY2V.abc",
    ],
    ids=[
        "empty",
        "dot",
        "no-sep",
        "no-user",
        "no-nonce",
        "not-b64",
        "dotdot",
        "slash",
        "a-slash-b",
        "percent",
        "huge",
        "trailing-newline",
        "padded",
        "stray-bits",
    ],
)
def test_crafted_states_name_no_user(state: str) -> None:
    assert user_of_state(state) is None
