import { act } from 'react';

import { sessionInfo, statusReply } from '../utils';
import { click, PanelHarness, typeInto } from './harness';

describe('SignInForm', () => {
  let h: PanelHarness;

  beforeEach(() => {
    h = new PanelHarness();
  });

  afterEach(() => h.dispose());

  const select = () => h.$<HTMLSelectElement>('#jp-oidc-environment')!;
  const email = () => h.$<HTMLInputElement>('#jp-oidc-email')!;

  describe('#render', () => {
    it('should show the form when signed out', async () => {
      await h.ready();
      expect(Array.from(select().options).map(o => o.value)).toEqual(['prod', 'dev']);
      expect(select().value).toBe('prod');
      expect(email().value).toBe('');
      expect(h.$('#jp-oidc-sign-in')?.textContent).toBe('Sign in');
      expect(h.$('label[for="jp-oidc-email"]')?.textContent).toBe('Work email');
      expect(h.$('#jp-oidc-form-title')?.textContent).toBe('Sign in');
    });

    it('should put Sign in, Sign in with a code and Test configuration in one row of equal buttons', async () => {
      await h.ready();
      const row = h.$('.jp-oidc-form-actions')!;
      expect(Array.from(row.children).map(b => (b as HTMLElement).dataset.test)).toEqual([
        'oidc-sign-in',
        'oidc-sign-in-device',
        'oidc-test-configuration'
      ]);
    });
  });

  describe('#submit', () => {
    it('should sign in with the form values', async () => {
      await h.ready();
      await act(async () => typeInto(select(), 'dev'));
      await act(async () =>
        typeInto(h.$<HTMLSelectElement>('#jp-oidc-application')!, 'spatial_engine')
      );
      await act(async () => typeInto(email(), 'alice@corp.com'));
      await click(h.$('#jp-oidc-sign-in'));
      expect(h.actions.signIn).toHaveBeenCalledWith({
        environment: 'dev',
        application: 'spatial_engine',
        loginHint: 'alice@corp.com'
      });
    });

    it('should ask for an email instead of signing in without one', async () => {
      await h.ready();
      await click(h.$('#jp-oidc-sign-in'));
      expect(h.actions.signIn).not.toHaveBeenCalled();
      expect(h.$('[data-test="oidc-email-invalid"]')?.textContent).toBe(
        'Type the email of the account to sign in with.'
      );
      expect(email().getAttribute('aria-invalid')).toBe('true');
    });

    it('should keep the form choices through a failed sign-in', async () => {
      await h.ready();
      await act(async () => typeInto(select(), 'dev'));
      await act(async () => typeInto(email(), 'alice@corp.com'));
      await h.step(
        () =>
          void h.model
            .signIn({ environment: 'dev', loginHint: 'alice@corp.com' })
            .catch(() => undefined)
      );
      expect(h.$<HTMLFormElement>('[data-test="oidc-form"]')?.hidden).toBe(true);
      const { OidcError } = await import('../../src/errors');
      await h.step(() =>
        h.api.awaits[0].answer.reject(new OidcError('login_timeout', 'No answer.'))
      );
      expect(h.$<HTMLFormElement>('[data-test="oidc-form"]')?.hidden).toBe(false);
      expect(select().value).toBe('dev');
      expect(email().value).toBe('alice@corp.com');
    });

    it('should open the configuration test of the selected environment', async () => {
      await h.ready();
      await act(async () => typeInto(select(), 'dev'));
      await click(h.$('[data-test="oidc-test-configuration"]'));
      expect(h.actions.showPreflight).toHaveBeenCalledWith('dev');
    });
  });

  describe('signed in elsewhere', () => {
    beforeEach(() => {
      h.api.statusReply = statusReply({ sessions: [sessionInfo({ email: 'demo@example.com' })] });
    });

    it('should preselect an environment without a session', async () => {
      await h.ready();
      expect(h.$('#jp-oidc-form-title')?.textContent).toBe('Sign in to another environment');
      expect(select().value).toBe('dev');
      expect(select().options[0].textContent).toBe('prod — signed in');
    });

    it('should ask before replacing a session, without starting a sign-in', async () => {
      await h.ready();
      await act(async () => typeInto(select(), 'prod'));
      await act(async () => typeInto(email(), 'alice@corp.com'));
      await click(h.$('#jp-oidc-sign-in'));
      expect(h.actions.signIn).not.toHaveBeenCalled();
      expect(h.$('[data-test="oidc-replace-confirm"]')?.textContent).toContain(
        'This replaces demo@example.com in prod.'
      );
      expect(h.$('#jp-oidc-sign-in')).toBeNull();
    });

    it('should sign in on the confirming click', async () => {
      await h.ready();
      await act(async () => typeInto(select(), 'prod'));
      await act(async () => typeInto(email(), 'alice@corp.com'));
      await click(h.$('#jp-oidc-sign-in'));
      await click(h.$('[data-test="oidc-replace-yes"]'));
      expect(h.actions.signIn).toHaveBeenCalledWith({
        environment: 'prod',
        application: undefined,
        loginHint: 'alice@corp.com'
      });
      expect(h.$('[data-test="oidc-replace-confirm"]')).toBeNull();
    });

    it('should keep the session when the person declines, or changes the form', async () => {
      await h.ready();
      await act(async () => typeInto(select(), 'prod'));
      await act(async () => typeInto(email(), 'alice@corp.com'));
      await click(h.$('#jp-oidc-sign-in'));
      await click(h.$('[data-test="oidc-replace-no"]'));
      expect(h.$('[data-test="oidc-replace-confirm"]')).toBeNull();
      await click(h.$('#jp-oidc-sign-in'));
      await act(async () => typeInto(select(), 'dev'));
      expect(h.$('[data-test="oidc-replace-confirm"]')).toBeNull();
      expect(h.actions.signIn).not.toHaveBeenCalled();
    });

    it('should not ask when the environment has no session', async () => {
      await h.ready();
      await act(async () => typeInto(email(), 'alice@corp.com'));
      await click(h.$('#jp-oidc-sign-in'));
      expect(h.actions.signIn).toHaveBeenCalledWith({
        environment: 'dev',
        application: undefined,
        loginHint: 'alice@corp.com'
      });
    });
  });
});
