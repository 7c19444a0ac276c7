"""What a signed-in session holds, and the views of it each audience may see."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

#: id_token claims that describe the person; safe to show in the UI.
IDENTITY_CLAIMS = ("sub", "email", "email_verified", "name", "preferred_username", "given_name", "family_name")


def session_key(environment: str, application: str | None) -> str:
    """Sessions are per (environment, application): ``prod`` or ``prod/spatial_engine``."""
    return f"{environment}/{application}" if application else environment


@dataclass
class Session:
    """One signed-in session. Only the broker sees ``refresh_token``."""

    environment: str
    application: str | None
    issuer: str
    client_id: str
    sub: str
    email: str
    access_token: str = field(repr=False)
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)
    id_token: str | None = field(default=None, repr=False)
    token_type: str = "Bearer"
    scope: str = ""
    identity: dict[str, Any] = field(default_factory=dict)
    audience: list[str] = field(default_factory=list)
    lifetime: float = 0.0
    signed_in_at: float = field(default_factory=time.time)
    refreshed_at: float = field(default_factory=time.time)

    @property
    def key(self) -> str:
        """The store key of this session."""
        return session_key(self.environment, self.application)

    def expires_in(self, now: float | None = None) -> float:
        """Seconds the access token is still valid (negative once expired)."""
        return self.expires_at - (now if now is not None else time.time())

    def status(self) -> dict[str, Any]:
        """For ``GET status`` and the panel: identity and expiry, no tokens."""
        return {
            "environment": self.environment,
            "application": self.application,
            "issuer": self.issuer,
            "client_id": self.client_id,
            "email": self.email,
            "name": self.identity.get("name") or "",
            "sub": self.sub,
            "identity": dict(self.identity),
            "scope": self.scope,
            "audience": list(self.audience),
            "expires_at": self.expires_at,
            "expires_in": round(self.expires_in(), 3),
            "signed_in_at": self.signed_in_at,
            "refreshed_at": self.refreshed_at,
            "has_refresh_token": bool(self.refresh_token),
        }

    def token_response(self, include_refresh_token: bool = False) -> dict[str, Any]:
        """For ``POST token``: access and id token, never the refresh token unless allowed."""
        body = {
            **self.status(),
            "access_token": self.access_token,
            "id_token": self.id_token,
            "token_type": self.token_type,
        }
        if include_refresh_token:
            body["refresh_token"] = self.refresh_token
        return body

    def to_record(self) -> dict[str, Any]:
        """Everything, for the store."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Session:
        """Rebuild from :meth:`to_record` output; unknown keys are ignored."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in record.items() if k in known})
