/**
 * Journey: signed in to prod, the second form ("Sign in to another environment") selects
 * an environment without a session, and a sign-in that would replace a session asks first
 * ("This replaces alice@example.com in prod") before any provider window opens.
 */
import { ALICE, BOB, completeProviderPage, expect, test } from './fixtures';

test.describe('Sign in to another environment', () => {
  test.beforeEach(async ({ oidc }) => {
    await oidc.signInFromOutside(ALICE.email);
  });

  test('should preselect an environment without a session', async ({ panel }) => {
    await expect(panel.locator('#jp-oidc-form-title')).toHaveText('Sign in to another environment');
    await expect(panel.locator('#jp-oidc-environment')).toHaveValue('dev');
  });

  test('should ask before replacing the session, and replace it only when confirmed', async ({
    panel,
    oidc
  }) => {
    const page = panel.page();
    const opened: string[] = [];
    page.context().on('page', p => opened.push(p.url()));
    await panel.locator('#jp-oidc-environment').selectOption('prod');
    await panel.locator('#jp-oidc-email').fill(BOB.email);
    await panel.locator('#jp-oidc-sign-in').click();
    const confirm = panel.locator('[data-test=oidc-replace-confirm]');
    await expect(confirm).toContainText(`This replaces ${ALICE.email} in prod`);
    expect(opened).toEqual([]); // nothing opened, nothing started
    expect((await oidc.status()).pending).toEqual([]);

    await confirm.locator('[data-test=oidc-replace-no]').click();
    await expect(confirm).toHaveCount(0);
    expect((await oidc.status()).sessions.map(s => s.email)).toEqual([ALICE.email]);

    await panel.locator('#jp-oidc-sign-in').click();
    const popup = page.context().waitForEvent('page');
    await panel.locator('[data-test=oidc-replace-yes]').click();
    await expect(await completeProviderPage(await popup, BOB.email)).toContainText(
      `Signed in as ${BOB.email}`
    );
    const card = panel.locator('[data-test=oidc-card][data-environment=prod]');
    await expect(card.locator('[data-test=oidc-card-email]')).toHaveText(BOB.email);
    expect((await oidc.status()).sessions.map(s => s.email)).toEqual([BOB.email]);
  });
});
