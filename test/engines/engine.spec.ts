/**
 * The browser engine's life cycle: the authorization request, refresh with rotation,
 * single flight across two tabs, sign-out (revocation, end-session), memory only, and the
 * routes the kernel bridge relays.
 */
import { Bus, engine, FakeProvider, ISSUER, signIn } from './fakes';
import { LocalLocks } from '../../src/engines/browser/tabs';

let provider: FakeProvider;

beforeEach(async () => {
  provider = await FakeProvider.create();
  localStorage.clear();
  sessionStorage.clear();
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) {
    await new Promise(resolve => setTimeout(resolve, 2));
  }
  expect(condition()).toBe(true);
}

describe('browser engine', () => {
  it('builds the authorization request: PKCE S256, random state and nonce, login_hint', async () => {
    const tab = engine(provider);
    const first = new URL((await tab.engine.login({ login_hint: 'alice@example.com' })).url!);
    const second = new URL((await tab.engine.login({ login_hint: 'alice@example.com' })).url!);
    expect(`${first.origin}${first.pathname}`).toBe(`${ISSUER}/auth`);
    const p = first.searchParams;
    expect([
      p.get('response_type'),
      p.get('client_id'),
      p.get('code_challenge_method'),
      p.get('login_hint')
    ]).toEqual(['code', 'lite-client', 'S256', 'alice@example.com']);
    expect(p.get('redirect_uri')).toBe('https://lite.example.org/oidc-callback.html');
    expect(p.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(p.get('state')!.length).toBeGreaterThanOrEqual(43);
    expect(p.get('state')).not.toBe(second.searchParams.get('state'));
    expect(p.get('nonce')).not.toBe(second.searchParams.get('nonce'));
    expect(p.get('scope')).toBe('openid email profile offline_access');
    tab.engine.dispose();
  });

  it('sends the PKCE verifier with the code and keeps tokens in memory only', async () => {
    const tab = engine(provider);
    const { result, url } = await signIn(provider, tab);
    const reply = await result;
    expect(reply.status).toBe('signed_in');
    const exchange = provider.bodies[0];
    expect(exchange.get('code_verifier')!.length).toBeGreaterThanOrEqual(43);
    expect(exchange.get('redirect_uri')).toBe(url.searchParams.get('redirect_uri'));
    const token = await tab.engine.token();
    expect(token.access_token).toBe('access-0');
    expect(JSON.stringify(await tab.engine.status())).not.toContain('refresh-');
    expect(localStorage.length + sessionStorage.length).toBe(0);
    tab.engine.dispose();
  });

  it('refreshes before expiry and uses the rotated refresh token next time', async () => {
    let now = Date.now();
    const tab = engine(provider, { now: () => now });
    await (
      await signIn(provider, tab)
    ).result;
    now += 290_000; // 10 s left, under the 30 s margin
    expect((await tab.engine.token()).access_token).toBe('access-1');
    now += 290_000;
    expect((await tab.engine.token()).access_token).toBe('access-2');
    const presented = provider.bodies
      .filter(b => b.get('grant_type') === 'refresh_token')
      .map(b => b.get('refresh_token'));
    expect(new Set(presented).size).toBe(2); // the second refresh used the rotated token
    expect(provider.refreshCount).toBe(2);
    expect((await tab.engine.token()).access_token).toBe('access-2'); // still valid: no refresh
    tab.engine.dispose();
  });

  it('refuses a refreshed id_token for another user and ends the session', async () => {
    let now = Date.now();
    const tab = engine(provider, { now: () => now });
    await (
      await signIn(provider, tab)
    ).result;
    provider.behaviour.idTokenOnRefresh = true;
    provider.behaviour.claims.sub = 'user-bob';
    now += 290_000;
    await expect(tab.engine.token()).rejects.toMatchObject({ code: 'invalid_id_token' });
    expect((await tab.engine.status()).sessions).toEqual([]);
    tab.engine.dispose();
  });

  it('refreshes once when two tabs need a fresh token at the same time', async () => {
    let now = Date.now();
    const bus = new Bus();
    const locks = new LocalLocks();
    const a = engine(provider, { bus, locks, now: () => now });
    const b = engine(provider, { bus, locks, now: () => now });
    await (
      await signIn(provider, a)
    ).result;
    await until(() => b.engine['_sessions'].size === 1);
    now += 290_000;
    const [ta, tb] = await Promise.all([a.engine.token(), b.engine.token()]);
    expect(provider.refreshCount).toBe(1);
    expect(ta.access_token).toBe('access-1');
    expect(tb.access_token).toBe('access-1');
    a.engine.dispose();
    b.engine.dispose();
  });

  it('gives a new tab the sessions of the open ones, and signs out everywhere', async () => {
    const bus = new Bus();
    const a = engine(provider, { bus });
    await (
      await signIn(provider, a)
    ).result;
    const b = engine(provider, { bus });
    await until(() => b.engine['_sessions'].size === 1);
    const reply = await b.engine.logout({ environment: 'dev' });
    expect(reply.signed_out).toBe(true);
    const end = new URL(reply.end_session_url!);
    expect(`${end.origin}${end.pathname}`).toBe(`${ISSUER}/session/end`);
    expect(end.searchParams.get('logout_hint')).toBe('alice@example.com');
    expect(end.searchParams.has('id_token_hint')).toBe(false);
    expect(provider.revoked).toEqual([expect.stringMatching(/^refresh-/), 'access-0']);
    await until(() => a.engine['_sessions'].size === 0);
    await expect(a.engine.token()).rejects.toMatchObject({ code: 'not_authenticated' });
    a.engine.dispose();
    b.engine.dispose();
  });

  it('answers the kernel bridge as the server would', async () => {
    const tab = engine(provider);
    const missing = await tab.engine.relay('POST', 'token', {});
    expect(missing).toMatchObject({ status: 401, ok: false, body: { error: 'not_authenticated' } });
    await (
      await signIn(provider, tab)
    ).result;
    const token = await tab.engine.relay('POST', 'token', { min_valid: 10 });
    expect(token).toMatchObject({
      status: 200,
      ok: true,
      body: { access_token: 'access-0', environment: 'dev' }
    });
    expect(token.body).not.toHaveProperty('refresh_token');
    expect((await tab.engine.relay('GET', 'environments')).body).toMatchObject({
      default_environment: 'dev'
    });
    expect((await tab.engine.relay('POST', 'nope')).status).toBe(404);
    tab.engine.dispose();
  });

  it('cancels a sign-in and times out a status long poll without a change', async () => {
    const tab = engine(provider);
    const reply = await tab.engine.login({ login_hint: '' });
    const waiting = tab.engine.awaitLogin(reply.state, 5);
    await tab.engine.cancel(reply.state);
    await expect(waiting).rejects.toMatchObject({ code: 'login_cancelled' });
    const status = await tab.engine.status();
    const next = await tab.engine.status({ after: status.revision, timeoutSeconds: 0.02 });
    expect(next.revision).toBe(status.revision);
    tab.engine.dispose();
  });
});
