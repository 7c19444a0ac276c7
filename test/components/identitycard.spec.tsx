import { act } from 'react';

import { sessionInfo, statusReply } from '../utils';
import { click, PanelHarness } from './harness';

describe('IdentityCard', () => {
  let h: PanelHarness;

  beforeEach(() => {
    h = new PanelHarness();
  });

  afterEach(() => h.dispose());

  describe('#render', () => {
    it('should show one compact card per session: identity and expiry on top', async () => {
      h.api.statusReply = statusReply({
        sessions: [
          sessionInfo(),
          sessionInfo({
            environment: 'dev',
            email: 'alice@dev.example',
            issuer: 'https://id.dev.example'
          })
        ]
      });
      await h.ready();
      expect(h.$$('[data-test="oidc-card"]').map(card => card.dataset.environment)).toEqual([
        'dev',
        'prod'
      ]);
      const prod = h.$('[data-test="oidc-card"][data-environment="prod"]')!;
      expect(prod.querySelector('h3')?.textContent).toBe('alice@corp.com');
      expect(prod.querySelector('[data-test="oidc-card-name"]')?.textContent).toBe('Alice Example');
      expect(prod.querySelector('[data-test="oidc-card-expiry"]')?.textContent).toBe(
        'expires in 54:30'
      );
      expect(prod.querySelector('.jp-oidc-badge')?.textContent).toBe('Signed in');
      expect(
        h.$('[data-test="oidc-card"][data-environment="dev"] .jp-oidc-card-environment')
          ?.textContent
      ).toBe('Development');
    });

    it('should fold the details away, URLs breakable after their separators', async () => {
      h.api.statusReply = statusReply({ sessions: [sessionInfo()] });
      await h.ready();
      const details = h.$<HTMLDetailsElement>('[data-test="oidc-card-details"]')!;
      expect(details.open).toBe(false);
      expect(details.textContent).toContain('https://id.corp.example');
      expect(details.textContent).toContain('openid profile email offline_access');
      const issuer = details.querySelector('.jp-oidc-url')!;
      expect(issuer.querySelectorAll('wbr').length).toBeGreaterThan(2);
    });

    it('should put the actions in a toolbar of icon buttons with names and tooltips', async () => {
      h.api.statusReply = statusReply({ sessions: [sessionInfo()] });
      await h.ready();
      const buttons = h.$$('[role="toolbar"] button');
      expect(buttons.map(b => b.dataset.test)).toEqual([
        'oidc-refresh',
        'oidc-copy-token',
        'oidc-check-token',
        'oidc-sign-out'
      ]);
      expect(buttons.map(b => b.getAttribute('aria-label'))).toEqual([
        'Refresh now',
        'Copy access token',
        'Check id_token',
        'Sign out'
      ]);
      for (const button of buttons) {
        expect(button.title).not.toBe('');
        expect(button.querySelector('svg')).not.toBeNull();
      }
      expect(h.$('[data-test="oidc-copy-token"]')?.title).toContain('secret');
    });

    it('should disable Refresh now without a refresh token', async () => {
      h.api.statusReply = statusReply({ sessions: [sessionInfo({ has_refresh_token: false })] });
      await h.ready();
      expect(h.$<HTMLButtonElement>('[data-test="oidc-refresh"]')!.disabled).toBe(true);
    });
  });

  describe('#actions', () => {
    beforeEach(() => {
      h.api.statusReply = statusReply({ sessions: [sessionInfo({ environment: 'dev' })] });
    });
    const target = { environment: 'dev', application: null };

    it('should run the buttons for that session', async () => {
      await h.ready();
      await click(h.$('[data-test="oidc-refresh"]'));
      expect(h.actions.refresh).toHaveBeenCalledWith(target);
      await click(h.$('[data-test="oidc-copy-token"]'));
      expect(h.actions.copyToken).toHaveBeenCalledWith(target);
      await click(h.$('[data-test="oidc-check-token"]'));
      expect(h.actions.showTokenCheck).toHaveBeenCalledWith(h.model.sessions[0]);
    });

    it('should sign out only once the person confirmed', async () => {
      await h.ready();
      await click(h.$('[data-test="oidc-sign-out"]'));
      expect(h.actions.confirmSignOut).toHaveBeenCalledWith(h.model.sessions[0]);
      expect(h.actions.signOut).toHaveBeenCalledWith(target);
    });

    it('should keep the session when the person declines', async () => {
      h.actions.confirmSignOut.mockImplementation(async () => false);
      await h.ready();
      await click(h.$('[data-test="oidc-sign-out"]'));
      await act(async () => undefined);
      expect(h.actions.signOut).not.toHaveBeenCalled();
    });
  });

  describe('#countdown', () => {
    it('should count the expiry down live and turn the badge to Expired', async () => {
      h.api.statusReply = statusReply({ sessions: [sessionInfo({ expires_in: 65 })] });
      await h.ready();
      const expiry = () => h.$('[data-test="oidc-card-expiry"]')?.textContent;
      expect(expiry()).toBe('expires in 1:05');
      await h.tick(5000);
      expect(expiry()).toBe('expires in 1:00');
      await h.tick(61_000);
      expect(expiry()).toBe('expired');
      expect(h.$('.jp-oidc-badge')?.textContent).toBe('Expired');
    });
  });
});
