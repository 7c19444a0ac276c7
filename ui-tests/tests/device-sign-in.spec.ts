/**
 * Journey: a device sign-in (RFC 8628) from the panel's own form, "Sign in with a code":
 * no provider window opens; the panel shows the code, the link, the countdown and Cancel;
 * the code approved on another device (plain HTTP against dev/idp) signs the panel in.
 */
import { approveDeviceCode, deviceSettings } from './device-support';
import { ALICE, expect, test } from './fixtures';

test.describe('Device sign-in from the panel', () => {
  test.beforeEach(async () => {
    await deviceSettings({ interval: 1 });
  });

  test.afterEach(async () => {
    await deviceSettings({ interval: 5 }); // dev/idp's default
  });

  test('should show the code, sign in once it is approved elsewhere, and open no window', async ({
    panel,
    oidc
  }) => {
    const page = panel.page();
    const opened: string[] = [];
    page.context().on('page', p => opened.push(p.url()));
    await panel.locator('#jp-oidc-email').fill(ALICE.email);
    await panel.locator('[data-test=oidc-sign-in-device]').click();

    const device = panel.locator('[data-test=oidc-device]');
    await expect(device).toBeVisible();
    await expect(device.locator('[data-test=oidc-device-code]')).toHaveText(
      /^[A-Z0-9]{4}-?[A-Z0-9]{4}$/
    );
    await expect(device.locator('[data-test=oidc-device-for]')).toContainText(
      `Code for ${ALICE.email} at Demo provider`
    );
    await expect(device.locator('[data-test=oidc-device-countdown]')).toHaveText(/^\d+:\d\d$/);
    await expect(device.locator('[data-test=oidc-device-qr]')).toBeVisible();
    await expect(panel.locator('[data-test=oidc-form]')).toBeHidden();
    const [pending] = (await oidc.status()).pending as Array<{ login_hint: string; flow?: string }>;
    expect(pending).toMatchObject({ login_hint: ALICE.email, flow: 'device' });

    const complete = await device.locator('[data-test=oidc-device-complete]').getAttribute('href');
    expect(complete).toBeTruthy();
    await approveDeviceCode(complete!, ALICE.email);

    const card = panel.locator('[data-test=oidc-card][data-environment=prod]');
    await expect(card.locator('[data-test=oidc-card-email]')).toHaveText(ALICE.email);
    await expect(device).toHaveCount(0);
    expect((await oidc.status()).sessions.map(s => s.email)).toEqual([ALICE.email]);
    expect(opened).toEqual([]); // the device flow never opened a provider window
  });

  test('should cancel from the device view', async ({ panel, oidc }) => {
    await panel.locator('#jp-oidc-email').fill(ALICE.email);
    await panel.locator('[data-test=oidc-sign-in-device]').click();
    const device = panel.locator('[data-test=oidc-device]');
    await expect(device).toBeVisible();
    await device.locator('[data-test=oidc-device-cancel]').click();
    await expect(device).toHaveCount(0);
    await expect(panel.locator('[data-test=oidc-form]')).toBeVisible();
    await expect.poll(async () => (await oidc.status()).pending.length).toBe(0);
  });
});
