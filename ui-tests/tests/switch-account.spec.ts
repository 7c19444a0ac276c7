/**
 * Journey: signed in to prod as alice, "Sign in as someone else" on her card starts a
 * sign-in for prod with prompt=login as bob; alice's card (and the status bar) stays while
 * bob's sign-in waits, and both show bob once it has passed the server's checks.
 */
import { request } from '@playwright/test';

import { ISSUER } from '../playwright.config';
import { ALICE, BOB, completeProviderPage, expect, test } from './fixtures';

test.describe('Switching account from the identity card', () => {
  test('should replace alice by bob only once bob is signed in', async ({ panel, oidc }) => {
    await oidc.signInFromOutside(ALICE.email);
    const page = panel.page();
    const card = panel.locator('[data-test=oidc-card][data-environment=prod]');
    const status = page.locator('#jp-oidc-status');
    await expect(card.locator('[data-test=oidc-card-email]')).toHaveText(ALICE.email);
    await expect(status).toHaveText(/^alice@example\.com · prod · /);

    await card.locator('[data-test=oidc-card-details] summary').click();
    await card.locator('[data-test=oidc-switch-account]').click();
    const form = card.locator('[data-test=oidc-switch-form]');
    await expect(form).toContainText(
      `${ALICE.email} stays signed in until the new account passes the checks`
    );
    await form.locator('[data-test=oidc-switch-email]').fill(BOB.email);
    const popup = page.context().waitForEvent('page');
    await form.locator('[data-test=oidc-switch-go]').click();
    const provider = await popup;
    await expect(provider.locator('#email')).toBeVisible();

    // While bob's sign-in waits: alice is still signed in, here and on the server.
    await expect(card.locator('[data-test=oidc-card-switching]')).toHaveText(
      `Signing in as ${BOB.email}: ${ALICE.email} stays signed in until that sign-in succeeds.`
    );
    await expect(card.locator('[data-test=oidc-card-email]')).toHaveText(ALICE.email);
    await expect(status).toHaveText(/^alice@example\.com · prod · /);
    expect((await oidc.status()).sessions.map(s => s.email)).toEqual([ALICE.email]);
    expect(await lastAuthorization()).toMatchObject({ prompt: 'login', login_hint: BOB.email });

    await expect(await completeProviderPage(provider, BOB.email)).toContainText(
      `Signed in as ${BOB.email}`
    );
    await expect(card.locator('[data-test=oidc-card-email]')).toHaveText(BOB.email);
    await expect(panel.locator('[data-test=oidc-card]')).toHaveCount(1);
    await expect(card.locator('[data-test=oidc-card-switching]')).toHaveCount(0);
    await expect(status).toHaveText(/^bob@example\.com · prod · /);
    expect((await oidc.status()).sessions.map(s => s.email)).toEqual([BOB.email]);
  });
});

/** What the provider's last authorization request asked for (`GET /_test/last-authorization`). */
async function lastAuthorization(): Promise<Record<string, unknown>> {
  const context = await request.newContext();
  try {
    const response = await context.get(`${ISSUER}/_test/last-authorization`);
    expect(response.ok()).toBe(true);
    return (await response.json()) as Record<string, unknown>;
  } finally {
    await context.dispose();
  }
}
