import { nullTranslator } from '@jupyterlab/translation';
import { SidePanel } from '@jupyterlab/ui-components';
import { MessageLoop } from '@lumino/messaging';
import { PanelLayout, Widget } from '@lumino/widgets';
import { act } from 'react';

import { OidcPanelBody } from '../../src/components/body';
import { OidcPanel, PANEL_ID } from '../../src/components/panel';
import { describeError, OidcError, OidcErrorCode, SERVER_ERROR_CODES } from '../../src/errors';
import {
  attachAndRender,
  environmentsReply,
  FakeSettings,
  rerender,
  sessionInfo,
  statusReply
} from '../utils';
import { click, PanelHarness, typeInto } from './harness';

const trans = nullTranslator.load('jupyterlab_oidc');

describe('OidcPanel', () => {
  let h: PanelHarness;

  beforeEach(() => {
    h = new PanelHarness();
  });

  afterEach(() => h.dispose());

  describe('#constructor', () => {
    it('should be a SidePanel with its id, icon, label, header and toolbar', () => {
      expect(h.panel).toBeInstanceOf(SidePanel);
      expect(h.panel.id).toBe(PANEL_ID);
      expect(h.panel.id).toBe('jp-oidc-panel');
      expect(h.panel.title.icon).toBeDefined();
      expect(h.panel.title.caption).toBe('OpenID Connect sign-in');
      expect(h.panel.node.getAttribute('aria-label')).toBe('OpenID Connect sign-in');
      expect(h.panel.header.node.textContent).toBe('OpenID Connect');
      expect(h.panel.widgets[0]).toBeInstanceOf(OidcPanelBody);
    });

    it('should reload the status from its toolbar, and open the settings when it can', async () => {
      const openSettings = jest.fn();
      const panel = new OidcPanel({ model: h.model, actions: h.actions, openSettings });
      await attachAndRender(panel);
      for (const item of (panel.toolbar.layout as PanelLayout).widgets) {
        await rerender(item);
      }
      const buttons = Array.from(
        panel.toolbar.node.querySelectorAll<HTMLElement>('.jp-ToolbarButtonComponent')
      );
      expect(buttons.map(b => b.title)).toEqual([
        'Reload the sign-in status from the Jupyter server',
        'Sign-in settings'
      ]);
      buttons[0].dispatchEvent(new MouseEvent('mousedown', { bubbles: true }));
      buttons[0].click();
      expect(h.actions.retry).toHaveBeenCalled();
      act(() => panel.dispose());
    });
  });

  describe('#render', () => {
    it('should say it is checking until the server answers', async () => {
      await attachAndRender(h.panel);
      await h.rerender();
      expect(h.$('[data-test="oidc-checking"]')?.textContent).toBe('Checking sign-in status…');
      expect(h.$('#jp-oidc-email')).toBeNull();
    });

    it('should say when no environment is configured', async () => {
      h.api.environmentsReply = environmentsReply({ environments: [] });
      await h.ready();
      expect(h.$('[data-test="oidc-no-environments"]')?.textContent).toContain(
        'c.OIDCLogin.environments'
      );
    });

    it('should describe the state for screen readers, once per change', async () => {
      h.api.statusReply = statusReply({
        sessions: [sessionInfo(), sessionInfo({ environment: 'dev', email: 'alice@dev.example' })]
      });
      await h.ready();
      expect(h.$('[data-test="oidc-live"]')?.textContent).toBe(
        'Signed in to dev as alice@dev.example. Signed in to prod as alice@corp.com.'
      );
    });

    it('should show the end-session link after signing out', async () => {
      h.api.statusReply = statusReply({ sessions: [sessionInfo()] });
      await h.ready();
      await h.step(() => h.model.signOut({ environment: 'prod' }));
      expect(h.$$('[data-test="oidc-card"]')).toHaveLength(0);
      expect(h.$('[data-test="oidc-signed-out"]')?.textContent).toContain('Signed out of prod.');
      const link = h.$<HTMLAnchorElement>('[data-test="oidc-end-session-link"]')!;
      expect(link.href).toBe('https://id.corp.example/logout?client_id=notebooks');
      expect(link.rel).toBe('noopener noreferrer');
      await click(h.$('[data-test="oidc-notice-dismiss"]'));
      await h.rerender();
      expect(h.$('[data-test="oidc-signed-out"]')).toBeNull();
    });
  });

  describe('#render errors', () => {
    const codes: OidcErrorCode[] = [
      ...SERVER_ERROR_CODES,
      'network_error',
      'http_error',
      'invalid_response'
    ];

    it.each(codes.map(code => [code]))(
      'should show %s as its sentence with data-error-code',
      async code => {
        await h.ready();
        const error = new OidcError(code, 'The server sentence.', {
          status: 500,
          details: { expected: 'alice@corp.com', actual: 'bob@corp.com' }
        });
        await h.step(() => h.model.reportError(error));
        const box = h.$('.jp-oidc-error')!;
        expect(box.dataset.errorCode).toBe(code);
        expect(box.getAttribute('role')).toBe('alert');
        expect(box.querySelector('.jp-oidc-error-message')?.textContent).toBe(
          describeError(error, trans)
        );
        expect(box.textContent).not.toContain('{');
      }
    );

    it('should show the mismatch sentence with both emails, and the form again', async () => {
      await h.ready();
      await h.step(
        () => void h.model.signIn({ loginHint: 'alice@corp.com' }).catch(() => undefined)
      );
      await h.step(() =>
        h.api.awaits[0].answer.reject(
          new OidcError('identity_mismatch', 'x', {
            status: 403,
            details: { expected: 'alice@corp.com', actual: 'bob@corp.com' }
          })
        )
      );
      expect(
        h.$('.jp-oidc-error[data-error-code="identity_mismatch"] .jp-oidc-error-message')
          ?.textContent
      ).toBe(
        'You signed in as bob@corp.com, but this sign-in was for alice@corp.com. Nothing was stored — sign in again with the right account.'
      );
      expect(h.$$('[data-test="oidc-card"]')).toHaveLength(0);
      expect(h.$<HTMLFormElement>('[data-test="oidc-form"]')?.hidden).toBe(false);
      await click(h.$('[data-test="oidc-error-dismiss"]'));
      await h.rerender();
      expect(h.$('.jp-oidc-error')).toBeNull();
    });

    it("should add the server's sentence where it carries facts", async () => {
      await h.ready();
      await h.step(() =>
        h.model.reportError(
          new OidcError('provider_error', 'invalid_scope: unknown scope foo', {
            details: { provider_error: 'invalid_scope' }
          })
        )
      );
      expect(h.$('[data-test="oidc-error-detail"]')?.textContent).toBe(
        'Details: invalid_scope: unknown scope foo'
      );
    });

    it('should offer Try again while the server is unavailable', async () => {
      h.api.failures.environments = new OidcError('http_error', 'HTTP 404', { status: 404 });
      await h.step(() => h.model.refresh().catch(() => undefined));
      await attachAndRender(h.panel);
      await h.rerender();
      expect(h.$('.jp-oidc-error')?.dataset.errorCode).toBe('http_error');
      await click(h.$('[data-test="oidc-retry"]'));
      expect(h.actions.retry).toHaveBeenCalled();
    });

    it('should warn about a broken token store', async () => {
      h.api.statusReply = statusReply({
        store_error: { error: 'store_error', message: 'The token store is corrupt.' }
      });
      await h.ready();
      expect(h.$('[data-test="oidc-store-warning"]')?.dataset.errorCode).toBe('store_error');
    });
  });

  describe('#settings', () => {
    it('should fill the email and environment from the settings, live', async () => {
      const settings = new FakeSettings({ lastEmail: 'alice@corp.com', defaultEnvironment: 'dev' });
      await h.ready();
      expect(h.$<HTMLInputElement>('#jp-oidc-email')!.value).toBe('');
      await h.step(() => h.preferences.attach(settings.asSettings()));
      expect(h.$<HTMLInputElement>('#jp-oidc-email')!.value).toBe('alice@corp.com');
      expect(h.$<HTMLSelectElement>('#jp-oidc-environment')!.value).toBe('dev');
      await h.step(() => settings.update({ defaultEnvironment: 'prod' }));
      expect(h.$<HTMLSelectElement>('#jp-oidc-environment')!.value).toBe('prod');
    });

    it('should keep what the user typed when the settings change', async () => {
      const settings = new FakeSettings({ lastEmail: 'alice@corp.com' });
      h.preferences.attach(settings.asSettings());
      await h.ready();
      await act(async () => typeInto(h.$<HTMLInputElement>('#jp-oidc-email')!, 'bob@corp.com'));
      await h.step(() => settings.update({ lastEmail: 'carol@corp.com' }));
      expect(h.$<HTMLInputElement>('#jp-oidc-email')!.value).toBe('bob@corp.com');
    });
  });

  describe('#onActivateRequest', () => {
    it('should focus the empty email field', async () => {
      await h.ready();
      act(() => MessageLoop.sendMessage(h.panel, Widget.Msg.ActivateRequest));
      expect(document.activeElement?.id).toBe('jp-oidc-email');
    });
  });

  describe('#dispose', () => {
    it('should stop rendering the model', async () => {
      await h.ready();
      act(() => h.panel.dispose());
      expect(h.panel.isDisposed).toBe(true);
      await h.step(() =>
        expect(() => h.model.reportError(new OidcError('store_error', 'x'))).not.toThrow()
      );
    });
  });
});
