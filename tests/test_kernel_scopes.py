"""Scope checks in the kernel API: TokenStore.scopes, has_scope (fnmatch wildcards), require_scope."""

from __future__ import annotations

import pytest

from jupyterlab_oidc.errors import ERRORS_BY_CODE, InsufficientScopeError, OIDCError
from jupyterlab_oidc.kernel import InsufficientScopeError as KernelInsufficientScopeError
from jupyterlab_oidc.kernel import TokenStore

from .kernel_support import ALICE, JupyterServer, RealKernel


def granted(scope: str) -> TokenStore:
    return TokenStore("secret-access", scope=scope, environment="prod")


def test_scopes_is_the_space_separated_scope_as_a_list() -> None:
    assert granted("openid  profile\temail api:read").scopes == ["openid", "profile", "email", "api:read"]
    assert granted("").scopes == [] and TokenStore().scopes == []


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (("api:read",), True),
        (("api:*",), True),
        (("api:read", "openid"), True),
        (("api:write",), False),
        (("api:read", "api:write"), False),
        (("api",), False),  # no prefix match without a wildcard
        (("API:READ",), False),  # scopes are case-sensitive (RFC 6749 §3.3)
        (("*:read",), True),
        (("api:?ead",), True),
        ((), True),
    ],
    ids=[
        "exact",
        "wildcard",
        "all-granted",
        "missing",
        "one-missing",
        "no-prefix",
        "case",
        "leading-wildcard",
        "question-mark",
        "nothing-wanted",
    ],
)
def test_has_scope(wanted: tuple[str, ...], expected: bool) -> None:
    assert granted("openid email api:read").has_scope(*wanted) is expected


def test_a_wildcard_in_the_granted_scope_grants_nothing_extra() -> None:
    # The pattern is what the code asks for; a granted "api:*" is a literal scope name.
    assert not granted("api:*").has_scope("api:write")
    assert granted("api:*").has_scope("api:*")


def test_require_scope_raises_a_typed_error_naming_the_missing_scope() -> None:
    store = granted("openid api:read")
    store.require_scope("api:read", "openid")  # granted: no error
    with pytest.raises(InsufficientScopeError) as raised:
        store.require_scope("api:read", "api:write", "admin")
    error = raised.value
    assert isinstance(error, OIDCError) and error.code == "insufficient_scope" and error.status == 403
    assert error.details["missing"] == "api:write" and error.details["granted"] == ["openid", "api:read"]
    assert "'api:write'" in error.message and "'admin'" in error.message
    assert ERRORS_BY_CODE["insufficient_scope"] is InsufficientScopeError is KernelInsufficientScopeError
    assert "secret-access" not in str(error.to_json())  # the token itself never appears


def test_require_scope_error_survives_the_json_round_trip() -> None:
    with pytest.raises(InsufficientScopeError) as raised:
        granted("openid").require_scope("api:*")
    rebuilt = OIDCError.from_json(raised.value.to_json())
    assert isinstance(rebuilt, InsufficientScopeError) and rebuilt.details["missing"] == "api:*"


def test_scope_checks_in_a_real_kernel(server: JupyterServer, fresh_kernel: RealKernel) -> None:
    server.sign_in(ALICE)
    cell = fresh_kernel.run(
        """
        from jupyterlab_oidc import get_token
        from jupyterlab_oidc.kernel import InsufficientScopeError
        t = get_token()
        try:
            t.require_scope("surely:not:granted")
            error = None
        except InsufficientScopeError as e:
            error = [e.code, e.details["missing"]]
        result({"scopes": t.scopes, "openid": t.has_scope("openid"), "wild": t.has_scope("e*"), "error": error})
        """
    )
    value = cell.value
    assert "openid" in value["scopes"] and value["openid"] and value["wild"]  # "email" matches "e*"
    assert value["error"] == ["insufficient_scope", "surely:not:granted"]
