"""How ``jupyter oidc`` prints: plain lines and tables for people, one JSON document with ``--json``."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

LABELS = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "skip": "SKIP"}


def duration(seconds: float | None) -> str:
    """``54 min``, ``2 h 05 min``, ``45 s``; ``expired`` when not positive."""
    if seconds is None:
        return "-"
    if seconds <= 0:
        return "expired"
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 86400} d"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell; the last column is not padded."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = []
    for row in [headers, *rows]:
        cells = [str(c).ljust(widths[i]) if i < len(row) - 1 else str(c) for i, c in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def outcome_lines(items: list[dict[str, Any]], detail_key: str, hints: bool = True) -> str:
    """``PASS  discovery      Fetched ...`` with ``→ hint`` lines under warnings and failures."""
    width = max((len(i["name"]) for i in items), default=0)
    lines = []
    for item in items:
        label = LABELS.get(item["outcome"], item["outcome"].upper())
        lines.append(f"{label}  {item['name'].ljust(width)}  {item[detail_key]}")
        if hints and item.get("hint") and item["outcome"] in ("warn", "fail"):
            lines.append(f"{' ' * (width + 8)}→ {item['hint']}")
    return "\n".join(lines)


@dataclass
class Output:
    """Where results and messages go. With ``as_json``, stdout gets exactly one JSON document."""

    as_json: bool = False
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)

    def result(self, text: str, data: Any) -> None:
        """The verb's result: ``text`` for people, ``data`` with ``--json``."""
        if self.as_json:
            self.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
        elif text:
            self.stdout.write(text.rstrip("\n") + "\n")
        self.stdout.flush()

    def info(self, text: str) -> None:
        """Progress for people: stdout normally, stderr with ``--json`` (stdout stays one document)."""
        stream = self.stderr if self.as_json else self.stdout
        stream.write(text.rstrip("\n") + "\n")
        stream.flush()

    def error(self, message: str, data: dict[str, Any]) -> None:
        """A failure: the message on stderr; with ``--json`` also ``data`` on stdout."""
        if self.as_json:
            self.stdout.write(json.dumps(data, indent=2) + "\n")
            self.stdout.flush()
        self.stderr.write(f"jupyter oidc: {message}\n")
        self.stderr.flush()
