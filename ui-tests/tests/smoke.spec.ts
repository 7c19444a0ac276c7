import { expect, test } from '@playwright/test';

import { TOKEN } from '../playwright.config';

test.describe('JupyterLab with jupyterlab-oidc', () => {
  test('should load the extension without errors', async ({ page }) => {
    const errors: string[] = [];
    page.on('console', msg => {
      if (msg.type() === 'error' && /oidc/i.test(msg.text())) {
        errors.push(msg.text());
      }
    });
    await page.goto(`lab?token=${TOKEN}`);
    await page.waitForSelector('#jp-main-dock-panel', { timeout: 60_000 });
    // dev/demo.py --expose-app puts the running app on window.jupyterapp.
    const activated = await page.evaluate(() =>
      (window as any).jupyterapp.isPluginActivated('jupyterlab-oidc:session')
    );
    expect(activated).toBe(true);
    expect(errors).toEqual([]);
  });

  test('should not download the browser engine or jose in a page with the server extension', async ({
    page
  }) => {
    // Chunk names of the development build `make test` runs (`npm run build`).
    const chunks: string[] = [];
    page.on('request', request => {
      const match = /\/extensions\/jupyterlab-oidc\/static\/([^/?#]+)/.exec(request.url());
      if (match) {
        chunks.push(match[1]);
      }
    });
    await page.goto(`lab?token=${TOKEN}`);
    await page.waitForSelector('#jp-main-dock-panel', { timeout: 60_000 });
    await page.evaluate(() => (window as any).jupyterapp.restored);
    await page.evaluate(() => (window as any).jupyterapp.commands.execute('oidc:open-panel'));
    await expect(page.locator('.jp-oidc-panel')).toBeVisible();
    await expect.poll(() => chunks.some(name => name.startsWith('lib_index_js'))).toBe(true);
    expect(chunks.filter(name => /engines_browser|jose|pkce/.test(name))).toEqual([]);
  });
});
