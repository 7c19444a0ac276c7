"""The kernel routes: ``oidc/kernel/token`` and ``oidc/kernel/status``, authenticated by the kernel header only."""

from __future__ import annotations

import hmac

from jupyter_server.auth.decorator import allow_unauthenticated

from ..errors import ForbiddenError
from ..protocol import ENV_KERNEL_SECRET, KERNEL_HEADER, token_sha256
from .base import OIDCHandler
from .base import number_field as _number
from .base import text_field as _text
from .kernel_access import KernelAccess


class KernelHandler(OIDCHandler):
    """Base of the kernel routes: authenticated by the kernel header only, no cookies, no XSRF."""

    @property
    def kernel_access(self) -> KernelAccess:
        return self.settings["jupyterlab_oidc_kernel_access"]

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        if not self.kernel_access.allows(self.request.headers.get(KERNEL_HEADER)):
            raise ForbiddenError(
                f"This route is for kernels started by this Jupyter server; send the {KERNEL_HEADER} "
                f"header with the value of {ENV_KERNEL_SECRET}."
            )

    def check_xsrf_cookie(self) -> None:
        """No cookies are involved: a browser cannot send the kernel header cross-origin."""


class KernelTokenHandler(KernelHandler):
    @allow_unauthenticated
    async def post(self) -> None:
        """A token valid for ``min_valid`` s; ``force`` refreshes unless the refused token is already gone."""
        body = self.body()
        environment, application = _text(body, "environment"), _text(body, "application")
        if body.get("force"):
            session = self.broker.session(environment, application)
            rejected = _text(body, "rejected")
            if rejected is None or hmac.compare_digest(rejected, token_sha256(session.access_token)):
                session = await self.broker.refresh(session.key)
        else:
            min_valid = _number(body, "min_valid", 60.0) or 0.0
            session = await self.broker.get_token(environment, application, min_valid)
        reply = self.broker.token_reply(session, for_kernel=True)
        self.set_header("Cache-Control", "no-store")
        self.finish(reply)


class KernelStatusHandler(KernelHandler):
    @allow_unauthenticated
    async def get(self) -> None:
        """``GET status`` plus the configured environments (issuers, for ``ServiceAuth``)."""
        self.finish({**self.broker.status(), "environments": self.broker.environments()["environments"]})
