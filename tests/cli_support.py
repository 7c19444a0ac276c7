"""Running ``jupyter oidc`` against the test server: in-process (``main(argv)`` in a worker
thread, so the server keeps serving on the test's event loop) or as a real subprocess."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyterlab_oidc.cli import main

JUPYTER = Path(sys.executable).with_name("jupyter")


@dataclass
class Result:
    """Exit code and output of one ``jupyter oidc`` run."""

    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


class Stream(io.StringIO):
    """A stdout another thread can watch: ``wait_for("http")`` returns once that text appears."""

    def __init__(self) -> None:
        super().__init__()
        self._written = threading.Condition()

    def write(self, text: str) -> int:
        with self._written:
            n = super().write(text)
            self._written.notify_all()
        return n

    async def wait_for(self, needle: str, timeout: float = 20.0) -> str:
        def wait() -> str:
            with self._written:
                if not self._written.wait_for(lambda: needle in self.getvalue(), timeout):
                    raise AssertionError(f"{needle!r} not printed; got {self.getvalue()!r}")
                return self.getvalue()

        return await asyncio.to_thread(wait)


async def run_cli(
    *argv: str,
    environ: Mapping[str, str] | None = None,
    stdout: io.StringIO | None = None,
    stderr: io.StringIO | None = None,
) -> Result:
    """``main(argv)`` in a worker thread; ``environ`` replaces the process environment for server lookup."""
    out = stdout if stdout is not None else io.StringIO()
    err = stderr if stderr is not None else io.StringIO()
    code = await asyncio.to_thread(main, list(argv), stdout=out, stderr=err, environ=dict(environ or {}))
    return Result(code, out.getvalue(), err.getvalue())


async def run_subprocess(*argv: str, env: Mapping[str, str] | None = None, timeout: float = 60) -> Result:
    """``jupyter oidc ARGV`` as a real process (the ``jupyter-oidc`` console script)."""
    process = await asyncio.create_subprocess_exec(
        str(JUPYTER), "oidc", *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return Result(process.returncode, stdout.decode(), stderr.decode())
