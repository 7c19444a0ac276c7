/**
 * Journey: the user typed one email in the panel but signs in as someone else at the
 * provider. The sign-in is refused with a sentence naming both accounts; nothing is stored.
 */
import { ALICE, BOB, completeProviderPage, expect, signInThroughPanel, test } from './fixtures';

test.describe('Identity mismatch', () => {
  test('should refuse another account with a sentence and store nothing', async ({
    panel,
    oidc
  }) => {
    const popup = await signInThroughPanel(panel, ALICE.email);
    await expect(panel.locator('[data-test=oidc-pending][data-own=true]')).toBeVisible();

    const result = await completeProviderPage(popup, BOB.email);
    await expect(result).toHaveAttribute('data-status', 'identity_mismatch');

    const error = panel.locator('.jp-oidc-error[data-error-code=identity_mismatch]');
    await expect(error).toBeVisible();
    await expect(error.locator('.jp-oidc-error-message')).toHaveText(
      `You signed in as ${BOB.email}, but this sign-in was for ${ALICE.email}. ` +
        'Nothing was stored — sign in again with the right account.'
    );
    await expect(error).not.toContainText('{'); // a sentence, never a JSON blob
    await expect(panel.locator('[data-test=oidc-card]')).toHaveCount(0);
    await expect(panel.locator('[data-test=oidc-pending]')).toHaveCount(0);
    await expect(panel.locator('[data-test=oidc-form]')).toBeVisible();
    await expect(panel.locator('#jp-oidc-email')).toHaveValue(ALICE.email);
    await expect(panel.page().locator('#jp-oidc-status')).toBeHidden();

    const status = await oidc.status();
    expect(status.sessions).toEqual([]);
    expect(status.pending).toEqual([]);
  });
});
