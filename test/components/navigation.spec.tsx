/**
 * Every place the frontend navigates to an address the server sent: the provider's
 * authorization URL (the sign-in window and "Open the sign-in page again"), the start link
 * of a sign-in begun elsewhere, the provider's end-session URL. Only http(s) is ever
 * navigated to; anything else closes the window and shows `unsafe_url`.
 */
import { nullTranslator } from '@jupyterlab/translation';
import { act } from 'react';

import { startSignIn } from '../../src/actions';
import { describeError, OidcError } from '../../src/errors';
import { OidcSessionModel } from '../../src/model';
import { OidcPanel } from '../../src/components/panel';
import { IOidcSession } from '../../src/tokens';
import {
  attachAndRender,
  FakeAPI,
  flushPromises,
  NOW_S,
  pendingInfo,
  rejection,
  rerender,
  sessionInfo,
  statusReply,
  UNSAFE_URLS
} from '../utils';

const trans = nullTranslator.load('jupyterlab_oidc');
const START_URL = 'http://127.0.0.1:8888/oidc/start?state=s1';

function fakeWindow(): Window & { close: jest.Mock } {
  return {
    closed: false,
    location: { href: 'about:blank' },
    close: jest.fn()
  } as unknown as Window & {
    close: jest.Mock;
  };
}

describe('navigation to server-provided URLs', () => {
  let api: FakeAPI;
  let model: OidcSessionModel;
  let panel: OidcPanel;
  const $ = (selector: string) => panel.node.querySelector<HTMLElement>(selector);

  beforeEach(async () => {
    jest.useFakeTimers({ now: NOW_S * 1000 });
    api = new FakeAPI();
    api.loginReply = { ...api.loginReply, start_url: START_URL };
    model = new OidcSessionModel({ api });
    panel = new OidcPanel({ model });
  });

  afterEach(() => {
    act(() => panel.dispose());
    model.dispose();
    jest.useRealTimers();
  });

  async function show(): Promise<void> {
    await act(async () => {
      await model.refresh();
    });
    await attachAndRender(panel);
  }

  describe('the authorization URL of a sign-in started here', () => {
    it('should open url, not start_url: this browser already holds the binding cookie', async () => {
      await show();
      const win = fakeWindow();
      await act(async () => {
        void model.signIn({ loginHint: 'alice@corp.com', window: win }).catch(() => undefined);
        await flushPromises(10);
      });
      await rerender(panel.widgets[0]);
      expect(win.location.href).toBe(api.loginReply.url);
      expect(model.pending[0]).toMatchObject({ own: true, url: api.loginReply.url });
      const link = $('[data-test="oidc-open-signin-page"]');
      expect(link?.getAttribute('href')).toBe(api.loginReply.url);
      expect(link?.textContent).toBe('Open the sign-in page again');
    });

    it.each(UNSAFE_URLS)(
      'should close the window and show unsafe_url for a %s URL',
      async (_name, url) => {
        await show();
        api.loginReply = { url, state: 's1', expires_in: 300, start_url: START_URL };
        const win = fakeWindow();
        let error: OidcError | undefined;
        await act(async () => {
          error = await rejection(model.signIn({ loginHint: 'alice@corp.com', window: win }));
        });
        expect(error?.code).toBe('unsafe_url');
        expect(win.location.href).toBe('about:blank');
        expect(win.close).toHaveBeenCalled();
        expect(api.cancel).toHaveBeenCalledWith('s1');
        expect(api.awaitLogin).not.toHaveBeenCalled();
        expect(model.pending).toEqual([]);
        await rerender(panel.widgets[0]);
        expect($('[data-test="oidc-open-signin-page"]')).toBeNull();
        const box = $('[data-test="oidc-error"]');
        expect(box?.dataset.errorCode).toBe('unsafe_url');
        expect(box?.textContent).toContain('not a web (http or https) address');
      }
    );

    it('should refuse it in the window the click handler opened (startSignIn)', async () => {
      await show();
      api.loginReply = { url: 'JaVaScRiPt:alert(1)', state: 's1', expires_in: 300 };
      const win = fakeWindow();
      const open = jest.spyOn(window, 'open').mockReturnValue(win);
      try {
        await act(async () => {
          await expect(
            startSignIn(model, { loginHint: 'alice@corp.com' }, trans)
          ).resolves.toBeNull();
        });
        expect(open).toHaveBeenCalledWith('', '_blank');
      } finally {
        open.mockRestore();
      }
      expect(win.location.href).toBe('about:blank');
      expect(win.close).toHaveBeenCalled();
      expect(model.error?.code).toBe('unsafe_url');
    });
  });

  describe('the start link of a sign-in started elsewhere', () => {
    it('should offer start_url (a kernel cell, the CLI, or this page before a reload)', async () => {
      api.statusReply = statusReply({
        pending: [pendingInfo({ state: 's9', start_url: START_URL })]
      });
      await show();
      expect(model.pending[0]).toMatchObject({ own: false, url: START_URL });
      const link = $('[data-test="oidc-open-signin-page"]');
      expect(link?.getAttribute('href')).toBe(START_URL);
      expect(link?.textContent).toBe('Open the sign-in page');
      expect($('[data-test="oidc-pending"]')?.textContent).not.toContain('blocked');
    });

    it('should offer no link when the server sends none', async () => {
      api.statusReply = statusReply({ pending: [pendingInfo()] });
      await show();
      expect(model.pending[0].url).toBeNull();
      expect($('[data-test="oidc-open-signin-page"]')).toBeNull();
      expect($('[data-test="oidc-unsafe-url"]')).toBeNull();
    });

    it.each(UNSAFE_URLS.filter(([, url]) => url !== ''))(
      'should offer no link for a %s start_url, and say why',
      async (_name, url) => {
        api.statusReply = statusReply({ pending: [pendingInfo({ start_url: url })] });
        await show();
        expect(model.pending[0].url).toBeNull();
        expect($('[data-test="oidc-open-signin-page"]')).toBeNull();
        expect($('[data-test="oidc-unsafe-url"]')?.textContent).toContain(
          'not a web (http or https) address'
        );
      }
    );
  });

  describe('the end-session URL after sign-out', () => {
    it.each(UNSAFE_URLS.filter(([, url]) => url !== ''))(
      'should not link a %s end_session_url, and say why',
      async (_name, url) => {
        api.statusReply = statusReply({ sessions: [sessionInfo()] });
        api.logoutReply = { signed_out: true, end_session_url: url };
        await show();
        let reply;
        await act(async () => {
          reply = await model.signOut({ environment: 'prod' });
        });
        expect(reply).toEqual({ signed_out: true, end_session_url: null });
        expect(model.notice?.endSessionUrl).toBeNull();
        expect(model.error?.code).toBe('unsafe_url');
        await rerender(panel.widgets[0]);
        expect($('[data-test="oidc-signed-out"]')?.textContent).toContain('Signed out of prod.');
        expect($('[data-test="oidc-end-session-link"]')).toBeNull();
        expect($('[data-test="oidc-error"]')?.textContent).toBe(
          describeError(
            new OidcError('unsafe_url', '', { details: { url_kind: 'end_session' } }),
            trans
          ) + 'Dismiss'
        );
      }
    );

    it('should link an https end_session_url', async () => {
      api.statusReply = statusReply({ sessions: [sessionInfo()] });
      await show();
      await act(async () => {
        await model.signOut({ environment: 'prod' });
      });
      await rerender(panel.widgets[0]);
      expect($('[data-test="oidc-end-session-link"]')?.getAttribute('href')).toBe(
        api.logoutReply.end_session_url
      );
      expect(model.error).toBeNull();
    });
  });

  describe('the panel on its own', () => {
    it('should never render an unsafe href, whatever the model holds', async () => {
      const fake = Object.create(model) as IOidcSession;
      const javascript = "javascript:localStorage.setItem('pwned','1')";
      Object.defineProperty(fake, 'pending', {
        get: () => [
          {
            ...pendingInfo(),
            key: 'prod',
            expiresAt: NOW_S * 1000 + 300_000,
            own: true,
            url: javascript,
            windowOpened: false
          }
        ]
      });
      Object.defineProperty(fake, 'notice', {
        get: () => ({
          environment: 'prod',
          application: null,
          signedOut: true,
          endSessionUrl: javascript
        })
      });
      await act(async () => {
        await model.refresh();
      });
      act(() => panel.dispose());
      panel = new OidcPanel({ model: fake });
      await attachAndRender(panel);
      expect(panel.node.querySelector('a[href^="javascript" i]')).toBeNull();
      expect($('[data-test="oidc-open-signin-page"]')).toBeNull();
      expect($('[data-test="oidc-end-session-link"]')).toBeNull();
      expect($('[data-test="oidc-unsafe-url"]')).not.toBeNull();
    });
  });
});
