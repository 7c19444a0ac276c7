"""``make demo`` (dev/demo.py) as a newcomer meets it (issue 18, items 2, 3, 8, 10): a busy port
is named at once with how to choose others; the work directory, token and settings stay across
runs, out of the file browser; the banner's ``jupyter oidc`` command works from an ordinary
shell; the demo's terminals have the virtualenv on PATH; ``APP=notebook`` starts Notebook 7.

Each test runs the real script: the dev provider (node) and a real Jupyter server.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import websocket

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "dev" / "demo.py"
VENV_BIN = Path(sys.executable).absolute().parent
#: The PATH of an ordinary shell: no virtualenv on it.
PLAIN_PATH = "/usr/local/bin:/usr/bin:/bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def plain_env(home: Path, **extra: str) -> dict[str, str]:
    """An ordinary login's environment: its own HOME, no JUPYTER_* or XDG_* variables, no virtualenv."""
    home.mkdir(parents=True, exist_ok=True)
    keep = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "TERM", "USER", "LOGNAME", "SHELL")}
    return {**keep, "HOME": str(home), "PATH": PLAIN_PATH, **extra}


@dataclass
class Demo:
    process: subprocess.Popen[str]
    printed: str
    ready: dict[str, Any]

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"token {self.ready['token']}"}
        return httpx.request(method, f"{self.ready['base_url']}{path}", headers=headers, timeout=30, **kwargs)


@contextmanager
def demo(*argv: str, env: dict[str, str], log: Path, banner: bool = False) -> Iterator[Demo]:
    """dev/demo.py running until the block ends (SIGTERM, as Ctrl-C/Playwright stop it)."""
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(DEMO), *argv, *([] if banner else ["--json"])],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
            cwd=ROOT,
        )
    assert process.stdout is not None
    try:
        printed = ""
        if banner:
            for line in process.stdout:
                printed += line
                if "Ctrl-C stops both" in line:
                    break
            ready = {
                "token": re.search(r"token=(\w+)", printed).group(1),  # type: ignore[union-attr]
                "base_url": re.search(r"(http://127\.0\.0\.1:\d+/)", printed).group(1),
            }  # type: ignore[union-attr]
        else:
            printed = process.stdout.readline()
            ready = json.loads(printed)
        yield Demo(process, printed, ready)
    except Exception:
        raise AssertionError(f"the demo did not start: {printed!r}\n{log.read_text()}") from None
    finally:
        process.terminate()
        assert process.wait(60) == 0, log.read_text()


# ------------------------------------------------------------------ ports


@pytest.mark.parametrize("which", ["lab", "idp"])
def test_a_busy_port_is_named_at_once_with_how_to_choose_others(which: str, tmp_path: Path) -> None:
    # Given another program listening on one of the demo's ports
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy, other = taken.getsockname()[1], free_port()
        lab_port, idp_port = (busy, other) if which == "lab" else (other, busy)
        workdir = tmp_path / "demo"
        # When
        result = subprocess.run(
            [
                sys.executable,
                str(DEMO),
                "--workdir",
                str(workdir),
                "--lab-port",
                str(lab_port),
                "--idp-port",
                str(idp_port),
            ],
            capture_output=True,
            text=True,
            env=plain_env(tmp_path / "home"),
            timeout=120,
        )
    # Then it stops before starting anything, naming the port and the make variables
    assert result.returncode != 0
    name = "LAB_PORT" if which == "lab" else "IDP_PORT"
    assert f"Port {busy} (" in result.stderr and f"{name}) is already in use" in result.stderr
    assert re.search(r"make demo LAB_PORT=\d+ IDP_PORT=\d+", result.stderr), result.stderr
    suggested = re.search(rf"{name}=(\d+)", result.stderr.split("make demo", 1)[1])
    assert suggested and int(suggested.group(1)) != busy
    assert not workdir.exists()  # nothing was started or written


def test_the_make_variables_choose_the_ports_the_app_and_the_kept_directory() -> None:
    # When
    dry = subprocess.run(
        ["make", "-n", "demo", "LAB_PORT=9001", "IDP_PORT=9002", "APP=notebook"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    reset = subprocess.run(["make", "-n", "demo-reset"], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    # Then
    assert re.search(r"dev/demo\.py --workdir \.demo --lab-port 9001 --idp-port 9002 --app notebook", dry), dry
    assert "rm -rf .demo" in reset
    assert ".demo/" in (ROOT / ".gitignore").read_text().splitlines()


# ------------------------------------------------------------------ the kept work directory


def test_the_demo_keeps_notebooks_settings_and_token_across_runs_out_of_the_file_browser(tmp_path: Path) -> None:
    # Given
    args = ("--workdir", str(tmp_path / "demo"), "--lab-port", str(free_port()), "--idp-port", str(free_port()))
    env = plain_env(tmp_path / "home")
    theme = "@jupyterlab/apputils-extension:themes"
    with demo(*args, env=env, log=tmp_path / "first.log") as first:
        assert (
            first.api(
                "PUT", "api/contents/hello.txt", json={"type": "file", "format": "text", "content": "kept"}
            ).status_code
            == 201
        )
        assert (
            first.api("PUT", f"lab/api/settings/{theme}", json={"raw": '{"theme": "JupyterLab Dark"}'}).status_code
            == 204
        )
    # When the demo runs again
    with demo(*args, env=env, log=tmp_path / "second.log") as second:
        listing = second.api("GET", "api/contents/").json()
        setting = second.api("GET", f"lab/api/settings/{theme}").json()
    # Then
    assert second.ready["url"] == first.ready["url"]  # the same token: open tabs keep working
    assert [item["name"] for item in listing["content"]] == ["hello.txt"]  # no config, token, runtime files
    assert json.loads(setting["raw"])["theme"] == "JupyterLab Dark"
    assert (tmp_path / "demo" / "token").stat().st_mode & 0o077 == 0


# ------------------------------------------------------------------ the CLI and the terminals


@pytest.fixture(scope="module")
def ordinary_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Demo, dict[str, str]]]:
    """``make demo`` as started from an ordinary shell: no virtualenv on PATH, no JUPYTER_* variables."""
    tmp = tmp_path_factory.mktemp("ordinary-demo")
    env = plain_env(tmp / "home")
    args = ("--workdir", str(tmp / "demo"), "--lab-port", str(free_port()), "--idp-port", str(free_port()))
    with demo(*args, env=env, log=tmp / "demo.log", banner=True) as running:
        yield running, env


def shell_command(printed: str) -> str:
    match = re.search(r"^  From a shell: +(.+)$", printed, re.M)
    assert match, printed
    return match.group(1)


def test_the_banners_cli_command_works_from_an_ordinary_shell(ordinary_demo: tuple[Demo, dict[str, str]]) -> None:
    # Given
    running, env = ordinary_demo
    command = shell_command(running.printed)
    # When
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env, timeout=120)
    # Then it reached the demo's server: not signed in yet (exit 3), with how to sign in
    assert result.returncode == 3, (command, result)
    assert "Not signed in. Sign in with: jupyter oidc login EMAIL" in result.stdout
    assert "In its terminal: jupyter oidc status" in running.printed


def test_the_banners_cli_command_names_a_runtime_directory_the_cli_does_not_search_by_itself(tmp_path: Path) -> None:
    # Given a demo whose JUPYTER_RUNTIME_DIR the person's other shells do not have
    env = plain_env(tmp_path / "home")
    args = ("--workdir", str(tmp_path / "demo"), "--lab-port", str(free_port()), "--idp-port", str(free_port()))
    with demo(
        *args, env={**env, "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}, log=tmp_path / "demo.log", banner=True
    ) as running:
        command = shell_command(running.printed)
        # When
        result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env, timeout=120)
    # Then
    assert command.startswith(f"JUPYTER_RUNTIME_DIR={tmp_path / 'rt'} ")
    assert result.returncode == 3, (command, result)


def test_the_demos_terminals_find_jupyter_of_the_virtualenv(ordinary_demo: tuple[Demo, dict[str, str]]) -> None:
    # Given
    running, _ = ordinary_demo
    name = running.api("POST", "api/terminals").json()["name"]
    ws_url = running.ready["base_url"].replace("http://", "ws://", 1) + f"terminals/websocket/{name}"
    marker = uuid.uuid4().hex
    # When the person types in the terminal
    ws = websocket.create_connection(ws_url, header=[f"Authorization: token {running.ready['token']}"], timeout=60)
    try:
        ws.send(json.dumps(["stdin", f"command -v jupyter; echo end-$((6*7))-{marker}\r"]))
        output = ""
        while f"end-42-{marker}" not in output:
            kind, *payload = json.loads(ws.recv())
            output += payload[0] if kind == "stdout" else ""
    finally:
        ws.close()
        running.api("DELETE", f"api/terminals/{name}")
    # Then
    assert f"{VENV_BIN}/jupyter" in output, output


# ------------------------------------------------------------------ Notebook 7 and the start-up log


def test_app_notebook_starts_notebook_7_without_deprecation_or_runtime_warnings(tmp_path: Path) -> None:
    # Given
    args = ("--app", "notebook", "--lab-port", str(free_port()), "--idp-port", str(free_port()))
    log = tmp_path / "demo.log"
    with demo(*args, env=plain_env(tmp_path / "home"), log=log, banner=True) as running:
        # When
        tree = running.api("GET", "tree")
        extension = running.api("GET", "oidc/environments")
    # Then
    assert re.search(r"^  Notebook 7: +http://127\.0\.0\.1:\d+/tree\?token=\w+$", running.printed, re.M), (
        running.printed
    )
    assert tree.status_code == 200 and '"appName": "Jupyter Notebook"' in tree.text
    assert extension.status_code == 200 and extension.json()["default_environment"] == "prod"
    text = log.read_text()
    assert "ServerApp.token config is deprecated" not in text
    assert "Unsupported runtime" not in text
