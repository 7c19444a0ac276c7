"""Helpers of the hub tests: states, the pages of the forwarder and of a user's server, and
Chromium (Debian's) driving the whole sign-in: the person signs in to the hub, opens JupyterLab
and signs in from the panel; the provider's tab goes through the forwarder (and the hub's OAuth)
to their server."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from .hub_support import BASE_URL, PASSWORD, ROOT, SERVICE, Hub, HubUser

#: Chromium (Debian's, never a downloaded one) driven by playwright-core from node_modules, as
#: ui-tests/ does. Reads HUB_URL, USER_URL, HUB_USER, HUB_PASSWORD, EMAIL; prints one JSON line.
CHROMIUM_SIGN_IN = r"""
import { chromium } from 'playwright-core';
const env = process.env;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run', '--disable-quic'],
});
const out = {};
const logs = [];
try {
  const context = await browser.newContext();
  context.setDefaultTimeout(60000);
  const page = await context.newPage();
  page.on('console', m => logs.push(`${m.type()}: ${m.text()}`.slice(0, 300)));
  page.on('pageerror', e => logs.push(`pageerror: ${e}`.slice(0, 300)));
  await page.goto(`${env.HUB_URL}hub/login`);
  await page.fill('#username_input', env.HUB_USER);
  await page.fill('#password_input', env.HUB_PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('#login_submit')]);
  await page.goto(`${env.USER_URL}lab?reset`);
  await page.waitForFunction(() => window.jupyterapp?.isPluginActivated?.('jupyterlab-oidc:sidebar'));
  await page.evaluate(() => window.jupyterapp.restored);
  await page.evaluate(() => window.jupyterapp.commands.execute('oidc:open-panel'));
  const panel = page.locator('#jp-oidc-panel');
  await panel.locator('.jp-oidc-body[data-phase=ready]').waitFor();
  await panel.locator('#jp-oidc-email').fill(env.EMAIL);
  const opened = context.waitForEvent('page');
  await panel.locator('#jp-oidc-sign-in').click();
  const popup = await opened;
  out.popup_urls = [];
  popup.on('request', r => { if (r.isNavigationRequest()) out.popup_urls.push(r.url()); });
  await popup.waitForURL(/\/interaction\//);
  await popup.locator('#sign-in').click();
  await popup.waitForURL(/\/user\/[^/]+\/oidc\/callback(\/[^/?]+)?\?/);
  out.result = await popup.locator('#oidc-result').textContent();
  const card = panel.locator('[data-test=oidc-card][data-environment=prod] [data-test=oidc-card-email]');
  await card.waitFor();
  out.card_email = await card.textContent();
} catch (e) {
  out.error = String(e);
  out.pages = browser.contexts().flatMap(c => c.pages()).map(p => p.url());
  out.logs = logs.slice(-30);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
"""


def sign_in_with_chromium(user: HubUser) -> dict[str, Any]:
    """The person in Chromium: hub login form, JupyterLab, the panel, the provider's tab.

    Returns ``{result, card_email, popup_urls}`` (or ``{error}``)."""
    env = {
        **os.environ,
        "HUB_URL": user.hub.url,
        "USER_URL": user.url,
        "HUB_USER": user.name,
        "HUB_PASSWORD": PASSWORD,
        "EMAIL": user.email,
    }
    done = subprocess.run(
        ["node", "--input-type=module", "-e", CHROMIUM_SIGN_IN],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1])


def state_for(user: str, nonce: str = "n0nce") -> str:
    """A state as a server of ``user`` would mint it (base64url user, dot, random)."""
    return base64.urlsafe_b64encode(user.encode()).rstrip(b"=").decode() + "." + nonce


def params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def result_status(page: httpx.Response) -> str:
    """``data-status`` of the callback page the extension renders (signed_in or an error code)."""
    match = re.search(r'id="oidc-result" data-status="([^"]+)"', page.text)
    assert match, (page.status_code, str(page.url), page.text[:300])
    return match.group(1)


def forward_status(page: httpx.Response) -> str:
    """``data-status`` of a page of the forwarder (idle, forward_refused, other_hub_user, …)."""
    match = re.search(r'id="oidc-forward" data-status="([^"]+)"', page.text)
    assert match, (page.status_code, str(page.url), page.text[:300])
    return match.group(1)


def forwarded(page: httpx.Response, hub: Hub) -> httpx.Response:
    """The forwarder's ``303`` in a followed response's history (after the hub's OAuth, if any)."""
    forwards = [r for r in page.history if r.status_code == 303 and str(r.url).startswith(hub.service_url)]
    assert len(forwards) == 1, [(r.status_code, str(r.url.copy_with(query=None))) for r in page.history]
    return forwards[0]


def login_to_forwarder(browser: httpx.Client, user: HubUser) -> None:
    """Let ``browser`` (logged in to the hub as ``user``) log in to the forwarder: the hub's
    OAuth runs on its first callback, which then goes on to the user's server (refused there)."""
    page = browser.get(user.hub.service_url, params={"code": "x", "state": state_for(user.name)})
    assert str(page.url).startswith(f"{user.url}oidc/callback?"), (page.status_code, page.url)
    assert any(c.name.endswith(f"service-{SERVICE}") for c in browser.cookies.jar)


def relative_hub_path(location: str) -> bool:
    """A Location that stays on the hub: a path (no scheme, no host) under ``{BASE_URL}user/``."""
    parts = urlsplit(location)
    return (
        not parts.scheme
        and not parts.netloc
        and location.startswith(f"{BASE_URL}user/")
        and not location.startswith(("//", "/\\"))
        and "\\" not in location
    )
