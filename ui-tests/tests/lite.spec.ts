/**
 * The JupyterLite site (`make lite`): the extension without a server, the Pyodide kernel
 * from the site's own files, the sign-in done in the page by the browser engine.
 * Run: `npx playwright test -c ui-tests/lite.config.ts` (after `make lite`).
 */
import { expect, Page, test } from '@playwright/test';

import { LITE_ISSUER } from '../lite.config';
import { LiteNotebook, openLab, openPanel, signIn } from '../lite-support';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

/** Record every request the pages of the test make; answers the hosts seen. */
function watchHosts(page: Page): Set<string> {
  const hosts = new Set<string>();
  page.context().on('request', request => {
    const url = new URL(request.url());
    if (
      url.protocol === 'http:' ||
      url.protocol === 'https:' ||
      url.protocol === 'ws:' ||
      url.protocol === 'wss:'
    ) {
      hosts.add(url.hostname);
    }
  });
  return hosts;
}

test.describe('JupyterLite site', () => {
  test.beforeEach(() => {
    test.skip(
      !test.info().config.metadata?.lite,
      'needs `make lite` and -c ui-tests/lite.config.ts'
    );
  });

  test('loads the extension with no request outside 127.0.0.1', async ({ page }) => {
    const hosts = watchHosts(page);
    const started = Date.now();
    await openLab(page);
    test.info().annotations.push({ type: 'first load', description: `${Date.now() - started} ms` });
    await page.locator('.jp-LauncherCard[data-category="Notebook"]').first().click();
    await expect(
      page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell').first()
    ).toBeVisible();
    expect([...hosts]).toEqual(['127.0.0.1']);
  });

  test('a Pyodide cell imports the kernel helper without jupyter_server or httpx', async ({
    page
  }) => {
    const hosts = watchHosts(page);
    const trouble = await openLab(page);
    const started = Date.now();
    const notebook = await LiteNotebook.create(page, trouble);
    test
      .info()
      .annotations.push({ type: 'kernel idle', description: `${Date.now() - started} ms` });
    const output = await notebook.run(
      'import sys, jupyterlab_oidc\nprint("oidc", "jupyter_server" in sys.modules, "httpx" in sys.modules)'
    );
    expect(output).toContain('oidc False False');
    expect([...hosts]).toEqual(['127.0.0.1']);
  });

  test('signs in in the page, refuses a wrong account with nothing kept, a Pyodide cell gets the token, signs out', async ({
    page
  }) => {
    const hosts = watchHosts(page);
    const trouble = await openLab(page);
    const panel = await openPanel(page);

    const wrong = await signIn(page, BOB, ALICE); // signs in as alice on a sign-in for bob
    await expect(
      panel.getByText(
        /You signed in as alice@example\.com, but this sign-in was for bob@example\.com/
      )
    ).toBeVisible();
    await expect(panel.locator('[data-test=oidc-card]')).toHaveCount(0);
    await wrong.close();

    const started = Date.now();
    const popup = await signIn(page, ALICE);
    const card = panel.locator('[data-test=oidc-card]');
    await expect(card.locator('[data-test=oidc-card-email]')).toHaveText(ALICE);
    test.info().annotations.push({ type: 'sign-in', description: `${Date.now() - started} ms` });
    await popup.close();
    const stored = await page.evaluate(
      () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })
    );
    expect(stored).not.toMatch(/access_token|refresh_token|id_token|eyJ/);
    await page.screenshot({ path: 'test-results/lite-panel.png' });
    await panel.screenshot({ path: '../docs/screenshots/lite-panel.png' });

    // The first cell opens the comm; the page's ready, and the token the kernel then asks
    // for, land between cells (JupyterLite hands the page's messages to an idle kernel).
    const notebook = await LiteNotebook.create(page, trouble);
    const cached = await notebook.runUntil(
      'from jupyterlab_oidc.kernel import default_client\nprint("cached", bool(default_client()._cache))',
      /cached True/,
      10
    );
    expect(cached).toContain('cached True');
    const output = await notebook.run(
      'from jupyterlab_oidc import get_token_async, get_token\ntoken = await get_token_async()\nprint("token", token.email, len(token.access_token) > 10, get_token().access_token == token.access_token)'
    );
    expect(output).toContain(`token ${ALICE} True True`);
    // An API called with the token from the kernel: the provider's userinfo (CORS), through
    // pyfetch and through requests under pyodide-http.
    const api = await notebook.run(
      [
        'import pyodide_http, requests',
        'from pyodide.http import pyfetch',
        'from jupyterlab_oidc import OIDCBearer',
        `config = await (await pyfetch("${LITE_ISSUER}/.well-known/openid-configuration")).json()`,
        'answer = await pyfetch(config["userinfo_endpoint"], headers=await OIDCBearer().headers())',
        'pyodide_http.patch_all()',
        'print("userinfo", (await answer.json())["email"], requests.get(config["userinfo_endpoint"], auth=OIDCBearer()).json()["email"])'
      ].join('\n')
    );
    expect(api).toContain(`userinfo ${ALICE} ${ALICE}`);

    await openPanel(page);
    await card.locator('[data-test=oidc-sign-out]').click();
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await expect(card).toHaveCount(0);
    expect([...hosts].sort()).toEqual(['127.0.0.1']);
    expect(LITE_ISSUER).toMatch(/^http:\/\/127\.0\.0\.1:/);
  });
});
