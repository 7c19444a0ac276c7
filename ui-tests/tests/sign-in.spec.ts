/**
 * Journey: a user signs in through the panel, completing the provider's page in the tab
 * the panel opened, and sees who they are in the panel and in the status bar.
 */
import { ALICE, completeProviderPage, expect, signInThroughPanel, test } from './fixtures';

test.describe('Sign in through the panel', () => {
  test('should show the identity card and the status bar after the provider sign-in', async ({
    panel,
    oidc
  }) => {
    const page = panel.page();
    const statusItem = page.locator('#jp-oidc-status');
    await expect(panel.locator('[data-test=oidc-form]')).toBeVisible();
    await expect(statusItem).toBeHidden(); // default setting: only while signed in

    const popup = await signInThroughPanel(panel, ALICE.email);
    const pending = panel.locator('[data-test=oidc-pending][data-environment=prod][data-own=true]');
    await expect(pending).toBeVisible();
    await expect(panel.locator('[data-test=oidc-form]')).toBeHidden();
    await expect(popup.locator('#email')).toHaveValue(ALICE.email); // login_hint reached the provider
    await expect(statusItem).toHaveAttribute('data-state', 'pending');

    const result = await completeProviderPage(popup);
    await expect(result).toHaveText(`Signed in as ${ALICE.email}`);

    const card = panel.locator('[data-test=oidc-card][data-environment=prod][data-application=""]');
    await expect(card).toBeVisible();
    await expect(pending).toHaveCount(0);
    await expect(card.locator('[data-test=oidc-card-email]')).toHaveText(ALICE.email);
    await expect(card.locator('[data-test=oidc-card-name]')).toHaveText(ALICE.name);
    await card.locator('[data-test=oidc-card-details] summary').click();
    await expect(card.locator('dd', { hasText: /^prod$/ })).toBeVisible();
    await expect(card.locator('[data-test=oidc-card-expiry]')).toHaveText(/^expires in \d+:\d\d$/);
    await expect(statusItem).toBeVisible();
    await expect(statusItem).toHaveAttribute('data-state', 'signed-in');
    await expect(statusItem).toHaveText(/^alice@example\.com · prod · \d+ (s|min)$/);

    const status = await oidc.status();
    expect(status.sessions.map(s => [s.environment, s.email])).toEqual([['prod', ALICE.email]]);
    expect(status.pending).toEqual([]);
  });
});
