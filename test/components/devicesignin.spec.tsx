/**
 * A device sign-in (RFC 8628) started from the panel's own form: by choice ("Sign in with
 * a code") or because the environment's flow is `device`. No provider window; the panel
 * shows the code with its countdown and Cancel, then the session once the code is approved.
 */
import { act } from 'react';

import { startSignIn } from '../../src/actions';
import { ILoginReply } from '../../src/api';
import { loadTranslation } from '../../src/errors';
import { environmentsReply, sessionInfo } from '../utils';
import { click, PanelHarness, typeInto } from './harness';

const DEVICE_REPLY: ILoginReply = {
  flow: 'device',
  state: 'device-state',
  environment: 'prod',
  application: null,
  login_hint: 'alice@corp.com',
  user_code: 'WDJB-MJHT',
  verification_uri: 'https://id.corp.example/device',
  verification_uri_complete: 'https://id.corp.example/device?user_code=WDJB-MJHT',
  expires_in: 600,
  interval: 5,
  client_id: 'notebooks',
  display_name: 'Production'
} as ILoginReply;

describe('Device sign-in from the panel', () => {
  let h: PanelHarness;

  beforeEach(() => {
    h = new PanelHarness();
  });

  afterEach(() => h.dispose());

  describe('SignInForm', () => {
    it('should start a device sign-in with "Sign in with a code"', async () => {
      await h.ready();
      await act(async () => typeInto(h.$<HTMLInputElement>('#jp-oidc-email')!, 'alice@corp.com'));
      await click(h.$('[data-test="oidc-sign-in-device"]'));
      expect(h.actions.signIn).toHaveBeenCalledWith({
        environment: 'prod',
        application: undefined,
        loginHint: 'alice@corp.com',
        flow: 'device'
      });
    });

    it('should ask for an email before a device sign-in too', async () => {
      await h.ready();
      await click(h.$('[data-test="oidc-sign-in-device"]'));
      expect(h.actions.signIn).not.toHaveBeenCalled();
      expect(h.$('[data-test="oidc-email-invalid"]')).not.toBeNull();
    });

    it('should make Sign in a device sign-in when the environment’s flow is device', async () => {
      const reply = environmentsReply();
      reply.environments[0] = { ...reply.environments[0], flow: 'device' };
      h.api.environmentsReply = reply;
      await h.ready();
      expect(h.$('#jp-oidc-sign-in')?.textContent).toBe('Sign in with a code');
      expect(h.$('[data-test="oidc-sign-in-device"]')).toBeNull();
    });
  });

  describe('OidcSessionModel#signIn', () => {
    it('should send flow device, open nothing, show the code, and await the session', async () => {
      h.api.loginReply = DEVICE_REPLY;
      await h.ready();
      const win = {
        closed: false,
        location: { href: 'about:blank' },
        close: jest.fn()
      } as unknown as Window;
      let done: Promise<unknown> = Promise.resolve();
      await h.step(() => {
        done = h.model.signIn({ loginHint: 'alice@corp.com', flow: 'device', window: win });
      });
      expect(h.api.login).toHaveBeenCalledWith({
        environment: 'prod',
        application: undefined,
        login_hint: 'alice@corp.com',
        flow: 'device'
      });
      expect(win.location.href).toBe('about:blank'); // never navigated
      expect((win as unknown as { close: jest.Mock }).close).toHaveBeenCalled();
      expect(h.model.pending[0]).toMatchObject({
        state: 'device-state',
        own: true,
        user_code: 'WDJB-MJHT'
      });
      expect(h.$('[data-test="oidc-device-code"]')?.textContent).toBe('WDJB-MJHT');
      expect(h.$('[data-test="oidc-device-countdown"]')?.textContent).toBe('10:00');
      expect(h.$<HTMLFormElement>('[data-test="oidc-form"]')?.hidden).toBe(true);
      expect(h.api.awaitLogin).toHaveBeenCalledWith('device-state', 25, expect.anything());
      await h.step(() =>
        h.api.awaits[0].answer.resolve({ status: 'signed_in', session: sessionInfo() })
      );
      await expect(done).resolves.toMatchObject({ email: 'alice@corp.com' });
      expect(h.$('[data-test="oidc-device"]')).toBeNull();
      expect(h.$('[data-test="oidc-card"]')).not.toBeNull();
    });

    it('should use the environment’s device flow when no flow is chosen', async () => {
      const reply = environmentsReply();
      reply.environments[0] = { ...reply.environments[0], flow: 'device' };
      h.api.environmentsReply = reply;
      h.api.loginReply = DEVICE_REPLY;
      await h.ready();
      await h.step(
        () => void h.model.signIn({ loginHint: 'alice@corp.com' }).catch(() => undefined)
      );
      expect(h.api.login.mock.calls[0][0]).toMatchObject({ flow: 'device' });
      expect(h.$('[data-test="oidc-device-code"]')).not.toBeNull();
    });

    it('should cancel from the device view', async () => {
      h.api.loginReply = DEVICE_REPLY;
      await h.ready();
      await h.step(
        () =>
          void h.model
            .signIn({ loginHint: 'alice@corp.com', flow: 'device' })
            .catch(() => undefined)
      );
      await click(h.$('[data-test="oidc-device-cancel"]'));
      expect(h.actions.cancel).toHaveBeenCalledWith('device-state');
    });
  });

  describe('startSignIn', () => {
    it('should open no provider window for a device sign-in', async () => {
      h.api.loginReply = DEVICE_REPLY;
      await h.ready();
      const open = jest.spyOn(window, 'open').mockReturnValue(null);
      try {
        void startSignIn(
          h.model,
          { environment: 'prod', loginHint: 'alice@corp.com', flow: 'device' },
          loadTranslation(null)
        );
        expect(open).not.toHaveBeenCalled();
      } finally {
        open.mockRestore();
      }
    });
  });
});
