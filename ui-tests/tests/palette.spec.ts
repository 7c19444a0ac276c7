/**
 * The command palette: a search for "oidc" lists the extension's commands first (their
 * palette labels end in "(OIDC)", a label match the palette ranks first).
 */
import { expect, test } from './fixtures';

/** The palette in the sidebar (a modal one closes whenever something takes the focus). */
const PALETTE = 'lab/api/settings/@jupyterlab/apputils-extension:palette';
const NEWS = 'lab/api/settings/@jupyterlab/apputils-extension:notification';

test.describe('Command palette', () => {
  test.beforeEach(async ({ oidc }) => {
    // before the page loads
    await oidc.request.put(PALETTE, { data: { raw: '{"modal": false}' } });
    await oidc.request.put(NEWS, { data: { raw: '{"fetchNews": "false"}' } });
  });

  test.afterEach(async ({ oidc }) => {
    await oidc.request.put(PALETTE, { data: { raw: '{}' } });
    await oidc.request.put(NEWS, { data: { raw: '{}' } });
  });

  test('should list the OpenID Connect commands first for "oidc"', async ({ lab }) => {
    await lab.evaluate(() =>
      (window as any).jupyterapp.commands.execute('apputils:activate-command-palette')
    );
    const palette = lab.locator('#command-palette');
    const input = palette.locator('.lm-CommandPalette-input');
    await expect(input).toBeVisible();
    await input.fill('oidc');
    await expect(palette.locator('.lm-CommandPalette-content > li').first()).toHaveText(
      'OpenID Connect'
    );
    const labels = palette.locator('.lm-CommandPalette-item .lm-CommandPalette-itemLabel');
    await expect(labels.first()).toHaveText(/\(OIDC\)$/);
    const top = (await labels.allInnerTexts()).slice(0, 7);
    expect(
      top.slice(0, 2).every(label => label.endsWith('(OIDC)')),
      top.join(' | ')
    ).toBe(true);
    expect(
      top.filter(label => label.endsWith('(OIDC)')).length,
      top.join(' | ')
    ).toBeGreaterThanOrEqual(5);
  });
});
