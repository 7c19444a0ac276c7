/**
 * The README's screenshots: the sign-in panel signed out, waiting for the provider,
 * showing an error (identity mismatch) and signed in, in the light and the dark theme.
 * Saved to docs/screenshots/panel-<state>-<theme>.png, cropped to the panel's content.
 *
 * The pictures are reproducible: the countdowns are stopped at fixed values (the page
 * runs on Playwright's clock) and tokens last an hour, so a run over an unchanged panel
 * rewrites identical PNGs and leaves `git status` clean.
 */
import * as path from 'path';

import { Locator, Page, request } from '@playwright/test';

import { ISSUER } from '../playwright.config';
import { ALICE, BOB, completeProviderPage, expect, setTheme, signInThroughPanel, test as base } from './fixtures';

/** The page's clock is Playwright's: real time until a test pauses it. */
const test = base.extend({
  page: async ({ page }, use) => {
    await page.clock.install();
    await use(page);
  }
});

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
/** The countdowns in the pictures: "4:30" while waiting, "expires in 59:30" signed in. */
const PENDING_SECONDS_LEFT = 270;
const SESSION_SECONDS_LEFT = 3570;

test.describe('Screenshots of the panel', () => {
  test.use({ viewport: { width: 1280, height: 1200 } });

  test.afterEach(async () => {
    await setAccessTtl(TEST_ACCESS_TTL);
  });

  for (const { name, theme } of THEMES) {
    test(`should save the panel's states in the ${name} theme`, async ({ lab, panel }) => {
      await setAccessTtl(SCREENSHOT_ACCESS_TTL);
      await setTheme(lab, theme);
      await resizeSidebar(panel, SIDEBAR_WIDTH);

      await panel.locator('#jp-oidc-email').fill(ALICE.email);
      await capture(panel, `panel-signed-out-${name}`);

      const mismatch = await signInThroughPanel(panel, ALICE.email);
      const pending = panel.locator('[data-test=oidc-pending][data-own=true]');
      await expect(pending).toBeVisible();
      await expect(mismatch.locator('#email')).toBeVisible();
      await lab.bringToFront();
      await pauseCountdown(lab, 'pending', PENDING_SECONDS_LEFT);
      await expect(pending.locator('[data-test=oidc-pending-countdown]')).toHaveText('4:30');
      await capture(panel, `panel-waiting-${name}`);
      await lab.clock.resume();

      await completeProviderPage(mismatch, BOB.email);
      await expect(panel.locator('.jp-oidc-error[data-error-code=identity_mismatch]')).toBeVisible();
      await lab.bringToFront();
      await capture(panel, `panel-error-${name}`);

      await panel.locator('[data-test=oidc-error-dismiss]').click();
      const popup = await signInThroughPanel(panel, ALICE.email);
      await completeProviderPage(popup);
      const card = panel.locator('[data-test=oidc-card][data-environment=prod]');
      await expect(card.locator('[data-test=oidc-card-email]')).toHaveText(ALICE.email);
      await lab.bringToFront();
      await pauseCountdown(lab, 'session', SESSION_SECONDS_LEFT);
      await expect(card.locator('[data-test=oidc-card-expiry]')).toHaveText('expires in 59:30');
      await capture(panel, `panel-signed-in-${name}`);
    });
  }
});

/** Save the panel, cropped below its content so the image stays small and readable. */
async function capture(panel: Locator, name: string): Promise<void> {
  const page = panel.page();
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.mouse.move(1200, 600); // no hover styles in the picture
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

/**
 * Pause the page's clock where the countdown of the first pending sign-in (or session)
 * shows `secondsLeft`, and render the panel there. Every instant of the following
 * second shows the same value, so the 100 ms run that flushes the render is safe.
 */
async function pauseCountdown(page: Page, what: 'pending' | 'session', secondsLeft: number): Promise<void> {
  const expiresAt = await page.evaluate(kind => {
    const app = (window as any).jupyterapp;
    const model = (app.pluginRegistry?._plugins ?? app._plugins).get('jupyterlab-oidc:session').service;
    return (kind === 'pending' ? model.pending[0] : model.sessions[0]).expiresAt as number;
  }, what);
  await page.clock.pauseAt(expiresAt - secondsLeft * 1000);
  await page.evaluate(() => {
    const app = (window as any).jupyterapp;
    const model = (app.pluginRegistry?._plugins ?? app._plugins).get('jupyterlab-oidc:session').service;
    model.ticked.emit(Date.now()); // re-render at the paused instant
  });
  await page.clock.runFor(100);
}

/** Drag the sidebar's split handle, as a user would, until the panel is `width` wide. */
async function resizeSidebar(panel: Locator, width: number): Promise<void> {
  const page = panel.page();
  const box = await panel.boundingBox();
  const grip = await page.locator('#jp-main-split-panel > .lm-SplitPanel-handle').first().boundingBox();
  expect(box && grip).toBeTruthy();
  const x = grip!.x + grip!.width / 2;
  const y = grip!.y + grip!.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + width - box!.width, y, { steps: 5 });
  await page.mouse.up();
  await expect.poll(async () => Math.round((await panel.boundingBox())!.width)).toBeGreaterThanOrEqual(width - 2);
}

/** Lifetime of the access tokens the provider issues from now on (dev/idp `/_test/ttl`). */
async function setAccessTtl(seconds: number): Promise<void> {
  const context = await request.newContext();
  try {
    const response = await context.post(`${ISSUER}/_test/ttl`, { data: { access: seconds } });
    expect(response.ok()).toBe(true);
  } finally {
    await context.dispose();
  }
}
