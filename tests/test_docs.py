"""The documentation cannot drift from the code: routes, error codes and settings."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "dev"))
import config_reference

from jupyterlab_oidc.errors import ERRORS_BY_CODE
from jupyterlab_oidc.server.config import OIDCLogin
from jupyterlab_oidc.server.routes import route_table

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
README = (ROOT / "README.md").read_text()


def documented(path: str) -> str:
    """A route as the docs write it: named groups become ``{name}``."""
    return re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", path)


def test_openapi_documents_every_route() -> None:
    routes = {documented(path).removeprefix("/oidc") for path, _ in route_table()}
    assert routes <= set(OPENAPI["paths"])


def test_openapi_lists_every_error_code() -> None:
    assert set(OPENAPI["components"]["schemas"]["Error"]["properties"]["error"]["enum"]) == set(ERRORS_BY_CODE)


def test_readme_documents_every_setting() -> None:
    documented = set(re.findall(r"`c\.OIDCLogin\.(\w+)`", README))
    assert set(OIDCLogin.class_traits(config=True)) <= documented


def test_readme_configuration_reference_is_the_generated_one() -> None:
    assert config_reference.section() in README, "run: python dev/config_reference.py --write"


def test_readme_documents_every_route_and_error_code() -> None:
    for path, _ in route_table():
        assert documented(path).removeprefix("/") in README, path
    for code in ERRORS_BY_CODE:
        assert f"`{code}`" in README, code


def test_docs_cite_only_files_that_are_in_the_repository() -> None:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "dev").rglob("*.md"))]
    for doc in docs:
        text = doc.read_text()
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target or target.startswith("mailto:"):
                continue
            assert (doc.parent / target).exists(), f"{doc.name} links to {target}, which is not in the repository"
        for name in re.findall(r"\b([A-Z][A-Z_]+\.md)\b", text):
            assert list(ROOT.rglob(name)), f"{doc.name} cites {name}, which is not in the repository"
