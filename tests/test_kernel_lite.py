"""The kernel helper's JupyterLite (Pyodide) paths, run under CPython.

``sys.platform`` is set to ``emscripten`` and the page is a fake comm: what the page sends
is handed to the kernel only when the test says so, as JupyterLite does between cells.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import Any

import pytest

from jupyterlab_oidc.errors import NotAuthenticatedError
from jupyterlab_oidc.kernel import lite, messages
from jupyterlab_oidc.kernel.client import TokenClient
from jupyterlab_oidc.kernel.http_channel import ServerEndpoint


class FakeComm:
    """The kernel side of the comm; ``sent`` is what reached the page."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.handler: Any = None

    def on_msg(self, handler: Any) -> None:
        self.handler = handler

    def on_close(self, _handler: Any) -> None:
        pass

    def open(self, data: dict[str, Any]) -> None:
        self.sent.append(data)

    def send(self, data: dict[str, Any]) -> None:
        self.sent.append(data)

    def close(self) -> None:
        pass

    def deliver(self, data: dict[str, Any]) -> None:
        """The page's message reaches the kernel (between cells)."""
        self.handler({"content": {"data": data}})


def token_body(expires_in: float = 300, environment: str = "dev") -> dict[str, Any]:
    return {
        "access_token": "at-lite",
        "token_type": "Bearer",
        "expires_at": time.time() + expires_in,
        "environment": environment,
        "email": "alice@example.com",
    }


@pytest.fixture
def pyodide(monkeypatch: pytest.MonkeyPatch) -> tuple[TokenClient, FakeComm]:
    """A client in a simulated Pyodide kernel, its comm open and answered ``ready``."""
    monkeypatch.setattr(sys, "platform", "emscripten")
    comm = FakeComm()
    fake_comm_module = type(sys)("comm")
    fake_comm_module.create_comm = lambda **_: comm  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "comm", fake_comm_module)
    kernel = type("PyodideKernel", (), {"__module__": "pyodide_kernel.kernel"})()
    monkeypatch.setitem(sys.modules, "pyodide_kernel", type(sys)("pyodide_kernel"))
    monkeypatch.setattr(sys.modules["pyodide_kernel"], "kernel_instance", kernel, raising=False)
    monkeypatch.delitem(sys.modules, "ipykernel.kernelbase", raising=False)
    client = TokenClient(ServerEndpoint())
    assert client.comm is not None
    client.comm.ensure_open()
    assert comm.sent[0]["type"] == messages.HELLO
    comm.deliver({"v": messages.PROTOCOL_VERSION, "type": messages.READY, "default_environment": "dev"})
    return client, comm


def requests_sent(comm: FakeComm) -> list[dict[str, Any]]:
    return [m for m in comm.sent if m["type"] == messages.TOKEN_REQUEST]


def reply_to(comm: FakeComm, request: dict[str, Any], body: dict[str, Any]) -> None:
    comm.deliver({"v": messages.PROTOCOL_VERSION, "type": messages.TOKEN_REPLY, "id": request["id"], "token": body})


def test_on_ready_the_kernel_asks_for_the_default_token_and_keeps_the_answer(pyodide: Any) -> None:
    client, comm = pyodide
    (request,) = requests_sent(comm)
    assert request["environment"] == "dev"
    reply_to(comm, request, token_body())
    assert client.get_token().access_token == "at-lite"


def test_sync_get_token_without_a_pushed_token_is_refused_and_asks_for_one(pyodide: Any) -> None:
    client, comm = pyodide
    with pytest.raises(lite.TokenNotPushedError, match=r"await get_token_async\(\)") as refused:
        client.get_token(min_valid=60)
    assert isinstance(refused.value, NotAuthenticatedError)
    assert len(requests_sent(comm)) == 2  # the one on ready, and one for the next cell
    reply_to(comm, requests_sent(comm)[-1], token_body())
    assert client.get_token().access_token == "at-lite"


def test_sync_get_token_refuses_a_pushed_token_that_has_expired(pyodide: Any) -> None:
    client, comm = pyodide
    reply_to(comm, requests_sent(comm)[0], token_body(expires_in=-1))
    with pytest.raises(lite.TokenNotPushedError):
        client.get_token(min_valid=0)


def test_get_token_async_waits_for_the_push(pyodide: Any) -> None:
    client, comm = pyodide

    async def cell() -> str:
        waiting = asyncio.ensure_future(client.get_token_async())
        await asyncio.sleep(0.1)
        assert not waiting.done()
        comm.deliver(
            {
                "v": messages.PROTOCOL_VERSION,
                "type": messages.TOKEN_UPDATE,
                "reason": "sign_in",
                "environment": "dev",
                "application": None,
                "token": token_body(),
            }
        )
        return (await waiting).access_token

    assert asyncio.run(cell()) == "at-lite"


def test_get_token_async_gives_up_with_the_typed_error(pyodide: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client, _comm = pyodide
    monkeypatch.setattr(lite, "PUSH_WAIT_SECONDS", 0.2)
    with pytest.raises(lite.TokenNotPushedError, match="run the cell again"):
        asyncio.run(client.get_token_async())


def test_an_error_answer_to_a_prefetch_is_dropped_quietly(pyodide: Any, caplog: pytest.LogCaptureFixture) -> None:
    client, comm = pyodide
    request = requests_sent(comm)[0]
    comm.deliver(
        {
            "v": messages.PROTOCOL_VERSION,
            "type": messages.ERROR,
            "id": request["id"],
            "error": "not_authenticated",
            "message": "Not signed in.",
        }
    )
    assert not caplog.records
    with pytest.raises(lite.TokenNotPushedError):
        client.get_token()


def test_bearer_headers_for_pyfetch(pyodide: Any) -> None:
    from jupyterlab_oidc.kernel.bearer import OIDCBearer

    client, comm = pyodide
    reply_to(comm, requests_sent(comm)[0], token_body())
    headers = asyncio.run(OIDCBearer(client=client).headers({"Accept": "application/json"}))
    assert headers == {"Accept": "application/json", "Authorization": "Bearer at-lite"}


def test_the_kernel_helper_imports_without_httpx_or_jupyter_server() -> None:
    """As in Pyodide: httpx and jupyter_server cannot be imported; the kernel API and OIDCBearer still can."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('httpx', 'jupyter_server', 'tornado'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from jupyterlab_oidc import get_token, get_token_async, OIDCBearer\n"
        "from jupyterlab_oidc.kernel import lite\n"
        "assert OIDCBearer.__mro__[1] is object\n"
        "print('ok', 'httpx' in sys.modules, 'jupyter_server' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok False False"
