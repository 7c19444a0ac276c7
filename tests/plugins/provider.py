"""Plugin: the real dev OpenID provider (dev/idp) for a test, and the ``oidc`` marker.

Mark a test ``@pytest.mark.oidc(profile="userinfo", access_ttl=10, **OIDCLogin traits)`` to
choose the provider profile and the server configuration.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ..idp import IdentityProvider, get_idp, stop_providers


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "oidc(profile, access_ttl, **traits): provider profile and OIDCLogin config")
    # Any module may prove a case of docs/security.md (tests/security/cases.py reads them all).
    config.addinivalue_line("markers", "security_case(id): the docs/security.md case this test proves")


@pytest.fixture(scope="session", autouse=True)
def _stop_providers() -> Iterator[None]:
    yield
    stop_providers()


@pytest.fixture
def oidc_marker(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("oidc")
    return dict(marker.kwargs) if marker else {}


@pytest.fixture
def idp(oidc_marker: dict[str, Any]) -> IdentityProvider:
    """The dev provider of the marker's profile and access token lifetime, counters at zero."""
    provider = get_idp(oidc_marker.get("profile", "id_token"), oidc_marker.get("access_ttl", 300))
    provider.reset_stats()
    return provider
