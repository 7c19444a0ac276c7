"""``make test-dist``: what ``make dist`` built, installed the way a user installs it.

For the wheel and for the sdist of the version in package.json (in DIST, default ``dist/``):

1. a clean virtualenv (``.dist-check/<wheel|sdist>``, made anew each run) gets the artifact and
   JupyterLab, nothing else; pip runs with only that virtualenv on PATH, so the sdist cannot
   fall back to Node.js: it must carry the prebuilt labextension;
2. with a fresh Jupyter config directory: ``jupyter server extension list`` shows
   ``jupyterlab_oidc`` enabled and OK, ``jupyter labextension list`` shows ``jupyterlab-oidc``
   enabled and OK, and ``jupyter oidc --help`` works;
3. ``twine check --strict`` on both (from a virtualenv of its own, ``.dist-check/twine``): the long
   description renders; plus what twine does not check: the classifiers are known trove
   classifiers and include the JupyterLab ones, there are project URLs, ``Requires-Python``; the
   sdist carries no virtualenv, ``node_modules`` or state of the demo and of these checks.

Prints a table and exits 1 if anything failed.

    python dev/dist_check.py [DIST] [--jupyterlab REQUIREMENT]   (default: the test extra's JupyterLab)
"""

from __future__ import annotations

import argparse
import email.parser
import json
import os
import re
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = "jupyterlab_oidc"
LABEXTENSION = "jupyterlab-oidc"
WANTED_CLASSIFIERS = (
    "Framework :: Jupyter :: JupyterLab :: 4",
    "Framework :: Jupyter :: JupyterLab :: Extensions :: Prebuilt",
)


def artifacts(dist: Path) -> dict[str, Path]:
    version = json.loads((ROOT / "package.json").read_text())["version"]
    found = {"wheel": dist / f"{NAME}-{version}-py3-none-any.whl", "sdist": dist / f"{NAME}-{version}.tar.gz"}
    missing = [str(p) for p in found.values() if not p.exists()]
    if missing:
        raise SystemExit(f"not built: {', '.join(missing)} (run `make dist`)")
    return found


def metadata_of(artifact: Path) -> email.message.Message:
    if artifact.suffix == ".whl":
        with zipfile.ZipFile(artifact) as wheel:
            name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
            text = wheel.read(name).decode()
    else:
        with tarfile.open(artifact) as sdist:
            member = next(m for m in sdist.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO"))
            extracted = sdist.extractfile(member)
            assert extracted is not None
            text = extracted.read().decode()
    return email.parser.Parser().parsestr(text)


def metadata_problems(artifact: Path) -> list[str]:
    """What twine check does not look at; also used by tests/test_packaging.py."""
    from trove_classifiers import classifiers as known  # hatchling's own dependency

    meta = metadata_of(artifact)
    problems = []
    if meta.get("Description-Content-Type", "").split(";")[0].strip() != "text/markdown":
        problems.append(f"Description-Content-Type is {meta.get('Description-Content-Type')!r}, not text/markdown")
    if len(meta.get_payload() or "") < 200:
        problems.append("the long description (README) is missing or nearly empty")
    classifiers = meta.get_all("Classifier") or []
    problems += [f"unknown classifier {c!r}" for c in classifiers if c not in known]
    problems += [f"missing classifier {c!r}" for c in WANTED_CLASSIFIERS if c not in classifiers]
    urls = meta.get_all("Project-URL") or []
    if not urls:
        problems.append("no Project-URL")
    problems += [f"Project-URL not https: {u!r}" for u in urls if "https://" not in u]
    for field in ("Summary", "Requires-Python", "License"):
        if not meta.get(field) and not (field == "License" and meta.get("License-Expression")):
            problems.append(f"no {field}")
    return problems


#: Never in an sdist: virtualenvs, npm packages, the demo's and the checks' state.
NOT_IN_SDIST = {".venv", ".compat", ".dist-check", ".demo", "node_modules", "dist", ".git"}


def sdist_problems(sdist: Path) -> list[str]:
    with tarfile.open(sdist) as archive:
        tops = {m.name.split("/")[1] for m in archive.getmembers() if m.name.count("/") >= 1}
    return [f"the sdist carries {name}/" for name in sorted(tops & NOT_IN_SDIST)]


def _env(target: Path, home: Path) -> dict[str, str]:
    """Only the virtualenv on PATH; a home and Jupyter config of its own."""
    home.mkdir(parents=True, exist_ok=True)
    keep = {k: v for k, v in os.environ.items() if k.startswith(("PIP_", "SSL_", "REQUESTS_CA", "LANG", "LC_"))}
    return {
        **keep,
        "PATH": str(target / "bin"),
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
    }


def _call(args: list[str], env: dict[str, str], log: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=1800)
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(args)}\n{done.stdout}{done.stderr}")
    return done


def _listed(out: str, name: str) -> bool:
    """``name`` shown enabled and validated OK (the lists colour their words)."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in out.splitlines() if name in line]
    return any(" enabled" in line for line in lines) and any(re.search(r"\bOK\b", line) for line in lines)


def install_and_list(kind: str, artifact: Path, work: Path, jupyterlab: str) -> dict[str, str]:
    target, home, log = work / kind, work / f"{kind}-home", work / f"{kind}.log"
    log.write_text(f"# {artifact.name}\n")
    print(f"[{kind}] clean virtualenv + {artifact.name} + {jupyterlab}", flush=True)
    venv.create(target, with_pip=True, clear=True)
    env = _env(target, home)
    python, jupyter = str(target / "bin" / "python"), str(target / "bin" / "jupyter")
    row = {"artifact": artifact.name}
    installed = _call([python, "-m", "pip", "install", "-q", str(artifact), jupyterlab], env, log)
    row["install"] = "ok" if installed.returncode == 0 else f"FAIL ({log})"
    if installed.returncode != 0:
        return row
    server = _call([jupyter, "server", "extension", "list"], env, log)
    row["server extension"] = "enabled OK" if _listed(server.stdout + server.stderr, NAME) else f"FAIL ({log})"
    lab = _call([jupyter, "labextension", "list"], env, log)
    lab_out = lab.stdout + lab.stderr
    lab_ok = _listed(lab_out, LABEXTENSION) and "incompatible" not in lab_out.lower()
    row["labextension"] = "enabled OK" if lab_ok else f"FAIL ({log})"
    cli = _call([jupyter, "oidc", "--help"], env, log)
    row["jupyter oidc --help"] = "ok" if cli.returncode == 0 and "usage" in cli.stdout.lower() else f"FAIL ({log})"
    versions = _call(
        [
            python,
            "-c",
            "import jupyterlab, jupyterlab_oidc; print(jupyterlab.__version__, jupyterlab_oidc.__version__)",
        ],
        env,
        log,
    )
    row["jupyterlab"] = versions.stdout.split()[0] if versions.returncode == 0 else "?"
    return row


def twine_check(files: list[Path], work: Path) -> str:
    tools = work / "twine"
    log = work / "twine.log"
    log.write_text("")
    python = tools / "bin" / "python"
    env = {**os.environ, "PATH": f"{tools / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    if not (tools / "bin" / "twine").exists():
        venv.create(tools, with_pip=True, clear=True)
        if _call([str(python), "-m", "pip", "install", "-q", "twine>=5"], env, log).returncode != 0:
            return f"FAIL: cannot install twine ({log})"
    checked = _call([str(python), "-m", "twine", "check", "--strict", *map(str, files)], env, log)
    return "ok" if checked.returncode == 0 else f"FAIL ({log})"


def _jupyterlab_requirement() -> str:
    """The ``test`` extra's JupyterLab (the range make test-compat checks)."""
    text = (ROOT / "pyproject.toml").read_text()
    found = re.search(r'"(jupyterlab\s*>=[^"]*)"', text.split("[project.optional-dependencies]", 1)[-1])
    return found.group(1) if found else "jupyterlab<5"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dist", nargs="?", type=Path, default=ROOT / "dist")
    parser.add_argument(
        "--jupyterlab", default=_jupyterlab_requirement(), help="what the clean virtualenvs get beside the package"
    )
    parser.add_argument("--work", type=Path, default=ROOT / ".dist-check")
    args = parser.parse_args()
    found = artifacts(args.dist.resolve())
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    rows = [install_and_list(kind, path, work, args.jupyterlab) for kind, path in found.items()]
    twine = twine_check(list(found.values()), work)
    for row, path in zip(rows, found.values(), strict=True):
        row["twine check"] = twine
        problems = metadata_problems(path) + (sdist_problems(path) if path.name.endswith(".tar.gz") else [])
        row["metadata"] = "ok" if not problems else "FAIL: " + "; ".join(problems)
    columns = [
        "artifact",
        "install",
        "jupyterlab",
        "server extension",
        "labextension",
        "jupyter oidc --help",
        "twine check",
        "metadata",
    ]
    for row in rows:
        print()
        for column in columns:
            print(f"  {column:<20} {row.get(column, '-')}")
    failed = [r for r in rows if any(str(r.get(c, "")).startswith("FAIL") for c in columns)]
    print("\nmake test-dist:", "FAILED" if failed else "all OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
