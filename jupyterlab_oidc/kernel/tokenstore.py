"""``TokenStore``: the tokens a kernel holds, with the fields of ``satorbis_kit.auth.TokenStore``."""

from __future__ import annotations

import fnmatch
import json
import time
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

#: Refresh margin the server uses when it does not say (``c.OIDCLogin.refresh_margin``).
DEFAULT_REFRESH_MARGIN = 60.0


@dataclass
class TokenStore:
    """Access token, id token and expiry, plus who they belong to. Never shows a token in its repr.

    In a kernel, ``refresh_token`` is None: the server extension keeps it, unless the admin
    set ``c.OIDCLogin.kernel_refresh_token = True``.
    """

    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    id_token: str | None = field(default=None, repr=False)
    token_type: str = "Bearer"
    expires_at: float | None = None
    _: KW_ONLY
    environment: str | None = None
    application: str | None = None
    email: str | None = None
    sub: str | None = None
    issuer: str | None = None
    scope: str = ""
    identity: dict[str, Any] = field(default_factory=dict)
    #: Token lifetime in seconds as the provider announced it (``expires_in``).
    lifetime: float | None = None
    #: How early the server refreshes this token; ``min_valid`` is capped at it.
    refresh_margin: float | None = None
    signed_in_at: float | None = None
    #: When this kernel received the token (``time.time()``).
    received_at: float | None = None

    def __repr__(self) -> str:
        expires = "never" if self.expires_at is None else f"in {self.expires_in:.0f} s"
        who = self.email or self.sub or "nobody"
        return (
            f"TokenStore(environment={self.environment!r}, email={who!r}, expires {expires}, "
            f"access_token={'<hidden>' if self.access_token else None}, "
            f"refresh_token={'<hidden>' if self.refresh_token else None})"
        )

    # ------------------------------------------------------------ satorbis_kit.auth API

    @property
    def is_empty(self) -> bool:
        """True when there is no access token."""
        return not self.access_token

    @property
    def is_expired(self) -> bool:
        """True when there is no access token or its expiry has passed."""
        if not self.access_token:
            return True
        return self.expires_at is not None and time.time() >= self.expires_at

    def decode_jwt_payload(self) -> dict[str, Any]:
        """The access token's JWT payload, *without* verifying the signature (for display only).

        Raises ``ValueError`` when the access token is missing or opaque (not a JWT).
        """
        if not self.access_token:
            raise ValueError("The TokenStore has no access token.")
        return self.decode_jwt_payload_str(self.access_token)

    @staticmethod
    def decode_jwt_payload_str(token_str: str) -> dict[str, Any]:
        """Decode a JWT's payload *without* verifying the signature; ``ValueError`` if not a JWT."""
        from joserfc import jws
        from joserfc.errors import JoseError

        try:
            payload = jws.extract_compact(token_str.encode("ascii")).payload
            claims = json.loads(payload)
        except (JoseError, ValueError, TypeError, UnicodeError) as e:
            raise ValueError("The token is not a JWT (it may be an opaque token).") from e
        if not isinstance(claims, dict):
            raise ValueError("The token's payload is not a JSON object.")
        return claims

    def update_from_raw(self, raw: dict[str, Any]) -> TokenStore:
        """Take tokens from a token response (``expires_in``) or a jupyterlab-oidc reply (``expires_at``).

        A missing ``refresh_token`` or ``id_token`` keeps the current one (providers omit them
        on refresh when they do not rotate).
        """
        now = time.time()
        self.access_token = raw.get("access_token") or self.access_token
        self.refresh_token = raw.get("refresh_token") or self.refresh_token
        self.id_token = raw.get("id_token") or self.id_token
        self.token_type = str(raw.get("token_type") or self.token_type or "Bearer")
        if raw.get("expires_at") is not None:
            self.expires_at = float(raw["expires_at"])
        elif raw.get("expires_in") is not None:
            self.expires_at = now + float(raw["expires_in"])
            self.lifetime = float(raw["expires_in"])
        for name in ("environment", "application", "email", "sub", "issuer", "signed_in_at"):
            if raw.get(name) is not None:
                setattr(self, name, raw[name])
        if raw.get("scope") is not None:
            self.scope = str(raw["scope"])
        if isinstance(raw.get("identity"), dict):
            self.identity = dict(raw["identity"])
        for name in ("lifetime", "refresh_margin"):
            if raw.get(name) is not None:
                setattr(self, name, float(raw[name]))
        return self

    # ------------------------------------------------------------ scopes

    @property
    def scopes(self) -> list[str]:
        """The granted scopes: ``scope`` split on spaces (RFC 6749 §3.3), in the provider's order."""
        return self.scope.split()

    def has_scope(self, *wanted: str) -> bool:
        """True when every ``wanted`` scope is granted; ``fnmatch`` wildcards match granted ones (``"api:*"``)."""
        return not self.missing_scopes(*wanted)

    def missing_scopes(self, *wanted: str) -> list[str]:
        """The ``wanted`` scopes (or patterns) that no granted scope matches."""
        granted = self.scopes
        return [w for w in wanted if not any(fnmatch.fnmatchcase(g, w) for g in granted)]

    def require_scope(self, *wanted: str) -> None:
        """Raise ``InsufficientScopeError`` naming the first missing scope unless all are granted."""
        missing = self.missing_scopes(*wanted)
        if missing:
            from ..errors import InsufficientScopeError

            raise InsufficientScopeError(
                f"The access token does not have the scope {missing[0]!r}"
                + (f" (nor {', '.join(repr(m) for m in missing[1:])})" if missing[1:] else "")
                + f"; granted: {' '.join(self.scopes) or 'none'}. Sign in again asking for it.",
                missing=missing[0],
                granted=self.scopes,
                environment=self.environment,
            )

    # ------------------------------------------------------------ helpers

    @classmethod
    def from_reply(cls, reply: dict[str, Any]) -> TokenStore:
        """Build from a ``POST oidc/kernel/token`` / ``oidc/token`` reply or a comm ``token``."""
        store = cls(received_at=time.time()).update_from_raw(reply)
        if store.lifetime is None and store.expires_at is not None:
            # Older servers do not send ``lifetime``: what is left now is the best guess.
            store.lifetime = max(store.expires_at - time.time(), 0.0)
        return store

    @property
    def expires_in(self) -> float:
        """Seconds the access token is still valid (``inf`` without expiry, negative once expired)."""
        if self.expires_at is None:
            return float("inf")
        return self.expires_at - time.time()

    def margin(self) -> float:
        """The server's refresh margin for this token: ``refresh_margin``, at most half the lifetime."""
        if self.refresh_margin is not None:
            return self.refresh_margin
        if self.lifetime:
            return min(DEFAULT_REFRESH_MARGIN, self.lifetime / 2)
        return DEFAULT_REFRESH_MARGIN

    def valid_for(self, min_valid: float) -> bool:
        """True when the access token is valid for ``min_valid`` s, capped like the server caps it."""
        if not self.access_token:
            return False
        if self.expires_at is None:
            return True
        wanted = min(max(min_valid, 0.0), self.margin())
        return self.expires_at - time.time() >= wanted

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value: ``Bearer <access token>``."""
        if not self.access_token:
            raise ValueError("The TokenStore has no access token.")
        return f"Bearer {self.access_token}"
