/**
 * The README's screenshots: the sign-in panel signed out, waiting for the provider,
 * showing an error (identity mismatch), signed in, and showing a device sign-in's code
 * (panel-device-<theme>.png), in the light and the dark theme, at
 * JupyterLab's default sidebar width (250 px): docs/screenshots/panel-<state>-<theme>.png,
 * cropped to the panel's content.
 *
 * Every run compares the panel with the committed pictures (`updateSnapshots: 'none'` in
 * playwright.config.ts): a visual change fails here until the pictures are retaken on
 * purpose with `make screenshots` (this spec with `--update-snapshots`). For that the
 * pictures are reproducible: hour-long tokens, countdowns stopped at fixed values (the page
 * runs on Playwright's clock), the default sidebar width, no focus or hover, no URL.
 */
import { Locator, Page, request } from '@playwright/test';

import { ISSUER, TOKEN } from '../playwright.config';
import {
  ALICE,
  BOB,
  completeProviderPage,
  expect,
  panelWidth,
  setTheme,
  signInThroughPanel,
  signOutThroughCard,
  test as base
} from './fixtures';

/** The page's clock is Playwright's: real time until the test pauses it. */
const test = base.extend({
  page: async ({ page }, use) => {
    await page.clock.install();
    await use(page);
  }
});

/** The test stack's 30 s tokens would show "expires in 0:29"; these show a realistic hour. */
const SCREENSHOT_ACCESS_TTL = 3600;
const TEST_ACCESS_TTL = 30; // --access-ttl in playwright.config.ts
/** Sidebar width of the pictures: JupyterLab's first-start width. */
const SIDEBAR_WIDTH = 250;
/** The countdowns in the pictures: "4:30" while waiting, "expires in 59:30" signed in. */
const PENDING_SECONDS_LEFT = 270;
const SESSION_SECONDS_LEFT = 3570;
/** The device view's countdown in its pictures: "9:30" (dev/idp's codes live 10 minutes). */
const DEVICE_SECONDS_LEFT = 570;

test.describe('Screenshots of the panel', () => {
  test.use({ viewport: { width: 1280, height: 1200 } });

  test.afterEach(async () => {
    await provider('/_test/ttl', { access: TEST_ACCESS_TTL });
  });

  test('should look like the pictures signed out, waiting, failed and signed in, light and dark', async ({
    lab,
    panel
  }) => {
    await provider('/_test/ttl', { access: SCREENSHOT_ACCESS_TTL });
    expect(await panelWidth(panel)).toBe(SIDEBAR_WIDTH);
    const card = panel.locator('[data-test=oidc-card][data-environment=prod]');

    // Light: signed out → waiting → error → signed in.
    await setTheme(lab, 'JupyterLab Light');
    await captureSignedOut(panel, 'light');
    await captureWaitingAndError(panel, 'light');
    await panel.locator('[data-test=oidc-error-dismiss]').click();
    const popup = await signInThroughPanel(panel, ALICE.email);
    await completeProviderPage(popup);
    await expect(card.locator('[data-test=oidc-card-email]')).toHaveText(ALICE.email);
    await captureSignedIn(panel, 'light');

    // Dark: signed in (fresh tokens: the clock only moves forward) → signed out → waiting → error.
    await setTheme(lab, 'JupyterLab Dark');
    const expiry = card.locator('[data-test=oidc-card-expiry]');
    await card.locator('[data-test=oidc-refresh]').click();
    await expect(expiry).toHaveText(/^expires in 59:5\d$/); // counting down from the new hour
    await captureSignedIn(panel, 'dark');
    await signOutThroughCard(card);
    await panel.locator('[data-test=oidc-notice-dismiss]').click();
    await provider('/_test/revoke-all', {}); // forget the provider's browser session (no single sign-on)
    await captureSignedOut(panel, 'dark');
    await captureWaitingAndError(panel, 'dark');
  });

  test('should look like the pictures of a device sign-in, light and dark', async ({
    lab,
    panel
  }) => {
    // Every answer from now on, the long polls included, shows the picture's code: load again.
    await showPictureDevice(lab);
    await lab.goto(`lab?reset&token=${TOKEN}`);
    await lab.waitForFunction(() =>
      (window as any).jupyterapp?.isPluginActivated?.('jupyterlab-oidc:sidebar')
    );
    await lab.evaluate(() => (window as any).jupyterapp.restored);
    await lab.evaluate(() => (window as any).jupyterapp.commands.execute('oidc:open-panel'));
    await expect(panel).toBeVisible();
    await expect(panel.locator('.jp-oidc-body')).toHaveAttribute('data-phase', 'ready');
    await expect.poll(() => panelWidth(panel)).toBe(SIDEBAR_WIDTH);
    for (const theme of ['light', 'dark'] as const) {
      await setTheme(lab, theme === 'light' ? 'JupyterLab Light' : 'JupyterLab Dark');
      await captureDevice(panel, theme);
    }
    await lab.unrouteAll({ behavior: 'ignoreErrors' });
  });
});

/** The code and page the device pictures show (the provider's change with every sign-in and port). */
const PICTURE_DEVICE = {
  user_code: 'WDJB-MJHT',
  verification_uri: 'https://id.example.com/device',
  verification_uri_complete: 'https://id.example.com/device?user_code=WDJB-MJHT'
};

/**
 * The page sees `PICTURE_DEVICE` instead of the provider's random code and its link on
 * this port: the server's login and status answers rewritten on their way to the page.
 */
async function showPictureDevice(page: Page): Promise<void> {
  await page.route(/\/oidc\/(login|status)(\?|$)/, async route => {
    const response = await route.fetch();
    const body = await response.json().catch(() => null);
    const fixed = (entry: Record<string, unknown>) =>
      typeof entry.user_code === 'string' ? { ...entry, ...PICTURE_DEVICE } : entry;
    if (!body || typeof body !== 'object') {
      return route.fulfill({ response });
    }
    const json = Array.isArray(body.pending)
      ? { ...body, pending: body.pending.map(fixed) }
      : fixed(body);
    await route.fulfill({ response, json });
  });
}

/** Start a device sign-in as alice ("Sign in with a code"), capture its view at "9:30", cancel it. */
async function captureDevice(panel: Locator, theme: string): Promise<void> {
  const page = panel.page();
  await panel.locator('#jp-oidc-email').fill(ALICE.email);
  await panel.locator('[data-test=oidc-sign-in-device]').click();
  const device = panel.locator('[data-test=oidc-device]');
  await expect(device.locator('[data-test=oidc-device-code]')).toBeVisible();
  await pauseCountdown(page, 'pending', DEVICE_SECONDS_LEFT);
  await expect(device.locator('[data-test=oidc-device-countdown]')).toHaveText('9:30');
  await expect(device.locator('[data-test=oidc-device-code]')).toHaveText(PICTURE_DEVICE.user_code);
  await capture(panel, `panel-device-${theme}`);
  await page.clock.resume();
  await device.locator('[data-test=oidc-device-cancel]').click();
  await expect(device).toHaveCount(0);
}

async function captureSignedOut(panel: Locator, theme: string): Promise<void> {
  await expect(panel.locator('[data-test=oidc-form]')).toBeVisible();
  await panel.locator('#jp-oidc-email').fill(ALICE.email);
  await capture(panel, `panel-signed-out-${theme}`);
}

/** Sign in as alice, capture the waiting panel, finish as bob: capture the error. */
async function captureWaitingAndError(panel: Locator, theme: string): Promise<void> {
  const page = panel.page();
  const popup = await signInThroughPanel(panel, ALICE.email);
  const pending = panel.locator('[data-test=oidc-pending][data-own=true]');
  await expect(pending).toBeVisible();
  await expect(popup.locator('#email')).toBeVisible();
  await page.bringToFront();
  await pauseCountdown(page, 'pending', PENDING_SECONDS_LEFT);
  await expect(pending.locator('[data-test=oidc-pending-countdown]')).toHaveText('4:30');
  await capture(panel, `panel-waiting-${theme}`);
  await page.clock.resume();

  await completeProviderPage(popup, BOB.email);
  await expect(panel.locator('.jp-oidc-error[data-error-code=identity_mismatch]')).toBeVisible();
  await page.bringToFront();
  await capture(panel, `panel-error-${theme}`);
  await popup.close();
}

async function captureSignedIn(panel: Locator, theme: string): Promise<void> {
  const page = panel.page();
  await page.bringToFront();
  await pauseCountdown(page, 'session', SESSION_SECONDS_LEFT);
  await expect(panel.locator('[data-test=oidc-card-expiry]')).toHaveText('expires in 59:30');
  await capture(panel, `panel-signed-in-${theme}`);
  await page.clock.resume();
}

/** Compare the panel (cropped below its content) with its picture. */
async function capture(panel: Locator, name: string): Promise<void> {
  const page = panel.page();
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.mouse.move(1200, 600); // no hover styles in the picture
  await panel.evaluate(node => node.scrollTo(0, 0));
  const box = await panel.boundingBox();
  const content = await panel.locator('.jp-oidc-body').boundingBox();
  expect(box && content).toBeTruthy();
  const bottom = Math.min(box!.y + box!.height, content!.y + content!.height + 8);
  await expect(page).toHaveScreenshot(`${name}.png`, {
    clip: { x: box!.x, y: box!.y, width: box!.width, height: bottom - box!.y }
  });
}

/**
 * Pause the page's clock where the countdown of the first pending sign-in (or session)
 * shows `secondsLeft`, and render the panel there. Every instant of the following
 * second shows the same value, so the 100 ms run that flushes the render is safe.
 */
async function pauseCountdown(
  page: Page,
  what: 'pending' | 'session',
  secondsLeft: number
): Promise<void> {
  const expiresAt = await page.evaluate(kind => {
    const app = (window as any).jupyterapp;
    const model = (app.pluginRegistry?._plugins ?? app._plugins).get(
      'jupyterlab-oidc:session'
    ).service;
    return (kind === 'pending' ? model.pending[0] : model.sessions[0]).expiresAt as number;
  }, what);
  await page.clock.pauseAt(expiresAt - secondsLeft * 1000);
  await page.evaluate(() => {
    const app = (window as any).jupyterapp;
    const model = (app.pluginRegistry?._plugins ?? app._plugins).get(
      'jupyterlab-oidc:session'
    ).service;
    model.ticked.emit(Date.now()); // re-render at the paused instant
  });
  await page.clock.runFor(100);
}

/** POST a test-control route of the provider (dev/idp/README.md). */
async function provider(route: string, data: object): Promise<void> {
  const context = await request.newContext();
  try {
    const response = await context.post(`${ISSUER}${route}`, { data });
    expect(response.ok(), `${route} → ${response.status()}`).toBe(true);
  } finally {
    await context.dispose();
  }
}
