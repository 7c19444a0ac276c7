/**
 * Test doubles of the browser engine: a provider behind a stubbed `fetch` (keys made with
 * jose, id_tokens signed per test), an in-process BroadcastChannel bus, a callback window.
 */
import { exportJWK, generateKeyPair, JWTPayload, SignJWT } from 'jose';

import { IBrowserConfig, parseConfig } from '../../src/engines/browser/config';
import { BrowserEngine } from '../../src/engines/browser/engine';
import { IChannel, ILocks, LocalLocks } from '../../src/engines/browser/tabs';

// jsdom has no AbortSignal.timeout (jose's remote key set uses it); browsers have it.
if (typeof AbortSignal.timeout !== 'function') {
  AbortSignal.timeout = (ms: number) => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), ms);
    return controller.signal;
  };
}

export const ISSUER = 'https://id.example.org';
export const CLIENT_ID = 'lite-client';
export const SITE = 'https://lite.example.org';

type Claims = JWTPayload & Record<string, unknown>;

/** What the fake provider does; tests change it between steps. */
export interface IProviderBehaviour {
  /** Claims of the next id_token (merged over the defaults; `nonce` defaults to the request's). */
  claims: Claims;
  /** Sign with another key than the published one. */
  foreignKey: boolean;
  /** Header alg to sign with (default RS256). */
  alg: 'RS256' | 'HS256' | 'ES256';
  /** Userinfo answer (default: same sub, alice's email). */
  userinfo: Record<string, unknown>;
  /** Send an id_token on refresh. */
  idTokenOnRefresh: boolean;
}

/** A provider stubbed behind `fetch`. */
export class FakeProvider {
  static async create(): Promise<FakeProvider> {
    const provider = new FakeProvider();
    provider._rsa = await generateKeyPair('RS256', { extractable: true });
    provider._other = await generateKeyPair('RS256', { extractable: true });
    provider._ec = await generateKeyPair('ES256', { extractable: true });
    provider._jwks = {
      keys: [
        { ...(await exportJWK(provider._rsa.publicKey)), kid: 'rsa', alg: 'RS256', use: 'sig' },
        { ...(await exportJWK(provider._ec.publicKey)), kid: 'ec', alg: 'ES256', use: 'sig' }
      ]
    };
    return provider;
  }

  behaviour: IProviderBehaviour = FakeProvider.defaults();
  /** Every request, as `METHOD url` (bodies in `bodies`). */
  readonly requests: string[] = [];
  readonly bodies: URLSearchParams[] = [];
  /** The refresh tokens the provider accepts (rotation: each is used once). */
  readonly liveRefreshTokens = new Set<string>();
  refreshCount = 0;
  revoked: string[] = [];

  static defaults(): IProviderBehaviour {
    return {
      claims: {
        sub: 'user-alice',
        email: 'alice@example.com',
        email_verified: true,
        name: 'Alice Example'
      },
      foreignKey: false,
      alg: 'RS256',
      userinfo: { sub: 'user-alice', email: 'alice@example.com', email_verified: true },
      idTokenOnRefresh: false
    };
  }

  /** The nonce of the last authorization request the engine built. */
  nonce = '';

  fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const method = init?.method ?? 'GET';
    this.requests.push(`${method} ${url.origin}${url.pathname}`);
    const json = (body: unknown, status = 200) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { 'Content-Type': 'application/json' }
      });
    switch (url.pathname) {
      case '/.well-known/openid-configuration':
        return json({
          issuer: ISSUER,
          authorization_endpoint: `${ISSUER}/auth`,
          token_endpoint: `${ISSUER}/token`,
          jwks_uri: `${ISSUER}/jwks`,
          userinfo_endpoint: `${ISSUER}/me`,
          revocation_endpoint: `${ISSUER}/token/revocation`,
          end_session_endpoint: `${ISSUER}/session/end`,
          code_challenge_methods_supported: ['S256'],
          id_token_signing_alg_values_supported: ['RS256', 'ES256']
        });
      case '/jwks':
        return json(this._jwks);
      case '/me':
        return json(this.behaviour.userinfo);
      case '/token/revocation': {
        const body = new URLSearchParams(String(init?.body));
        this.revoked.push(body.get('token') ?? '');
        this.liveRefreshTokens.delete(body.get('token') ?? '');
        return new Response('', { status: 200 });
      }
      case '/token': {
        const body = new URLSearchParams(String(init?.body));
        this.bodies.push(body);
        if (body.get('grant_type') === 'refresh_token') {
          const presented = body.get('refresh_token') ?? '';
          if (!this.liveRefreshTokens.delete(presented)) {
            return json({ error: 'invalid_grant' }, 400);
          }
          this.refreshCount += 1;
          const id_token = this.behaviour.idTokenOnRefresh
            ? await this.idToken({ nonce: undefined })
            : undefined;
          return json(this._tokens(`access-${this.refreshCount}`, id_token));
        }
        return json(this._tokens('access-0', await this.idToken({})));
      }
      default:
        return json({ error: 'not_found' }, 404);
    }
  };

  /** An id_token as the behaviour says. */
  async idToken(extra: Claims): Promise<string> {
    const b = this.behaviour;
    const claims: Claims = { nonce: this.nonce, ...b.claims, ...extra };
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: b.alg, kid: b.alg === 'ES256' ? 'ec' : 'rsa' })
      .setIssuedAt(typeof claims.iat === 'number' ? claims.iat : undefined);
    if (claims.iss === undefined) {
      jwt.setIssuer(ISSUER);
    }
    if (claims.aud === undefined) {
      jwt.setAudience(CLIENT_ID);
    }
    if (claims.exp === undefined) {
      jwt.setExpirationTime('5m');
    }
    if (b.alg === 'HS256') {
      return jwt.sign(Uint8Array.from({ length: 32 }, (_, i) => i + 1));
    }
    const key =
      b.alg === 'ES256'
        ? this._ec.privateKey
        : b.foreignKey
          ? this._other.privateKey
          : this._rsa.privateKey;
    return jwt.sign(key);
  }

  private _tokens(access: string, idToken?: string): Record<string, unknown> {
    const refresh = `refresh-${this.refreshCount}-${Math.random().toString(36).slice(2)}`;
    this.liveRefreshTokens.add(refresh);
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: 300,
      refresh_token: refresh,
      ...(idToken ? { id_token: idToken } : {})
    };
  }

  private _rsa!: CryptoKeyPair;
  private _other!: CryptoKeyPair;
  private _ec!: CryptoKeyPair;
  private _jwks!: { keys: unknown[] };
}

/** An in-process BroadcastChannel: delivers to the other channels of the name, asynchronously. */
export class Bus {
  open = (name: string): IChannel => {
    const listeners = new Set<(event: MessageEvent) => void>();
    const members = this._members.get(name) ?? new Set();
    this._members.set(name, members);
    const channel: IChannel & { deliver: (data: unknown) => void } = {
      deliver: data =>
        listeners.forEach(l => l(new MessageEvent('message', { data: structuredClone(data) }))),
      postMessage: data => {
        for (const other of members) {
          if (other !== channel) {
            setTimeout(() => other.deliver(data), 0);
          }
        }
      },
      addEventListener: (_type, listener) => listeners.add(listener),
      removeEventListener: (_type, listener) => listeners.delete(listener),
      close: () => members.delete(channel)
    };
    members.add(channel);
    return channel;
  };

  private _members = new Map<string, Set<IChannel & { deliver: (data: unknown) => void }>>();
}

/** The site's configuration in the tests. */
export function config(extra: Record<string, unknown> = {}): IBrowserConfig {
  return parseConfig(
    {
      environments: [
        {
          name: 'dev',
          issuer: ISSUER,
          client_id: CLIENT_ID,
          applications: { spatial: '4242' },
          ...extra
        }
      ]
    },
    `${SITE}/`
  );
}

/** An engine on `provider`, with its own window; `bus`/`locks` shared to play two tabs. */
export function engine(
  provider: FakeProvider,
  options: { bus?: Bus; locks?: ILocks; now?: () => number } = {}
) {
  const win = new EventTarget() as EventTarget & Window;
  const made = new BrowserEngine({
    config: config(),
    fetch: provider.fetch,
    locks: options.locks ?? new LocalLocks(),
    openChannel: (options.bus ?? new Bus()).open,
    window: win,
    now: options.now,
    settleMs: 5
  });
  return { engine: made, win };
}

/** Start a sign-in, answer it as the callback page would, and await its result. */
export async function signIn(
  provider: FakeProvider,
  tab: { engine: BrowserEngine; win: EventTarget },
  loginHint = 'alice@example.com',
  callback: Record<string, unknown> = {}
) {
  const reply = await tab.engine.login({ login_hint: loginHint });
  const url = new URL(String(reply.url));
  provider.nonce = url.searchParams.get('nonce') ?? '';
  const data = {
    type: 'jupyterlab-oidc-callback',
    state: reply.state,
    code: 'the-code',
    error: null,
    iss: ISSUER,
    ...callback
  };
  tab.win.dispatchEvent(new MessageEvent('message', { data, origin: SITE }));
  return { reply, url, result: tab.engine.awaitLogin(reply.state, 5) };
}
