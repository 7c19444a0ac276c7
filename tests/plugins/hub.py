"""Plugin: a real JupyterHub per test module (tests/hub_support.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from ..hub_support import DIRECT, FORWARDED, Hub
from ..idp import get_idp


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A running hub for this module (its users' servers start on first use)."""
    if shutil.which("node") is None:
        pytest.skip("node is needed for configurable-http-proxy")
    running = Hub(tmp_path_factory.mktemp("hub"), get_idp("id_token", 300, owner="hub"))
    try:
        running.users_running(*FORWARDED, DIRECT)
        yield running
    finally:
        for user in running.users.values():
            user.close()
        running.stop()
