/**
 * Journey: a signed-in user signs out from the identity card; the card goes, the panel
 * offers the provider's end-session link, and the status bar item hides (default setting).
 */
import { ISSUER } from '../playwright.config';
import { ALICE, expect, signOutThroughCard, test } from './fixtures';

test.describe('Sign out', () => {
  test.beforeEach(async ({ oidc }) => {
    await oidc.signInFromOutside(ALICE.email);
  });

  test('should ask first, then remove the card, offer the end-session link and hide the status bar', async ({
    panel,
    oidc
  }) => {
    const statusItem = panel.page().locator('#jp-oidc-status');
    const card = panel.locator('[data-test=oidc-card][data-environment=prod]');
    await expect(card.locator('[data-test=oidc-card-email]')).toHaveText(ALICE.email);
    await expect(statusItem).toHaveAttribute('data-state', 'signed-in');
    await expect(statusItem).toBeVisible();

    await signOutThroughCard(card);

    await expect(card).toHaveCount(0);
    const notice = panel.locator('[data-test=oidc-signed-out][data-environment=prod]');
    await expect(notice).toBeVisible();
    await expect(notice).toContainText('Signed out of prod');
    const link = notice.locator('[data-test=oidc-end-session-link]');
    await expect(link).toBeVisible();
    const href = new URL((await link.getAttribute('href')) ?? '');
    expect(`${href.origin}${href.pathname}`).toBe(`${ISSUER}/session/end`);
    expect(href.searchParams.get('client_id')).toBe('jupyterlab-oidc');
    await expect(link).toHaveAttribute('target', '_blank');
    await expect(panel.locator('[data-test=oidc-form]')).toBeVisible();
    await expect(statusItem).toBeHidden();
    expect((await oidc.status()).sessions).toEqual([]);
  });
});
