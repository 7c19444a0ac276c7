/**
 * Journey: a sign-in started outside the panel (a notebook cell, another tab: here the
 * REST API) shows in the panel while it waits, and its identity card appears after the
 * provider's callback, without a reload (how fast: the annotation; speed is for bench/).
 */
import { ALICE, expect, ProviderAgent, test } from './fixtures';

test.describe('Sign-in completed outside the panel', () => {
  test('should show the pending sign-in, then the card without a reload', async ({
    panel,
    oidc
  }) => {
    const { start_url } = await oidc.login(ALICE.email, 'prod');
    const pending = panel.locator(
      '[data-test=oidc-pending][data-environment=prod][data-own=false]'
    );
    await expect(pending).toBeVisible();
    await expect(pending).toContainText(`as ${ALICE.email} was started elsewhere`);
    await expect(pending.locator('[data-test=oidc-pending-countdown]')).toHaveText(/^\d+:\d\d$/);
    // Not started here: the start link, which binds the browser that opens it to the sign-in.
    await expect(pending.locator('[data-test=oidc-open-signin-page]')).toHaveAttribute(
      'href',
      start_url
    );
    await expect(panel.locator('[data-test=oidc-form]')).toBeVisible(); // ours still usable

    const provider = await ProviderAgent.create();
    try {
      const callback = await provider.authorize(await provider.start(start_url), ALICE.email);
      const started = Date.now();
      expect(await provider.follow(callback)).toContain(`Signed in as ${ALICE.email}`);
      const card = panel.locator(
        '[data-test=oidc-card][data-environment=prod][data-application=""]'
      );
      await expect(card.locator('[data-test=oidc-card-email]')).toHaveText(ALICE.email);
      test.info().annotations.push({
        type: 'card after callback (ms)',
        description: String(Date.now() - started)
      });
    } finally {
      await provider.dispose();
    }
    await expect(pending).toHaveCount(0);
    await expect(panel.page().locator('#jp-oidc-status')).toHaveAttribute(
      'data-state',
      'signed-in'
    );
  });
});
