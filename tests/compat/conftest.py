"""The compat smoke subset (``make test-compat``, dev/compat.py): run only when
``JUPYTERLAB_OIDC_COMPAT=1``; ``make test`` covers the same behaviours in tests/ and skips these.

On jupyter_server older than 2.20 (it does not report a port the OS picked) the kernel tests'
server gets a free port, and (2.14 and older: an ``--ServerApp.jpserver_extensions=`` argument
replaces the dict jupyterhub-singleuser put itself in, KeyError: 'jupyterhub-singleuser') the
single-user servers get no such arguments. On JupyterHub older than 5.3 (no ``shared-password`` authenticator yet) the test hub logs
users in with ``DummyAuthenticator.password``, which is what that authenticator was called then.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version

import pytest

from .. import hub_support, kernel_support

ENABLED = os.environ.get("JUPYTERLAB_OIDC_COMPAT") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ENABLED:
        return
    skip = pytest.mark.skip(reason="compat smoke subset: run by `make test-compat` (JUPYTERLAB_OIDC_COMPAT=1)")
    for item in items:
        if "tests/compat/" in item.nodeid.replace(os.sep, "/"):
            item.add_marker(skip)


def _release(name: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version(name).split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return (0,)


if ENABLED and (0,) < _release("jupyterhub") < (5, 3):
    _new = 'c.JupyterHub.authenticator_class = "shared-password"\nc.SharedPasswordAuthenticator.user_password ='
    _old = 'c.JupyterHub.authenticator_class = "dummy"\nc.DummyAuthenticator.password ='
    assert _new in hub_support.HUB_CONFIG, "tests/hub_support.py changed how the test hub logs users in"
    hub_support.HUB_CONFIG = hub_support.HUB_CONFIG.replace(_new, _old)


if ENABLED and (0,) < _release("jupyter_server") < (2, 20):
    kernel_support.PORT = hub_support.free_port()

if ENABLED and (0,) < _release("jupyter_server") < (2, 15):
    _args = [
        line for line in hub_support.HUB_CONFIG.splitlines(keepends=True) if '"--ServerApp.jpserver_extensions=' in line
    ]
    assert _args, "tests/hub_support.py changed the single-user servers' arguments"
    hub_support.HUB_CONFIG = "".join(
        line for line in hub_support.HUB_CONFIG.splitlines(keepends=True) if line not in _args
    )
