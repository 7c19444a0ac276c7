"""Generate the README's configuration reference from the ``help=`` of OIDCLogin's traits.

``python dev/config_reference.py`` prints it; ``--write`` replaces the README section
between the config-reference markers. tests/test_docs.py fails when they differ.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

from jupyterlab_oidc.server.config import OIDCLogin

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- config-reference:start -->", "<!-- config-reference:end -->"


def _default(trait: object) -> str:
    value = trait.default_value  # type: ignore[attr-defined]
    if value in ("", {}, None) or type(value).__name__ == "Sentinel":
        return "see below"
    return f"`{value!r}`"


def _help(text: str) -> str:
    text = " ".join(line.strip() for line in inspect.cleandoc(text).splitlines() if line.strip())
    text = text.replace("``", "`")
    text = re.sub(r":attr:`(\w+)`", r"`\1`", text)
    text = re.sub(r"`([^`<]+) <([^>]+)>`_", r"[\1](\2)", text)
    return text


def reference() -> str:
    rows = ["| setting | type | default | what it does |", "|---|---|---|---|"]
    for name, trait in sorted(OIDCLogin.class_traits(config=True).items()):
        kind = type(trait).__name__.lower()
        rows.append(f"| `c.OIDCLogin.{name}` | {kind} | {_default(trait)} | {_help(trait.help).replace('|', '/')} |")
    return "\n".join(rows)


def section() -> str:
    return f"{START}\n{reference()}\n{END}"


def main() -> None:
    if "--write" not in sys.argv:
        print(reference())
        return
    text = README.read_text()
    start, end = text.index(START), text.index(END) + len(END)
    README.write_text(text[:start] + section() + text[end:])


if __name__ == "__main__":
    main()
