"""Shared by the kernel benchmarks: the dev provider, a real Jupyter server and kernels it starts.

Reuses the test harness (tests/kernel_support.py): ``JupyterServer`` runs ``python -m
jupyter_server`` with the extension in a temporary home (its log in ``server.log``), and
``RealKernel`` drives a kernel the server started (so it inherits the extension's
variables) over jupyter_client.
"""

from __future__ import annotations

import queue
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import stack  # noqa: F401 (puts the checkout on sys.path for the imports below)

from tests.idp import IdentityProvider, start_idp
from tests.kernel_support import ALICE, CellResult, JupyterServer, RealKernel

__all__ = ["ALICE", "CellResult", "JupyterServer", "RealKernel", "kernel_server", "provider_calls", "run_cells"]


@contextmanager
def kernel_server(profile: str = "id_token", access_ttl: int = 300, debug_log: bool = False) -> Iterator[JupyterServer]:
    """A provider and a Jupyter server (kernels: ``server.start_kernel()``), stopped afterwards."""
    idp = start_idp(profile=profile, access_ttl=access_ttl)
    try:
        with tempfile.TemporaryDirectory(prefix="jupyterlab-oidc-bench-") as tmp:
            root = Path(tmp)
            if debug_log:  # read by the server next to the JSON config the harness writes
                (root / "config").mkdir()
                (root / "config" / "jupyter_server_config.py").write_text(
                    "c.ServerApp.log_level = 'DEBUG'\nc.OIDCExtensionApp.log_level = 'DEBUG'\n"
                )
            server = JupyterServer(root, idp)
            try:
                yield server
            finally:
                server.stop()
    finally:
        idp.stop()


def provider_calls(idp: IdentityProvider, grant_type: str = "refresh_token") -> int:
    """Successful token-endpoint calls of ``grant_type`` counted by the provider."""
    return idp.token_calls(grant_type)


def run_cells(kernels: list[RealKernel], code: str, timeout: float = 300) -> list[CellResult]:
    """Run ``code`` in every kernel at once; returns each kernel's result (errors raise)."""
    ids = [kernel.start(code) for kernel in kernels]
    results: list[Any] = [None] * len(kernels)
    failures: queue.Queue[BaseException] = queue.Queue()

    def collect(i: int) -> None:
        try:
            results[i] = kernels[i].wait(ids[i], timeout)
        except BaseException as e:
            failures.put(e)

    threads = [threading.Thread(target=collect, args=(i,), daemon=True) for i in range(len(kernels))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 5)
    if not failures.empty():
        raise failures.get()
    for result in results:
        if result is None or result.error:
            raise RuntimeError(f"a bench cell failed: {result.error if result else 'no result'}")
    return results
