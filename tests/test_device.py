"""Device sign-in (RFC 8628): the polling rules with a fake clock, then against the real dev provider
(dev/idp with oidc-provider's device flow; the person approves on another "device" over HTTP)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from jupyterlab_oidc.cli import exits
from jupyterlab_oidc.core.settings import EnvironmentConfig, parse_environment
from jupyterlab_oidc.core.signin.device import DevicePoller, device_answer
from jupyterlab_oidc.errors import (
    ConfigError,
    DeviceAccessDeniedError,
    DeviceCodeExpiredError,
    DiscoveryFailedError,
    ProviderError,
)

from .cli_support import Stream, run_cli
from .device_support import approve_device_code
from .idp import ALICE, BOB, CLIENT_ID, IdentityProvider, start_idp
from .support import token_fields, until

# ---------------------------------------------------------------- the polling, with a fake clock


class FakeTime:
    """A clock that moves only when the poller sleeps; records each wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def scripted(*answers: str) -> Any:
    """A token request answering the given OAuth errors in turn, then tokens."""
    calls = iter(answers)

    async def request() -> dict[str, Any]:
        error = next(calls, None)
        if error is None:
            return {"access_token": "at", "token_type": "Bearer"}
        raise ProviderError(f"The provider refused the device poll request: {error}", provider_error=error)

    return request


def poller(request: Any, fake: FakeTime, interval: float = 5, expires_in: float = 600) -> DevicePoller:
    return DevicePoller(request, interval, fake.now + expires_in, fake.clock, fake.sleep, environment="prod")


async def test_authorization_pending_keeps_polling_every_interval() -> None:
    fake = FakeTime()
    run = poller(scripted("authorization_pending", "authorization_pending"), fake)
    assert await run.run() == {"access_token": "at", "token_type": "Bearer"}
    assert fake.waits == [5, 5, 5] and run.polls == 3


async def test_slow_down_adds_five_seconds_to_this_and_every_later_poll() -> None:
    fake = FakeTime()
    run = poller(scripted("authorization_pending", "slow_down", "authorization_pending", "slow_down"), fake, interval=2)
    await run.run()
    assert fake.waits == [2, 2, 7, 7, 12]


async def test_access_denied_ends_in_device_access_denied() -> None:
    fake = FakeTime()
    with pytest.raises(DeviceAccessDeniedError) as denied:
        await poller(scripted("authorization_pending", "access_denied"), fake).run()
    assert denied.value.code == "device_access_denied" and denied.value.details == {"environment": "prod"}


async def test_expired_token_ends_in_device_code_expired() -> None:
    with pytest.raises(DeviceCodeExpiredError):
        await poller(scripted("expired_token"), FakeTime()).run()


async def test_the_codes_lifetime_ends_the_polling_without_another_request() -> None:
    fake = FakeTime()
    run = poller(scripted(*["authorization_pending"] * 100), fake, interval=5, expires_in=12)
    with pytest.raises(DeviceCodeExpiredError):
        await run.run()
    assert run.polls == 2 and fake.waits == [5, 5, 5]


async def test_another_provider_error_is_passed_on() -> None:
    with pytest.raises(ProviderError) as refused:
        await poller(scripted("invalid_grant"), FakeTime()).run()
    assert refused.value.details["provider_error"] == "invalid_grant"


async def test_a_cancelled_sign_in_stops_polling_after_the_wait() -> None:
    fake = FakeTime()
    request = scripted("authorization_pending")
    run = DevicePoller(request, 5, fake.now + 600, fake.clock, fake.sleep, stopped=lambda: True)
    assert await run.run() is None and run.polls == 0


ENV = EnvironmentConfig(name="prod", client_id=CLIENT_ID, issuer="https://idp.example")


def test_device_answer_takes_the_default_interval_and_checks_the_links() -> None:
    answer = device_answer(
        {
            "device_code": "d",
            "user_code": "ABCD-EFGH",
            "verification_uri": "https://idp.example/device",
            "expires_in": 600,
        },
        ENV,
    )
    assert answer["interval"] == 5.0 and answer["verification_uri_complete"] == ""


@pytest.mark.security_case("device-verification-uri-javascript")
@pytest.mark.parametrize("field", ["verification_uri", "verification_uri_complete"])
def test_a_javascript_verification_link_is_refused(field: str) -> None:
    answer = {"device_code": "d", "user_code": "U", "verification_uri": "https://idp.example/device", "expires_in": 9}
    with pytest.raises(DiscoveryFailedError) as refused:
        device_answer({**answer, field: "javascript:alert(document.cookie)"}, ENV)
    assert refused.value.details["field"] == field


def test_flow_and_par_are_checked_per_environment() -> None:
    assert parse_environment("x", {"issuer": "https://i", "client_id": "c", "flow": "device"}).flow == "device"
    with pytest.raises(ConfigError, match="flow must be one of code, device"):
        parse_environment("x", {"issuer": "https://i", "client_id": "c", "flow": "magic"})
    with pytest.raises(ConfigError, match="par must be one of auto, always, never"):
        parse_environment("x", {"issuer": "https://i", "client_id": "c", "par": "sometimes"})


# ---------------------------------------------------------------- against the real dev provider


@pytest.fixture(scope="module")
def device_idp() -> Iterator[IdentityProvider]:
    """A provider of this module's own: the device knobs below change it for everyone."""
    provider = start_idp()
    yield provider
    provider.stop()


def device_settings(provider: IdentityProvider, **settings: int) -> None:
    httpx.post(provider.url("/_test/device"), json=settings).raise_for_status()


@pytest.fixture
def idp(device_idp: IdentityProvider) -> IdentityProvider:
    device_settings(device_idp, interval=1, expires_in=600, slow_down=0)
    device_idp.reset_stats()
    return device_idp


@pytest.fixture
def oidc_environments(idp: IdentityProvider) -> dict[str, Any]:
    return {
        "prod": {"issuer": idp.issuer, "client_id": CLIENT_ID},
        "headless": {"issuer": idp.issuer, "client_id": CLIENT_ID, "flow": "device", "display_name": "Headless"},
    }


async def start_device(api: Any, login_hint: str = ALICE, **body: Any) -> dict[str, Any]:
    started = await api("POST", "login", {"flow": "device", "login_hint": login_hint, **body})
    assert started.status == 200, started.body
    return started.body


async def test_device_sign_in_succeeds(api: Any, idp: IdentityProvider) -> None:
    # When
    started = await start_device(api)
    page = await approve_device_code(started["verification_uri_complete"], ALICE)
    result = await api("POST", "await", {"state": started["state"]})
    # Then
    assert 'id="device-success"' in page.text
    assert started["flow"] == "device" and started["interval"] == 1 and started["expires_in"] > 590
    assert started["verification_uri"] == idp.url("/device")
    assert started["user_code"] in started["verification_uri_complete"]
    assert started["client_id"] == CLIENT_ID and started["login_hint"] == ALICE
    assert result.status == 200 and result.body["session"]["email"] == ALICE
    assert [s["email"] for s in (await api("GET", "status")).body["sessions"]] == [ALICE]
    assert idp.token_calls("urn:ietf:params:oauth:grant-type:device_code") == 1


async def test_the_environments_flow_makes_a_plain_login_a_device_sign_in(api: Any) -> None:
    started = await api("POST", "login", {"environment": "headless", "login_hint": ALICE})
    code_flow = await api("POST", "login", {"environment": "headless", "login_hint": ALICE, "flow": "code"})
    bad = await api("POST", "login", {"login_hint": ALICE, "flow": "carrier-pigeon"})
    assert started.status == 200 and started.body["flow"] == "device" and started.body["display_name"] == "Headless"
    assert code_flow.status == 200 and "start_url" in code_flow.body
    assert bad.status == 400 and bad.body["error"] == "invalid_request"


@pytest.mark.security_case("device-code-approved-by-another-account")
async def test_device_code_approved_by_another_account_is_refused(api: Any) -> None:
    # Given: a sign-in for alice whose code bob approves (a phished code, RFC 8628 §5.4)
    started = await start_device(api, ALICE)
    await approve_device_code(started["verification_uri_complete"], BOB)
    # When
    result = await api("POST", "await", {"state": started["state"]})
    # Then
    assert result.status == 403 and result.body["error"] == "identity_mismatch"
    assert result.body["expected"] == ALICE and result.body["actual"] == BOB
    assert (await api("GET", "status")).body["sessions"] == []


async def test_a_denied_code_is_device_access_denied(api: Any) -> None:
    started = await start_device(api)
    await approve_device_code(started["verification_uri_complete"], ALICE, deny=True)
    result = await api("POST", "await", {"state": started["state"]})
    assert result.status == 403 and result.body["error"] == "device_access_denied"
    assert (await api("GET", "status")).body["sessions"] == []


async def test_an_expired_code_is_device_code_expired(api: Any, idp: IdentityProvider) -> None:
    device_settings(idp, expires_in=2)
    started = await start_device(api)
    result = await api("POST", "await", {"state": started["state"]})
    assert result.status == 410 and result.body["error"] == "device_code_expired"
    assert (await api("GET", "status")).body["sessions"] == []


async def test_slow_down_is_honoured(api: Any, idp: IdentityProvider) -> None:
    # Given: the provider answers the first pending poll slow_down (the interval becomes 1 + 5 s)
    device_settings(idp, slow_down=1)
    started = await start_device(api)
    await until(lambda: idp.stats()["device_slow_down"] == 1, "the provider said slow_down")
    # When
    await approve_device_code(started["verification_uri_complete"], ALICE)
    result = await api("POST", "await", {"state": started["state"]})
    # Then: signed in, and no poll came before the interval the provider asked for
    assert result.status == 200, result.body
    stats = idp.stats()
    assert stats["device_too_early"] == 0 and stats["device_slow_down"] == 1 and stats["device_polls"] >= 2


async def test_cancel_ends_a_device_sign_in(api: Any, broker: Any) -> None:
    started = await start_device(api)
    assert (await api("POST", "cancel", {"state": started["state"]})).status == 200
    result = await api("POST", "await", {"state": started["state"]})
    assert result.status == 409 and result.body["error"] == "login_cancelled"
    await until(lambda: broker.pending[started["state"]].task.done(), "the polling stopped")


async def test_status_lists_a_device_sign_in_without_its_device_code(api: Any, broker: Any) -> None:
    started = await start_device(api)
    status = (await api("GET", "status")).body
    [pending] = status["pending"]
    assert pending["state"] == started["state"] and pending["user_code"] == started["user_code"]
    device_code = broker.pending[started["state"]].device_code
    assert device_code not in str(status) and device_code not in str(started) and token_fields(status) == set()


@pytest.mark.security_case("device-state-in-a-callback")
async def test_device_state_in_a_callback_is_refused(api: Any, broker: Any, idp: IdentityProvider) -> None:
    # Given: a device sign-in waiting; someone sends a browser to the callback with its state
    started = await start_device(api)
    # When
    page = await api("GET", "callback", params={"state": started["state"], "code": "forged"})
    # Then: refused before any exchange; the device sign-in still waits for its code
    assert page.status == 400 and "(state_mismatch)" in page.body
    assert not broker.pending[started["state"]].result.done()
    assert idp.token_calls("authorization_code") == 0 and idp.stats()["token_errors"]["authorization_code"] == 0


# ---------------------------------------------------------------- jupyter oidc login --device


@pytest.fixture
def cli(jp_fetch: Any, jp_http_port: int, jp_base_url: str, jp_auth_header: dict[str, str]) -> Any:
    url, token = f"http://127.0.0.1:{jp_http_port}{jp_base_url}", jp_auth_header["Authorization"].split(" ", 1)[1]

    async def run(*argv: str, stdout: Stream | None = None) -> Any:
        return await run_cli(*argv, "--url", url, "--token", token, stdout=stdout)

    return run


async def test_cli_login_device_prints_the_code_and_the_link(cli: Any, idp: IdentityProvider) -> None:
    # Given
    stdout = Stream()
    running = asyncio.ensure_future(cli("login", "--device", ALICE, stdout=stdout))
    printed = await stdout.wait_for("Waiting for the sign-in")
    code = re.search(r"enter the code\n\n  ([A-Z]{4}-[A-Z]{4})\n", printed)
    link = re.search(r"carries the code:\n\n  (http\S+)\n", printed)
    assert code and link, printed
    assert f"  {idp.url('/device')}\n" in printed and f"as {ALICE}" in printed and CLIENT_ID in printed
    # When the person approves the code on their phone
    await approve_device_code(link.group(1), ALICE)
    result = await running
    # Then
    assert result.code == exits.OK, result
    assert f"Signed in as {ALICE}" in result.stdout and code.group(1) in link.group(1)


# ---------------------------------------------------------------- OIDCAuth(...).start_device_login in a kernel


def test_start_device_login_in_a_cell_shows_the_code_and_await_callback_returns_the_tokens(
    server: Any, fresh_kernel: Any
) -> None:
    # Given: a cell starts a device sign-in (the kernel tests' own server and provider)
    device_settings(server.idp, interval=1)
    try:
        started = fresh_kernel.run(
            """
            from jupyterlab_oidc import OIDCAuth, Environment
            auth = OIDCAuth(environment=Environment.DEV)
            result(auth.start_device_login("bob@example.com"))
            """
        )
        device = started.value
        [shown] = [d for d in started.displays if "text/html" in d]
        assert device["user_code"] in shown["text/html"] and "bob@example.com" in shown["text/html"]
        assert f'href="{device["verification_uri_complete"]}"' in shown["text/html"]
        # When the person approves the code elsewhere
        asyncio.run(approve_device_code(device["verification_uri_complete"], BOB))
        cell = fresh_kernel.run("t = auth.await_callback()\nresult([t.email, t.environment, bool(t.access_token)])")
    finally:
        device_settings(server.idp, interval=5)
    # Then
    assert cell.value == [BOB, "dev", True]


async def test_preflight_checks_the_device_grant_of_a_device_environment(api: Any) -> None:
    report = (await api("GET", "preflight", params={"environment": "headless"})).body
    grant_types = next(c for c in report["checks"] if c["name"] == "grant_types")
    assert grant_types["outcome"] == "pass" and "urn:ietf:params:oauth:grant-type:device_code" in grant_types["message"]
