"""The package layout holds: core/ without Jupyter, no import cycles, who may import whom, file sizes."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "jupyterlab_oidc"
ROOT = PACKAGE.parent
JUPYTER = ("tornado", "jupyter_server", "traitlets")
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "labextension" in path.parts:
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str, path: Path, *, runtime_only: bool = True, top_level: bool = False) -> set[str]:
    """Absolute names of the modules ``name`` imports (``if TYPE_CHECKING:`` blocks left out).

    ``top_level``: only the imports run when the module loads (not those inside functions).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and runtime_only and _is_type_checking(node):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                for alias in node.names:  # ``from pkg import submodule`` imports the submodule
                    found.add(f"{module}.{alias.name}" if f"{module}.{alias.name}" in MODULES else module)
            if top_level and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    visit([child])

    visit(tree.body)
    return found


def _internal(name: str) -> set[str]:
    """Modules of the package ``name`` imports, its own parent packages aside (Python loads those first)."""
    parents = {name.rsplit(".", n)[0] for n in range(1, name.count(".") + 1)}
    imported = _imports(name, MODULES[name], top_level=True)
    return {m for m in imported if m in MODULES and m != name and m not in parents}


def test_core_loads_no_tornado_jupyter_server_or_traitlets() -> None:
    core = [m for m in MODULES if m.startswith("jupyterlab_oidc.core")]
    script = (
        "import importlib, sys\n"
        f"for name in {core!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {JUPYTER!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"


def test_no_import_cycles_among_the_package_modules() -> None:
    """Among the imports that run when a module loads (lazy imports inside functions aside)."""
    graph = {name: _internal(name) for name in MODULES}
    cycles = []
    state: dict[str, int] = {}

    def walk(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                walk(nxt, stack + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name, [name])
    assert cycles == []


@pytest.mark.parametrize("package", ["kernel", "cli", "hub"])
def test_kernel_cli_and_hub_never_import_the_server_glue(package: str) -> None:
    offenders = {
        name: sorted(m for m in _imports(name, path, runtime_only=False) if m.startswith("jupyterlab_oidc.server"))
        for name, path in MODULES.items()
        if name.startswith(f"jupyterlab_oidc.{package}")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_core_never_imports_the_server_glue() -> None:
    offenders = {
        name: sorted(m for m in _imports(name, path, runtime_only=False) if m.startswith("jupyterlab_oidc.server"))
        for name, path in MODULES.items()
        if name.startswith("jupyterlab_oidc.core")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("module", ["jupyterlab_oidc.protocol", "jupyterlab_oidc.errors"])
def test_protocol_and_errors_import_only_the_standard_library(module: str) -> None:
    imported = {m.split(".")[0] for m in _imports(module, MODULES[module], runtime_only=False)}
    assert imported - set(sys.stdlib_module_names) - {"__future__"} == set()


def test_no_production_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in MODULES.values()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
