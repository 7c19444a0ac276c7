import { act } from 'react';

import { IPreflightReport } from '../src/api';
import { OidcError } from '../src/errors';
import { OidcSessionModel } from '../src/model';
import { OidcPanel } from '../src/panel';
import { OidcPreferences } from '../src/preferences';
import { attachAndRender, FakeAPI, flushPromises, NOW_S } from './utils';

function report(overrides: Partial<IPreflightReport> = {}): IPreflightReport {
  return {
    environment: 'prod',
    issuer: 'https://id.example.com',
    client_id: 'jupyterlab',
    discovery_mode: 'auto',
    redirect_uri: 'http://localhost:8888/oidc/callback',
    ok: false,
    counts: { pass: 1, warn: 1, fail: 1, skip: 0 },
    checks: [
      { name: 'discovery', title: 'Discovery document', outcome: 'pass', message: 'Fetched it.', hint: '' },
      { name: 'pkce', title: 'PKCE S256', outcome: 'fail', message: 'The provider supports PKCE plain, not S256.', hint: 'Enable PKCE with S256.' },
      { name: 'scopes', title: 'Requested scopes', outcome: 'warn', message: 'Not listed: api://x/.default', hint: 'Check the spelling.' }
    ],
    ...overrides
  };
}

describe('OidcPanel', () => {
  describe('#Test configuration', () => {
    let api: FakeAPI;
    let model: OidcSessionModel;
    let panel: OidcPanel;
    let fetchPreflight: jest.Mock<Promise<IPreflightReport>, [string]>;
    const $ = (selector: string) => panel.node.querySelector<HTMLElement>(selector);

    beforeEach(async () => {
      jest.useFakeTimers({ now: NOW_S * 1000 });
      api = new FakeAPI();
      model = new OidcSessionModel({ api, preferences: new OidcPreferences() });
      fetchPreflight = jest.fn(async (_environment: string) => report());
      panel = new OidcPanel({ model, actions: { fetchPreflight } });
      await act(async () => {
        await model.refresh();
        await flushPromises(10);
      });
      await attachAndRender(panel);
    });

    afterEach(() => {
      act(() => panel.dispose());
      model.dispose();
      jest.useRealTimers();
    });

    async function click(selector: string): Promise<void> {
      await act(async () => {
        $(selector)!.click();
        await flushPromises(10);
      });
    }

    it('should run the preflight of the selected environment and show each check with its fix', async () => {
      await click('[data-test="oidc-test-configuration"]');
      expect(fetchPreflight).toHaveBeenCalledWith('prod');
      const steps = Array.from(panel.node.querySelectorAll<HTMLElement>('[data-test="oidc-preflight"] li'));
      expect(steps.map(s => [s.dataset.step, s.dataset.outcome])).toEqual([
        ['discovery', 'pass'], ['pkce', 'fail'], ['scopes', 'warn']
      ]);
      expect(steps[1].textContent).toContain('Enable PKCE with S256.');
      expect(steps[0].textContent).not.toContain('Enable');
      expect($('[data-test="oidc-preflight"] [role="status"]')?.textContent).toBe('1 check(s) failed: fix them before signing in.');
      expect($('[data-test="oidc-test-configuration"]')?.textContent).toBe('Hide configuration test');
    });

    it('should test again and say when the configuration is ready', async () => {
      await click('[data-test="oidc-test-configuration"]');
      fetchPreflight.mockResolvedValueOnce(report({ ok: true, counts: { pass: 3, warn: 0, fail: 0, skip: 0 } }));
      await click('[data-test="oidc-preflight-again"]');
      expect(fetchPreflight).toHaveBeenCalledTimes(2);
      expect($('[data-test="oidc-preflight"] [role="status"]')?.textContent).toBe('Ready to sign in (0 warning(s)).');
    });

    it('should show why the test could not run', async () => {
      fetchPreflight.mockRejectedValueOnce(new OidcError('unknown_environment', 'Unknown environment.'));
      await click('[data-test="oidc-test-configuration"]');
      expect($('[data-test="oidc-preflight"] [role="alert"]')?.textContent).toBe('Unknown environment.');
    });
  });
});
