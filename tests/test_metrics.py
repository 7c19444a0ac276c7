"""Prometheus metrics on the server's own ``/metrics``, scraped (with the Jupyter token) during a
journey against the dev provider: sign-ins, refreshes and failures by code, provider round
trips by endpoint, active sessions. The registry is the process's, so checks compare deltas."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tornado.httpclient import HTTPClientError

from jupyterlab_oidc.protocol import KERNEL_HEADER

from .idp import ALICE, BOB, USERS


class Scrape:
    """One scrape of ``/metrics``: sample values by name and labels."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    def value(self, name: str, **labels: str) -> float:
        return self.samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def scrape(jp_fetch: Any) -> Any:
    async def run() -> Scrape:
        response = await jp_fetch("metrics", method="GET")
        assert response.code == 200
        return Scrape(response.body.decode())

    return run


@pytest.mark.oidc(access_ttl=300)
async def test_metrics_follow_a_journey(scrape: Any, api: Any, sign_in: Any, idp: Any, jp_serverapp: Any) -> None:
    kernel = {KERNEL_HEADER: jp_serverapp.web_app.settings["jupyterlab_oidc_kernel_access"].secret}
    before = await scrape()
    assert before.value("jupyterlab_oidc_active_sessions", environment="prod") == 0

    assert (await sign_in(ALICE)).status == 200
    signed_in = await scrape()
    assert signed_in.value("jupyterlab_oidc_active_sessions", environment="prod") == 1
    assert signed_in.value("jupyterlab_oidc_active_sessions", environment="dev") == 0

    assert (await sign_in(ALICE, as_email=BOB, environment="dev")).body["error"] == "identity_mismatch"
    assert (await api("POST", "kernel/token", {}, headers=kernel)).status == 200
    assert (await api("POST", "refresh", {})).status == 200
    assert (await sign_in(ALICE, environment="dev")).status == 200
    two = await scrape()
    assert two.value("jupyterlab_oidc_active_sessions", environment="dev") == 1

    assert (await api("POST", "logout", {})).status == 200
    idp.revoke_all(USERS["alice"].sub)
    assert (await api("POST", "refresh", {"environment": "dev"})).body["error"] == "session_expired"
    after = await scrape()

    def delta(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert delta("jupyterlab_oidc_sign_ins_total", environment="prod", outcome="started") == 1
    assert delta("jupyterlab_oidc_sign_ins_total", environment="prod", outcome="succeeded") == 1
    assert delta("jupyterlab_oidc_sign_ins_total", environment="dev", outcome="started") == 2
    assert delta("jupyterlab_oidc_sign_ins_total", environment="dev", outcome="succeeded") == 1
    assert delta("jupyterlab_oidc_sign_ins_total", environment="dev", outcome="refused") == 1
    assert delta("jupyterlab_oidc_failures_total", operation="sign_in", code="identity_mismatch") == 1
    assert delta("jupyterlab_oidc_refreshes_total", environment="prod", outcome="succeeded") == 1
    assert delta("jupyterlab_oidc_refreshes_total", environment="dev", outcome="failed") == 1
    assert delta("jupyterlab_oidc_failures_total", operation="refresh", code="session_expired") == 1
    assert delta("jupyterlab_oidc_kernel_token_pulls_total", environment="prod") == 1
    assert delta("jupyterlab_oidc_sessions_ended_total", environment="prod", reason="signed_out") == 1
    assert delta("jupyterlab_oidc_sessions_ended_total", environment="dev", reason="ended_by_provider") == 1
    assert after.value("jupyterlab_oidc_active_sessions", environment="prod") == 0
    assert after.value("jupyterlab_oidc_active_sessions", environment="dev") == 0

    histogram = "jupyterlab_oidc_provider_request_duration_seconds_count"
    assert delta(histogram, endpoint="code exchange", outcome="2xx") == 3  # alice twice, bob once
    assert delta(histogram, endpoint="refresh", outcome="2xx") == 1
    assert delta(histogram, endpoint="refresh", outcome="4xx") == 1  # the provider refused the grant
    assert delta(histogram, endpoint="discovery", outcome="2xx") >= 1
    assert delta(histogram, endpoint="revocation", outcome="2xx") >= 1
    for secret_free in (ALICE, USERS["alice"].sub):
        assert secret_free not in after.text  # labels name environments and codes, never people


async def test_metrics_need_the_jupyter_login(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("metrics", method="GET", headers={"Authorization": ""})
    assert e.value.code == 403
