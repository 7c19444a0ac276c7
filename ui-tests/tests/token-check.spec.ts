/**
 * Journey: a signed-in user checks their id_token step by step in the browser
 * (structure, discovery, JWKS, key, signature, claims) in a dialog; a fresh sign-in passes them all.
 */
import { ALICE, expect, test } from './fixtures';

const STEPS = [
  'structure',
  'discovery',
  'jwks',
  'key',
  'signature',
  'iss',
  'aud',
  'exp',
  'iat',
  'nbf',
  'nonce'
];

test.describe('Token check', () => {
  test.beforeEach(async ({ oidc }) => {
    await oidc.signInFromOutside(ALICE.email);
  });

  test('should pass every step for a fresh sign-in', async ({ panel }) => {
    const card = panel.locator('[data-test=oidc-card][data-environment=prod]');
    await card.locator('[data-test=oidc-check-token]').click();
    const check = panel.page().locator('.jp-Dialog [data-test=oidc-token-check]');
    await expect(check.locator('[data-step=jwks][data-outcome=pass]')).toBeVisible();
    await expect(check).toHaveAttribute('aria-busy', 'false');
    await expect(check.locator('[data-step]')).toHaveCount(STEPS.length);
    for (const step of STEPS) {
      await expect(check.locator(`[data-step=${step}]`), step).toHaveAttribute(
        'data-outcome',
        'pass'
      );
    }
    await expect(check.locator('.jp-oidc-check-summary')).toHaveAttribute('data-valid', 'true');
    await expect(check.locator('[data-step=signature]')).toContainText('Valid RS256 signature');
    await expect(check.locator('[data-step=key]')).toContainText('SHA-256 thumbprint');
  });
});
