"""``jupyterlab_oidc[dask]`` is optional: nothing outside ``jupyterlab_oidc.dask`` imports dask."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from jupyterlab_oidc.errors import NotAuthenticatedError

PROBE = """
import importlib, json, pkgutil, sys
import jupyterlab_oidc
failed = {}
def modules(path, prefix):  # like pkgutil.walk_packages, which would import jupyterlab_oidc.dask to walk it
    for info in pkgutil.iter_modules(path, prefix):
        if info.name == "jupyterlab_oidc.dask" or info.name.endswith("__main__"):
            continue
        yield info
        if info.ispkg:
            yield from modules([f"{path[0]}/{info.name.rsplit('.', 1)[-1]}"], info.name + ".")
for module in modules(list(jupyterlab_oidc.__path__), "jupyterlab_oidc."):
    try:
        importlib.import_module(module.name)
    except ImportError as e:  # an optional dependency of another part (e.g. the hub's)
        failed[module.name] = str(e)
from jupyterlab_oidc import OIDCBearer, TokenStore, get_token  # the kernel API, as a notebook uses it
print(json.dumps({"dask": sorted(m for m in sys.modules if m == "dask" or m.startswith(("dask.", "distributed"))),
                  "failed": failed}))
"""


def test_importing_the_rest_of_the_package_never_imports_dask() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["dask"] == []
    assert not any("dask" in message or "distributed" in message for message in found["failed"].values())


def test_a_worker_without_a_push_waits_then_says_why_and_a_sign_out_is_immediate() -> None:
    from jupyterlab_oidc.dask.worker import SealedToken, WorkerTokens
    from jupyterlab_oidc.kernel.tokenstore import TokenStore

    state = WorkerTokens("jupyterlab-oidc:prod:", "prod", None)
    token = TokenStore(
        access_token="a", refresh_token="r", id_token="i", expires_at=time.time() + 10, environment="prod", lifetime=10
    )
    sealed = SealedToken.of(token)
    assert "refresh_token" not in sealed.fields and "id_token" not in sealed.fields
    assert "a" not in repr(sealed).replace("SealedToken", "").replace("expires_at", "")
    state.apply(1, sealed, None)
    assert state.wait_for(60, 0).access_token == "a"
    state.apply(1, None, "signed_out")  # an older or repeated push is ignored
    assert state.token is not None
    state.apply(2, None, "signed_out")
    try:
        state.wait_for(0, 5)
    except NotAuthenticatedError as e:
        assert "signed out of prod" in str(e)
    else:
        raise AssertionError("a signed-out worker handed out a token")
