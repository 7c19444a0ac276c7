import { SignInMemory } from '../../src/resume';
import { pendingInfo, statusReply } from '../utils';
import { click, PanelHarness } from './harness';

describe('PendingCard', () => {
  let h: PanelHarness;

  beforeEach(() => {
    h = new PanelHarness();
  });

  afterEach(() => h.dispose());

  it('should show the waiting state with a countdown and Cancel', async () => {
    await h.ready();
    await h.step(() => void h.model.signIn({ loginHint: 'alice@corp.com' }).catch(() => undefined));
    const pending = h.$('[data-test="oidc-pending"]')!;
    expect(pending.dataset.environment).toBe('prod');
    expect(pending.dataset.own).toBe('true');
    expect(h.$('[data-test="oidc-pending-countdown"]')?.textContent).toBe('5:00');
    expect(h.$('[data-test="oidc-open-signin-page"]')?.getAttribute('href')).toBe(
      h.api.loginReply.url
    );
    expect(h.$<HTMLFormElement>('[data-test="oidc-form"]')?.hidden).toBe(true);
    expect(h.$('[data-test="oidc-live"]')?.textContent).toContain(
      'Waiting for the sign-in to prod'
    );
    await h.tick(61_000);
    expect(h.$('[data-test="oidc-pending-countdown"]')?.textContent).toBe('3:59');
    await click(h.$('#jp-oidc-cancel'));
    expect(h.actions.cancel).toHaveBeenCalledWith('s1');
  });

  it('should say when the browser blocked the tab', async () => {
    await h.ready();
    await h.step(
      () =>
        void h.model.signIn({ loginHint: 'alice@corp.com', window: null }).catch(() => undefined)
    );
    expect(h.$('[data-test="oidc-pending"]')?.textContent).toContain(
      'Your browser blocked the new tab.'
    );
    expect(h.$('[data-test="oidc-open-signin-page"]')?.textContent).toBe('Open the sign-in page');
  });

  it('should show a sign-in started elsewhere, and the form beside it', async () => {
    h.api.statusReply = statusReply({ pending: [pendingInfo({ login_hint: 'carol@corp.com' })] });
    await h.ready();
    expect(h.$('[data-test="oidc-pending"]')?.textContent).toContain('started elsewhere');
    expect(h.$('[data-test="oidc-form"]')).not.toBeNull();
  });

  it("should keep this tab's sign-in its own after a reload, with its start link", async () => {
    const startUrl = 'http://127.0.0.1:8888/oidc/start?state=state-elsewhere';
    new SignInMemory().remember('state-elsewhere', 'prod'); // what the page before the reload left
    h.api.statusReply = statusReply({ pending: [pendingInfo({ start_url: startUrl })] });
    await h.ready();
    const pending = h.$('[data-test="oidc-pending"]')!;
    expect(pending.dataset.own).toBe('true');
    expect(pending.textContent).toContain('Finish signing in to prod as alice@corp.com');
    const link = h.$<HTMLAnchorElement>('[data-test="oidc-open-signin-page"]')!;
    expect(link.textContent).toBe('Open the sign-in page again');
    expect(link.href).toBe(startUrl);
    expect(h.$<HTMLFormElement>('[data-test="oidc-form"]')?.hidden).toBe(true);
    expect(h.api.awaitLogin).toHaveBeenCalledWith('state-elsewhere', 25, expect.anything());
  });
});
