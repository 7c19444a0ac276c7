"""The smoke subset ``make test-compat`` runs against the oldest and newest supported versions
(dev/compat.py): sign-in through the REST API, a kernel's ``get_token()`` over HTTP and over the
comm (kernels with subshells, ipykernel >= 7), the sign-in through the JupyterHub service, and the
labextension reported compatible by the JupyterLab installed. Each mirrors a test in tests/."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from ..hub_support import Hub
from ..kernel_support import COMM_PRELUDE, FakeFrontend, JupyterServer, RealKernel

pytestmark = pytest.mark.timeout(240)

ALICE = "alice@example.com"  # a user of dev/idp

SUBSHELLS = int(version("ipykernel").split(".")[0]) >= 7
ROOT = Path(__file__).resolve().parents[2]


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


#: The oldest JupyterLab the labextension accepts (its ``@jupyterlab/application`` range).
LAB_NEEDED = json.loads((ROOT / "package.json").read_text())["dependencies"]["@jupyterlab/application"]
LAB_TOO_OLD = _release(version("jupyterlab")) < _release(LAB_NEEDED)


async def test_a_sign_in_through_the_rest_api_stores_the_session_and_hands_out_its_token(
    sign_in: Any, api: Any
) -> None:
    result = await sign_in(ALICE)
    assert result.status == 200, result.body
    assert result.body["session"]["email"] == ALICE
    token = await api("POST", "token", {})
    assert token.status == 200 and token.body["access_token"]


def test_a_kernel_gets_the_token_over_http(server: JupyterServer, fresh_kernel: RealKernel) -> None:
    server.sign_in(ALICE)
    cell = fresh_kernel.run(
        "from jupyterlab_oidc import get_token\nt = get_token()\n"
        "result([t.email, t.access_token == t.access_token.strip() != ''])"
    )
    assert cell.value == [ALICE, True]


@pytest.mark.skipif(not SUBSHELLS, reason=f"ipykernel {version('ipykernel')} has no subshells: kernels pull over HTTP")
def test_a_blocked_cell_gets_the_token_through_the_comm_on_a_kernel_with_subshells(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    server.sign_in(ALICE)
    frontend = FakeFrontend(server, fresh_kernel)
    try:
        cell = frontend.run(
            COMM_PRELUDE.replace("WAIT", "5") + "result([client.comm.live, get_token().email, len(http_pulls)])"
        )
    finally:
        frontend.close()
    assert cell.value == [True, ALICE, 0]
    assert [m["type"] for m in frontend.received] == ["token_request"]


@pytest.mark.skipif(SUBSHELLS, reason=f"ipykernel {version('ipykernel')} has subshells: the comm test runs instead")
def test_a_kernel_without_subshells_says_so_and_pulls_over_http(
    server: JupyterServer, fresh_kernel: RealKernel
) -> None:
    server.sign_in(ALICE)
    frontend = FakeFrontend(server, fresh_kernel, subshells=False)
    cell = frontend.run(
        COMM_PRELUDE.replace("WAIT", "1") + "result([client.comm.live, get_token().email, len(http_pulls)])"
    )
    assert cell.value == [False, ALICE, 1]
    # ipykernel before the ``comm`` package (< 6.18) opens no comm at all; later ones say "no subshells".
    assert frontend.hello is None or frontend.hello["kernel"]["subshells"] is False


def test_alice_signs_in_through_the_hub_service(hub: Hub) -> None:
    alice = hub.user("alice")
    result, page = alice.sign_in()
    assert page.status_code == 200 and result["session"]["email"] == ALICE
    assert [s["email"] for s in alice.sessions()] == [ALICE]


@pytest.mark.skipif(LAB_TOO_OLD, reason=f"JupyterLab {version('jupyterlab')}: the labextension needs {LAB_NEEDED}")
def test_the_installed_jupyterlab_lists_both_halves_enabled_and_ok(tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
    }
    for command, name in (
        (["server", "extension", "list"], "jupyterlab_oidc"),
        (["labextension", "list"], "jupyterlab-oidc"),
    ):
        listed = subprocess.run(
            [str(bin_dir / "jupyter"), *command], env=env, capture_output=True, text=True, timeout=120
        )
        out = listed.stdout + listed.stderr
        lines = [line for line in out.splitlines() if name in line]
        assert any("enabled" in line for line in lines) and any("OK" in line for line in lines), out
        assert "incompatible" not in out.lower() and "outdated" not in out.lower(), out
