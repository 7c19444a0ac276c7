import {
  base64url,
  calculateJwkThumbprint,
  CryptoKey,
  exportJWK,
  generateKeyPair,
  JWK,
  SignJWT
} from 'jose';

import { IJwksReply } from '../src/api';
import { OidcError } from '../src/errors';
import { ID_TOKEN_ALGORITHMS, LEEWAY_SECONDS } from '../src/generated/contract';
import {
  ALLOWED_ALGORITHMS,
  checkIdToken,
  checkSessionIdToken,
  CheckStepName,
  ITokenCheckReport
} from '../src/tokencheck';

const ISSUER = 'https://id.corp.example';
const CLIENT_ID = 'notebooks';
const NOW = 1_800_000_000;

let privateKey: CryptoKey;
let publicJwk: JWK;
let otherKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', use: 'sig', alg: 'RS256' };
  otherKey = (await generateKeyPair('RS256')).privateKey;
});

/** Shaped like the server's `GET oidc/jwks` answer. */
function jwksReply(overrides: Partial<IJwksReply> = {}): IJwksReply {
  return {
    environment: 'prod',
    issuer: ISSUER,
    client_id: CLIENT_ID,
    discovery_mode: 'auto',
    discovery: {
      authorization_endpoint: `${ISSUER}/auth`,
      token_endpoint: `${ISSUER}/token`,
      jwks_uri: `${ISSUER}/jwks`,
      code_challenge_methods_supported: ['S256']
    },
    jwks: { keys: [publicJwk as Record<string, unknown>] },
    ...overrides
  };
}

async function idToken(
  claims: Record<string, unknown> = {},
  options: { key?: CryptoKey; kid?: string; alg?: string } = {}
): Promise<string> {
  return new SignJWT({ nonce: 'n-123', email: 'alice@corp.com', ...claims })
    .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? 'k1', typ: 'JWT' })
    .setIssuer((claims.iss as string) ?? ISSUER)
    .setAudience((claims.aud as string | string[]) ?? CLIENT_ID)
    .setSubject('user-alice')
    .setIssuedAt(NOW - 30)
    .setExpirationTime(NOW + 3600)
    .sign(options.key ?? privateKey);
}

async function check(
  token: string,
  fetchJwks: () => Promise<IJwksReply> = async () => jwksReply()
): Promise<ITokenCheckReport> {
  return checkIdToken({
    idToken: token,
    issuer: ISSUER,
    clientId: CLIENT_ID,
    fetchJwks,
    now: NOW * 1000
  });
}

function outcomes(report: ITokenCheckReport): Record<string, string> {
  return Object.fromEntries(report.steps.map(step => [step.name, step.outcome]));
}

function step(report: ITokenCheckReport, name: CheckStepName) {
  return report.steps.find(s => s.name === name)!;
}

describe('checkIdToken', () => {
  it('should pass every step for a good token', async () => {
    const report = await check(await idToken());
    expect(outcomes(report)).toEqual({
      structure: 'pass',
      discovery: 'pass',
      jwks: 'pass',
      key: 'pass',
      signature: 'pass',
      iss: 'pass',
      aud: 'pass',
      exp: 'pass',
      iat: 'pass',
      nbf: 'pass',
      nonce: 'pass'
    });
    expect(report.valid).toBe(true);
    expect(report.thumbprint).toBe(await calculateJwkThumbprint(publicJwk, 'sha256'));
    expect(step(report, 'key').detail).toContain('RSA 2048 bits');
    expect(report.payload.email).toBe('alice@corp.com');
  });

  it('should fail the structure of something that is not a JWT', async () => {
    const report = await check('not-a-token');
    expect(step(report, 'structure').outcome).toBe('fail');
    expect(report.steps.slice(1).every(s => s.outcome === 'skip')).toBe(true);
    expect(report.valid).toBe(false);
  });

  it('should refuse alg none', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none' }));
    const payload = base64url.encode(JSON.stringify({ iss: ISSUER }));
    const report = await check(`${header}.${payload}.`);
    expect(step(report, 'structure').outcome).toBe('fail');
    expect(step(report, 'structure').detail).toContain('"none" is not allowed');
  });

  it('should refuse HS256', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new Uint8Array(32));
    expect(step(await check(token), 'structure').outcome).toBe('fail');
  });

  it('should fail the JWKS step with a clear message while oidc/jwks is missing', async () => {
    const report = await check(await idToken(), async () => {
      throw new OidcError('http_error', 'HTTP 404', { status: 404 });
    });
    expect(outcomes(report)).toMatchObject({
      structure: 'pass',
      discovery: 'fail',
      jwks: 'fail',
      key: 'skip',
      signature: 'skip'
    });
    expect(step(report, 'jwks').detail).toBe(
      'The JWKS could not be fetched: the server extension does not offer GET oidc/jwks (HTTP 404). Update jupyterlab-oidc on the server.'
    );
  });

  it('should report other JWKS failures with their code', async () => {
    const report = await check(await idToken(), async () => {
      throw new OidcError('discovery_failed', 'The provider did not answer.');
    });
    expect(step(report, 'jwks').detail).toContain('discovery_failed');
  });

  it('should show the discovery facts', async () => {
    const report = await check(await idToken());
    expect(step(report, 'discovery').detail).toBe(
      `mode auto · issuer ${ISSUER} · jwks_uri ${ISSUER}/jwks`
    );
  });

  it('should fail discovery when the provider does not list the algorithm', async () => {
    const report = await check(await idToken(), async () =>
      jwksReply({ discovery: { issuer: ISSUER, id_token_signing_alg_values_supported: ['ES256'] } })
    );
    expect(step(report, 'discovery').outcome).toBe('fail');
  });

  it('should fail discovery when it names another issuer', async () => {
    const report = await check(await idToken(), async () =>
      jwksReply({ discovery: { issuer: 'https://evil.example' } })
    );
    expect(step(report, 'discovery').outcome).toBe('fail');
  });

  it('should fail the key step for an unknown kid', async () => {
    const report = await check(await idToken({}, { kid: 'rotated-away' }));
    expect(step(report, 'key').outcome).toBe('fail');
    expect(step(report, 'signature').outcome).toBe('skip');
  });

  it('should fail the signature of a token signed by another key', async () => {
    const report = await check(await idToken({}, { key: otherKey }));
    expect(step(report, 'key').outcome).toBe('pass');
    expect(step(report, 'signature').outcome).toBe('fail');
    expect(report.valid).toBe(false);
  });

  it('should fail the signature of a tampered payload', async () => {
    const [header, , signature] = (await idToken()).split('.');
    const payload = base64url.encode(
      JSON.stringify({ iss: ISSUER, aud: CLIENT_ID, email: 'mallory@corp.com' })
    );
    expect(step(await check(`${header}.${payload}.${signature}`), 'signature').outcome).toBe(
      'fail'
    );
  });

  it('should fail iss for another issuer', async () => {
    expect(step(await check(await idToken({ iss: 'https://other.example' })), 'iss').outcome).toBe(
      'fail'
    );
  });

  it('should fail aud without the client id', async () => {
    expect(step(await check(await idToken({ aud: 'someone-else' })), 'aud').outcome).toBe('fail');
  });

  it('should want azp with several audiences', async () => {
    const several = await check(await idToken({ aud: [CLIENT_ID, 'api'] }));
    expect(step(several, 'aud').outcome).toBe('fail');
    const withAzp = await check(await idToken({ aud: [CLIENT_ID, 'api'], azp: CLIENT_ID }));
    expect(step(withAzp, 'aud').outcome).toBe('pass');
  });

  it('should fail exp once expired beyond the leeway', async () => {
    const token = await idToken();
    const late = await checkIdToken({
      idToken: token,
      issuer: ISSUER,
      clientId: CLIENT_ID,
      fetchJwks: async () => jwksReply(),
      now: (NOW + 3600 + LEEWAY_SECONDS + 1) * 1000
    });
    expect(step(late, 'exp').outcome).toBe('fail');
    expect(step(late, 'exp').detail).toContain(`Expired ${LEEWAY_SECONDS + 1} s ago`);
  });

  it('should fail iat in the future and nbf not yet reached', async () => {
    const token = await idToken({ nbf: NOW + 600 });
    const early = await checkIdToken({
      idToken: token,
      issuer: ISSUER,
      clientId: CLIENT_ID,
      fetchJwks: async () => jwksReply(),
      now: (NOW - 300) * 1000
    });
    expect(step(early, 'iat').outcome).toBe('fail');
    expect(step(early, 'nbf').outcome).toBe('fail');
  });

  it('should fail a token without nonce', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(CLIENT_ID)
      .setIssuedAt(NOW)
      .setExpirationTime(NOW + 60)
      .sign(privateKey);
    expect(step(await check(token), 'nonce').outcome).toBe('fail');
  });
});

describe('checkSessionIdToken', () => {
  async function expiredBy(seconds: number): Promise<string> {
    return new SignJWT({ nonce: 'n-123' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(CLIENT_ID)
      .setSubject('user-alice')
      .setIssuedAt(NOW - 3600)
      .setExpirationTime(NOW - seconds)
      .sign(privateKey);
  }

  async function sessionCheck(
    token: string,
    served: Partial<IJwksReply>
  ): Promise<ITokenCheckReport> {
    return checkSessionIdToken({
      idToken: token,
      issuer: ISSUER,
      clientId: CLIENT_ID,
      fetchJwks: async () => jwksReply(served),
      now: NOW * 1000
    });
  }

  it("should use the server's leeway (leeway_seconds of GET oidc/jwks)", async () => {
    const token = await expiredBy(100);
    expect(outcomes(await sessionCheck(token, { leeway_seconds: 180 })).exp).toBe('pass');
    expect(outcomes(await sessionCheck(token, { leeway_seconds: 30 })).exp).toBe('fail');
  });

  it("should fall back to the server's generated leeway (180 s) when it does not say", async () => {
    expect(LEEWAY_SECONDS).toBe(180);
    expect(outcomes(await sessionCheck(await expiredBy(170), {})).exp).toBe('pass');
    expect(outcomes(await sessionCheck(await expiredBy(200), {})).exp).toBe('fail');
  });

  it('should fall back to the generated algorithm list', () => {
    expect(ALLOWED_ALGORITHMS).toEqual(ID_TOKEN_ALGORITHMS);
  });

  it("should allow only the server's algorithms (id_token_algorithms)", async () => {
    const report = await sessionCheck(await idToken(), { id_token_algorithms: ['ES256'] });
    expect(outcomes(report).structure).toBe('fail');
    expect(
      outcomes(await sessionCheck(await idToken(), { id_token_algorithms: ['RS256'] })).structure
    ).toBe('pass');
  });

  it('should never allow none or HS256, even when served', async () => {
    const part = (value: object) => base64url.encode(JSON.stringify(value));
    const hs = `${part({ alg: 'HS256', kid: 'k1' })}.${part({ iss: ISSUER, aud: CLIENT_ID, exp: NOW + 60 })}.c2ln`;
    const report = await sessionCheck(hs, { id_token_algorithms: ['HS256', 'none', 'RS256'] });
    expect(outcomes(report).structure).toBe('fail');
  });

  it('should report a JWKS that cannot be fetched as the discovery step', async () => {
    const report = await checkSessionIdToken({
      idToken: await idToken(),
      issuer: ISSUER,
      clientId: CLIENT_ID,
      fetchJwks: async () => {
        throw new OidcError('provider_unavailable', 'down');
      },
      now: NOW * 1000
    });
    expect(outcomes(report).discovery).toBe('fail');
    expect(outcomes(report).jwks).toBe('fail');
  });
});
