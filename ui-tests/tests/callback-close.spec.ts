/**
 * Journey (issue 18.9): the sign-in tab the panel opened closes itself once the sign-in is
 * done (the callback page's one script, allowed by its CSP hash), after showing who signed in.
 */
import { ALICE, completeProviderPage, expect, signInThroughPanel, test } from './fixtures';

test.describe('The callback tab', () => {
  test('should close itself after a panel sign-in', async ({ panel }) => {
    const popup = await signInThroughPanel(panel, ALICE.email);
    const closed = popup.waitForEvent('close', { timeout: 30_000 });
    const result = await completeProviderPage(popup);
    await expect(result).toHaveText(`Signed in as ${ALICE.email}`);
    await expect(popup.locator('main')).toContainText(
      'You can close this tab and return to Jupyter'
    );
    await closed; // closed by the page itself: the test never closes it
    expect(popup.isClosed()).toBe(true);
    await expect(
      panel.locator('[data-test=oidc-card][data-environment=prod] [data-test=oidc-card-email]')
    ).toHaveText(ALICE.email);
  });
});
