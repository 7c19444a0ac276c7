/**
 * Journey: the user starts a sign-in and cancels it while it waits. The form comes back,
 * nothing is stored, and finishing the provider page afterwards cannot sign anyone in.
 */
import { ALICE, completeProviderPage, expect, signInThroughPanel, test } from './fixtures';

test.describe('Cancel a waiting sign-in', () => {
  test('should bring the form back and store no session', async ({ panel, oidc }) => {
    const popup = await signInThroughPanel(panel, ALICE.email);
    const pending = panel.locator('[data-test=oidc-pending][data-own=true]');
    await expect(pending).toBeVisible();
    await expect(pending.locator('[data-test=oidc-pending-countdown]')).toHaveText(/^[45]:\d\d$/);
    await expect(pending.locator('[data-test=oidc-open-signin-page]')).toBeVisible();
    await expect.poll(async () => (await oidc.status()).pending.length).toBe(1);

    await panel.locator('#jp-oidc-cancel').click();

    await expect(pending).toHaveCount(0);
    await expect(panel.locator('[data-test=oidc-form]')).toBeVisible();
    await expect(panel.locator('.jp-oidc-error')).toHaveCount(0); // cancelled here: nothing to report
    await expect(panel.page().locator('#jp-oidc-status')).toBeHidden();
    const status = await oidc.status();
    expect(status.pending).toEqual([]);
    expect(status.sessions).toEqual([]);

    // The provider tab is still open: finishing it now must not sign anyone in.
    const result = await completeProviderPage(popup);
    await expect(result).toHaveAttribute('data-status', 'state_mismatch');
    expect((await oidc.status()).sessions).toEqual([]);
    await expect(panel.locator('[data-test=oidc-card]')).toHaveCount(0);
  });
});
