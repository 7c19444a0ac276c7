/**
 * Journey: a person starts a sign-in in the panel, then reloads the page while the
 * provider's page waits. The sign-in stays theirs: "Finish signing in", "Open the sign-in
 * page again" (its start link) and Cancel, and finishing it signs them in.
 */
import { TOKEN } from '../playwright.config';
import { ALICE, completeProviderPage, expect, signInThroughPanel, test } from './fixtures';

test.describe('Reload while signing in', () => {
  test('should keep the pending sign-in resumable after a reload', async ({ panel, oidc }) => {
    const page = panel.page();
    const first = await signInThroughPanel(panel, ALICE.email);
    await expect(panel.locator('[data-test=oidc-pending][data-own=true]')).toBeVisible();
    await first.close(); // the tab was closed, then the page reloaded
    const [entry] = (await oidc.status()).pending;

    await page.reload();
    await page.waitForFunction(() =>
      (window as any).jupyterapp?.isPluginActivated?.('jupyterlab-oidc:sidebar')
    );
    await page.evaluate(() => (window as any).jupyterapp.commands.execute('oidc:open-panel'));
    const pending = page.locator('#jp-oidc-panel [data-test=oidc-pending][data-own=true]');
    await expect(pending).toContainText(`Finish signing in to Demo provider as ${ALICE.email}`);
    const link = pending.locator('[data-test=oidc-open-signin-page]');
    await expect(link).toHaveText('Open the sign-in page again');
    await expect(link).toHaveAttribute('href', entry.start_url!);
    await expect(page.locator('#jp-oidc-panel [data-test=oidc-form]')).toBeHidden();
    // Only the state and the environment are remembered, never a token or a URL.
    const remembered = await page.evaluate(() =>
      sessionStorage.getItem('jupyterlab-oidc:own-sign-ins')
    );
    expect(JSON.parse(remembered!)).toEqual([{ state: entry.state, environment: 'prod' }]);
    expect(remembered).not.toContain(TOKEN);

    const popup = page.context().waitForEvent('page');
    await link.click();
    await expect(await completeProviderPage(await popup)).toContainText(
      `Signed in as ${ALICE.email}`
    );
    const card = page.locator('#jp-oidc-panel [data-test=oidc-card][data-environment=prod]');
    await expect(card.locator('[data-test=oidc-card-email]')).toHaveText(ALICE.email);
    await expect
      .poll(() => page.evaluate(() => sessionStorage.getItem('jupyterlab-oidc:own-sign-ins')))
      .toBeNull();
  });
});
