"""The Jupyter servers running on this machine, as ``jupyter server list`` finds them (``jpserver-*.json``).

Used by the CLI (which server to talk to) and by kernels (their server's token). No
jupyter_server import: it costs seconds on a busy machine.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def running_servers(runtime_dir: str | None = None) -> list[dict[str, Any]]:
    """What ``jupyter server list`` shows: the ``jpserver-*.json`` files of live processes.

    The same reading as ``jupyter_server.serverapp.list_running_servers``, without importing
    jupyter_server (seconds on a busy machine, for a command that should answer at once).
    """
    from jupyter_core.paths import jupyter_runtime_dir

    directory = Path(runtime_dir or jupyter_runtime_dir())
    servers = []
    for path in sorted(directory.glob("jpserver-*.json"), key=_mtime, reverse=True):
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # being written, or gone
        if isinstance(info, dict) and isinstance(info.get("pid"), int) and _alive(info["pid"]):
            servers.append(info)
    return servers


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would terminate the process there
        from jupyter_server.utils import check_pid

        return bool(check_pid(pid))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    except OSError:
        return False
    return True
