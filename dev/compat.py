"""``make test-compat``: the smoke subset (tests/compat) against the oldest and the newest versions
the package claims, each in its own virtualenv under ``.compat/<name>``.

- ``oldest``: every runtime dependency of pyproject.toml at its lower bound (``jupyter_server>=2.13``
  is installed as ``jupyter_server==2.13``, likewise joserfc, authlib, httpx, comm, traitlets),
  JupyterHub at the lower bound of the ``test`` extra, ipykernel 6 (kernels without subshells, so
  ``get_token()`` goes over HTTP) and JupyterLab 4.4: the server half on the oldest server;
- ``oldest-lab``: the same with the oldest JupyterLab the labextension accepts (its
  ``@jupyterlab/application`` range in package.json, which must equal the ``test`` extra's lower
  bound for ``jupyterlab``) and the oldest jupyter_server that JupyterLab accepts;
- ``newest``: the same names with their declared ranges, upgraded to the newest releases.

Each virtualenv gets the package from the working tree (editable, with the labextension
``make build`` made), pytest and pytest-jupyter; it is kept between runs and reinstalled when what it
should hold changes (``newest`` is upgraded on every run). The table at the end gives the versions
each run had and its result; the exit status is 1 if any run failed.

    python dev/compat.py [--only NAME] [--reinstall] [--tree PATH] [-- PYTEST ARGS]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import venv
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    from pip._vendor import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent

#: Kernel side: ipykernel 6 (6.14: the oldest pytest-jupyter accepts) has no subshells; 7 has.
IPYKERNEL_OLDEST = "6.14.0"
#: The oldest JupyterLab beside the oldest server (the server half; its labextension check skips).
JUPYTERLAB_OLDEST_SERVER = "4.4.0"
#: The oldest jupyter_server each JupyterLab minor accepts (its Requires-Dist), for ``oldest-lab``.
SERVER_FOR_JUPYTERLAB = {"4.4": "2.4.0", "4.5": "2.4.0", "4.6": "2.19.0"}
#: Lower bounds of the ``test`` extra that are claims about the product, not test tools.
CLAIMED_FROM_TEST_EXTRA = ("jupyterlab", "jupyterhub")
#: Test tools, at whatever version their ranges in the ``test`` extra give.
TEST_TOOLS = ("pytest", "pytest-jupyter", "pytest-timeout")
#: Columns of the table (distribution names as pip lists them).
SHOWN = (
    "jupyter_server",
    "jupyterlab",
    "ipykernel",
    "jupyterhub",
    "tornado",
    "traitlets",
    "jupyter_client",
    "joserfc",
    "cryptography",
    "authlib",
    "httpx",
    "comm",
)
SUMMARY = re.compile(r"^=* ?(\d+ (?:passed|failed|errors?|skipped|deselected)\b.*?|no tests ran) in [\d.]+s\b", re.M)


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _lower_bound(requirement: str) -> str:
    """``jupyter_server>=2.13,<3`` → ``jupyter_server==2.13`` (the oldest release it allows)."""
    match = re.search(r">=\s*([\w.]+)", requirement)
    if not match:
        raise SystemExit(f"pyproject.toml: {requirement!r} has no lower bound to test")
    extras = re.match(r"[\w.-]+(\[[^\]]*\])?", requirement)
    return f"{_name(requirement)}{(extras and extras.group(1)) or ''}=={match.group(1)}"


@dataclass
class Matrix:
    name: str
    requirements: list[str]
    upgrade: bool


def labextension_needs(tree: Path) -> str:
    """The oldest JupyterLab the built labextension accepts (``^4.6.4`` → ``4.6.4``)."""
    package = json.loads((tree / "package.json").read_text())
    wanted = package["dependencies"]["@jupyterlab/application"]
    match = re.fullmatch(r"[\^~>=]*\s*(\d+\.\d+\.\d+)", wanted.strip())
    if not match:
        raise SystemExit(f"package.json: cannot read the oldest JupyterLab from {wanted!r}")
    return match.group(1)


def matrices(tree: Path) -> list[Matrix]:
    project = tomllib.loads((tree / "pyproject.toml").read_text())["project"]
    runtime = list(project["dependencies"])
    test_extra = {_canonical(_name(r)): r for r in project["optional-dependencies"]["test"]}
    claimed = [test_extra[_canonical(n)] for n in CLAIMED_FROM_TEST_EXTRA]
    tools = [test_extra[_canonical(n)] for n in TEST_TOOLS]
    oldest = {_canonical(_name(r)): _lower_bound(r) for r in runtime + claimed}
    oldest["ipykernel"] = f"ipykernel=={IPYKERNEL_OLDEST}"
    lab = oldest["jupyterlab"].split("==")[1]
    if lab != labextension_needs(tree):
        raise SystemExit(
            f"pyproject.toml's test extra says jupyterlab>={lab}, the labextension needs "
            f"{labextension_needs(tree)} (package.json): make them agree"
        )
    server_only = {**oldest, "jupyterlab": f"jupyterlab=={JUPYTERLAB_OLDEST_SERVER}"}
    floor = oldest["jupyter_server"].split("==")[1]
    for_lab = SERVER_FOR_JUPYTERLAB[".".join(lab.split(".")[:2])]
    server = max(floor, for_lab, key=lambda v: tuple(int(p) for p in v.split(".")))
    with_lab = {**oldest, "jupyter_server": f"jupyter_server=={server}"}
    newest = runtime + claimed + ["ipykernel"]
    return [
        Matrix("oldest", list(server_only.values()) + tools, upgrade=False),
        Matrix("oldest-lab", list(with_lab.values()) + tools, upgrade=False),
        Matrix("newest", newest + tools, upgrade=True),
    ]


def _run(args: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> int:
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(args)}\n")
        out.flush()
        return subprocess.call(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)


def _clean_env(bin_dir: Path) -> dict[str, str]:
    """The run's environment: its virtualenv first on PATH, no other virtualenv, no Jupyter paths."""
    active = os.environ.get("VIRTUAL_ENV")
    path = [
        p
        for p in os.environ.get("PATH", "").split(os.pathsep)
        if p and not (active and p.startswith(active)) and not p.endswith("/.venv/bin")
    ]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JUPYTER_", "JUPYTERHUB_", "JUPYTERLAB_OIDC_", "PYTHONPATH", "VIRTUAL_ENV"))
    }
    env["PATH"] = os.pathsep.join([str(bin_dir), *path])
    return env


def prepare(matrix: Matrix, tree: Path, cache: Path, reinstall: bool) -> tuple[Path, Path]:
    """Create or update the virtualenv; returns its python and the run's log file."""
    target = cache / matrix.name
    log = cache / f"{matrix.name}.log"
    log.write_text(f"# {matrix.name}: {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    python = target / "bin" / "python"
    spec = json.dumps({"python": sys.version, "tree": str(tree), "requirements": matrix.requirements})
    stamp = target / ".compat-spec"
    fresh = (
        reinstall
        or not python.exists()
        or not stamp.exists()
        or stamp.read_text() != hashlib.sha256(spec.encode()).hexdigest()
    )
    if fresh:
        print(
            f"[{matrix.name}] creating {target.relative_to(tree) if target.is_relative_to(tree) else target}",
            flush=True,
        )
        venv.create(target, with_pip=True, clear=True)
        _run([str(python), "-m", "pip", "install", "-q", "-U", "pip"], log)
    if fresh or matrix.upgrade:
        print(f"[{matrix.name}] pip install {' '.join(matrix.requirements)}", flush=True)
        env = _clean_env(target / "bin")
        env["HATCH_BUILD_NO_HOOKS"] = "true"  # the labextension `make build` made is used as it is
        args = [str(python), "-m", "pip", "install", "-q", "-e", str(tree), *matrix.requirements]
        if matrix.upgrade:
            args[4:4] = ["-U", "--upgrade-strategy", "eager"]
        if _run(args, log, env=env) != 0:
            raise InstallFailedError(log)
        stamp.write_text(hashlib.sha256(spec.encode()).hexdigest())
    return python, log


class InstallFailedError(Exception):
    pass


def versions(python: Path) -> dict[str, str]:
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"], capture_output=True, text=True)
    if listed.returncode != 0:
        return {}
    return {_canonical(p["name"]): p["version"] for p in json.loads(listed.stdout)}


def run_smoke(python: Path, tree: Path, log: Path, pytest_args: list[str]) -> tuple[bool, str]:
    env = _clean_env(python.parent)
    env["JUPYTERLAB_OIDC_COMPAT"] = "1"
    args = [str(python), "-m", "pytest", "tests/compat", "-p", "no:cacheprovider", "-rs", "-q", *pytest_args]
    code = _run(args, log, env=env, cwd=tree)
    found = SUMMARY.findall(log.read_text())
    summary = found[-1] if found else f"pytest exited {code}"
    return code == 0 and "passed" in summary, summary


def table(rows: list[dict[str, str]]) -> str:
    columns = ["run", *SHOWN, "python", "result"]
    widths = {c: max(len(c), *(len(r.get(c, "")) for r in rows)) for c in columns}
    lines = [" | ".join(c.ljust(widths[c]) for c in columns), "-+-".join("-" * widths[c] for c in columns)]
    lines += [" | ".join(r.get(c, "").ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--only", action="append", choices=["oldest", "oldest-lab", "newest"], help="run only this matrix"
    )
    parser.add_argument("--reinstall", action="store_true", help="build the virtualenvs anew")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the working tree to test (default: this one)")
    parser.add_argument("--cache", type=Path, help="where the virtualenvs live (default: TREE/.compat)")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest after --")
    args = parser.parse_args()
    tree = args.tree.resolve()
    cache = (args.cache or tree / ".compat").resolve()
    cache.mkdir(parents=True, exist_ok=True)
    if not (tree / "jupyterlab_oidc" / "labextension" / "package.json").exists():
        print("the labextension is not built: run `make build` first", file=sys.stderr)
        return 2
    rows: list[dict[str, str]] = []
    ok = True
    for matrix in matrices(tree):
        if args.only and matrix.name not in args.only:
            continue
        started = time.monotonic()
        row = {"run": matrix.name, "python": ".".join(map(str, sys.version_info[:2]))}
        try:
            python, log = prepare(matrix, tree, cache, args.reinstall)
        except InstallFailedError as e:
            row["result"] = f"install failed (see {e.args[0]})"
            ok = False
        else:
            installed = versions(python)
            row.update({name: installed.get(_canonical(name), "-") for name in SHOWN})
            print(f"[{matrix.name}] pytest tests/compat", flush=True)
            passed, summary = run_smoke(python, tree, log, args.pytest_args)
            row["result"] = ("PASS " if passed else "FAIL ") + summary
            ok = ok and passed
            if not passed:
                print(f"[{matrix.name}] failed; log: {log}", flush=True)
        print(f"[{matrix.name}] {row['result']} ({time.monotonic() - started:.0f} s)", flush=True)
        rows.append(row)
    print()
    print(table(rows))
    (cache / "results.txt").write_text(table(rows) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
