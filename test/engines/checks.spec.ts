/**
 * The browser engine refuses a sign-in whose id_token or identity fails a check, and keeps
 * nothing: one test per check.
 */
import { OidcError } from '../../src/errors';
import { sameEmail } from '../../src/engines/browser/idtoken';
import { engine, FakeProvider, signIn } from './fakes';

let provider: FakeProvider;

beforeEach(async () => {
  provider = await FakeProvider.create();
});

/** Sign in with the current behaviour and answer the error (or null) and the sessions kept. */
async function attempt(loginHint = 'alice@example.com', callback: Record<string, unknown> = {}) {
  const tab = engine(provider);
  const { result } = await signIn(provider, tab, loginHint, callback);
  const error = await result.then(
    () => null,
    (e: unknown) => e as OidcError
  );
  const status = await tab.engine.status();
  tab.engine.dispose();
  return { error, sessions: status.sessions };
}

async function expectRefused(code: string, check?: string, loginHint?: string) {
  const { error, sessions } = await attempt(loginHint);
  expect(error).toBeInstanceOf(OidcError);
  expect(error!.code).toBe(code);
  if (check) {
    expect(error!.details.check ?? error!.details.reason).toBe(check);
  }
  expect(sessions).toEqual([]);
  return error!;
}

describe('browser engine id_token checks', () => {
  it('signs in when every check passes', async () => {
    const { error, sessions } = await attempt();
    expect(error).toBeNull();
    expect(sessions.map(s => [s.environment, s.email, s.sub])).toEqual([
      ['dev', 'alice@example.com', 'user-alice']
    ]);
  });

  it('refuses a bad signature', async () => {
    provider.behaviour.foreignKey = true;
    await expectRefused('invalid_id_token', 'signature');
  });

  it('refuses an algorithm outside the allow-list (HS256)', async () => {
    provider.behaviour.alg = 'HS256';
    await expectRefused('invalid_id_token', 'alg');
  });

  it('refuses another issuer', async () => {
    provider.behaviour.claims.iss = 'https://evil.example.org';
    await expectRefused('invalid_id_token', 'iss');
  });

  it('refuses another audience', async () => {
    provider.behaviour.claims.aud = 'someone-else';
    await expectRefused('invalid_id_token', 'aud');
  });

  it('refuses several audiences without azp naming this client', async () => {
    provider.behaviour.claims.aud = ['lite-client', 'someone-else'];
    await expectRefused('invalid_id_token', 'azp');
  });

  it('refuses an azp naming another client', async () => {
    provider.behaviour.claims.azp = 'someone-else';
    await expectRefused('invalid_id_token', 'azp');
  });

  it('refuses an expired id_token (past the leeway)', async () => {
    const now = Math.floor(Date.now() / 1000);
    provider.behaviour.claims.exp = now - 120;
    provider.behaviour.claims.iat = now - 600;
    await expectRefused('invalid_id_token', 'exp');
  });

  it('refuses an id_token not valid yet (nbf past the leeway)', async () => {
    provider.behaviour.claims.nbf = Math.floor(Date.now() / 1000) + 600;
    await expectRefused('invalid_id_token', 'nbf');
  });

  it('refuses an id_token issued in the future (iat past the leeway)', async () => {
    provider.behaviour.claims.iat = Math.floor(Date.now() / 1000) + 600;
    provider.behaviour.claims.exp = Math.floor(Date.now() / 1000) + 900;
    await expectRefused('invalid_id_token', 'iat');
  });

  it('refuses another nonce (a replayed id_token)', async () => {
    provider.behaviour.claims.nonce = 'another-sign-in';
    await expectRefused('invalid_id_token', 'nonce');
  });

  it('refuses a callback carrying another issuer (mix-up, RFC 9207)', async () => {
    const { error, sessions } = await attempt('alice@example.com', {
      iss: 'https://evil.example.org'
    });
    expect(error?.code).toBe('provider_error');
    expect(sessions).toEqual([]);
    expect(provider.requests.filter(r => r.endsWith('/token'))).toEqual([]);
  });

  it('refuses another account than the login_hint and revokes what was issued', async () => {
    const error = await expectRefused('identity_mismatch', undefined, 'bob@example.com');
    expect(error.details).toMatchObject({
      expected: 'bob@example.com',
      actual: 'alice@example.com'
    });
    expect(provider.revoked.length).toBe(1);
  });

  it('refuses an unverified email', async () => {
    provider.behaviour.claims.email_verified = false;
    await expectRefused('identity_mismatch', 'email_not_verified');
  });

  it('refuses email_verified sent as the string "true"', async () => {
    provider.behaviour.claims.email_verified = 'true';
    await expectRefused('identity_mismatch', 'email_not_verified');
  });

  it('completes the identity from userinfo when the id_token has no email', async () => {
    provider.behaviour.claims = { sub: 'user-alice' };
    const { error, sessions } = await attempt();
    expect(error).toBeNull();
    expect(sessions[0].email).toBe('alice@example.com');
  });

  it('refuses a userinfo answer for another sub', async () => {
    provider.behaviour.claims = { sub: 'user-alice' };
    provider.behaviour.userinfo = {
      sub: 'user-bob',
      email: 'alice@example.com',
      email_verified: true
    };
    await expectRefused('invalid_id_token', 'userinfo_sub');
  });

  it('refuses a callback whose state is unknown (nothing is exchanged)', async () => {
    const tab = engine(provider);
    await tab.engine.login({ login_hint: '' });
    tab.win.dispatchEvent(
      new MessageEvent('message', {
        data: { type: 'jupyterlab-oidc-callback', state: 'forged', code: 'c' },
        origin: 'https://lite.example.org'
      })
    );
    await new Promise(resolve => setTimeout(resolve, 10));
    expect(provider.requests.filter(r => r.endsWith('/token'))).toEqual([]);
    tab.engine.dispose();
  });

  it('ignores a callback message from another origin', async () => {
    const tab = engine(provider);
    const reply = await tab.engine.login({ login_hint: '' });
    tab.win.dispatchEvent(
      new MessageEvent('message', {
        data: { type: 'jupyterlab-oidc-callback', state: reply.state, code: 'c' },
        origin: 'https://evil.example.org'
      })
    );
    expect(await tab.engine.awaitLogin(reply.state, 0.05)).toEqual({ status: 'pending' });
    expect(provider.requests.filter(r => r.endsWith('/token'))).toEqual([]);
    tab.engine.dispose();
  });
});

describe('emails', () => {
  it('compares with toLowerCase on NFC, never case folding', () => {
    expect(sameEmail('Alice@Example.com', 'alice@example.com')).toBe(true);
    expect(sameEmail('stra\u00dfe@example.com', 'strasse@example.com')).toBe(false);
    expect(sameEmail('\u212aate@example.com', 'kate@example.com')).toBe(false);
    expect(sameEmail('u\u0308ber@example.com', '\u00fcber@example.com')).toBe(false);
  });
});
