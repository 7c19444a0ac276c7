"""Grant types beyond the interactive sign-in, against the real test provider.

- Refresh-token import: the offline token comes from a sign-in done elsewhere (straight at
  the provider, PKCE, no Jupyter involved), then the server starts a session from it.
- Password grant: oidc-provider has no resource-owner password grant (removed from OAuth
  2.1), so a tiny token endpoint here plays the legacy provider: it checks username,
  password and one-time code, gets that user's real tokens from the test provider, and
  passes every other grant (refresh) through to it. Discovery, keys, id_token checks and
  refreshes are the real provider's.
- The kernel helper's ``import_refresh_token``, ``password_login`` and ``TokenManager``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from jupyterlab_oidc.errors import GrantNotAllowedError, IdentityMismatchError, NotAuthenticatedError, ProviderError
from jupyterlab_oidc.kernel import (
    PasswordAuth,
    RefreshTokenAuth,
    TokenClient,
    TokenManager,
    import_refresh_token,
    password_login,
)
from jupyterlab_oidc.kernel.http_channel import ServerEndpoint

from .cli_support import Request, echo_api
from .idp import CLIENT_ID, IdentityProvider, provider_login

ELSEWHERE = "http://127.0.0.1:9/elsewhere/callback"
TOTP_SECRET = b"twenty-byte-secret!!"
#: username → (password, TOTP secret or None, the test provider's user it signs in)
ACCOUNTS = {
    "alice@example.com": ("alice-password", TOTP_SECRET, "alice@example.com"),
    "bob": ("bob-password", None, "bob@example.com"),
    "alias@example.com": ("alias-password", None, "bob@example.com"),
}


def totp(secret: bytes, at: float | None = None) -> str:
    """RFC 6238 (SHA-1, 30 s, 6 digits), as authenticator apps compute it."""
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(secret, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(int.from_bytes(digest[offset : offset + 4], 'big') & 0x7FFFFFFF) % 10**6:06d}"


async def tokens_from_elsewhere(
    idp: IdentityProvider, email: str, scope: str = "openid profile email offline_access"
) -> dict[str, Any]:
    """A sign-in straight at the provider (Authorization Code + PKCE), as another tool would do it."""
    verifier = generate_token(64)
    query = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": ELSEWHERE,
        "scope": scope,
        "state": generate_token(16),
        "nonce": generate_token(16),
        "login_hint": email,
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    async with httpx.AsyncClient(timeout=20) as browser:
        callback = await provider_login(browser, f"{idp.url('/auth')}?{urlencode(query)}", email, ELSEWHERE)
        code = parse_qs(urlsplit(callback).query)["code"][0]
        response = await browser.post(
            idp.url("/token"),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": ELSEWHERE,
                "code_verifier": verifier,
                "client_id": CLIENT_ID,
            },
        )
    response.raise_for_status()
    return response.json()


class LegacyTokenEndpoint:
    """``POST /token``: the password grant (+ ``totp``) here, everything else passed to the real provider."""

    idp: IdentityProvider
    calls: Counter[str] = Counter()

    @classmethod
    def answer(cls, request: Request) -> tuple[int, Any]:
        form = request.form
        cls.calls[form.get("grant_type", "")] += 1
        if form.get("grant_type") != "password":
            upstream = httpx.post(cls.idp.url("/token"), data=form, headers={"Accept": "application/json"})
            return upstream.status_code, upstream.json()
        account = ACCOUNTS.get(form.get("username", ""))
        ok = (
            form.get("client_id") == CLIENT_ID
            and account is not None
            and hmac.compare_digest(form.get("password", ""), account[0])
            and (account[1] is None or form.get("totp") in {totp(account[1], time.time() + d) for d in (-30, 0, 30)})
        )
        if not ok or account is None:
            return 401, {"error": "invalid_grant", "error_description": "Invalid user credentials"}
        return 200, asyncio.run(tokens_from_elsewhere(cls.idp, account[2], form.get("scope", "openid")))


@pytest.fixture
def legacy_token_url(idp: IdentityProvider) -> Iterator[str]:
    LegacyTokenEndpoint.idp = idp
    LegacyTokenEndpoint.calls = Counter()
    with echo_api() as stand_in:
        stand_in.on("POST", "/token", LegacyTokenEndpoint.answer)
        yield stand_in.url("/token")


@pytest.fixture
def oidc_environments(idp: IdentityProvider, legacy_token_url: str) -> dict[str, Any]:
    return {
        "prod": {"issuer": idp.issuer, "client_id": CLIENT_ID},
        "legacy": {
            "issuer": idp.issuer,
            "client_id": CLIENT_ID,
            "token_url": legacy_token_url,
            "allow_password_grant": True,
        },
    }


@pytest.fixture
def kernel_client(
    jp_fetch: Any, jp_http_port: int, jp_base_url: str, jp_auth_header: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> TokenClient:
    """A kernel's token client that reaches the server over HTTP with Jupyter credentials (no browser)."""
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", jp_auth_header["Authorization"].split(" ", 1)[1])
    return TokenClient(ServerEndpoint(url=f"http://127.0.0.1:{jp_http_port}{jp_base_url}"), use_comm=False)


# ------------------------------------------------------------------ refresh-token import


async def test_a_refresh_token_from_elsewhere_starts_a_session(api: Any, idp: IdentityProvider) -> None:
    # Given
    offline = (await tokens_from_elsewhere(idp, "alice@example.com"))["refresh_token"]
    idp.reset_stats()
    # When
    imported = await api("POST", "grants/refresh-token", {"refresh_token": offline})
    token = await api("POST", "token", {})
    refreshed = await api("POST", "refresh", {})
    # Then
    assert imported.status == 200, imported.body
    assert (imported.body["environment"], imported.body["email"], imported.body["sub"]) == (
        "prod",
        "alice@example.com",
        "user-alice",
    )
    assert imported.body["has_refresh_token"] is True and "refresh_token" not in imported.body
    assert idp.userinfo(token.body["access_token"]).status_code == 200
    assert refreshed.status == 200 and idp.token_calls("refresh_token") == 2  # the import, then the refresh


async def test_an_import_for_someone_else_than_login_hint_stores_nothing(api: Any, idp: IdentityProvider) -> None:
    offline = (await tokens_from_elsewhere(idp, "bob@example.com"))["refresh_token"]
    reply = await api("POST", "grants/refresh-token", {"refresh_token": offline, "login_hint": "alice@example.com"})
    assert (
        reply.status == 403 and reply.body["error"] == "identity_mismatch" and reply.body["actual"] == "bob@example.com"
    )
    assert (await api("GET", "status")).body["sessions"] == []


async def test_a_refused_refresh_token_is_a_provider_error_and_stores_nothing(api: Any, idp: IdentityProvider) -> None:
    # Given a token already used once (rotating refresh tokens)
    offline = (await tokens_from_elsewhere(idp, "alice@example.com"))["refresh_token"]
    first = await api("POST", "grants/refresh-token", {"refresh_token": offline, "environment": "prod"})
    await api("POST", "logout", {})
    # When
    again = await api("POST", "grants/refresh-token", {"refresh_token": offline})
    # Then
    assert first.status == 200
    assert (
        again.status == 502
        and again.body["error"] == "provider_error"
        and again.body["provider_error"] == "invalid_grant"
    )
    assert "Nothing was stored" in again.body["message"] and offline not in again.body["message"]
    assert (await api("GET", "status")).body["sessions"] == []


async def test_an_unknown_application_is_refused_before_the_provider_is_asked(api: Any, idp: IdentityProvider) -> None:
    reply = await api("POST", "grants/refresh-token", {"refresh_token": "x", "application": "nope"})
    assert reply.status == 404 and reply.body["error"] == "unknown_environment"
    assert idp.token_calls("refresh_token") == 0


async def test_kernel_import_refresh_token_and_token_manager(kernel_client: TokenClient, idp: IdentityProvider) -> None:
    # Given
    offline = (await tokens_from_elsewhere(idp, "alice@example.com"))["refresh_token"]
    # When
    token = await asyncio.to_thread(import_refresh_token, offline, "prod", client=kernel_client)
    manager = TokenManager(environment="prod", client=kernel_client)
    header = await asyncio.to_thread(manager.authorization_header)
    refreshes = idp.token_calls("refresh_token")
    forced = await asyncio.to_thread(manager.force_refresh)
    # Then
    assert token.email == "alice@example.com" and token.refresh_token is None
    assert header == f"Bearer {token.access_token}"
    assert forced != header and idp.token_calls("refresh_token") == refreshes + 1
    assert idp.userinfo(forced.removeprefix("Bearer ")).status_code == 200
    # clear() forgets the kernel's copy; clear(sign_out=True) ends the server's session
    manager.clear()
    assert kernel_client.cached(("prod", None), 0) is None
    await asyncio.to_thread(manager.clear, True)
    with pytest.raises(NotAuthenticatedError):
        await asyncio.to_thread(manager.authorization_header)


async def test_token_manager_starts_the_session_from_its_provider_when_none_exists(
    kernel_client: TokenClient, idp: IdentityProvider
) -> None:
    offline = (await tokens_from_elsewhere(idp, "alice@example.com"))["refresh_token"]
    manager = TokenManager(RefreshTokenAuth(offline), environment="prod", client=kernel_client)
    header = await asyncio.to_thread(manager.authorization_header)
    again = await asyncio.to_thread(manager.authorization_header)
    assert header == again and idp.userinfo(header.removeprefix("Bearer ")).status_code == 200
    assert "refresh_token" not in repr(RefreshTokenAuth(offline)) and offline not in repr(RefreshTokenAuth(offline))


# ------------------------------------------------------------------ password grant (legacy)


async def test_the_password_grant_is_off_unless_the_environment_allows_it(
    api: Any, kernel_client: TokenClient, legacy_token_url: str
) -> None:
    reply = await api("POST", "grants/password", {"environment": "prod", "username": "bob", "password": "bob-password"})
    assert reply.status == 403 and reply.body["error"] == "grant_not_allowed"
    assert "allow_password_grant: true" in reply.body["message"]
    with pytest.raises(GrantNotAllowedError):
        await asyncio.to_thread(password_login, "bob", "bob-password", environment="prod", client=kernel_client)
    assert sum(LegacyTokenEndpoint.calls.values()) == 0
    environments = {e["name"]: e for e in (await api("GET", "environments")).body["environments"]}
    assert (
        environments["prod"]["allow_password_grant"] is False and environments["legacy"]["allow_password_grant"] is True
    )


async def test_password_and_one_time_code_start_a_session_that_refreshes(api: Any, idp: IdentityProvider) -> None:
    # When
    reply = await api(
        "POST",
        "grants/password",
        {
            "environment": "legacy",
            "username": "alice@example.com",
            "password": "alice-password",
            "totp": totp(TOTP_SECRET),
        },
    )
    token = await api("POST", "token", {"environment": "legacy"})
    refreshed = await api("POST", "refresh", {"environment": "legacy"})
    # Then
    assert reply.status == 200, reply.body
    assert (reply.body["environment"], reply.body["email"], reply.body["has_refresh_token"]) == (
        "legacy",
        "alice@example.com",
        True,
    )
    assert idp.userinfo(token.body["access_token"]).status_code == 200
    assert refreshed.status == 200 and LegacyTokenEndpoint.calls == Counter({"password": 1, "refresh_token": 1})


@pytest.mark.parametrize(
    ("username", "password", "code"),
    [
        pytest.param("bob", "wrong", None, id="00-wrong-password"),
        pytest.param("alice@example.com", "alice-password", None, id="01-missing-one-time-code"),
        pytest.param("alice@example.com", "alice-password", "000000", id="02-wrong-one-time-code"),
        pytest.param("mallory", "x", None, id="03-unknown-user"),
    ],
)
async def test_refused_credentials_are_a_provider_error_and_store_nothing(
    api: Any, username: str, password: str, code: str | None
) -> None:
    body = {"environment": "legacy", "username": username, "password": password, "totp": code}
    reply = await api("POST", "grants/password", body)
    assert reply.status == 502 and reply.body["provider_error"] == "invalid_grant"
    assert "refused the username, password" in reply.body["message"] and password not in reply.body["message"]
    assert (await api("GET", "status")).body["sessions"] == []


async def test_an_email_username_must_be_who_signs_in(api: Any) -> None:
    body = {"environment": "legacy", "username": "alias@example.com", "password": "alias-password"}
    reply = await api("POST", "grants/password", body)
    assert reply.status == 403 and reply.body["error"] == "identity_mismatch"
    assert (reply.body["expected"], reply.body["actual"]) == ("alias@example.com", "bob@example.com")


async def test_kernel_password_login_and_token_manager(kernel_client: TokenClient, idp: IdentityProvider) -> None:
    # When
    token = await asyncio.to_thread(password_login, "bob", "bob-password", None, "legacy", client=kernel_client)
    manager = TokenManager(PasswordAuth("bob", "bob-password"), environment="legacy", client=kernel_client)
    header = await asyncio.to_thread(manager.authorization_header)
    # Then
    assert token.email == "bob@example.com" and header == f"Bearer {token.access_token}"
    assert idp.userinfo(token.access_token).status_code == 200
    assert LegacyTokenEndpoint.calls["password"] == 1  # the manager used the existing session
    assert "bob-password" not in repr(PasswordAuth("bob", "bob-password", totp="123456"))
    with pytest.raises(ProviderError):
        await asyncio.to_thread(password_login, "bob", "nope", None, "legacy", client=kernel_client)
    with pytest.raises(IdentityMismatchError):
        await asyncio.to_thread(
            password_login, "alias@example.com", "alias-password", None, "legacy", client=kernel_client
        )
