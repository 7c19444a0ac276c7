"""Plugin: the shared ``jupyter server`` subprocess of the kernel tests and its kernels
(tests/kernel_support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..idp import get_idp
from ..kernel_support import ACCESS_TTL, JupyterServer, RealKernel

_server: dict[str, JupyterServer] = {}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """The shared Jupyter server (10 s access tokens), started on first use, signed out between tests."""
    if "server" not in _server:
        _server["server"] = JupyterServer(
            tmp_path_factory.mktemp("jupyter"), get_idp("id_token", ACCESS_TTL, owner="kernels")
        )
    yield _server["server"]
    if "server" in _server:
        _server.pop("server").stop()


@pytest.fixture(scope="session")
def kernel(server: JupyterServer) -> RealKernel:
    """A kernel shared by tests that reset its token client first (see ``fresh_kernel``)."""
    return server.start_kernel()


@pytest.fixture
def fresh_kernel(server: JupyterServer, kernel: RealKernel) -> RealKernel:
    """The shared kernel with an empty token cache, nobody signed in, provider counters at zero."""
    server.sign_out_everywhere()
    kernel.reset_token_client()
    server.idp.reset_stats()
    return kernel
