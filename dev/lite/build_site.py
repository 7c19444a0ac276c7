"""Build the JupyterLite site of jupyterlab-oidc (``make lite``), from registry packages only.

- JupyterLite and the Pyodide kernel: the PyPI packages installed in dev/lite/.venv;
- Pyodide itself: the npm package ``pyodide`` (its core: pyodide.mjs, the wasm, the stdlib,
  the lock file), served by the site — the kernel never reaches a CDN;
- the Python packages the Pyodide kernel loads (micropip, packaging, comm, ipython, jedi and
  their lock dependencies), pyodide-http and requests: npm's Pyodide lists them in its lock
  file but ships none of their wheels (a kernel without them never answers: pyodide_kernel
  cannot import). Their pure-Python wheels come from PyPI at the lock's versions
  (``--requirements`` prints the pins) and enter the site's copy of the lock with their own
  sha256; comm and ipython-pygments-lexers, not in the lock, are added to it;
- the kernel helper: a pure-Python wheel of jupyterlab_oidc without the server parts,
  entered into the lock file too and preloaded by the kernel;
- this extension's labextension, and lite/oidc-callback.html at the site root.

Usage: python dev/lite/build_site.py --pyodide-tgz T --wheels DIR --out DIR --issuer URL
       python dev/lite/build_site.py --pyodide-tgz T --requirements   (the PyPI pins)
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
#: What the site serves from PyPI: the kernel's imports and what a cell may install.
ROOTS = ("micropip", "packaging", "pyodide-http", "comm", "ipython", "jedi", "requests")
#: Preloaded by loadPyodide (the kernel then skips piplite for them).
PRELOAD = ["micropip", "packaging", "pyodide-http", "comm", "ipython", "jedi", "jupyterlab-oidc"]
#: Not in Pyodide 314's lock: pinned here, pure-Python wheels on PyPI.
EXTRA = {"comm": "0.2.3", "ipython-pygments-lexers": "1.1.1"}
#: Dependencies the lock leaves out (ipython 9 imports ipython_pygments_lexers).
EXTRA_DEPENDS = {"ipython": ["ipython-pygments-lexers"]}

#: What the kernel wheel ships: the kernel helper and the stdlib-only modules it imports.
KERNEL_FILES = ("__init__.py", "_version.py", "errors.py", "protocol.py", "core/__init__.py", "core/runtime.py")
#: Run by IPython when the Pyodide kernel starts (PYTHONSTARTUP): the comm opens at once, so
#: the page's token reaches the kernel before the first cell (JupyterLite delivers the page's
#: comm messages between cells only; see jupyterlab_oidc/kernel/lite.py).
STARTUP_FILE = "jupyterlab_oidc/_lite_startup.py"
STARTUP = b"""def _jupyterlab_oidc_attach():
    from jupyterlab_oidc.kernel.lite import attach_soon

    attach_soon()


_jupyterlab_oidc_attach()
del _jupyterlab_oidc_attach
"""
SITE_PACKAGES = "/lib/python3.14/site-packages"


def kernel_wheel(dest: Path, version: str) -> Path:
    """A pure-Python wheel of jupyterlab_oidc's kernel side (no jupyter_server, no httpx)."""
    name = f"jupyterlab_oidc-{version}-py3-none-any.whl"
    path = dest / name
    dist = f"jupyterlab_oidc-{version}.dist-info"
    files: dict[str, bytes] = {}
    pkg = ROOT / "jupyterlab_oidc"
    for rel in KERNEL_FILES:
        if (pkg / rel).exists():
            files[f"jupyterlab_oidc/{rel}"] = (pkg / rel).read_bytes()
    for src in sorted((pkg / "kernel").rglob("*.py")):
        files[f"jupyterlab_oidc/{src.relative_to(pkg).as_posix()}"] = src.read_bytes()
    files[STARTUP_FILE] = STARTUP
    files[f"{dist}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: jupyterlab_oidc\nVersion: {version}\n"
        "Summary: jupyterlab-oidc kernel helper for JupyterLite (Pyodide)\n"
    ).encode()
    files[f"{dist}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: dev/lite/build_site.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = []
    for arc, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{arc},sha256={digest},{len(data)}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for arc, data in files.items():
            zf.writestr(zipfile.ZipInfo(arc, date_time=(2020, 1, 1, 0, 0, 0)), data)
    return path


def lock_entry(wheel: Path, name: str, imports: list[str]) -> dict:
    version = wheel.name.split("-")[1]
    return {
        "name": name,
        "version": version,
        "file_name": wheel.name,
        "install_dir": "site",
        "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
        "package_type": "package",
        "imports": imports,
        "depends": [],
        "unvendored_tests": False,
        "tool": {},
    }


def normalize(name: str) -> str:
    return name.replace("_", "-").replace(".", "-").lower()


def read_lock(tgz: Path) -> dict:
    with tarfile.open(tgz) as tar:
        member = tar.extractfile("package/pyodide-lock.json")
        assert member is not None
        return json.load(member)


def closure(lock: dict) -> dict[str, str]:
    """name -> version of every package the site serves from PyPI (ROOTS and their depends)."""
    packages = {normalize(k): v for k, v in lock["packages"].items()}
    wanted: dict[str, str] = {}
    todo = list(ROOTS)
    while todo:
        name = normalize(todo.pop())
        if name in wanted:
            continue
        if name in EXTRA:
            wanted[name] = EXTRA[name]
            depends: list[str] = []
        else:
            entry = packages[name]
            if entry.get("package_type", "package") != "package" or not entry["file_name"].endswith("none-any.whl"):
                raise SystemExit(f"{name}: not a pure-Python wheel in the lock ({entry['file_name']})")
            wanted[name] = entry["version"]
            depends = list(entry.get("depends", []))
        todo.extend(depends + EXTRA_DEPENDS.get(name, []))
    return dict(sorted(wanted.items()))


def pyodide_dir(tgz: Path, wheels: Path, dest: Path, version: str) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tgz) as tar:
        for member in tar.getmembers():
            base = member.name.removeprefix("package/")
            if base in PYODIDE_FILES:
                member.name = base
                tar.extract(member, dest, filter="data")
    lock = json.loads((dest / "pyodide-lock.json").read_text())
    keys = {normalize(k): k for k in lock["packages"]}
    wanted = closure(lock)
    # The lock's own entries keep their names; the wheel files are PyPI's, with PyPI's hashes.
    found = set()
    for wheel in sorted(wheels.glob("*.whl")):
        project, wheel_version = normalize(wheel.name.split("-")[0]), wheel.name.split("-")[1]
        if wanted.get(project) != wheel_version:
            continue
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if project in keys:
            entry = lock["packages"][keys[project]]
            entry.update(file_name=wheel.name, sha256=digest)
        else:
            entry = lock_entry(wheel, project, [project.replace("-", "_")])
            lock["packages"][project] = entry
        entry["depends"] = sorted(set(entry.get("depends", [])) | set(EXTRA_DEPENDS.get(project, [])))
        shutil.copy2(wheel, dest / wheel.name)
        found.add(project)
    missing = sorted(set(wanted) - found)
    if missing:
        raise SystemExit(f"wheels missing from {wheels}: {', '.join(f'{n}=={wanted[n]}' for n in missing)}")
    ours = kernel_wheel(dest, version)
    lock["packages"]["jupyterlab-oidc"] = lock_entry(ours, "jupyterlab-oidc", ["jupyterlab_oidc"])
    (dest / "pyodide-lock.json").write_text(json.dumps(lock))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyodide-tgz", type=Path, required=True)
    parser.add_argument("--requirements", action="store_true", help="print the PyPI pins and exit")
    parser.add_argument("--wheels", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--issuer")
    parser.add_argument("--client-id", default="jupyterlab-oidc")
    parser.add_argument("--base-path", default="/", help="the URL path the site is served under (ends with /)")
    parser.add_argument(
        "--expose-app", action="store_true", help="window.jupyterapp for the Playwright specs (a dev site only)"
    )
    args = parser.parse_args()
    if args.requirements:
        print("\n".join(f"{name}=={v}" for name, v in closure(read_lock(args.pyodide_tgz)).items()))
        return 0
    if not (args.wheels and args.out and args.issuer):
        parser.error("--wheels, --out and --issuer are needed to build the site")
    out = args.out.resolve()
    version = "0.1.0"
    version_file = ROOT / "jupyterlab_oidc" / "_version.py"
    if version_file.exists():
        version = version_file.read_text().split("'")[-2]
    # Built beside the site and swapped in at the end: a site being served (make lite-serve, a
    # Playwright run) never loses its files to a rebuild, and two builds never share a directory.
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.lite-dir-", dir=out.parent))
    new = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    config = {
        "jupyter-lite-schema-version": 0,
        "jupyter-config-data": {
            "appName": "JupyterLite with jupyterlab-oidc",
            **({"exposeAppInBrowser": "true"} if args.expose_app else {}),
            "jupyterlabOidc": {
                "default_environment": "dev",
                "environments": [
                    {
                        "name": "dev",
                        "display_name": "Dev provider",
                        "issuer": args.issuer,
                        "client_id": args.client_id,
                        "scopes": ["openid", "email", "profile", "offline_access"],
                    }
                ],
            },
            "litePluginSettings": {
                "@jupyterlite/pyodide-kernel-extension:kernel": {
                    "pyodideUrl": f"{args.base_path}static/pyodide/pyodide.mjs",
                    "disablePyPIFallback": True,
                    "loadPyodideOptions": {
                        "lockFileURL": f"{args.base_path}static/pyodide/pyodide-lock.json",
                        "packages": PRELOAD,
                        "env": {"HOME": "/home/pyodide", "PYTHONSTARTUP": f"{SITE_PACKAGES}/{STARTUP_FILE}"},
                    },
                },
            },
        },
    }
    (work / "jupyter-lite.json").write_text(json.dumps(config, indent=2))
    jupyter = Path(sys.executable).parent / "jupyter"
    try:
        build(jupyter, work, new, args, version)
        swap(new, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(new, ignore_errors=True)
    print(f"lite site: {out}")
    return 0


def build(jupyter: Path, work: Path, out: Path, args: argparse.Namespace, version: str) -> None:
    subprocess.run(
        [
            str(jupyter),
            "lite",
            "build",
            "--lite-dir",
            str(work),
            "--output-dir",
            str(out),
            "--no-sourcemaps",
            f"--LiteBuildConfig.federated_extensions={ROOT / 'jupyterlab_oidc' / 'labextension'}",
        ],
        check=True,
        cwd=work,
    )
    pyodide_dir(args.pyodide_tgz, args.wheels, out / "static" / "pyodide", version)
    shutil.copy2(ROOT / "lite" / "oidc-callback.html", out / "oidc-callback.html")
    out.chmod(0o755)  # mkdtemp's 0700 would hide the site from a server run by someone else


def swap(new: Path, out: Path) -> None:
    """Put the site built in ``new`` at ``out`` with two renames (the old one deleted after)."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        os.replace(out, old)
    os.replace(new, out)
    shutil.rmtree(old, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
