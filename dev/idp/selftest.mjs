// Self-test of the dev provider, run as a child process exactly like the
// Python tests run it:  node --test dev/idp/selftest.mjs
// Logins go through the interaction routes with a cookie jar and no browser.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

const SERVER = new URL('./server.mjs', import.meta.url).pathname;
const CLIENT_ID = 'jupyterlab-oidc';
const SERVICE = { id: 'jupyterlab-oidc-service', secret: 'service-secret' };
const REDIRECT_URI = 'http://127.0.0.1:8888/a%40b/oidc/callback';

// ---------------------------------------------------------------- helpers

async function startIdp(args = []) {
  const child = spawn(process.execPath, [SERVER, '--exit-with-parent', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const lines = createInterface({ input: child.stdout });
  const started = Date.now();
  const [first] = await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(([code]) => { throw new Error(`idp exited ${code}: ${stderr}`); }),
  ]);
  const info = JSON.parse(first);
  const extra = [];
  lines.on('line', (line) => extra.push(line));
  return {
    ...info,
    child,
    startupMs: Date.now() - started,
    extraStdout: extra,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      return code;
    },
  };
}

/** Enough of a cookie jar for one host: name -> value, honouring deletions. */
class CookieJar {
  #cookies = new Map();

  store(response) {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attrs] = header.split(';');
      const name = pair.slice(0, pair.indexOf('=')).trim();
      const value = pair.slice(pair.indexOf('=') + 1).trim();
      const expires = attrs.map((a) => a.trim()).find((a) => /^expires=/i.test(a));
      const expired = expires && new Date(expires.slice(8)) <= new Date();
      if (!value || expired) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header() {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function pkcePair() {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}

function decodeJwt(token) {
  const [header, payload] = token.split('.').slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
  return { header, payload };
}

function authorizationUrl(issuer, params) {
  const url = new URL('/auth', issuer);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url;
}

/**
 * GET with the jar, following redirects only while they stay on the provider.
 * Returns the last response (a page, or a redirect leaving the provider).
 */
async function browse(issuer, jar, url, init = {}) {
  let response = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, cookie: jar.header() } });
  jar.store(response);
  for (let hops = 0; hops < 10; hops += 1) {
    const location = response.headers.get('location');
    if (!location || response.status < 300 || response.status >= 400) return response;
    const next = new URL(location, issuer);
    if (next.origin !== new URL(issuer).origin) return response;
    response = await fetch(next, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.store(response);
  }
  throw new Error('too many redirects');
}

/**
 * The whole headless login: authorization request, sign-in form, back to the
 * redirect_uri. Returns what the client's callback would receive.
 */
async function login(issuer, {
  email = 'alice@example.com',
  loginHint = email,
  clientId = CLIENT_ID,
  redirectUri = REDIRECT_URI,
  scope = 'openid profile email offline_access',
  jar = new CookieJar(),
  via = 'post',
  extra = {},
} = {}) {
  const pkce = pkcePair();
  const state = b64url(randomBytes(16));
  const nonce = b64url(randomBytes(16));
  const url = authorizationUrl(issuer, {
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope,
    state,
    nonce,
    login_hint: loginHint,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...extra,
  });
  let response = await browse(issuer, jar, url);
  let page;
  if (response.status === 200) {
    page = await response.text();
    const loginPath = `${new URL(response.url).pathname}/login`;
    response = via === 'get'
      ? await browse(issuer, jar, new URL(`${loginPath}?email=${encodeURIComponent(email)}`, issuer))
      : await browse(issuer, jar, new URL(loginPath, issuer), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email }).toString(),
      });
  }
  const location = response.headers.get('location');
  assert.ok(location?.startsWith(redirectUri), `expected redirect to ${redirectUri}, got ${response.status} ${location}`);
  const callback = new URL(location);
  return {
    params: Object.fromEntries(callback.searchParams),
    location,
    state,
    nonce,
    verifier: pkce.verifier,
    page,
    jar,
  };
}

async function postForm(url, form, headers = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const body = await response.json().catch(() => ({}));
  return { status: response.status, body };
}

function exchange(issuer, result, { clientId = CLIENT_ID, redirectUri = REDIRECT_URI } = {}) {
  return postForm(new URL('/token', issuer), {
    grant_type: 'authorization_code',
    code: result.params.code,
    code_verifier: result.verifier,
    redirect_uri: redirectUri,
    client_id: clientId,
  });
}

function refresh(issuer, refreshToken, clientId = CLIENT_ID) {
  return postForm(new URL('/token', issuer), {
    grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId,
  });
}

async function signIn(issuer, options) {
  const result = await login(issuer, options);
  const tokens = await exchange(issuer, result, options);
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  return { ...result, tokens: tokens.body };
}

async function userinfo(issuer, accessToken) {
  const response = await fetch(new URL('/me', issuer), { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: response.status, body: await response.json().catch(() => ({})) };
}

async function control(issuer, method, path, body) {
  const response = await fetch(new URL(`/_test/${path}`, issuer), {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: await response.json() };
}

const basic = (id, secret) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

// ---------------------------------------------------------------- tests

describe('id_token profile', () => {
  let idp;
  before(async () => { idp = await startIdp(['--access-ttl', '10']); });
  after(async () => { await idp.stop(); });

  // Start-up time is measured (bench/), never asserted: a loaded CI machine is slow.
  it('prints one JSON line naming the issuer', () => {
    assert.match(idp.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(idp.issuer, `http://127.0.0.1:${idp.port}`);
    assert.equal(idp.profile, 'id_token');
    assert.equal(idp.pid, idp.child.pid);
  });

  it('serves discovery with the expected endpoints', async () => {
    const response = await fetch(new URL('/.well-known/openid-configuration', idp.issuer));
    const meta = await response.json();
    assert.equal(meta.issuer, idp.issuer);
    assert.equal(meta.authorization_endpoint, `${idp.issuer}/auth`);
    assert.equal(meta.token_endpoint, `${idp.issuer}/token`);
    assert.equal(meta.userinfo_endpoint, `${idp.issuer}/me`);
    assert.equal(meta.revocation_endpoint, `${idp.issuer}/token/revocation`);
    assert.equal(meta.end_session_endpoint, `${idp.issuer}/session/end`);
    assert.equal(meta.jwks_uri, `${idp.issuer}/jwks`);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(meta.response_types_supported, ['code']);
    assert.ok(meta.grant_types_supported.includes('client_credentials'));
    const jwks = await (await fetch(meta.jwks_uri)).json();
    const rsa = jwks.keys.find((k) => k.alg === 'RS256');
    assert.ok(rsa?.kid, 'an RS256 key with a kid');
    assert.equal(rsa.d, undefined, 'no private parts in the JWKS');
  });

  it('logs alice in headlessly and exchanges the code', async () => {
    const result = await login(idp.issuer);
    assert.match(result.page, /Sign in to the demo provider/);
    assert.match(result.page, /id="email"[^>]*value="alice@example.com"/);
    assert.equal(result.params.state, result.state);
    assert.equal(result.params.iss, idp.issuer);
    assert.ok(result.params.code);
    const { status, body } = await exchange(idp.issuer, result);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 10);
    assert.ok(body.refresh_token, 'refresh token issued');
    const { header, payload } = decodeJwt(body.id_token);
    assert.equal(header.alg, 'RS256');
    assert.ok(header.kid);
    assert.equal(payload.iss, idp.issuer);
    assert.equal(payload.aud, CLIENT_ID);
    assert.equal(payload.sub, 'user-alice');
    assert.equal(payload.nonce, result.nonce);
    assert.equal(payload.email, 'alice@example.com');
    assert.equal(payload.email_verified, true);
    assert.equal(payload.name, 'Alice Example');
    assert.ok(payload.exp - payload.iat === 300);
  });

  it('the code works once and only with the right verifier', async () => {
    const result = await login(idp.issuer);
    const wrong = await exchange(idp.issuer, { ...result, verifier: pkcePair().verifier });
    assert.equal(wrong.body.error, 'invalid_grant');
    const again = await login(idp.issuer);
    assert.equal((await exchange(idp.issuer, again)).status, 200);
    assert.equal((await exchange(idp.issuer, again)).body.error, 'invalid_grant');
  });

  it('answers userinfo with the email and profile', async () => {
    const { tokens } = await signIn(idp.issuer, { email: 'bob@example.com' });
    const { status, body } = await userinfo(idp.issuer, tokens.access_token);
    assert.equal(status, 200);
    assert.equal(body.sub, 'user-bob');
    assert.equal(body.email, 'bob@example.com');
    assert.equal(body.name, 'Bob Example');
    assert.equal(body.preferred_username, 'bob');
  });

  it('reports carol as unverified', async () => {
    const { tokens } = await signIn(idp.issuer, { email: 'carol@example.com' });
    assert.equal(decodeJwt(tokens.id_token).payload.email_verified, false);
  });

  it('rotates refresh tokens and revokes the grant on reuse', async () => {
    const { tokens } = await signIn(idp.issuer);
    const first = await refresh(idp.issuer, tokens.refresh_token);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.notEqual(first.body.refresh_token, tokens.refresh_token);
    assert.notEqual(first.body.access_token, tokens.access_token);
    assert.equal(decodeJwt(first.body.id_token).payload.sub, 'user-alice');
    const reuse = await refresh(idp.issuer, tokens.refresh_token);
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body.error, 'invalid_grant');
    const afterReuse = await refresh(idp.issuer, first.body.refresh_token);
    assert.equal(afterReuse.body.error, 'invalid_grant');
    assert.equal((await userinfo(idp.issuer, first.body.access_token)).status, 401);
  });

  it('issues client_credentials tokens to the service client', async () => {
    const viaBasic = await postForm(new URL('/token', idp.issuer), {
      grant_type: 'client_credentials', scope: 'api:read api:write',
    }, { authorization: basic(SERVICE.id, SERVICE.secret) });
    assert.equal(viaBasic.status, 200, JSON.stringify(viaBasic.body));
    assert.equal(viaBasic.body.scope, 'api:read api:write');
    assert.equal(viaBasic.body.refresh_token, undefined);
    const viaPost = await postForm(new URL('/token', idp.issuer), {
      grant_type: 'client_credentials', scope: 'api:read', client_id: SERVICE.id, client_secret: SERVICE.secret,
    });
    assert.equal(viaPost.status, 200, JSON.stringify(viaPost.body));
    assert.equal(viaPost.body.scope, 'api:read');
    const badSecret = await postForm(new URL('/token', idp.issuer), {
      grant_type: 'client_credentials',
    }, { authorization: basic(SERVICE.id, 'nope') });
    assert.equal(badSecret.status, 401);
    assert.equal(badSecret.body.error, 'invalid_client');
    const publicClient = await postForm(new URL('/token', idp.issuer), {
      grant_type: 'client_credentials', client_id: CLIENT_ID,
    });
    // oidc-provider says invalid_request here (RFC 6749 would say unauthorized_client).
    assert.equal(publicClient.status, 400);
    assert.equal(publicClient.body.error, 'invalid_request');
  });

  it('revokes refresh tokens (RFC 7009)', async () => {
    const { tokens } = await signIn(idp.issuer);
    const revoked = await fetch(new URL('/token/revocation', idp.issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refresh_token, token_type_hint: 'refresh_token', client_id: CLIENT_ID }),
    });
    assert.equal(revoked.status, 200);
    assert.equal((await refresh(idp.issuer, tokens.refresh_token)).body.error, 'invalid_grant');
    assert.equal((await userinfo(idp.issuer, tokens.access_token)).status, 401, 'the grant went with it');
  });

  it('counts token-endpoint calls by grant type', async () => {
    assert.equal((await control(idp.issuer, 'POST', 'reset-stats')).status, 200);
    const { tokens } = await signIn(idp.issuer);
    const rotated = await refresh(idp.issuer, tokens.refresh_token);
    await refresh(idp.issuer, tokens.refresh_token); // reuse: an error
    await userinfo(idp.issuer, rotated.body.access_token); // grant revoked: an error
    await postForm(new URL('/token', idp.issuer), { grant_type: 'client_credentials' }, {
      authorization: basic(SERVICE.id, SERVICE.secret),
    });
    const { body } = await control(idp.issuer, 'GET', 'stats');
    assert.equal(body.token.authorization_code, 1);
    assert.equal(body.token.refresh_token, 1);
    assert.equal(body.token.client_credentials, 1);
    assert.equal(body.token_errors.refresh_token, 1);
    assert.equal(body.userinfo, 0);
    assert.equal(body.userinfo_errors, 1);
    const reset = await control(idp.issuer, 'POST', 'reset-stats');
    assert.equal(reset.body.token.refresh_token, 0);
  });

  it('revoke-all ends one account, or everyone', async () => {
    const alice = await signIn(idp.issuer);
    const bob = await signIn(idp.issuer, { email: 'bob@example.com' });
    const { body } = await control(idp.issuer, 'POST', 'revoke-all', { sub: 'user-alice' });
    assert.ok(body.revoked.grants >= 1);
    assert.equal((await refresh(idp.issuer, alice.tokens.refresh_token)).body.error, 'invalid_grant');
    assert.equal((await userinfo(idp.issuer, alice.tokens.access_token)).status, 401);
    const bobRefreshed = await refresh(idp.issuer, bob.tokens.refresh_token);
    assert.equal(bobRefreshed.status, 200);
    // The browser session went too: the next authorization asks again.
    const again = await login(idp.issuer, { jar: alice.jar });
    assert.match(again.page ?? '', /Sign in to the demo provider/);
    await control(idp.issuer, 'POST', 'revoke-all');
    assert.equal((await refresh(idp.issuer, bobRefreshed.body.refresh_token)).body.error, 'invalid_grant');
  });

  it('changes the access token lifetime at run time', async () => {
    const set = await control(idp.issuer, 'POST', 'ttl', { access: 2 });
    assert.equal(set.body.access, 2);
    const { tokens } = await signIn(idp.issuer);
    assert.equal(tokens.expires_in, 2);
    assert.equal((await userinfo(idp.issuer, tokens.access_token)).status, 200);
    // Wait until the provider itself calls it expired (no fixed sleep against the 2 s lifetime).
    let status = 200;
    for (const deadline = Date.now() + 20_000; status !== 401 && Date.now() < deadline;) {
      await new Promise((resolve) => { setTimeout(resolve, 100); });
      status = (await userinfo(idp.issuer, tokens.access_token)).status;
    }
    assert.equal(status, 401, 'expired');
    const refreshed = await refresh(idp.issuer, tokens.refresh_token);
    assert.equal(refreshed.body.expires_in, 2);
    assert.equal((await control(idp.issuer, 'POST', 'ttl', { access: 'soon' })).status, 400);
    await control(idp.issuer, 'POST', 'ttl', { access: 10 });
  });

  it('accepts Zitadel project audience scopes and adds the project to aud', async () => {
    const scope = 'openid profile email offline_access urn:zitadel:iam:org:project:id:123456789:aud';
    const { tokens } = await signIn(idp.issuer, { scope });
    const { payload } = decodeJwt(tokens.id_token);
    assert.deepEqual(payload.aud, [CLIENT_ID, '123456789']);
    assert.equal(payload.azp, CLIENT_ID);
    const last = await control(idp.issuer, 'GET', 'last-authorization');
    assert.equal(last.body.scope, scope);
    assert.deepEqual(last.body.project_ids, ['123456789']);
    assert.equal(last.body.code_challenge_method, 'S256');
    assert.equal(last.body.login_hint, 'alice@example.com');
    assert.equal(last.body.nonce_present, true);
    assert.equal(last.body.state_present, true);
    const refreshed = await refresh(idp.issuer, tokens.refresh_token);
    assert.deepEqual(decodeJwt(refreshed.body.id_token).payload.aud, [CLIENT_ID, '123456789']);
    // A later request without the scope gets a plain audience again.
    const plain = await signIn(idp.issuer);
    assert.equal(decodeJwt(plain.tokens.id_token).payload.aud, CLIENT_ID);
  });

  it('keeps project scopes through a pushed authorization request (PAR)', async (t) => {
    const parIdp = await startIdp(['--par', 'on']);
    t.after(() => parIdp.stop());
    const idp = parIdp;  
    const pkce = pkcePair();
    const pushed = await postForm(new URL('/request', idp.issuer), {
      client_id: CLIENT_ID, response_type: 'code', redirect_uri: REDIRECT_URI, state: 'par',
      scope: 'openid email urn:zitadel:iam:org:project:id:42:aud',
      code_challenge: pkce.challenge, code_challenge_method: 'S256',
    });
    assert.equal(pushed.status, 201, JSON.stringify(pushed.body));
    const jar = new CookieJar();
    const page = await browse(idp.issuer, jar, authorizationUrl(idp.issuer, {
      client_id: CLIENT_ID, request_uri: pushed.body.request_uri,
    }));
    assert.equal(page.status, 200);
    const done = await browse(idp.issuer, jar, new URL(`${new URL(page.url).pathname}/login?email=bob%40example.com`, idp.issuer));
    const code = new URL(done.headers.get('location')).searchParams.get('code');
    const { body } = await exchange(idp.issuer, { params: { code }, verifier: pkce.verifier });
    assert.deepEqual(decodeJwt(body.id_token).payload.aud, [CLIENT_ID, '42']);
    const last = await control(idp.issuer, 'GET', 'last-authorization');
    assert.deepEqual(last.body.project_ids, ['42']);
    assert.equal(last.body.state, 'par');
  });

  it('lets the service client introspect tokens', async () => {
    const { tokens } = await signIn(idp.issuer);
    const { status, body } = await postForm(new URL('/token/introspection', idp.issuer), {
      token: tokens.access_token,
    }, { authorization: basic(SERVICE.id, SERVICE.secret) });
    assert.equal(status, 200);
    assert.equal(body.active, true);
    assert.equal(body.sub, 'user-alice');
    assert.equal(body.client_id, CLIENT_ID);
  });

  it('rejects plain PKCE and a missing code_challenge', async () => {
    const jar = new CookieJar();
    const base = {
      client_id: CLIENT_ID, response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid', state: 's1',
    };
    const plain = await browse(idp.issuer, jar, authorizationUrl(idp.issuer, {
      ...base, code_challenge: 'x'.repeat(43), code_challenge_method: 'plain',
    }));
    const plainError = new URL(plain.headers.get('location'));
    assert.ok(plainError.href.startsWith(REDIRECT_URI));
    assert.equal(plainError.searchParams.get('error'), 'invalid_request');
    assert.equal(plainError.searchParams.get('state'), 's1');
    const missing = await browse(idp.issuer, jar, authorizationUrl(idp.issuer, base));
    const missingError = new URL(missing.headers.get('location'));
    assert.equal(missingError.searchParams.get('error'), 'invalid_request');
    assert.match(missingError.searchParams.get('error_description'), /PKCE/);
  });

  it('accepts any loopback redirect_uri and nothing else', async () => {
    for (const redirectUri of [
      'http://localhost:41234/oidc/callback',
      'http://127.0.0.1:5555/user/alice%40example.com/oidc/callback?x=1',
    ]) {
      const result = await login(idp.issuer, { redirectUri });
      assert.equal((await exchange(idp.issuer, result, { redirectUri })).status, 200);
    }
    const foreign = await browse(idp.issuer, new CookieJar(), authorizationUrl(idp.issuer, {
      client_id: CLIENT_ID, response_type: 'code', redirect_uri: 'http://evil.example.com:8888/cb',
      scope: 'openid', code_challenge: pkcePair().challenge, code_challenge_method: 'S256',
    }));
    assert.equal(foreign.status, 400);
    assert.equal(foreign.headers.get('location'), null);
    assert.match(await foreign.text(), /redirect_uri/);
  });

  it('accepts redirect and post-logout URIs on names under .localhost (RFC 6761), not look-alikes', async () => {
    // A JupyterHub with subdomain_host = http://hub.localhost:port: the service and each user on a host of their own.
    const redirectUri = 'http://oidc-callback--service.hub.localhost:8000/jh/services/oidc-callback/callback/prod';
    const result = await login(idp.issuer, { redirectUri });
    assert.equal((await exchange(idp.issuer, result, { redirectUri })).status, 200);
    for (const lookalike of [
      'http://localhost.evil.example/cb', 'http://evillocalhost/cb', 'http://alice.hub.localhost.evil.example/cb',
      'https://evil.example/x.localhost', 'http://u:p@alice.hub.localhost/cb',
    ]) {
      const refused = await browse(idp.issuer, new CookieJar(), authorizationUrl(idp.issuer, {
        client_id: CLIENT_ID, response_type: 'code', redirect_uri: lookalike,
        scope: 'openid', code_challenge: pkcePair().challenge, code_challenge_method: 'S256',
      }));
      assert.equal(refused.status, 400, lookalike);
      assert.equal(refused.headers.get('location'), null, lookalike);
    }
    const alice = await signIn(idp.issuer);
    const endSession = new URL('/session/end', idp.issuer);
    endSession.searchParams.set('client_id', CLIENT_ID);
    endSession.searchParams.set('post_logout_redirect_uri', 'http://alice.hub.localhost:8000/jh/user/alice/lab');
    const page = await browse(idp.issuer, alice.jar, endSession);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(await page.text())[1];
    const confirmed = await browse(idp.issuer, alice.jar, new URL('/session/end/confirm', idp.issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
    });
    assert.equal(confirmed.headers.get('location'), 'http://alice.hub.localhost:8000/jh/user/alice/lab');
  });

  it('treats login_hint as a default only', async () => {
    const result = await login(idp.issuer, { loginHint: 'alice@example.com', email: 'bob@example.com' });
    const { body } = await exchange(idp.issuer, result);
    assert.equal(decodeJwt(body.id_token).payload.email, 'bob@example.com');
  });

  it('asks again when login_hint names someone else than the session user', async () => {
    const alice = await signIn(idp.issuer);
    const silent = await login(idp.issuer, { jar: alice.jar });
    assert.equal(silent.page, undefined, 'same user: no sign-in page');
    const bob = await login(idp.issuer, { jar: alice.jar, email: 'bob@example.com' });
    assert.match(bob.page, /value="bob@example.com"/);
    const { body } = await exchange(idp.issuer, bob);
    assert.equal(decodeJwt(body.id_token).payload.sub, 'user-bob');
    assert.equal((await refresh(idp.issuer, alice.tokens.refresh_token)).status, 200, 'alice keeps her tokens');
  });

  it('supports GET for the login step', async () => {
    const result = await login(idp.issuer, { via: 'get', email: 'demo@example.com' });
    const { body } = await exchange(idp.issuer, result);
    assert.equal(decodeJwt(body.id_token).payload.name, 'Demo User');
  });

  it('re-renders the form for an unknown email and denies on abort', async () => {
    const jar = new CookieJar();
    const page = await browse(idp.issuer, jar, authorizationUrl(idp.issuer, {
      client_id: CLIENT_ID, response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid',
      state: 'st', code_challenge: pkcePair().challenge, code_challenge_method: 'S256',
      login_hint: '<script>alert(1)</script>',
    }));
    const html = await page.text();
    assert.ok(!html.includes('<script>alert(1)</script>'), 'login_hint is escaped');
    assert.match(html, /id="deny"/);
    const base = new URL(page.url).pathname;
    const unknown = await browse(idp.issuer, jar, new URL(`${base}/login`, idp.issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=mallory%40example.com',
    });
    assert.equal(unknown.status, 400);
    assert.match(await unknown.text(), /id="error"[^>]*>No user with the email &quot;mallory@example.com&quot;/);
    const denied = await browse(idp.issuer, jar, new URL(`${base}/abort`, idp.issuer), { method: 'POST' });
    const callback = new URL(denied.headers.get('location'));
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('state'), 'st');
  });

  it('shows an error page when the interaction cookie is missing', async () => {
    const response = await fetch(new URL('/interaction/nope', idp.issuer));
    assert.equal(response.status, 400);
    assert.match(await response.text(), /interaction session id cookie not found/);
  });

  it('uses the audience of the client that asked', async () => {
    const { tokens } = await signIn(idp.issuer, { clientId: 'jupyterlab-oidc-other' });
    assert.equal(decodeJwt(tokens.id_token).payload.aud, 'jupyterlab-oidc-other');
    const crossRefresh = await refresh(idp.issuer, tokens.refresh_token, CLIENT_ID);
    assert.equal(crossRefresh.body.error, 'invalid_grant');
  });

  it('logs out through end_session to a loopback post_logout_redirect_uri', async () => {
    const alice = await signIn(idp.issuer);
    const endSession = new URL('/session/end', idp.issuer);
    endSession.searchParams.set('client_id', CLIENT_ID);
    endSession.searchParams.set('post_logout_redirect_uri', 'http://127.0.0.1:8888/a%40b/lab');
    endSession.searchParams.set('state', 'bye');
    const page = await browse(idp.issuer, alice.jar, endSession);
    const html = await page.text();
    assert.match(html, /id="sign-out"/);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)[1];
    const confirmed = await browse(idp.issuer, alice.jar, new URL('/session/end/confirm', idp.issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
    });
    assert.equal(confirmed.headers.get('location'), 'http://127.0.0.1:8888/a%40b/lab?state=bye');
    const again = await login(idp.issuer, { jar: alice.jar });
    assert.ok(again.page, 'signed out: the form is shown again');
    assert.equal((await refresh(idp.issuer, alice.tokens.refresh_token)).status, 200, 'tokens outlive the session');
  });

  it('keeps stdout to the single JSON line', () => {
    assert.deepEqual(idp.extraStdout, []);
  });
});

describe('userinfo profile (Zitadel-like)', () => {
  let idp;
  before(async () => { idp = await startIdp(['--profile', 'userinfo']); });
  after(async () => { await idp.stop(); });

  it('keeps email out of the id_token and serves it at userinfo', async () => {
    assert.equal(idp.profile, 'userinfo');
    const { tokens } = await signIn(idp.issuer);
    const { payload } = decodeJwt(tokens.id_token);
    assert.equal(payload.sub, 'user-alice');
    assert.equal(payload.email, undefined);
    assert.equal(payload.email_verified, undefined);
    assert.equal(payload.name, undefined);
    assert.equal(tokens.expires_in, 300);
    const info = await userinfo(idp.issuer, tokens.access_token);
    assert.equal(info.body.sub, payload.sub);
    assert.equal(info.body.email, 'alice@example.com');
    assert.equal(info.body.email_verified, true);
    const refreshed = await refresh(idp.issuer, tokens.refresh_token);
    assert.equal(decodeJwt(refreshed.body.id_token).payload.email, undefined);
  });
});

/** Play the person at /device: confirm (or deny) `userCode`, then sign in as `email`. */
async function approveDevice(issuer, verificationUri, { email = 'alice@example.com', deny = false } = {}) {
  const jar = new CookieJar();
  const hidden = (html) => Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]),
  );
  const post = (form) => browse(issuer, jar, new URL('/device', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const start = await browse(issuer, jar, verificationUri);
  const confirmPage = await post(hidden(await start.text()));
  const form = hidden(await confirmPage.text());
  if (deny) {
    delete form.confirm;
    return post({ ...form, abort: 'yes' });
  }
  const login = await post(form);
  assert.equal(login.status, 200);
  return browse(issuer, jar, new URL(`${new URL(login.url).pathname}/login`, issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email }).toString(),
  });
}

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const pollDevice = (issuer, deviceCode) => postForm(new URL('/token', issuer), {
  grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: CLIENT_ID,
});

describe('device authorization grant (RFC 8628)', () => {
  let idp;
  before(async () => { idp = await startIdp(); });
  after(async () => { await idp.stop(); });

  const authorize = () => postForm(new URL('/device/auth', idp.issuer), {
    client_id: CLIENT_ID, scope: 'openid email offline_access', login_hint: 'bob@example.com',
  });

  it('issues a user code with an interval, and tokens once the person approves', async () => {
    const { status, body } = await authorize();
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.interval, 5);
    assert.match(body.user_code, /^[A-Z]{4}-[A-Z]{4}$/);
    assert.equal((await pollDevice(idp.issuer, body.device_code)).body.error, 'authorization_pending');
    const done = await approveDevice(idp.issuer, body.verification_uri_complete, { email: 'bob@example.com' });
    assert.match(await done.text(), /id="device-success"/);
    const tokens = await pollDevice(idp.issuer, body.device_code);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(decodeJwt(tokens.body.id_token).payload.email, 'bob@example.com');
    assert.ok(tokens.body.refresh_token);
  });

  it('answers access_denied when the person denies the code', async () => {
    const { body } = await authorize();
    await approveDevice(idp.issuer, body.verification_uri_complete, { deny: true });
    assert.equal((await pollDevice(idp.issuer, body.device_code)).body.error, 'access_denied');
  });

  it('answers slow_down when told to, and to a poll that comes too early', async () => {
    await control(idp.issuer, 'POST', 'reset-stats');
    await control(idp.issuer, 'POST', 'device', { slow_down: 1 });
    const { body } = await authorize();
    assert.equal((await pollDevice(idp.issuer, body.device_code)).body.error, 'slow_down');
    assert.equal((await pollDevice(idp.issuer, body.device_code)).body.error, 'slow_down'); // 0 s after, interval 10 s
    const stats = (await control(idp.issuer, 'GET', 'stats')).body;
    assert.deepEqual([stats.device_polls, stats.device_slow_down, stats.device_too_early], [2, 2, 1]);
  });

  it('answers expired_token once the code has expired', async () => {
    await control(idp.issuer, 'POST', 'device', { expires_in: 1, interval: 1 });
    const { body } = await authorize();
    await control(idp.issuer, 'POST', 'device', { expires_in: 600, interval: 5 });
    assert.deepEqual([body.expires_in, body.interval], [1, 1]);
    let answer;
    do { // poll as a client would, every `interval` seconds, until the answer changes
      await new Promise((resolve) => { setTimeout(resolve, 1000 * body.interval); });  
      answer = await pollDevice(idp.issuer, body.device_code);  
    } while (answer.body.error === 'authorization_pending');
    assert.equal(answer.body.error, 'expired_token');
  });
});

describe('pushed authorization requests (--par)', () => {
  const discover = async (issuer) => (await fetch(new URL('/.well-known/openid-configuration', issuer))).json();

  it('are not offered by default', async (t) => {
    const idp = await startIdp();
    t.after(() => idp.stop());
    const document = await discover(idp.issuer);
    assert.equal(document.pushed_authorization_request_endpoint, undefined);
  });

  it('are required with --par required', async (t) => {
    const idp = await startIdp(['--par', 'required']);
    t.after(() => idp.stop());
    const document = await discover(idp.issuer);
    assert.equal(document.pushed_authorization_request_endpoint, `${idp.issuer}/request`);
    assert.equal(document.require_pushed_authorization_requests, true);
    const page = await browse(idp.issuer, new CookieJar(), authorizationUrl(idp.issuer, {
      client_id: CLIENT_ID, response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid',
      code_challenge: pkcePair().challenge, code_challenge_method: 'S256',
    }));
    assert.notEqual(page.status, 200);
  });
});

describe('command line', () => {
  it('takes options from the environment and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [SERVER], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, IDP_PROFILE: 'userinfo', IDP_ACCESS_TTL: '7' },
    });
    const [line] = await once(createInterface({ input: child.stdout }), 'line');
    const info = JSON.parse(line);
    assert.equal(info.profile, 'userinfo');
    const { body } = await signIn(info.issuer).then((r) => ({ body: r.tokens }));
    assert.equal(body.expires_in, 7);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });

  it('refuses bad options with exit code 2', async () => {
    const child = spawn(process.execPath, [SERVER, '--profile', 'nope'], { stdio: 'ignore' });
    const [code] = await once(child, 'exit');
    assert.equal(code, 2);
  });
});
