/**
 * The panel at JupyterLab's default sidebar width (250 px): a compact identity card with
 * the form still in view, results shown where they are seen (dialogs), nothing cut off or
 * scrolling sideways, equal buttons, and a question before Sign out.
 */
import { Locator } from '@playwright/test';

import { ALICE, expect, panelWidth, test } from './fixtures';

/** Whether `node` scrolls sideways (its content is wider than it). */
async function overflowsSideways(node: Locator): Promise<boolean> {
  return node.evaluate(el => el.scrollWidth > el.clientWidth + 1);
}

test.describe('The panel at the default sidebar width', () => {
  test.beforeEach(async ({ oidc }) => {
    await oidc.signInFromOutside(ALICE.email);
  });

  test('should show a compact card with the form still in view', async ({ panel }) => {
    const page = panel.page();
    expect(await panelWidth(panel)).toBe(250);
    const card = panel.locator('[data-test=oidc-card][data-environment=prod]');
    await expect(card.locator('[data-test=oidc-card-email]')).toHaveText(ALICE.email);
    await expect(card.locator('[data-test=oidc-card-expiry]')).toHaveText(/^expires in \d+:\d\d$/);
    // Details folded away; the actions are icon buttons with tooltips.
    await expect(card.locator('[data-test=oidc-card-details]')).not.toHaveAttribute('open', '');
    for (const action of ['oidc-refresh', 'oidc-copy-token', 'oidc-check-token', 'oidc-sign-out']) {
      const button = card.locator(`[data-test=${action}]`);
      await expect(button, action).toHaveAttribute('title', /\w+/);
      await expect(button, action).toHaveAttribute('aria-label', /\w+/);
    }
    const form = panel.locator('[data-test=oidc-form]');
    const signIn = form.locator('#jp-oidc-sign-in');
    await expect(signIn).toBeInViewport();
    // Sign in and Test configuration: equal widths.
    const a = await signIn.boundingBox();
    const b = await form.locator('[data-test=oidc-test-configuration]').boundingBox();
    expect(Math.round(a!.width)).toBe(Math.round(b!.width));
    // Details open: long URLs wrap inside the card, nothing scrolls sideways.
    await card.locator('[data-test=oidc-card-details] summary').click();
    await expect(card.locator('.jp-oidc-facts')).toBeVisible();
    expect(await overflowsSideways(panel.locator('.jp-oidc-content'))).toBe(false);
    const facts = await card.locator('.jp-oidc-facts').boundingBox();
    const box = await card.boundingBox();
    expect(facts!.x + facts!.width).toBeLessThanOrEqual(box!.x + box!.width);
    expect(page.viewportSize()!.width).toBeGreaterThan(250);
  });

  test('should show the id_token check in a dialog, its claims wrapped', async ({ panel }) => {
    const page = panel.page();
    const card = panel.locator('[data-test=oidc-card][data-environment=prod]');
    await card.locator('[data-test=oidc-check-token]').click();
    const dialog = page.locator('.jp-Dialog');
    const check = dialog.locator('[data-test=oidc-token-check]');
    await expect(check).toHaveAttribute('aria-busy', 'false');
    await expect(check.locator('.jp-oidc-check-summary')).toBeInViewport();
    await expect(check.locator('.jp-oidc-check-summary')).toHaveAttribute('data-valid', 'true');
    await check.locator('.jp-oidc-check-claims summary').click();
    const claims = check.locator('[data-test=oidc-claims]');
    await expect(claims).toBeVisible();
    expect(await overflowsSideways(claims)).toBe(false);
    await dialog.locator('.jp-mod-accept').click();
    await expect(dialog).toHaveCount(0);
  });

  test('should show the configuration test in a dialog', async ({ panel }) => {
    const page = panel.page();
    await panel.locator('[data-test=oidc-test-configuration]').click();
    const report = page.locator('.jp-Dialog [data-test=oidc-preflight]');
    await expect(report).toHaveAttribute('aria-busy', 'false');
    await expect(report.locator('.jp-oidc-check-summary')).toBeInViewport();
    await expect(report.locator('[data-test=oidc-preflight-redirect-uri]')).toContainText(
      '/oidc/callback'
    );
    expect(await overflowsSideways(report)).toBe(false);
  });

  test('should show the whole Copy access token warning', async ({ panel }) => {
    const page = panel.page();
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    const card = panel.locator('[data-test=oidc-card][data-environment=prod]');
    await card.locator('[data-test=oidc-copy-token]').click();
    const toast = page
      .locator('.Toastify__toast')
      .filter({ hasText: 'Access token for prod copied' });
    await expect(toast).toBeVisible();
    const text = (await toast.innerText()).trim();
    expect(text).not.toContain('…');
    expect(text).toContain('A secret');
  });

  test('should ask before signing out, and keep the session on Cancel', async ({ panel, oidc }) => {
    const page = panel.page();
    const card = panel.locator('[data-test=oidc-card][data-environment=prod]');
    await card.locator('[data-test=oidc-sign-out]').click();
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog).toContainText('Sign out of prod?');
    await expect(dialog).toContainText(ALICE.email);
    await dialog.locator('.jp-mod-reject').click();
    await expect(dialog).toHaveCount(0);
    await expect(card).toBeVisible();
    expect((await oidc.status()).sessions.map(s => s.email)).toEqual([ALICE.email]);
  });
});
