"""The one pip package: the wheel carries the prebuilt labextension and enables the server extension."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return next(out.glob("jupyterlab_oidc-*.whl"))


def test_wheel_contains_the_labextension_and_the_server_config(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    data = "jupyterlab_oidc-" + wheel.name.split("-")[1] + ".data/data/"
    assert f"{data}share/jupyter/labextensions/jupyterlab-oidc/package.json" in names
    assert f"{data}share/jupyter/labextensions/jupyterlab-oidc/install.json" in names
    assert any(n.startswith(f"{data}share/jupyter/labextensions/jupyterlab-oidc/static/remoteEntry.") for n in names)
    assert f"{data}etc/jupyter/jupyter_server_config.d/jupyterlab_oidc.json" in names


def test_fresh_virtualenv_with_the_wheel_lists_both_extensions_ok_without_node(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    pip = [str(target / "bin" / "python"), "-m", "pip", "install", "-q"]
    installed = subprocess.run([*pip, str(wheel), "jupyterlab>=4.4,<5"], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr[-3000:]
    # No Node.js at run time: only the virtualenv's own bin on PATH.
    env = {"PATH": str(target / "bin"), "HOME": str(tmp_path), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}
    jupyter = str(target / "bin" / "jupyter")
    server = subprocess.run([jupyter, "server", "extension", "list"], env=env, capture_output=True, text=True)
    lab = subprocess.run([jupyter, "labextension", "list"], env=env, capture_output=True, text=True)
    server_out = server.stdout + server.stderr
    lab_out = lab.stdout + lab.stderr
    assert any("jupyterlab_oidc" in line and "OK" in line for line in server_out.splitlines()), server_out
    assert any("jupyterlab-oidc" in line and "OK" in line for line in lab_out.splitlines()), lab_out
    assert "node" not in os.listdir(target / "bin")
