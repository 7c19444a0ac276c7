"""Which route a pull takes when the comm is live (docs/kernel-protocol.md §2).

HTTP with the kernel secret when the kernel has it: a pull through the page crosses two
websocket/ZMQ legs and the page itself, which alone take longer than the HTTP pull
(docs/performance.md, "The comm route, and why a kernel with the secret pulls over HTTP").
The comm stays the route for pushes and for pulls in kernels without the secret (remote
kernels, JupyterLite, another process's kernels). ``JUPYTERLAB_OIDC_PULL=comm`` in the
kernel's environment pulls through the comm anyway (tests, and kernels whose HTTP route is
slow or filtered).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: ``comm``: pull through a live comm even when the kernel secret is there.
ENV_PULL = "JUPYTERLAB_OIDC_PULL"


def pull_over_comm(
    comm_live: bool, http_available: bool, force: bool, environ: Mapping[str, str] | None = None
) -> bool:
    """True when this pull should go through the comm rather than HTTP.

    A forced refresh always prefers HTTP when it can: only that route says which token was
    refused (``rejected``), so many kernels refresh once for one expiry.
    """
    if not comm_live:
        return False
    if not http_available:
        return True
    if force:
        return False
    return (os.environ if environ is None else environ).get(ENV_PULL, "").strip().lower() == "comm"
