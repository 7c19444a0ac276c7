/**
 * The JupyterLite site (`make lite`): the extension without a server, the Pyodide kernel
 * from the site's own files, the sign-in done in the page by the browser engine.
 * Run: `npx playwright test -c ui-tests/lite.config.ts` (after `make lite`).
 */
import { expect, Page, test } from '@playwright/test';

import { LITE_ISSUER, LITE_URL } from '../lite.config';

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

async function openLab(page: Page): Promise<void> {
  await page.goto(`${LITE_URL}lab/index.html`);
  await expect(page.locator('#jp-main-dock-panel')).toBeVisible();
}

/** Run `code` in a new Pyodide notebook; answers the cell's output text. */
async function runInNotebook(page: Page, code: string): Promise<string> {
  await page.locator('.jp-LauncherCard[data-category="Notebook"]').first().click();
  const cell = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell').first();
  await cell.locator('.cm-content').click();
  await page.keyboard.insertText(code);
  await page.keyboard.press('Shift+Enter');
  const output = cell.locator('.jp-OutputArea-output');
  await expect(output.first()).toBeVisible({ timeout: 150_000 });
  return (await output.allInnerTexts()).join('\n');
}

/** The sign-in panel, opened from its sidebar tab and done checking. */
async function openPanel(page: Page) {
  const panel = page.locator('#jp-oidc-panel');
  if (!(await panel.isVisible())) {
    await page.locator('.jp-SideBar [data-id="jp-oidc-panel"]').click();
  }
  await expect(panel).toBeVisible();
  await expect(panel.locator('.jp-oidc-body')).toHaveAttribute('data-phase', 'ready');
  return panel;
}

/** Sign in from the panel for `email` as the provider's `account`; answers the provider tab. */
async function signIn(page: Page, email: string, account = email): Promise<Page> {
  const panel = await openPanel(page);
  await panel.locator('#jp-oidc-email').fill(email);
  const popupEvent = page.context().waitForEvent('page');
  await panel.locator('#jp-oidc-sign-in').click();
  const popup = await popupEvent;
  // The provider asks who signs in, unless its session already is `account` (no page then).
  await popup.waitForURL(/\/interaction\/|oidc-callback\.html/);
  if (/\/interaction\//.test(popup.url())) {
    await popup.locator('#email').fill(account);
    await popup.locator('#sign-in').click();
  }
  return popup;
}

/** Run `code` in the open notebook's next empty cell; answers its output text. */
async function runCell(page: Page, code: string): Promise<string> {
  const notebook = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden)');
  await expect(notebook.locator('.jp-Cell').first()).toBeVisible();
  const cell = notebook.locator('.jp-Cell').nth((await notebook.locator('.jp-Cell').count()) - 1);
  await cell.locator('.cm-content').click();
  await page.keyboard.insertText(code);
  await page.keyboard.press('Shift+Enter');
  const output = cell.locator('.jp-OutputArea-output');
  await expect(output.first()).toBeVisible({ timeout: 150_000 });
  return (await output.allInnerTexts()).join('\n');
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
    await openLab(page);
    const output = await runInNotebook(
      page,
      'import sys, jupyterlab_oidc\nprint("oidc", "jupyter_server" in sys.modules, "httpx" in sys.modules)'
    );
    expect(output).toContain('oidc False False');
    expect([...hosts]).toEqual(['127.0.0.1']);
  });

  test('signs in in the page, refuses a wrong account with nothing kept, a Pyodide cell gets the token, signs out', async ({
    page
  }) => {
    const hosts = watchHosts(page);
    await openLab(page);
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

    // The kernel opened the comm at start; the page's answers land between cells.
    await page.locator('.jp-LauncherCard[data-category="Notebook"]').first().click();
    // JupyterLite hands the page's messages to the kernel between cells: the kernel's hello
    // at start, the page's ready and the token it asked for land once it is idle.
    let cached = '';
    for (let attempt = 0; attempt < 10 && !cached.includes('cached True'); attempt++) {
      cached = await runCell(
        page,
        'from jupyterlab_oidc.kernel import default_client\nprint("cached", bool(default_client()._cache))'
      );
    }
    expect(cached).toContain('cached True');
    const output = await runCell(
      page,
      'from jupyterlab_oidc import get_token_async, get_token\ntoken = await get_token_async()\nprint("token", token.email, len(token.access_token) > 10, get_token().access_token == token.access_token)'
    );
    expect(output).toContain(`token ${ALICE} True True`);
    // An API called with the token from the kernel: the provider's userinfo (CORS), through
    // pyfetch and through requests under pyodide-http.
    const api = await runCell(
      page,
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
