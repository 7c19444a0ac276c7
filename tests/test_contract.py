"""The TypeScript contract (src/generated/contract.ts) is what errors.py and protocol.py say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_typescript_contract_matches_the_python_modules() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "dev" / "contract.py"), "--check"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
