/**
 * Attacks on the browser half of a sign-in, in Chromium against the demo stack.
 *
 * - A sign-in link is bound to the browser that started it: the provider URL completed in
 *   another browser (no Jupyter cookies) ends on `browser_mismatch` and stores nothing; the
 *   start link needs the server owner's Jupyter login.
 * - The frontend navigates only to http(s): a `javascript:` URL in the server's answer (the
 *   provider URL, a start link, the end-session URL) never runs with JupyterLab's origin.
 */
import { Locator, Page, Route } from '@playwright/test';

import { BASE_URL } from '../playwright.config';
import {
  ALICE,
  completeProviderPage,
  expect,
  ILoginReply,
  IStatusReply,
  signInThroughPanel,
  signOutThroughCard,
  test
} from './fixtures';

/** Set by the script URLs below if they ever run in JupyterLab's origin. */
const MARKER = 'jupyterlab-oidc-attack-marker';
const SCRIPT_URLS: ReadonlyArray<[string, string]> = [
  ['javascript:', `javascript:void(localStorage.setItem('${MARKER}', document.domain))`],
  ['mixed case', `JaVaScRiPt:void(localStorage.setItem('${MARKER}', 'mixed'))`],
  ['whitespace-prefixed', ` \t\njavascript:void(localStorage.setItem('${MARKER}', 'space'))`],
  ['data:', `data:text/html,<script>localStorage.setItem('${MARKER}', 'data')</script>`]
];

/** Whether `route` is a request to `oidc/{name}` (the frontend adds a cache-busting query). */
function isRoute(name: string): (url: URL) => boolean {
  return url => url.pathname === `${new URL(BASE_URL).pathname}oidc/${name}`;
}

async function marker(page: Page): Promise<string | null> {
  return page.evaluate(key => window.localStorage.getItem(key), MARKER);
}

function unsafeUrlError(panel: Locator): Locator {
  return panel.locator('[data-test=oidc-error][data-error-code=unsafe_url]');
}

/** The owner's browser context asks its own server (Jupyter cookie): `GET oidc/status`. */
async function statusFromBrowser(page: Page): Promise<IStatusReply> {
  const response = await page.context().request.get(`${BASE_URL}oidc/status`);
  expect(response.ok(), `oidc/status → ${response.status()}`).toBe(true);
  return (await response.json()) as IStatusReply;
}

/** Reload JupyterLab (routes stay) and open the panel again, done checking. */
async function reloadLab(panel: Locator): Promise<void> {
  const page = panel.page();
  await page.reload();
  await page.waitForFunction(
    () => (window as any).jupyterapp?.isPluginActivated?.('jupyterlab-oidc:sidebar'),
    null,
    {
      timeout: 60_000
    }
  );
  await page.evaluate(() => (window as any).jupyterapp.restored);
  await page.evaluate(() => (window as any).jupyterapp.commands.execute('oidc:open-panel'));
  await expect(panel.locator('.jp-oidc-body')).toHaveAttribute('data-phase', 'ready');
}

test.describe('Attacks: a sign-in link is bound to the browser that started it', () => {
  test(
    'sign-in link opened in another browser is refused',
    { annotation: { type: 'security_case', description: 'browser-signin-link-other-browser' } },
    async ({ panel, browser }) => {
      const owner = panel.page();
      const answer = owner.waitForResponse(
        r => isRoute('login')(new URL(r.url())) && r.request().method() === 'POST'
      );
      const ownerTab = await signInThroughPanel(panel, ALICE.email);
      const login = (await (await answer).json()) as ILoginReply;
      await ownerTab.close(); // the link goes elsewhere instead

      // Another browser: no Jupyter cookie, no binding cookie. It signs in at the provider.
      const other = await browser.newContext();
      try {
        const page = await other.newPage();
        await page.goto(login.url);
        const result = await completeProviderPage(page, ALICE.email);
        await expect(result).toHaveAttribute('data-status', 'browser_mismatch');
        await expect(result).toHaveText('Sign-in refused');
        await expect(page.locator('main')).toContainText('browser_mismatch');
      } finally {
        await other.close();
      }

      // Nothing stored for the owner; the owner's sign-in is still waiting, usable.
      const status = await statusFromBrowser(owner);
      expect(status.sessions).toEqual([]);
      expect(status.pending.map(p => p.state)).toEqual([login.state]);
      await expect(panel.locator('[data-test=oidc-card]')).toHaveCount(0);
      const pending = panel.locator('[data-test=oidc-pending][data-own=true]');
      await expect(pending).toBeVisible();

      // The owner finishes it in the browser that started it.
      const again = owner.context().waitForEvent('page');
      await pending.locator('[data-test=oidc-open-signin-page]').click();
      await expect(await completeProviderPage(await again, ALICE.email)).toHaveText(
        `Signed in as ${ALICE.email}`
      );
      await expect(panel.locator('[data-test=oidc-card][data-environment=prod]')).toBeVisible();
      expect((await statusFromBrowser(owner)).sessions.map(s => s.email)).toEqual([ALICE.email]);
    }
  );

  test(
    "start link opened in a browser without the owner's Jupyter login is refused",
    { annotation: { type: 'security_case', description: 'browser-start-link-without-login' } },
    async ({ oidc, browser }) => {
      const login = await oidc.login(ALICE.email, 'prod');
      const other = await browser.newContext();
      try {
        const page = await other.newPage();
        const response = await page.goto(login.start_url);
        // Jupyter's login page (or a refusal), never the provider.
        expect(new URL(page.url()).origin).toBe(new URL(BASE_URL).origin);
        expect(page.url()).not.toContain('oidc/start');
        expect(response?.status()).not.toBe(303);
        const cookies = await other.cookies(BASE_URL + 'oidc/callback');
        expect(cookies.filter(c => c.name.startsWith('oidc-bind-'))).toEqual([]);
      } finally {
        await other.close();
      }
      const status = await oidc.status();
      expect(status.sessions).toEqual([]);
      expect(status.pending.map(p => p.state)).toEqual([login.state]);
    }
  );

  test('sign-in started in a kernel cell is finished through its start link', async ({
    panel,
    oidc
  }) => {
    const login = await oidc.login(ALICE.email, 'prod'); // as a cell does: no browser made it
    const pending = panel.locator('[data-test=oidc-pending][data-own=false]');
    const link = pending.locator('[data-test=oidc-open-signin-page]');
    await expect(link).toHaveAttribute('href', login.start_url);
    await expect(link).toHaveText('Open the sign-in page');
    const tab = panel.page().context().waitForEvent('page');
    await link.click();
    await expect(await completeProviderPage(await tab, ALICE.email)).toHaveText(
      `Signed in as ${ALICE.email}`
    );
    await expect(panel.locator('[data-test=oidc-card][data-environment=prod]')).toBeVisible();
  });

  test('sign-in started before a reload is finished through its start link', async ({
    panel,
    oidc
  }) => {
    const page = panel.page();
    const first = await signInThroughPanel(panel, ALICE.email);
    await first.close();
    const [entry] = (await oidc.status()).pending;
    expect(entry.start_url).toBeTruthy();
    await reloadLab(panel);
    // After the reload the sign-in is this tab's own again (sessionStorage), its link the start link.
    const pending = panel.locator('[data-test=oidc-pending][data-own=true]');
    await expect(pending.locator('[data-test=oidc-open-signin-page]')).toHaveAttribute(
      'href',
      entry.start_url!
    );
    const tab = page.context().waitForEvent('page');
    await pending.locator('[data-test=oidc-open-signin-page]').click();
    await expect(await completeProviderPage(await tab, ALICE.email)).toHaveText(
      `Signed in as ${ALICE.email}`
    );
    await expect(panel.locator('[data-test=oidc-card][data-environment=prod]')).toBeVisible();
  });
});

test.describe("Attacks: server-provided URLs never run in JupyterLab's origin", () => {
  test(
    "javascript: provider URL never runs in JupyterLab's origin",
    { annotation: { type: 'security_case', description: 'browser-javascript-provider-url' } },
    async ({ panel }) => {
      const page = panel.page();
      let forged = '';
      await page.route(isRoute('login'), (route: Route) =>
        route.fulfill({
          json: { url: forged, state: 'forged-state', expires_in: 300, start_url: forged }
        })
      );
      for (const [name, url] of SCRIPT_URLS) {
        await test.step(name, async () => {
          forged = url;
          const tab = await signInThroughPanel(panel, ALICE.email);
          await expect(unsafeUrlError(panel)).toContainText('not a web (http or https) address');
          await expect
            .poll(() => tab.isClosed(), { message: 'the sign-in tab is closed' })
            .toBe(true);
          expect(await marker(page)).toBeNull();
          await expect(panel.locator('[data-test=oidc-pending]')).toHaveCount(0);
          await expect(panel.locator('[data-test=oidc-form]')).toBeVisible();
          await panel.locator('[data-test=oidc-error-dismiss]').click();
        });
      }
    }
  );

  test(
    "javascript: end-session URL never runs in JupyterLab's origin",
    { annotation: { type: 'security_case', description: 'browser-javascript-end-session-url' } },
    async ({ panel, oidc }) => {
      const page = panel.page();
      await oidc.signInFromOutside(ALICE.email);
      const card = panel.locator('[data-test=oidc-card][data-environment=prod]');
      await expect(card).toBeVisible();
      const [, url] = SCRIPT_URLS[0];
      await page.route(isRoute('logout'), async (route: Route) => {
        const response = await route.fetch(); // the real sign-out happens
        await route.fulfill({
          response,
          json: { ...(await response.json()), end_session_url: url }
        });
      });
      await signOutThroughCard(card);

      await expect(panel.locator('[data-test=oidc-signed-out]')).toContainText(
        'Signed out of prod'
      );
      await expect(unsafeUrlError(panel)).toContainText(
        'sign-out address is not a web (http or https) address'
      );
      await expect(panel.locator('[data-test=oidc-end-session-link]')).toHaveCount(0);
      await expect(panel.locator('a[href^="javascript" i]')).toHaveCount(0);
      expect(await marker(page)).toBeNull();
      expect((await oidc.status()).sessions).toEqual([]);
    }
  );

  test(
    'javascript: start link of a sign-in started elsewhere is never linked',
    { annotation: { type: 'security_case', description: 'browser-javascript-start-url' } },
    async ({ panel, oidc }) => {
      const page = panel.page();
      const [, url] = SCRIPT_URLS[0];
      await page.route(isRoute('status'), async (route: Route) => {
        const response = await route.fetch();
        const body = (await response.json()) as IStatusReply;
        await route.fulfill({
          response,
          json: { ...body, pending: body.pending.map(p => ({ ...p, start_url: url })) }
        });
      });
      await oidc.login(ALICE.email, 'prod');
      await reloadLab(panel); // every status answer from here on is forged
      const pending = panel.locator('[data-test=oidc-pending][data-own=false]');
      await expect(pending.locator('[data-test=oidc-unsafe-url]')).toContainText(
        'not a web (http or https) address'
      );
      await expect(pending.locator('[data-test=oidc-open-signin-page]')).toHaveCount(0);
      await expect(panel.locator('a[href^="javascript" i]')).toHaveCount(0);
      expect(await marker(page)).toBeNull();
      await page.unrouteAll({ behavior: 'ignoreErrors' }); // a long poll may still be held
    }
  );
});
