"""A small OpenID provider that can be told to misbehave, for the cases the real one cannot produce.

The real dev provider (dev/idp, oidc-provider) is certified and always right; a relying
party also has to survive providers that are wrong, hostile or broken. This one serves
discovery, JWKS, authorization (no login page: it redirects straight back with a code for
the user named by ``login_hint``), token (code + PKCE S256, rotating refresh tokens),
userinfo and revocation, on 127.0.0.1 in its own thread and event loop. Tests switch its
behaviour with plain attributes between requests::

    bad = MisbehavingProvider().start()
    bad.id_token_hook = lambda claims, forge: forge.sign({**claims, "iss": "https://evil"})
    bad.token_type = None            # token response without token_type
    bad.go_down(); bad.come_back()   # refuse connections, then listen again on the same port
    bad.issuer_suffix = "/"          # issuer "http://127.0.0.1:port/" (Ory Hydra, Auth0)
    bad.discovery_overrides = {"end_session_endpoint": "javascript:alert(1)"}

Everything it issues (codes, verifiers it received, access/refresh/id tokens) is recorded
in ``secrets`` so tests can look for them in logs. Dev/test only.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from tornado import netutil
from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

from .idp import USERS as TEST_USERS

CLIENT_ID = "jupyterlab-oidc"  # as tests/idp.py
ZITADEL_AUD_PREFIX = "urn:zitadel:iam:org:project:id:"

#: The test users by email (tests/idp.py USERS): the claims this provider issues for them.
USERS = {u.email: {"sub": u.sub, "name": u.name, "email_verified": u.email_verified} for u in TEST_USERS.values()}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64json(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value).encode())


def s256(verifier: str) -> str:
    """PKCE S256 challenge of ``verifier`` (RFC 7636 §4.2)."""
    return _b64(hashlib.sha256(verifier.encode("ascii")).digest())


class Forge:
    """Ways to build an id_token, honest or not; handed to the hooks."""

    def __init__(self, provider: MisbehavingProvider) -> None:
        self.provider = provider

    def sign(self, claims: dict[str, Any], key: RSAKey | None = None, header: dict[str, Any] | None = None) -> str:
        """RS256 with ``key`` (default: the current signing key), ``kid`` in the header unless told otherwise."""
        key = key or self.provider.signing_key
        return jwt.encode(header if header is not None else {"alg": "RS256", "kid": key.kid}, claims, key)

    def alg_none(self, claims: dict[str, Any]) -> str:
        """Unsigned: ``alg: none`` and an empty signature."""
        return f"{_b64json({'alg': 'none', 'typ': 'JWT'})}.{_b64json(claims)}."

    def hs256_with_public_key(self, claims: dict[str, Any]) -> str:
        """The classic key-confusion attack: HMAC keyed with the provider's public JWK."""
        public = self.provider.signing_key.as_dict(private=False)
        secret = OctKey.import_key(json.dumps(public).encode())
        return jwt.encode({"alg": "HS256", "kid": self.provider.signing_key.kid}, claims, secret)

    def bad_signature(self, claims: dict[str, Any]) -> str:
        """Signed by a key the provider does not publish, but naming the published key's kid."""
        return self.sign(claims, self.provider.rogue_key, {"alg": "RS256", "kid": self.provider.signing_key.kid})


@dataclass
class Grant:
    """One sign-in at this provider: who, for which client, and what was asked."""

    email: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    scope: str
    revoked: bool = False


@dataclass
class TokenCall:
    """One request to the token endpoint, as the provider saw it."""

    grant_type: str
    started: float
    finished: float = 0.0
    status: int = 0


class MisbehavingProvider:
    """The provider. Attributes below are the knobs; :meth:`reset` puts them back."""

    def __init__(self, client_id: str = CLIENT_ID) -> None:
        self.client_id = client_id
        self.port = 0
        self.signing_key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
        self.rotated_key = RSAKey.generate_key(2048, parameters={"kid": "k2", "use": "sig", "alg": "RS256"})
        self.rogue_key = RSAKey.generate_key(2048, parameters={"kid": "k-rogue", "use": "sig", "alg": "RS256"})
        self.original_key = self.signing_key
        self.forge = Forge(self)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: HTTPServer | None = None
        self.reset()

    # ---------------------------------------------------------------- knobs

    def reset(self) -> None:
        """Honest behaviour, empty records, the original signing key."""
        #: ``id_token``: email claims in the id_token; ``userinfo``: only from userinfo (Zitadel default).
        self.profile = "id_token"
        self.access_ttl = 300
        self.id_token_ttl = 300
        #: ``token_type`` in token responses; None leaves it out.
        self.token_type: str | None = "Bearer"
        #: Seconds added to the provider's clock for iat/exp/nbf/auth_time (clock skew).
        self.clock_offset = 0.0
        #: ``(claims, forge) -> id_token`` for the code exchange / for refreshes.
        self.id_token_hook: Callable[[dict[str, Any], Forge], str] | None = None
        self.refresh_id_token_hook: Callable[[dict[str, Any], Forge], str | None] | None = None
        #: ``(userinfo) -> userinfo``.
        self.userinfo_hook: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        #: Extra parameters on the authorization response; a None value removes one (``iss``).
        self.authorize_extra: dict[str, str | None] = {}
        #: Seconds each token request takes.
        self.token_delay_seconds = 0.0
        #: Grant types whose token requests wait until :meth:`release` (see :meth:`hold`).
        self.held_grants: set[str] = set()
        if hasattr(self, "_released"):
            self._released.set()  # nothing stays held across a reset
        self._released = threading.Event()
        #: Token requests waiting in a hold right now (not reset: a released one may still be leaving).
        self.held = getattr(self, "held", 0)
        #: ``(status, body)`` answered by the token endpoint instead of tokens (e.g. a 503).
        self.token_failure: tuple[int, dict[str, Any]] | None = None
        #: Keys in the JWKS document.
        self.published_keys: list[RSAKey] = [self.original_key]
        #: Appended to the issuer in discovery, id_tokens and ``iss`` (``"/"``: Ory Hydra, Auth0).
        self.issuer_suffix = ""
        #: Fields of the discovery document replaced (``{"end_session_endpoint": "javascript:..."}``).
        self.discovery_overrides: dict[str, Any] = {}
        self.signing_key = self.original_key
        self.grants: dict[str, Grant] = {}
        self.codes: dict[str, Grant] = {}
        self.access_tokens: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.consumed_refresh_tokens: set[str] = set()
        self.calls: Counter[str] = Counter()
        self.token_calls: list[TokenCall] = []
        self.in_flight_token_calls = 0
        self.max_in_flight_token_calls = 0
        #: Every secret issued or received: codes, verifiers, access/refresh/id tokens.
        self.secrets: dict[str, set[str]] = {
            k: set() for k in ("code", "code_verifier", "access_token", "refresh_token", "id_token")
        }

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.origin}{self.issuer_suffix}"

    def url(self, path: str) -> str:
        return f"{self.origin}{path}"

    def now(self) -> int:
        return int(time.time() + self.clock_offset)

    def rotate_keys(self, publish: bool = True) -> None:
        """Sign with ``k2`` from now on; ``publish`` adds it to the JWKS (a real rotation)."""
        self.signing_key = self.rotated_key
        if publish:
            self.published_keys = [self.original_key, self.rotated_key]

    def grant_calls(self, grant_type: str) -> int:
        return self.calls[f"token:{grant_type}"]

    def hold(self, grant_type: str = "refresh_token") -> None:
        """Token requests of ``grant_type`` wait (the connection open) until :meth:`release`."""
        self._released.clear()
        self.held_grants.add(grant_type)

    def release(self) -> None:
        """Let held token requests be answered, and stop holding new ones."""
        self.held_grants.clear()
        self._released.set()

    # ---------------------------------------------------------------- life cycle

    def start(self) -> MisbehavingProvider:
        """Listen on 127.0.0.1 (a free port) in a daemon thread with its own event loop."""
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._listen()
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="misbehaving-provider", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def _listen(self) -> None:
        sockets = netutil.bind_sockets(self.port, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        self._server = HTTPServer(self._app())
        self._server.add_sockets(sockets)

    def _call(self, fn: Callable[[], Any]) -> Any:
        assert self._loop is not None

        async def run() -> Any:
            result = fn()
            return await result if asyncio.iscoroutine(result) else result

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def go_down(self) -> None:
        """Stop listening and drop open connections: clients get 'connection refused'."""

        async def down() -> None:
            if self._server is not None:
                self._server.stop()
                await self._server.close_all_connections()
                self._server = None

        self._call(down)

    def come_back(self) -> None:
        """Listen again on the same port."""
        self._call(lambda: self._server is None and self._listen())

    def stop(self) -> None:
        if self._loop is None:
            return
        self.go_down()
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(5)

    # ---------------------------------------------------------------- behaviour

    def _app(self) -> Application:
        routes = [
            (r"/\.well-known/openid-configuration", _Discovery),
            (r"/jwks", _Jwks),
            (r"/authorize", _Authorize),
            (r"/token", _Token),
            (r"/userinfo", _UserInfo),
            (r"/revoke", _Revoke),
        ]
        # No access log: its lines would mix with the Jupyter server's in log-hygiene tests.
        return Application(routes, provider=self, log_function=lambda handler: None)

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.url("/authorize"),
            "token_endpoint": self.url("/token"),
            "userinfo_endpoint": self.url("/userinfo"),
            "jwks_uri": self.url("/jwks"),
            "revocation_endpoint": self.url("/revoke"),
            "end_session_endpoint": self.url("/logout"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "authorization_response_iss_parameter_supported": True,
            **self.discovery_overrides,
        }

    def id_token_claims(self, grant: Grant, nonce: bool) -> dict[str, Any]:
        """Honest claims for ``grant``: what a correct provider would put in the id_token."""
        user = USERS[grant.email]
        now = self.now()
        projects = [s[len(ZITADEL_AUD_PREFIX) : -4] for s in grant.scope.split() if s.startswith(ZITADEL_AUD_PREFIX)]
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": user["sub"],
            "aud": [grant.client_id, *projects] if projects else grant.client_id,
            "iat": now,
            "exp": now + self.id_token_ttl,
            "auth_time": now,
        }
        if projects:
            claims["azp"] = grant.client_id
        if nonce and grant.nonce:
            claims["nonce"] = grant.nonce
        if self.profile == "id_token" and "email" in grant.scope.split():
            claims.update(email=grant.email, email_verified=user["email_verified"])
        if self.profile == "id_token" and "profile" in grant.scope.split():
            claims["name"] = user["name"]
        return claims

    def userinfo(self, grant: Grant) -> dict[str, Any]:
        user = USERS[grant.email]
        info: dict[str, Any] = {"sub": user["sub"]}
        if "email" in grant.scope.split():
            info.update(email=grant.email, email_verified=user["email_verified"])
        if "profile" in grant.scope.split():
            info["name"] = user["name"]
        return self.userinfo_hook(info) if self.userinfo_hook else info

    def issue(self, grant: Grant, id_token: str | None) -> dict[str, Any]:
        """A token response: new access and refresh token (rotation), the given id_token."""
        access_token = "at-" + secrets.token_urlsafe(32)
        refresh_token = "rt-" + secrets.token_urlsafe(32)
        self.access_tokens[access_token] = grant
        self.refresh_tokens[refresh_token] = grant
        body: dict[str, Any] = {
            "access_token": access_token,
            "refresh_token": refresh_token,
            "expires_in": self.access_ttl,
            "scope": grant.scope,
        }
        if self.token_type is not None:
            body["token_type"] = self.token_type
        if id_token is not None:
            body["id_token"] = id_token
        self.secrets["access_token"].add(access_token)
        self.secrets["refresh_token"].add(refresh_token)
        if id_token:
            self.secrets["id_token"].add(id_token)
        return body


class _Handler(RequestHandler):
    @property
    def provider(self) -> MisbehavingProvider:
        return self.settings["provider"]

    def json(self, body: dict[str, Any], status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))

    def oauth_error(self, error: str, status: int = 400, description: str = "") -> None:
        body = {"error": error}
        if description:
            body["error_description"] = description
        self.json(body, status)

    def check_xsrf_cookie(self) -> None:
        pass


class _Discovery(_Handler):
    def get(self) -> None:
        self.provider.calls["discovery"] += 1
        self.json(self.provider.discovery())


class _Jwks(_Handler):
    def get(self) -> None:
        self.provider.calls["jwks"] += 1
        self.json({"keys": [k.as_dict(private=False) for k in self.provider.published_keys]})


class _Authorize(_Handler):
    def get(self) -> None:
        p = self.provider
        p.calls["authorize"] += 1
        arg = self.get_query_argument
        redirect_uri, state = arg("redirect_uri", ""), arg("state", "")
        email = (arg("login_hint", "") or "alice@example.com").lower()
        if arg("client_id", "") != p.client_id or not redirect_uri.startswith("http://127.0.0.1:"):
            self.set_status(400)
            self.finish("unknown client or redirect_uri")
            return
        if email not in USERS or arg("code_challenge_method", "") != "S256" or not arg("code_challenge", ""):
            params: dict[str, str | None] = {"error": "invalid_request", "state": state, "iss": p.issuer}
        else:
            grant = Grant(email, p.client_id, redirect_uri, arg("code_challenge"), arg("nonce", None), arg("scope", ""))
            code = "code-" + secrets.token_urlsafe(24)
            p.codes[code] = grant
            p.secrets["code"].add(code)
            params = {"code": code, "state": state, "iss": p.issuer}
        params.update(p.authorize_extra)
        query = urlencode({k: v for k, v in params.items() if v is not None})
        self.redirect(f"{redirect_uri}?{query}")


class _Token(_Handler):
    async def post(self) -> None:
        p = self.provider
        arg = self.get_body_argument
        call = TokenCall(grant_type=arg("grant_type", ""), started=time.monotonic())
        p.token_calls.append(call)
        p.calls[f"token:{call.grant_type}"] += 1
        p.in_flight_token_calls += 1
        p.max_in_flight_token_calls = max(p.max_in_flight_token_calls, p.in_flight_token_calls)
        try:
            if call.grant_type in p.held_grants:
                p.held += 1
                try:
                    await asyncio.get_running_loop().run_in_executor(None, p._released.wait, 60)
                finally:
                    p.held -= 1
            if p.token_delay_seconds:
                await asyncio.sleep(p.token_delay_seconds)
            self._answer(p, arg)
        finally:
            p.in_flight_token_calls -= 1
            call.finished, call.status = time.monotonic(), self.get_status()

    def _answer(self, p: MisbehavingProvider, arg: Callable[..., Any]) -> None:
        if p.token_failure is not None:
            self.json(p.token_failure[1], p.token_failure[0])
            return
        if arg("client_id", "") != p.client_id:
            self.oauth_error("invalid_client", 401)
            return
        grant_type = arg("grant_type", "")
        if grant_type == "authorization_code":
            code, verifier = arg("code", ""), arg("code_verifier", "")
            p.secrets["code_verifier"].add(verifier)
            grant = p.codes.pop(code, None)
            if grant is None or grant.redirect_uri != arg("redirect_uri", "") or s256(verifier) != grant.code_challenge:
                self.oauth_error("invalid_grant", description="code, redirect_uri or code_verifier is wrong")
                return
            claims = p.id_token_claims(grant, nonce=True)
            id_token = p.id_token_hook(claims, p.forge) if p.id_token_hook else p.forge.sign(claims)
            self.json(p.issue(grant, id_token))
        elif grant_type == "refresh_token":
            refresh_token = arg("refresh_token", "")
            grant = p.refresh_tokens.get(refresh_token)
            if grant is None or grant.revoked:
                self.oauth_error("invalid_grant", description="unknown or revoked refresh token")
                return
            if refresh_token in p.consumed_refresh_tokens:
                grant.revoked = True  # reuse of a rotated token: revoke the whole grant, as oidc-provider does
                self.oauth_error("invalid_grant", description="refresh token already used")
                return
            p.consumed_refresh_tokens.add(refresh_token)
            claims = p.id_token_claims(grant, nonce=False)
            if p.refresh_id_token_hook:
                id_token = p.refresh_id_token_hook(claims, p.forge)
            else:
                id_token = p.forge.sign(claims)
            self.json(p.issue(grant, id_token))
        else:
            self.oauth_error("unsupported_grant_type")


class _UserInfo(_Handler):
    def get(self) -> None:
        p = self.provider
        p.calls["userinfo"] += 1
        scheme, _, token = self.request.headers.get("Authorization", "").partition(" ")
        grant = p.access_tokens.get(token) if scheme.lower() == "bearer" else None
        if grant is None or grant.revoked:
            self.set_header("WWW-Authenticate", 'Bearer error="invalid_token"')
            self.oauth_error("invalid_token", 401)
            return
        self.json(p.userinfo(grant))


class _Revoke(_Handler):
    def post(self) -> None:
        p = self.provider
        p.calls["revocation"] += 1
        token = self.get_body_argument("token", "")
        if token in p.refresh_tokens:
            p.refresh_tokens[token].revoked = True  # RFC 7009 §2.1: revoking a refresh token ends its grant
        p.access_tokens.pop(token, None)
        self.set_status(200)
        self.finish()
