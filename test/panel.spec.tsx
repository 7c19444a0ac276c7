import { nullTranslator } from '@jupyterlab/translation';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import { act } from 'react';

import { describeError, OidcError, OidcErrorCode, SERVER_ERROR_CODES } from '../src/errors';
import { OidcSessionModel } from '../src/model';
import { OidcPanel, PANEL_ID } from '../src/panel';
import { OidcPreferences } from '../src/preferences';
import {
  attachAndRender,
  environmentsReply,
  FakeAPI,
  FakeSettings,
  flushPromises,
  NOW_S,
  pendingInfo,
  rerender,
  sessionInfo,
  statusReply
} from './utils';

const trans = nullTranslator.load('jupyterlab_oidc');

function actions() {
  return {
    signIn: jest.fn(),
    cancel: jest.fn(),
    signOut: jest.fn(async () => undefined),
    refresh: jest.fn(async () => undefined),
    copyToken: jest.fn(async () => undefined),
    retry: jest.fn(),
    fetchJwks: jest.fn(async () => {
      throw new OidcError('http_error', 'HTTP 404', { status: 404 });
    })
  };
}

/** Set a controlled input's value the way React notices it. */
function typeInto(input: HTMLInputElement | HTMLSelectElement, value: string): void {
  const proto = input instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(input, value);
  input.dispatchEvent(new Event(input instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }));
}

describe('OidcPanel', () => {
  let api: FakeAPI;
  let preferences: OidcPreferences;
  let model: OidcSessionModel;
  let panel: OidcPanel;
  let panelActions: ReturnType<typeof actions>;
  const $ = <T extends Element = HTMLElement>(selector: string) => panel.node.querySelector<T>(selector as string) as T | null;
  const $$ = (selector: string) => Array.from(panel.node.querySelectorAll<HTMLElement>(selector));

  beforeEach(() => {
    jest.useFakeTimers({ now: NOW_S * 1000 });
    api = new FakeAPI();
    preferences = new OidcPreferences();
    model = new OidcSessionModel({ api, preferences });
    panelActions = actions();
    panel = new OidcPanel({ model, actions: panelActions });
  });

  afterEach(() => {
    act(() => panel.dispose());
    model.dispose();
    jest.useRealTimers();
  });

  /** Change the model inside act(), as the long poll or a click would. */
  async function step(change: () => unknown): Promise<void> {
    await act(async () => {
      await change();
      await flushPromises(10);
    });
  }

  async function ready(): Promise<void> {
    await step(() => model.refresh());
    await attachAndRender(panel);
  }

  describe('#constructor', () => {
    it('should be the sidebar panel with its id, icon and label', () => {
      expect(panel.id).toBe(PANEL_ID);
      expect(panel.id).toBe('jp-oidc-panel');
      expect(panel.title.icon).toBeDefined();
      expect(panel.title.caption).toBe('OpenID Connect sign-in');
      expect(panel.node.getAttribute('aria-label')).toBe('OpenID Connect sign-in');
    });
  });

  describe('#render', () => {
    it('should say it is checking until the server answers', async () => {
      await attachAndRender(panel);
      expect($('[data-test="oidc-checking"]')?.textContent).toBe('Checking sign-in status…');
      expect($('#jp-oidc-email')).toBeNull();
    });

    it('should show the form when signed out', async () => {
      await ready();
      const select = $<HTMLSelectElement>('#jp-oidc-environment')!;
      expect(Array.from(select.options).map(o => o.value)).toEqual(['prod', 'dev']);
      expect(select.value).toBe('prod');
      expect($<HTMLInputElement>('#jp-oidc-email')!.value).toBe('');
      expect($('#jp-oidc-sign-in')?.textContent).toBe('Sign in');
      expect($('label[for="jp-oidc-email"]')?.textContent).toBe('Work email');
      expect($('[data-test="oidc-live"]')?.textContent).toBe('Signed out.');
      expect($$('[data-test="oidc-card"]')).toHaveLength(0);
    });

    it('should sign in with the form values', async () => {
      await ready();
      await act(async () => typeInto($<HTMLSelectElement>('#jp-oidc-environment')!, 'dev'));
      await act(async () => typeInto($<HTMLSelectElement>('#jp-oidc-application')!, 'spatial_engine'));
      await act(async () => typeInto($<HTMLInputElement>('#jp-oidc-email')!, 'alice@corp.com'));
      await act(async () => $('#jp-oidc-sign-in')!.click());
      expect(panelActions.signIn).toHaveBeenCalledWith({
        environment: 'dev',
        application: 'spatial_engine',
        loginHint: 'alice@corp.com'
      });
    });

    it('should ask for an email instead of signing in without one', async () => {
      await ready();
      await act(async () => $('#jp-oidc-sign-in')!.click());
      expect(panelActions.signIn).not.toHaveBeenCalled();
      expect($('[data-test="oidc-email-invalid"]')?.textContent).toBe('Type the email of the account to sign in with.');
      expect($('#jp-oidc-email')?.getAttribute('aria-invalid')).toBe('true');
    });

    it('should say when no environment is configured', async () => {
      api.environmentsReply = environmentsReply({ environments: [] });
      await ready();
      expect($('[data-test="oidc-no-environments"]')?.textContent).toContain('c.OIDCLogin.environments');
    });

    it('should show the waiting state with a countdown and Cancel', async () => {
      await ready();
      await step(() => void model.signIn({ loginHint: 'alice@corp.com' }).catch(() => undefined));
      await rerender(panel);
      const pending = $('[data-test="oidc-pending"]')!;
      expect(pending.dataset.environment).toBe('prod');
      expect(pending.dataset.own).toBe('true');
      expect($('[data-test="oidc-pending-countdown"]')?.textContent).toBe('5:00');
      expect($('[data-test="oidc-open-signin-page"]')?.getAttribute('href')).toBe(api.loginReply.url);
      expect($<HTMLFormElement>('[data-test="oidc-form"]')?.hidden).toBe(true);
      expect($('[data-test="oidc-live"]')?.textContent).toContain('Waiting for the sign-in to prod');
      await act(async () => {
        jest.advanceTimersByTime(61_000);
      });
      await rerender(panel);
      expect($('[data-test="oidc-pending-countdown"]')?.textContent).toBe('3:59');
      await act(async () => $('#jp-oidc-cancel')!.click());
      expect(panelActions.cancel).toHaveBeenCalledWith('s1');
    });

    it('should keep the form choices through a failed sign-in', async () => {
      await ready();
      await act(async () => typeInto($<HTMLSelectElement>('#jp-oidc-environment')!, 'dev'));
      await act(async () => typeInto($<HTMLInputElement>('#jp-oidc-email')!, 'alice@corp.com'));
      await step(() => void model.signIn({ environment: 'dev', loginHint: 'alice@corp.com' }).catch(() => undefined));
      await rerender(panel);
      expect($<HTMLFormElement>('[data-test="oidc-form"]')?.hidden).toBe(true);
      await step(() => api.awaits[0].answer.reject(new OidcError('login_timeout', 'No answer.')));
      await rerender(panel);
      expect($<HTMLFormElement>('[data-test="oidc-form"]')?.hidden).toBe(false);
      expect($<HTMLSelectElement>('#jp-oidc-environment')!.value).toBe('dev');
      expect($<HTMLInputElement>('#jp-oidc-email')!.value).toBe('alice@corp.com');
      expect($('.jp-oidc-error')?.dataset.errorCode).toBe('login_timeout');
    });

    it('should say when the browser blocked the tab', async () => {
      await ready();
      await step(() => void model.signIn({ loginHint: 'alice@corp.com', window: null }).catch(() => undefined));
      await rerender(panel);
      expect($('[data-test="oidc-pending"]')?.textContent).toContain('Your browser blocked the new tab.');
      expect($('[data-test="oidc-open-signin-page"]')?.textContent).toBe('Open the sign-in page');
    });

    it('should show a sign-in started elsewhere, and the form beside it', async () => {
      api.statusReply = statusReply({ pending: [pendingInfo({ login_hint: 'carol@corp.com' })] });
      await ready();
      expect($('[data-test="oidc-pending"]')?.textContent).toContain('started elsewhere');
      expect($('[data-test="oidc-form"]')).not.toBeNull();
    });

    it('should show one identity card per signed-in environment', async () => {
      api.statusReply = statusReply({
        sessions: [sessionInfo(), sessionInfo({ environment: 'dev', email: 'alice@dev.example', issuer: 'https://id.dev.example' })]
      });
      await ready();
      const cards = $$('[data-test="oidc-card"]');
      expect(cards.map(card => card.dataset.environment)).toEqual(['dev', 'prod']);
      const prod = $('[data-test="oidc-card"][data-environment="prod"]')!;
      expect(prod.querySelector('[data-test="oidc-card-email"]')?.textContent).toBe('alice@corp.com');
      expect(prod.querySelector('[data-test="oidc-card-name"]')?.textContent).toBe('Alice Example');
      expect(prod.textContent).toContain('https://id.corp.example');
      expect(prod.textContent).toContain('openid profile email offline_access');
      expect(prod.querySelector('[data-test="oidc-card-expiry"]')?.textContent).toBe('expires in 54:30');
      expect($('[data-test="oidc-card"][data-environment="dev"] h3')?.textContent).toBe('Development');
      expect($('#jp-oidc-form-title')?.textContent).toBe('Sign in to another environment');
      expect($('[data-test="oidc-live"]')?.textContent).toBe(
        'Signed in to dev as alice@dev.example. Signed in to prod as alice@corp.com.'
      );
    });

    it('should count the expiry down live', async () => {
      api.statusReply = statusReply({ sessions: [sessionInfo({ expires_in: 65 })] });
      await ready();
      const expiry = () => $('[data-test="oidc-card-expiry"]')?.textContent;
      expect(expiry()).toBe('expires in 1:05');
      await act(async () => {
        jest.advanceTimersByTime(5000);
      });
      await rerender(panel);
      expect(expiry()).toBe('expires in 1:00');
      await act(async () => {
        jest.advanceTimersByTime(61_000);
      });
      await rerender(panel);
      expect(expiry()).toBe('expired');
    });

    it('should run the card buttons for that environment', async () => {
      api.statusReply = statusReply({ sessions: [sessionInfo({ environment: 'dev' })] });
      await ready();
      const target = { environment: 'dev', application: null };
      await act(async () => $('[data-test="oidc-refresh"]')!.click());
      expect(panelActions.refresh).toHaveBeenCalledWith(target);
      await act(async () => $('[data-test="oidc-copy-token"]')!.click());
      expect(panelActions.copyToken).toHaveBeenCalledWith(target);
      expect($('[data-test="oidc-copy-token"]')?.getAttribute('title')).toContain('secret');
      await act(async () => $('[data-test="oidc-sign-out"]')!.click());
      expect(panelActions.signOut).toHaveBeenCalledWith(target);
    });

    it('should disable Refresh now without a refresh token', async () => {
      api.statusReply = statusReply({ sessions: [sessionInfo({ has_refresh_token: false })] });
      await ready();
      expect($<HTMLButtonElement>('[data-test="oidc-refresh"]')!.disabled).toBe(true);
    });

    it('should show the end-session link after signing out', async () => {
      api.statusReply = statusReply({ sessions: [sessionInfo()] });
      await ready();
      await step(() => model.signOut({ environment: 'prod' }));
      await rerender(panel);
      expect($$('[data-test="oidc-card"]')).toHaveLength(0);
      expect($('[data-test="oidc-signed-out"]')?.textContent).toContain('Signed out of prod.');
      const link = $<HTMLAnchorElement>('[data-test="oidc-end-session-link"]')!;
      expect(link.href).toBe('https://id.corp.example/logout?client_id=notebooks');
      expect(link.rel).toBe('noopener noreferrer');
      await act(async () => $('[data-test="oidc-notice-dismiss"]')!.click());
      await rerender(panel);
      expect($('[data-test="oidc-signed-out"]')).toBeNull();
    });

    it('should show the id_token check, with the JWKS step failed while oidc/jwks is missing', async () => {
      jest.useRealTimers();
      api.statusReply = statusReply({ sessions: [sessionInfo()] });
      api.tokenReply = { ...api.tokenReply, id_token: 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJ4In0.c2ln' };
      await ready();
      await act(async () => $('[data-test="oidc-check-token"]')!.click());
      for (let i = 0; i < 20 && !$('[data-step="jwks"]'); i++) {
        await act(async () => {
          await new Promise(resolve => setTimeout(resolve, 10));
        });
      }
      expect($('[data-step="structure"]')?.dataset.outcome).toBe('pass');
      expect($('[data-step="jwks"]')?.dataset.outcome).toBe('fail');
      expect($('[data-step="jwks"]')?.textContent).toContain('does not offer GET oidc/jwks');
      expect($('[data-step="signature"]')?.dataset.outcome).toBe('skip');
      expect(panelActions.fetchJwks).toHaveBeenCalledWith('prod');
    });
  });

  describe('#render errors', () => {
    const codes: OidcErrorCode[] = [...SERVER_ERROR_CODES, 'network_error', 'http_error', 'invalid_response'];

    it.each(codes.map(code => [code]))('should show %s as its sentence with data-error-code', async code => {
      await ready();
      const error = new OidcError(code, 'The server sentence.', {
        status: 500,
        details: { expected: 'alice@corp.com', actual: 'bob@corp.com' }
      });
      await step(() => model.reportError(error));
      await rerender(panel);
      const box = $('.jp-oidc-error')!;
      expect(box.dataset.errorCode).toBe(code);
      expect(box.getAttribute('role')).toBe('alert');
      expect(box.querySelector('.jp-oidc-error-message')?.textContent).toBe(describeError(error, trans));
      expect(box.textContent).not.toContain('{');
    });

    it('should show the mismatch sentence with both emails', async () => {
      await ready();
      await step(() => void model.signIn({ loginHint: 'alice@corp.com' }).catch(() => undefined));
      await step(() =>
        api.awaits[0].answer.reject(
          new OidcError('identity_mismatch', 'x', { status: 403, details: { expected: 'alice@corp.com', actual: 'bob@corp.com' } })
        )
      );
      await rerender(panel);
      expect($('.jp-oidc-error[data-error-code="identity_mismatch"] .jp-oidc-error-message')?.textContent).toBe(
        'You signed in as bob@corp.com, but this sign-in was for alice@corp.com. Nothing was stored — sign in again with the right account.'
      );
      expect($$('[data-test="oidc-card"]')).toHaveLength(0);
      expect($<HTMLFormElement>('[data-test="oidc-form"]')?.hidden).toBe(false);
      await act(async () => $('[data-test="oidc-error-dismiss"]')!.click());
      await rerender(panel);
      expect($('.jp-oidc-error')).toBeNull();
    });

    it("should add the server's sentence where it carries facts", async () => {
      await ready();
      await step(() =>
        model.reportError(new OidcError('provider_error', 'invalid_scope: unknown scope foo', { details: { provider_error: 'invalid_scope' } }))
      );
      await rerender(panel);
      expect($('[data-test="oidc-error-detail"]')?.textContent).toBe('Details: invalid_scope: unknown scope foo');
    });

    it('should offer Try again while the server is unavailable', async () => {
      api.failures.environments = new OidcError('http_error', 'HTTP 404', { status: 404 });
      await step(() => model.refresh().catch(() => undefined));
      await attachAndRender(panel);
      expect($('.jp-oidc-error')?.dataset.errorCode).toBe('http_error');
      await act(async () => $('[data-test="oidc-retry"]')!.click());
      expect(panelActions.retry).toHaveBeenCalled();
    });

    it('should warn about a broken token store', async () => {
      api.statusReply = statusReply({ store_error: { error: 'store_error', message: 'The token store is corrupt.' } });
      await ready();
      expect($('[data-test="oidc-store-warning"]')?.dataset.errorCode).toBe('store_error');
    });
  });

  describe('#settings', () => {
    it('should fill the email and environment from the settings, live', async () => {
      const settings = new FakeSettings({ lastEmail: 'alice@corp.com', defaultEnvironment: 'dev' });
      await ready();
      expect($<HTMLInputElement>('#jp-oidc-email')!.value).toBe('');
      await step(() => preferences.attach(settings.asSettings()));
      await rerender(panel);
      expect($<HTMLInputElement>('#jp-oidc-email')!.value).toBe('alice@corp.com');
      expect($<HTMLSelectElement>('#jp-oidc-environment')!.value).toBe('dev');
      await step(() => settings.update({ defaultEnvironment: 'prod' }));
      await rerender(panel);
      expect($<HTMLSelectElement>('#jp-oidc-environment')!.value).toBe('prod');
    });

    it('should keep what the user typed when the settings change', async () => {
      const settings = new FakeSettings({ lastEmail: 'alice@corp.com' });
      preferences.attach(settings.asSettings());
      await ready();
      await act(async () => typeInto($<HTMLInputElement>('#jp-oidc-email')!, 'bob@corp.com'));
      await step(() => settings.update({ lastEmail: 'carol@corp.com' }));
      await rerender(panel);
      expect($<HTMLInputElement>('#jp-oidc-email')!.value).toBe('bob@corp.com');
    });
  });

  describe('#onActivateRequest', () => {
    it('should focus the empty email field', async () => {
      await ready();
      act(() => MessageLoop.sendMessage(panel, Widget.Msg.ActivateRequest));
      expect(document.activeElement?.id).toBe('jp-oidc-email');
    });
  });

  describe('#dispose', () => {
    it('should stop rendering the model', async () => {
      await ready();
      act(() => panel.dispose());
      expect(panel.isDisposed).toBe(true);
      await step(() => expect(() => model.reportError(new OidcError('store_error', 'x'))).not.toThrow());
      expect(Widget.prototype.isPrototypeOf(panel)).toBe(true);
    });
  });
});
