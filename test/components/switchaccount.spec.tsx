/**
 * "Sign in as someone else" on an identity card: a sign-in for the same environment with
 * `prompt=login` as the typed email; the old card stays until the new sign-in succeeds.
 */
import { act } from 'react';

import { sessionInfo, statusReply } from '../utils';
import { click, PanelHarness, typeInto } from './harness';

describe('Switching account from an identity card', () => {
  let h: PanelHarness;

  beforeEach(() => {
    h = new PanelHarness();
    h.api.statusReply = statusReply({ sessions: [sessionInfo()] });
  });

  afterEach(() => h.dispose());

  const card = () => h.$('[data-test="oidc-card"][data-environment="prod"]')!;

  it('should ask for the other account’s email and say the card stays until it succeeds', async () => {
    await h.ready();
    await click(card().querySelector<HTMLElement>('[data-test="oidc-switch-account"]'));
    const form = card().querySelector('[data-test="oidc-switch-form"]')!;
    expect(form.textContent).toContain(
      'alice@corp.com stays signed in until the new account passes the checks; then it replaces alice@corp.com here and in running kernels.'
    );
    await click(form.querySelector<HTMLElement>('[data-test="oidc-switch-go"]'));
    expect(h.actions.signIn).not.toHaveBeenCalled();
    expect(form.querySelector('[data-test="oidc-switch-invalid"]')).not.toBeNull();
  });

  it('should start a sign-in for the same environment with prompt login', async () => {
    await h.ready();
    await click(card().querySelector<HTMLElement>('[data-test="oidc-switch-account"]'));
    await act(async () =>
      typeInto(
        card().querySelector<HTMLInputElement>('[data-test="oidc-switch-email"]')!,
        ' bob@corp.com '
      )
    );
    await click(card().querySelector<HTMLElement>('[data-test="oidc-switch-go"]'));
    expect(h.actions.signIn).toHaveBeenCalledWith({
      environment: 'prod',
      application: null,
      loginHint: 'bob@corp.com',
      prompt: 'login'
    });
  });

  it('should keep showing Keep to go back without signing in', async () => {
    await h.ready();
    await click(card().querySelector<HTMLElement>('[data-test="oidc-switch-account"]'));
    await click(card().querySelector<HTMLElement>('[data-test="oidc-switch-keep"]'));
    expect(card().querySelector('[data-test="oidc-switch-form"]')).toBeNull();
    expect(h.actions.signIn).not.toHaveBeenCalled();
  });

  it('should send prompt to the server and keep the old card until the new session arrives', async () => {
    await h.ready();
    let done: Promise<unknown> = Promise.resolve();
    await h.step(() => {
      done = h.model.signIn({
        environment: 'prod',
        application: null,
        loginHint: 'bob@corp.com',
        prompt: 'login',
        window: null
      });
    });
    expect(h.api.login).toHaveBeenCalledWith({
      environment: 'prod',
      application: undefined,
      login_hint: 'bob@corp.com',
      prompt: 'login'
    });
    expect(card().querySelector('h3')?.textContent).toBe('alice@corp.com');
    expect(card().querySelector('[data-test="oidc-card-switching"]')?.textContent).toBe(
      'Signing in as bob@corp.com: alice@corp.com stays signed in until that sign-in succeeds.'
    );
    const bob = sessionInfo({ email: 'bob@corp.com', name: 'Bob Example', sub: 'user-bob' });
    await h.step(() => h.api.awaits[0].answer.resolve({ status: 'signed_in', session: bob }));
    await expect(done).resolves.toMatchObject({ email: 'bob@corp.com' });
    expect(h.$$('[data-test="oidc-card"]')).toHaveLength(1);
    expect(card().querySelector('h3')?.textContent).toBe('bob@corp.com');
    expect(card().querySelector('[data-test="oidc-card-switching"]')).toBeNull();
  });

  it('should keep the old account when the new sign-in fails', async () => {
    await h.ready();
    await h.step(
      () =>
        void h.model
          .signIn({ environment: 'prod', loginHint: 'bob@corp.com', prompt: 'login' })
          .catch(() => undefined)
    );
    const { OidcError } = await import('../../src/errors');
    await h.step(() =>
      h.api.awaits[0].answer.reject(new OidcError('identity_mismatch', 'Another account.'))
    );
    expect(card().querySelector('h3')?.textContent).toBe('alice@corp.com');
    expect(h.model.error?.code).toBe('identity_mismatch');
  });
});
