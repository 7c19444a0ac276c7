"""Running ``jupyter oidc`` against the test server: in-process (``main(argv)`` in a worker
thread, so the server keeps serving on the test's event loop) or as a real subprocess.

Also :class:`EchoAPI`, the suite's one ad-hoc HTTP stub: a small HTTP API on a loopback address
that records who called it with which credential (the protected API of the ``OIDCBearer`` tests,
the foreign listener that poses as a Jupyter server in the CLI's credential tests) and answers
routes a test gives it (:meth:`EchoAPI.on`: a provider stand-in's discovery or token endpoint).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

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
        str(JUPYTER),
        "oidc",
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return Result(process.returncode, stdout.decode(), stderr.decode())


@dataclass(frozen=True)
class Request:
    """What a route handler of :class:`EchoAPI` gets."""

    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


#: A route handler: the request → ``(status, JSON body)``.
Route = Callable[[Request], "tuple[int, Any]"]


@dataclass(frozen=True)
class Seen:
    """One request :class:`EchoAPI` received. Credentials only as digests."""

    method: str
    path: str
    authorization: str | None  # sha256[:12] of the Authorization header, None without one
    credential: bool  # any Authorization header, token query parameter or cookie


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


class EchoAPI:
    """An HTTP API on ``host`` (a free port unless given), in a daemon thread.

    ``GET /data`` answers 401 (``WWW-Authenticate: Bearer``) to the first ``reject`` calls,
    then 200; ``GET /redirect?to=URL`` answers 302 to ``URL``; a path in ``answers`` answers
    its ``(status, JSON)``; a route given with :meth:`on` answers what its handler returns;
    anything else answers ``status``. Every request is recorded in :attr:`seen`.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.seen: list[Seen] = []
        self.reject = 0
        self.status = 404
        self.answers: dict[str, tuple[int, Any]] = {}
        self.routes: dict[tuple[str, str], Route] = {}
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body: bytes = b"") -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                header = self.headers.get("Authorization")
                credential = bool(header or self.headers.get("Cookie") or "token" in query)
                api.seen.append(Seen(self.command, url.path, _digest(header) if header else None, credential))
                route = api.routes.get((self.command, url.path))
                if route is not None:
                    request = Request(self.command, url.path, {k: v[0] for k, v in query.items()}, self.headers, body)
                    status, answer = route(request)
                    self._send(status, json.dumps(answer).encode())
                elif url.path == "/redirect":
                    self._send(302, b"", {"Location": query["to"][0]})
                elif url.path == "/data":
                    calls = sum(1 for s in api.seen if s.path == "/data")
                    status = 401 if calls <= api.reject else 200
                    extra = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else {}
                    self._send(status, b'{"ok": %s}' % (b"false" if status == 401 else b"true"), extra)
                elif url.path in api.answers:
                    status, answer = api.answers[url.path]
                    self._send(status, json.dumps(answer).encode())
                else:
                    self._send(api.status, json.dumps({"message": "not a Jupyter server"}).encode())

            def do_POST(self) -> None:
                self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            do_GET = do_PUT = do_DELETE = _answer

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.host, self.port = host, self.httpd.server_address[1]
        self.origin = f"http://{host}:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str = "/") -> str:
        return f"{self.origin}{path}"

    def redirect_url(self, to: str) -> str:
        """A URL on this API that redirects to ``to``."""
        return self.url(f"/redirect?to={quote(to, safe='')}")

    def on(self, method: str, path: str, handler: Route) -> EchoAPI:
        """Answer ``method path`` with ``handler(request)`` → ``(status, JSON body)``."""
        self.routes[(method, path)] = handler
        return self

    def calls(self, method: str, path: str) -> list[Seen]:
        return [s for s in self.seen if (s.method, s.path) == (method, path)]

    def reset(self, reject: int = 0, status: int = 404) -> None:
        self.seen, self.reject, self.status, self.answers, self.routes = [], reject, status, {}, {}

    @property
    def tokens(self) -> list[str | None]:
        """The Authorization digests ``GET /data`` received, in order."""
        return [s.authorization for s in self.seen if s.path == "/data"]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def echo_api(host: str = "127.0.0.1", port: int = 0) -> Iterator[EchoAPI]:
    api = EchoAPI(host, port)
    try:
        yield api
    finally:
        api.close()


def browser_recorder(tmp_path: Path) -> tuple[str, Path]:
    """A ``BROWSER`` command that records what it was asked to open."""
    opened = tmp_path / "opened.txt"
    script = tmp_path / "browser.py"
    script.write_text(f"import sys\nwith open({str(opened)!r}, 'a') as f:\n    f.write(sys.argv[1] + '\\n')\n")
    return f"{sys.executable} {script} %s", opened
