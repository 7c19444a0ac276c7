/**
 * The README's screenshots: the sign-in panel signed out, waiting for the provider,
 * showing an error (identity mismatch) and signed in, in the light and the dark theme.
 * Saved to docs/screenshots/panel-<state>-<theme>.png, cropped to the panel's content.
 */
import * as path from 'path';

import { Locator, Page } from '@playwright/test';

import { ISSUER } from '../playwright.config';
import { ALICE, BOB, completeProviderPage, expect, setTheme, signInThroughPanel, test } from './fixtures';

const SCREENSHOTS = path.resolve(__dirname, '..', '..', 'docs', 'screenshots');
const THEMES = [
  { name: 'light', theme: 'JupyterLab Light' },
  { name: 'dark', theme: 'JupyterLab Dark' }
] as const;
/** The test stack's 30 s tokens would show "expires in 0:29"; these show a realistic hour. */
const SCREENSHOT_ACCESS_TTL = 3600;
const TEST_ACCESS_TTL = 30; // --access-ttl in playwright.config.ts
/** Sidebar width of the pictures: a little wider than JupyterLab's first-start 250 px. */
const SIDEBAR_WIDTH = 320;

/** Drag the sidebar's split handle, as a user would, until the panel is `width` wide. */
async function resizeSidebar(panel: Locator, width: number): Promise<void> {
  const page = panel.page();
  const box = await panel.boundingBox();
  const handle = page.locator('#jp-main-split-panel > .lm-SplitPanel-handle').first();
  const grip = await handle.boundingBox();
  expect(box && grip).toBeTruthy();
  const y = grip!.y + grip!.height / 2;
  await page.mouse.move(grip!.x + grip!.width / 2, y);
  await page.mouse.down();
  await page.mouse.move(grip!.x + grip!.width / 2 + width - box!.width, y, { steps: 5 });
  await page.mouse.up();
  await expect.poll(async () => Math.round((await panel.boundingBox())!.width)).toBeGreaterThanOrEqual(width - 2);
}

/** Save the panel, cropped below its content so the image stays small and readable. */
async function capture(panel: Locator, name: string): Promise<void> {
  const page = panel.page();
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.mouse.move(1200, 400); // no hover styles in the picture
  await panel.evaluate(node => node.scrollTo(0, 0));
  const box = await panel.boundingBox();
  const content = await panel.locator('.jp-oidc-body').boundingBox();
  expect(box && content).toBeTruthy();
  const bottom = Math.min(box!.y + box!.height, content!.y + content!.height + 8);
  await page.screenshot({
    path: path.join(SCREENSHOTS, `${name}.png`),
    clip: { x: box!.x, y: box!.y, width: box!.width, height: bottom - box!.y },
    animations: 'disabled',
    caret: 'hide'
  });
}

async function setAccessTtl(page: Page, seconds: number): Promise<void> {
  const response = await page.request.post(`${ISSUER}/_test/ttl`, { data: { access: seconds } });
  expect(response.ok()).toBe(true);
}

test.describe('Screenshots of the panel', () => {
  test.use({ viewport: { width: 1280, height: 1200 } });

  test.afterEach(async ({ page }) => {
    await setAccessTtl(page, TEST_ACCESS_TTL);
  });

  for (const { name, theme } of THEMES) {
    test(`should save the panel's states in the ${name} theme`, async ({ lab, panel }) => {
      await setAccessTtl(lab, SCREENSHOT_ACCESS_TTL);
      await setTheme(lab, theme);
      await resizeSidebar(panel, SIDEBAR_WIDTH);

      await panel.locator('#jp-oidc-email').fill(ALICE.email);
      await capture(panel, `panel-signed-out-${name}`);

      const mismatch = await signInThroughPanel(panel, ALICE.email);
      const pending = panel.locator('[data-test=oidc-pending][data-own=true]');
      await expect(pending).toBeVisible();
      await expect(mismatch.locator('#email')).toBeVisible();
      await lab.bringToFront();
      await capture(panel, `panel-waiting-${name}`);

      await completeProviderPage(mismatch, BOB.email);
      await expect(panel.locator('.jp-oidc-error[data-error-code=identity_mismatch]')).toBeVisible();
      await lab.bringToFront();
      await capture(panel, `panel-error-${name}`);

      await panel.locator('[data-test=oidc-error-dismiss]').click();
      const popup = await signInThroughPanel(panel, ALICE.email);
      await completeProviderPage(popup);
      const card = panel.locator('[data-test=oidc-card][data-environment=prod]');
      await expect(card.locator('[data-test=oidc-card-email]')).toHaveText(ALICE.email);
      await expect(card.locator('[data-test=oidc-card-expiry]')).toHaveText(/^expires in (59|60):\d\d$/);
      await lab.bringToFront();
      await capture(panel, `panel-signed-in-${name}`);
    });
  }
});
