"""Start and drive the dev OpenID provider (dev/idp, oidc-provider from npm) for tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "dev" / "idp" / "server.mjs"


@dataclass(frozen=True)
class User:
    """A test user: the accounts of dev/idp/accounts.mjs, also served by the misbehaving provider."""

    email: str
    sub: str
    name: str
    email_verified: bool = True


#: The one set of test users (by short name). dev/idp knows alice, bob and carol;
#: the misbehaving provider knows all of them.
USERS = {
    "alice": User("alice@example.com", "user-alice", "Alice Example"),
    "bob": User("bob@example.com", "user-bob", "Bob Example"),
    "carol": User("carol@example.com", "user-carol", "Carol Example", email_verified=False),
    "mallory": User("mallory@example.com", "user-mallory", "Mallory Example"),
    # Targets of look-alike emails (Kelvin sign, sharp s) in the attack tests.
    "kate": User("kate@example.com", "user-kate", "Kate Example"),
    "strasse": User("strasse@example.com", "user-strasse", "Strasse Example"),
}
ALICE, BOB, CAROL = USERS["alice"].email, USERS["bob"].email, USERS["carol"].email
CLIENT_ID = "jupyterlab-oidc"
SERVICE_CLIENT_ID = "jupyterlab-oidc-service"
SERVICE_CLIENT_SECRET = "service-secret"


@dataclass
class IdentityProvider:
    """A running dev/idp process."""

    issuer: str
    profile: str
    process: subprocess.Popen[str] = field(repr=False)

    def url(self, path: str) -> str:
        return f"{self.issuer}{path}"

    def stats(self) -> dict[str, Any]:
        """Token-endpoint calls by grant type, as counted by the provider."""
        return httpx.get(self.url("/_test/stats")).json()

    def token_calls(self, grant_type: str) -> int:
        return int(self.stats()["token"].get(grant_type, 0))

    def reset_stats(self) -> None:
        httpx.post(self.url("/_test/reset-stats")).raise_for_status()

    def revoke_all(self, sub: str | None = None) -> None:
        httpx.post(self.url("/_test/revoke-all"), json={"sub": sub} if sub else {}).raise_for_status()

    def last_authorization(self) -> dict[str, Any]:
        return httpx.get(self.url("/_test/last-authorization")).json()

    def set_access_ttl(self, seconds: int) -> None:
        httpx.post(self.url("/_test/ttl"), json={"access": seconds}).raise_for_status()

    def userinfo(self, access_token: str) -> httpx.Response:
        """Ask the provider whether it accepts ``access_token`` right now."""
        return httpx.get(self.url("/me"), headers={"Authorization": f"Bearer {access_token}"})

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()


_providers: dict[tuple[str, int, str], IdentityProvider] = {}


def get_idp(profile: str = "id_token", access_ttl: int = 300, owner: str = "") -> IdentityProvider:
    """One provider process per (profile, access token lifetime, owner), shared by the session
    (stopped by the ``tests.plugins.provider`` plugin at the end).

    Long-lived harnesses (the kernel tests' server, the hub) pass an ``owner``: their
    sessions refresh in the background, which must not show up in other tests' counts.
    """
    key = (profile, access_ttl, owner)
    if key not in _providers or _providers[key].process.poll() is not None:
        _providers[key] = start_idp(profile=profile, access_ttl=access_ttl)
    return _providers[key]


def stop_providers() -> None:
    for provider in _providers.values():
        provider.stop()
    _providers.clear()


def start_idp(profile: str = "id_token", access_ttl: int = 300, port: int = 0, **extra: Any) -> IdentityProvider:
    """Start ``node dev/idp/server.mjs`` on 127.0.0.1 and wait for its ready line."""
    args = ["node", str(SERVER), "--port", str(port), "--profile", profile, "--access-ttl", str(access_ttl)]
    for name, value in extra.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env={**os.environ, "IDP_EXIT_WITH_PARENT": "1"})
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"dev/idp did not start (exit code {process.wait()})")
    ready = json.loads(line)
    return IdentityProvider(issuer=ready["issuer"], profile=profile, process=process)


async def provider_login(
    client: httpx.AsyncClient, authorization_url: str, email: str | None, redirect_prefix: str, deny: bool = False
) -> str:
    """Play the person at the provider: sign in as ``email`` (None = accept the login_hint).

    Returns the redirect URI the provider sends the browser to (with ``code`` and ``state``),
    without requesting it: the test decides what to do with it.
    """
    url = authorization_url
    for _ in range(20):
        if url.startswith(redirect_prefix):
            return url
        response = await client.get(url, follow_redirects=False)
        if response.is_redirect:
            url = urljoin(url, response.headers["location"])
            continue
        path = urlsplit(url).path
        if response.status_code == 200 and path.startswith("/interaction/"):
            uid = path.split("/")[2]
            base = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}/interaction/{uid}"
            if deny:
                response = await client.post(f"{base}/abort")
            else:
                hint = parse_qs(urlsplit(authorization_url).query).get("login_hint", [""])[0]
                response = await client.post(f"{base}/login", data={"email": email or hint})
            assert response.is_redirect, response.text[:500]
            url = urljoin(url, response.headers["location"])
            continue
        raise AssertionError(f"unexpected provider answer {response.status_code} at {urlsplit(url).path}")
    raise AssertionError("too many redirects at the provider")


async def bind_browser(client: httpx.AsyncClient, start_url: str, token: str) -> str:
    """The owner's browser opens a sign-in's start link (with the Jupyter token): it receives
    the binding cookie and is sent on to the provider. Returns that authorization URL."""
    response = await client.get(start_url, headers={"Authorization": f"token {token}"}, follow_redirects=False)
    assert response.status_code == 303, f"start link answered {response.status_code}: {response.text[:300]}"
    return urljoin(start_url, response.headers["location"])


async def open_sign_in_link(
    client: httpx.AsyncClient, link: str, token: str, callback_prefix: str, as_email: str | None = None
) -> httpx.Response:
    """The sign-in driver: the owner's browser opens a sign-in link (the server's start link,
    with the Jupyter token; or a provider URL), signs in at the provider as ``as_email`` (None:
    the login_hint) and follows the provider's redirect to the callback. Returns the callback page.

    Tests that tamper with a step call :func:`bind_browser` and :func:`provider_login` themselves.
    """
    url = await bind_browser(client, link, token) if "/oidc/start?" in link else link
    callback = await provider_login(client, url, as_email, callback_prefix)
    return await client.get(callback)


def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.1) -> bool:
    """Poll ``predicate`` (sync) until true or ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
