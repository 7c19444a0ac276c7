"""docs/security.md lists every case with its result, and every case has a test."""

from __future__ import annotations

import importlib
import re
from collections import defaultdict
from pathlib import Path

from .cases import BY_ID, DOC, current_block, render
from .test_provider_misbehaviour import MATRIX


def marked_cases() -> dict[str, list[str]]:
    """Case id → tests that carry ``security_case(id)``, on the function or on its parameters."""
    found: dict[str, list[str]] = defaultdict(list)
    tests_dir = Path(__file__).resolve().parents[1]
    for path in sorted(tests_dir.rglob("test_*.py")):
        dotted = ".".join(path.relative_to(tests_dir.parent).with_suffix("").parts)
        module = importlib.import_module(dotted)
        tests = [(n, t) for n, t in vars(module).items() if n.startswith("test_")]
        for cls_name, cls in vars(module).items():
            if cls_name.startswith("Test") and isinstance(cls, type):
                tests += [(f"{cls_name}.{n}", t) for n, t in vars(cls).items() if n.startswith("test_")]
        for name, test in tests:
            for mark in getattr(test, "pytestmark", []):
                if mark.name == "security_case":
                    found[mark.args[0]].append(name)
                elif mark.name == "parametrize":
                    for value in mark.args[1]:
                        found_in_param = [m.args[0] for m in getattr(value, "marks", ()) if m.name == "security_case"]
                        for case_id in found_in_param:
                            found[case_id].append(f"{name}[{case_id}]")
    # Attacks that need the browser are Playwright tests: annotation {type: 'security_case', description: id}
    specs = Path(__file__).resolve().parents[2] / "ui-tests" / "tests"
    for spec in sorted(specs.glob("*.spec.ts")):
        for case_id in SPEC_CASE.findall(spec.read_text()):
            found[case_id].append(f"{spec.name}")
    return found


SPEC_CASE = re.compile(r"type: 'security_case', description: '([a-z0-9-]+)'")


def test_every_case_has_a_test_and_every_test_a_case() -> None:
    marked = marked_cases()
    assert sorted(set(BY_ID) - set(marked)) == [], "cases without a test"
    assert sorted(set(marked) - set(BY_ID)) == [], "tests marked with an unknown case"


def test_the_matrix_results_in_the_docs_name_the_error_the_tests_expect() -> None:
    for case in MATRIX:
        result = BY_ID[case.id].result
        assert f"`{case.error}`" in result and str(case.status) in result, case.id
        for value in case.details.values():
            assert f"`{value}`" in result or value == "alice@example.com", (case.id, value)


def test_docs_security_md_carries_the_generated_case_tables() -> None:
    assert current_block(DOC.read_text()) == render(), "run: .venv/bin/python -m tests.security.cases --write"
