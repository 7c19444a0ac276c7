"""Environment names, as ``satorbis_kit.auth`` spells them."""

from __future__ import annotations

from enum import Enum


class Environment(str, Enum):
    """Named deployment environments (any other name configured on the server works too)."""

    DEV = "dev"
    PROD = "prod"

    def __str__(self) -> str:
        return self.value


def environment_name(environment: Environment | str | None) -> str | None:
    """``Environment.DEV`` → ``"dev"``; a plain string stays; None means the server's default.

    The server's default follows ``c.OIDCLogin.default_environment``, else
    ``JUPYTERLAB_OIDC_ENV``, else ``SATORBIS_ENV``, else ``prod``.
    """
    if environment is None or environment == "":
        return None
    if isinstance(environment, Environment):
        return environment.value
    if not isinstance(environment, str):
        raise TypeError(f"environment must be an Environment, a string or None, not {type(environment).__name__}")
    return environment
