"""Start the demo: the bundled OpenID provider and JupyterLab (or Notebook 7) configured against it.

Used by ``make demo`` (``--workdir .demo``: prints the URL, the demo user's email and the
``jupyter oidc`` command; runs until Ctrl-C) and by the Playwright tests and benchmarks
(``--json`` prints one line with the URLs once both are up).

With ``--workdir`` the demo keeps its state there across runs: ``notebooks/`` (what the file
browser shows), ``config/`` (JupyterLab's settings and workspaces), ``token`` (the Jupyter token,
so the URL and open tabs stay valid), ``jupyter_server_config.json``. Without it, a new
temporary directory each run. ``make demo-reset`` deletes ``.demo/``.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_EMAIL = "demo@example.com"
APP_NAMES = {"lab": "JupyterLab", "notebook": "Notebook 7", "server": "Jupyter Server"}
#: Where the sidebar entry is, per application (the banner's last hint).
OPEN_HINT = {
    "lab": "Open the key icon in the left sidebar.",
    "notebook": "Open OpenID Connect sign-in from the left sidebar (View → Left Sidebar).",
    "server": "",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lab-port", type=int, default=8888)
    parser.add_argument("--idp-port", type=int, default=5556)
    parser.add_argument("--profile", choices=["id_token", "userinfo"], default="id_token")
    parser.add_argument("--access-ttl", type=int, default=300, help="access token lifetime (s)")
    parser.add_argument("--token", default="", help="Jupyter token (default: kept in WORKDIR/token, else random)")
    parser.add_argument("--base-url", default="/")
    parser.add_argument("--app", default="lab", choices=sorted(APP_NAMES))
    parser.add_argument("--workdir", default="", help="kept across runs (default: a new temporary directory)")
    parser.add_argument("--json", action="store_true", help="print one JSON line when ready")
    parser.add_argument("--extra-environments", type=int, default=0, help="add env1..envN (benchmarks)")
    parser.add_argument("--expose-app", action="store_true", help="window.jupyterapp for browser tests")
    parser.add_argument("jupyter_args", nargs="*", help="passed on to the Jupyter server (after --)")
    return parser.parse_args(argv)


# ------------------------------------------------------------------ ports


def port_is_free(port: int) -> bool:
    """Whether 127.0.0.1:``port`` can be listened on (as the provider and Jupyter will)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Node and Tornado do
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def next_free_port(port: int, taken: set[int]) -> int:
    candidate = port + 1
    while candidate in taken or not port_is_free(candidate):
        candidate += 1
    return candidate


def check_ports(args: argparse.Namespace) -> None:
    """Exit at once, naming the busy port and how to choose others, before anything starts."""
    wanted = {"LAB_PORT": (args.lab_port, APP_NAMES[args.app]), "IDP_PORT": (args.idp_port, "the demo provider")}
    busy = {name: port for name, (port, _) in wanted.items() if not port_is_free(port)}
    if args.lab_port == args.idp_port:
        busy["IDP_PORT"] = args.idp_port
    if not busy:
        return
    lines = [
        f"Port {port} ({wanted[name][1]}, {name}) is already in use: another Jupyter server, or a demo still running?"
        for name, port in busy.items()
    ]
    taken = {args.lab_port, args.idp_port}
    choice = {}
    for name, (port, _) in wanted.items():
        choice[name] = next_free_port(port, taken) if name in busy else port
        taken.add(choice[name])
    lines.append(
        "Choose other ports, for example:\n\n"
        f"  make demo LAB_PORT={choice['LAB_PORT']} IDP_PORT={choice['IDP_PORT']}\n\n"
        f"(or dev/demo.py --lab-port {choice['LAB_PORT']} --idp-port {choice['IDP_PORT']})"
    )
    sys.exit("\n".join(lines))


# ------------------------------------------------------------------ work directory


def prepare_workdir(args: argparse.Namespace) -> tuple[Path, str]:
    """The work directory and the Jupyter token: kept in ``WORKDIR/token`` when the directory is kept."""
    kept = bool(args.workdir)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="jupyterlab-oidc-demo-")).resolve()
    (workdir / "notebooks").mkdir(parents=True, exist_ok=True)
    token = args.token
    token_file = workdir / "token"
    if not token and kept and token_file.is_file():
        token = token_file.read_text().strip()
    if not token:
        token = secrets.token_hex(16)
        if kept:
            token_file.touch(mode=0o600)
            token_file.write_text(token + "\n")
    return workdir, token


def venv_bin() -> Path:
    """The directory of this Python's ``jupyter`` (the virtualenv's bin/, not resolved past symlinks)."""
    return Path(sys.executable).absolute().parent


def terminal_shell(workdir: Path) -> list[str]:
    """The terminals' shell: interactive, not a login shell (Debian's /etc/profile resets PATH),
    with the virtualenv first on PATH."""
    shell = os.environ.get("SHELL") or "/bin/sh"
    if os.path.basename(shell) != "bash":
        return [shell]
    rc = workdir / "terminal.bashrc"
    rc.write_text(f'[ -f ~/.bashrc ] && . ~/.bashrc\nexport PATH={shlex.quote(str(venv_bin()))}:"$PATH"\n')
    return [shell, "--rcfile", str(rc), "-i"]


def write_config(workdir: Path, issuer: str, args: argparse.Namespace) -> Path:
    config = {
        "ServerApp": {
            "jpserver_extensions": {"jupyterlab_oidc": True},
            "terminado_settings": {"shell_command": terminal_shell(workdir)},
        },
        "OIDCLogin": {
            "environments": {
                "prod": {
                    "issuer": issuer,
                    "client_id": "jupyterlab-oidc",
                    "display_name": "Demo provider",
                    "project_ids": {"spatial_engine": "360000000000000001"},
                },
                "dev": {"issuer": issuer, "client_id": "jupyterlab-oidc", "display_name": "Demo provider (dev)"},
            },
            "default_environment": "prod",
        },
    }
    for i in range(1, args.extra_environments + 1):
        config["OIDCLogin"]["environments"][f"env{i}"] = {"issuer": issuer, "client_id": "jupyterlab-oidc"}
    path = workdir / "jupyter_server_config.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def runtime_dir(workdir: Path, kept: bool) -> tuple[Path, bool]:
    """Where the server writes ``jpserver-*.json``, and whether ``jupyter oidc`` looks there by itself.

    ``make demo`` (a kept directory, no ``--json``) uses Jupyter's own runtime directory
    (``jupyter --runtime-dir``), so ``jupyter oidc`` and ``jupyter server list`` find it from any
    shell; test and benchmark stacks (``--json``, or a temporary directory) keep theirs inside.
    """
    from jupyter_core.paths import jupyter_runtime_dir

    if os.environ.get("JUPYTER_RUNTIME_DIR"):
        return Path(os.environ["JUPYTER_RUNTIME_DIR"]).resolve(), False
    if kept:
        return Path(jupyter_runtime_dir()), True
    return workdir / "runtime", False


def cli_command(runtime: Path, found_by_default: bool, base: str) -> str:
    """The ``jupyter oidc`` command that reaches this demo from an ordinary shell."""
    prefix = "" if found_by_default else f"JUPYTER_RUNTIME_DIR={shlex.quote(str(runtime))} "
    return f"{prefix}{shlex.quote(str(venv_bin() / 'jupyter'))} oidc status --url {base}"


# ------------------------------------------------------------------ processes


def start_idp(args: argparse.Namespace) -> tuple[subprocess.Popen[str], str]:
    idp = subprocess.Popen(
        [
            "node",
            str(ROOT / "dev" / "idp" / "server.mjs"),
            "--port",
            str(args.idp_port),
            "--profile",
            args.profile,
            "--access-ttl",
            str(args.access_ttl),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert idp.stdout is not None
    line = idp.stdout.readline()
    if not line:
        sys.exit(f"The demo provider did not start on port {args.idp_port} (see its message above).")
    return idp, json.loads(line)["issuer"]


def wait_for(url: str, lab: subprocess.Popen[bytes], name: str, timeout: float = 120) -> None:
    """Until ``url`` answers; exits at once if the server process ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lab.poll() is not None:
            sys.exit(f"{name} stopped (exit code {lab.returncode}); its log is above.")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            time.sleep(0.25)
    sys.exit(f"{name} did not answer at {url}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    check_ports(args)
    workdir, token = prepare_workdir(args)
    idp, issuer = start_idp(args)
    try:
        run(args, workdir, token, idp, issuer)
    finally:
        if idp.poll() is None:
            idp.terminate()


def run(args: argparse.Namespace, workdir: Path, token: str, idp: subprocess.Popen[str], issuer: str) -> None:
    config = write_config(workdir, issuer, args)
    runtime, found_by_default = runtime_dir(workdir, bool(args.workdir) and not args.json)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(workdir / "config"),
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "PATH": os.pathsep.join([str(venv_bin()), os.environ.get("PATH", "")]),
    }
    module = {"lab": "jupyterlab", "notebook": "notebook", "server": "jupyter_server"}[args.app]
    lab = subprocess.Popen(
        [
            sys.executable,
            "-m",
            module,
            "--no-browser",
            f"--port={args.lab_port}",
            "--ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.base_url={args.base_url}",
            f"--config={config}",
            f"--ServerApp.root_dir={workdir / 'notebooks'}",
            "--ServerApp.port_retries=0",
            *(["--allow-root"] if os.getuid() == 0 else []),
            *(["--LabApp.expose_app_in_browser=True"] if args.expose_app else []),
            *args.jupyter_args,
        ],
        env=env,
        stdout=subprocess.DEVNULL if args.json else None,
        stderr=subprocess.DEVNULL if args.json else None,
    )

    def stop(*_: object) -> None:
        for process in (lab, idp):
            if process.poll() is None:
                process.terminate()
        for process in (lab, idp):
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    base = f"http://127.0.0.1:{args.lab_port}{args.base_url}"
    name = APP_NAMES[args.app]
    wait_for(f"{base}api/status?token={token}", lab, name)
    url = f"{base}{'lab' if args.app == 'lab' else 'tree' if args.app == 'notebook' else ''}?token={token}"
    cli = cli_command(runtime, found_by_default, base)
    if args.json:
        print(
            json.dumps(
                {
                    "url": url,
                    "base_url": base,
                    "token": token,
                    "issuer": issuer,
                    "email": DEMO_EMAIL,
                    "workdir": str(workdir),
                    "runtime_dir": str(runtime),
                    "cli": cli,
                }
            ),
            flush=True,
        )
    else:
        kept = f"  Kept across runs in {workdir} (make demo-reset starts afresh).\n" if args.workdir else ""
        print(
            f"\n  jupyterlab-oidc demo is running\n\n"
            f"  {(name + ':').ljust(16)} {url}\n"
            f"  Demo provider:   {issuer}\n"
            f"  Sign in as:      {DEMO_EMAIL}  (also alice@example.com, bob@example.com)\n"
            f"  From a shell:    {cli}\n"
            f"  In its terminal: jupyter oidc status\n"
            f"{kept}\n"
            f"  {OPEN_HINT[args.app]} Ctrl-C stops both.\n",
            flush=True,
        )
    while lab.poll() is None and idp.poll() is None:
        time.sleep(0.5)
    stop()


if __name__ == "__main__":
    main()
