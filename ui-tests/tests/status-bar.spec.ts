/**
 * Journey: the user chooses when the status bar item shows (setting `showStatusBar`:
 * "signed-in" by default, "always", "never"); changes apply at once, without a reload,
 * signed in or not, and clicking the item opens the panel.
 */
import { ALICE, expect, setSetting, test } from './fixtures';

test.describe('Status bar item', () => {
  test('should show and hide per the showStatusBar setting, signed out and signed in', async ({
    lab,
    oidc
  }) => {
    const item = lab.locator('#jp-oidc-status');
    await expect(item).toHaveAttribute('data-state', 'signed-out');
    await expect(item).toBeHidden(); // default "signed-in"

    await setSetting(lab, 'showStatusBar', 'always');
    await expect(item).toBeVisible();
    await expect(item).toHaveText('Sign in');
    await item.click();
    await expect(lab.locator('#jp-oidc-panel')).toBeVisible();

    await setSetting(lab, 'showStatusBar', 'never');
    await expect(item).toBeHidden();
    await oidc.signInFromOutside(ALICE.email);
    await expect(item).toHaveAttribute('data-state', 'signed-in');
    await expect(item).toBeHidden(); // "never" wins over a sign-in

    await setSetting(lab, 'showStatusBar', 'signed-in');
    await expect(item).toBeVisible();
    await expect(item).toHaveText(/^alice@example\.com · prod · \d+ (s|min)$/);

    await oidc.logout('prod'); // signed out elsewhere: the default setting hides it again
    await expect(item).toHaveAttribute('data-state', 'signed-out');
    await expect(item).toBeHidden();
  });
});
