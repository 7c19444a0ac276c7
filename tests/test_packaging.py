"""The one pip package: the wheel carries the prebuilt labextension and enables the server extension."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _dist_check() -> object:
    """dev/dist_check.py (``make test-dist``): its metadata checks run here too, cheaply."""
    spec = importlib.util.spec_from_file_location("dist_check", ROOT / "dev" / "dist_check.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def package_index() -> None:
    """Skip (with the reason) when pip cannot reach the package index to install JupyterLab."""
    probe = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "jupyterlab", "--retries", "0", "--timeout", "15"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0 or "jupyterlab" not in probe.stdout.lower():
        last = (probe.stderr.strip().splitlines() or ["no answer"])[-1]
        pytest.skip(
            f"the package index is unreachable (pip: {last}); this test installs JupyterLab into a fresh virtualenv"
        )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
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


def test_wheel_metadata_has_a_markdown_readme_known_classifiers_and_project_urls(wheel: Path) -> None:
    assert _dist_check().metadata_problems(wheel) == []  # type: ignore[attr-defined]


def test_fresh_virtualenv_with_the_wheel_lists_both_extensions_ok_without_node(
    wheel: Path, tmp_path: Path, package_index: None
) -> None:
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    pip = [str(target / "bin" / "python"), "-m", "pip", "install", "-q"]
    installed = subprocess.run([*pip, str(wheel), "jupyterlab>=4.6.4,<5"], capture_output=True, text=True)
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
