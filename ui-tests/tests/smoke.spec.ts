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
});
