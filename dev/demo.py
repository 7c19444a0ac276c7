"""Start the demo: the bundled OpenID provider and JupyterLab configured against it.

Used by ``make demo`` (prints the URL and the demo user's email, runs until Ctrl-C) and
by the Playwright tests (``--json`` prints one line with the URLs once both are up).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_EMAIL = "demo@example.com"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lab-port", type=int, default=8888)
    parser.add_argument("--idp-port", type=int, default=5556)
    parser.add_argument("--profile", choices=["id_token", "userinfo"], default="id_token")
    parser.add_argument("--access-ttl", type=int, default=300, help="access token lifetime (s)")
    parser.add_argument("--token", default="", help="Jupyter token (default: random)")
    parser.add_argument("--base-url", default="/")
    parser.add_argument("--app", default="lab", choices=["lab", "notebook", "server"])
    parser.add_argument("--workdir", default="", help="where JupyterLab runs and keeps its config")
    parser.add_argument("--json", action="store_true", help="print one JSON line when ready")
    parser.add_argument("--extra-environments", type=int, default=0, help="add env1..envN (benchmarks)")
    parser.add_argument("--expose-app", action="store_true", help="window.jupyterapp for browser tests")
    parser.add_argument("jupyter_args", nargs="*", help="passed on to the Jupyter server (after --)")
    return parser.parse_args()


def start_idp(args: argparse.Namespace) -> tuple[subprocess.Popen[str], str]:
    idp = subprocess.Popen(
        ["node", str(ROOT / "dev" / "idp" / "server.mjs"), "--port", str(args.idp_port),
         "--profile", args.profile, "--access-ttl", str(args.access_ttl)],
        stdout=subprocess.PIPE, text=True,
    )
    assert idp.stdout is not None
    line = idp.stdout.readline()
    if not line:
        sys.exit(f"The demo provider did not start (is port {args.idp_port} free?)")
    return idp, json.loads(line)["issuer"]


def write_config(workdir: Path, issuer: str, args: argparse.Namespace) -> Path:
    config = {
        "ServerApp": {"jpserver_extensions": {"jupyterlab_oidc": True}},
        "OIDCLogin": {
            "environments": {
                "prod": {"issuer": issuer, "client_id": "jupyterlab-oidc", "display_name": "Demo provider",
                         "project_ids": {"spatial_engine": "360000000000000001"}},
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


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            time.sleep(0.25)
    sys.exit(f"JupyterLab did not answer at {url}")


def main() -> None:
    args = parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="jupyterlab-oidc-demo-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    token = args.token or secrets.token_hex(16)
    idp, issuer = start_idp(args)
    try:
        run(args, workdir, token, idp, issuer)
    finally:
        if idp.poll() is None:
            idp.terminate()


def run(args: argparse.Namespace, workdir: Path, token: str, idp: subprocess.Popen[str], issuer: str) -> None:
    config = write_config(workdir, issuer, args)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(workdir / "config"), "JUPYTER_RUNTIME_DIR": str(workdir / "runtime")}
    module = {"lab": "jupyterlab", "notebook": "notebook", "server": "jupyter_server"}[args.app]
    lab = subprocess.Popen(
        [sys.executable, "-m", module, "--no-browser", f"--port={args.lab_port}", "--ip=127.0.0.1", f"--ServerApp.token={token}",
         f"--ServerApp.base_url={args.base_url}", f"--config={config}", f"--ServerApp.root_dir={workdir}",
         "--ServerApp.port_retries=0", *(["--allow-root"] if os.getuid() == 0 else []),
         *(["--LabApp.expose_app_in_browser=True"] if args.expose_app else []), *args.jupyter_args],
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
    wait_for(f"{base}api/status?token={token}")
    url = f"{base}{'lab' if args.app == 'lab' else 'tree' if args.app == 'notebook' else ''}?token={token}"
    if args.json:
        print(json.dumps({"url": url, "base_url": base, "token": token, "issuer": issuer,
                          "email": DEMO_EMAIL, "workdir": str(workdir)}), flush=True)
    else:
        print(
            f"\n  jupyterlab-oidc demo is running\n\n"
            f"  JupyterLab:      {url}\n"
            f"  Demo provider:   {issuer}\n"
            f"  Sign in as:      {DEMO_EMAIL}  (also alice@example.com, bob@example.com)\n\n"
            f"  Open the key icon in the left sidebar. Ctrl-C stops both.\n",
            flush=True,
        )
    while lab.poll() is None and idp.poll() is None:
        time.sleep(0.5)
    stop()


if __name__ == "__main__":
    main()
