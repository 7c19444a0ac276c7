/**
 * Notebook 7 users reach the sign-in panel the way Notebook 7 offers panels: View →
 * "OpenID Connect Sign-In" (schema/plugin.json) opens it, on /tree and in a notebook (in its
 * left sidebar).
 */
import { Page } from '@playwright/test';

import { TOKEN } from '../playwright.config';
import { ALICE, expect, test } from './fixtures';

const NOTEBOOK = 'oidc-notebook7.ipynb';

/** A Notebook 7 page with its menu bar. */
async function open(page: Page, path: string): Promise<void> {
  await page.goto(`${path}?token=${TOKEN}`);
  await expect(page.getByRole('menuitem', { name: 'View' })).toBeVisible({ timeout: 60_000 });
}

/** View → OpenID Connect Sign-In. */
async function openFromViewMenu(page: Page): Promise<void> {
  await page.getByRole('menuitem', { name: 'View' }).click();
  await page.getByRole('menuitem', { name: 'OpenID Connect Sign-In' }).click();
}

test.describe('Notebook 7', () => {
  test.beforeEach(async ({ oidc }) => {
    await oidc.signInFromOutside(ALICE.email);
  });

  test('should open the sign-in panel from the View menu on /tree', async ({ page }) => {
    await open(page, 'tree');
    await openFromViewMenu(page);
    const card = page.locator('#jp-oidc-panel [data-test=oidc-card][data-environment=prod]');
    await expect(card.locator('[data-test=oidc-card-email]')).toHaveText(ALICE.email);
  });

  test('should open the sign-in panel in a notebook, from the View menu and the left sidebar', async ({
    page,
    oidc
  }) => {
    const kernelspec = {
      name: 'python3',
      display_name: 'Python 3 (ipykernel)',
      language: 'python'
    };
    const content = { cells: [], metadata: { kernelspec }, nbformat: 4, nbformat_minor: 5 };
    const created = await oidc.request.put(`api/contents/${NOTEBOOK}`, {
      data: { type: 'notebook', format: 'json', content }
    });
    expect(created.ok()).toBe(true);
    try {
      await open(page, `notebooks/${NOTEBOOK}`);
      await openFromViewMenu(page);
      const panel = page.locator('#jp-oidc-panel');
      await expect(panel.locator('[data-test=oidc-card-email]')).toHaveText(ALICE.email);
      // It sits in Notebook 7's left sidebar (the area View → Left Sidebar shows and hides).
      const area = await panel.evaluate(node => node.closest('[id*="left"]')?.id ?? '');
      expect(area).toMatch(/left/);
    } finally {
      await oidc.request.delete(`api/contents/${NOTEBOOK}`);
    }
  });
});
