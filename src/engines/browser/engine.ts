/**
 * The browser engine: sign-in, token refresh and sign-out in the page, for JupyterLite.
 *
 * It answers the session model as the server extension's REST API does (`ISessionEngine`),
 * but keeps the tokens in this tab's memory (shared with the site's other open tabs over a
 * `BroadcastChannel`) and talks to the provider directly with CORS as a public client.
 */
import type {
  IAwaitReply,
  IEnvironmentsReply,
  IJwksReply,
  IPreflightReport,
  ILoginReply,
  ILogoutReply,
  IRawReply,
  ISessionInfo,
  IStatusReply,
  ITarget,
  ITokenReply,
  OidcAPI
} from '../../api';
import { OidcError } from '../../errors';
import type { IDisposableSessionEngine } from '../types';
import { authorizationRequest } from './authorize';
import type { IBrowserConfig, IBrowserEnvironment } from './config';
import { discover, IProviderMetadata } from './discovery';
import { endSessionUrl, revoke } from './endpoints';
import { completeSignIn, IExchangeContext, refreshSession, sessionKey } from './exchange';
import { remoteKeys } from './idtoken';
import { preflight } from './preflight';
import { relay } from './relay';
import { callbackMessage, ICallbackMessage, PendingSignIns } from './signin';
import {
  CALLBACK_CHANNEL,
  defaultLocks,
  IChannel,
  ILocks,
  isTabMessage,
  ISessionRecord,
  openChannel,
  SESSIONS_CHANNEL,
  TabMessage
} from './tabs';

/** The browser engine. */
export class BrowserEngine implements IDisposableSessionEngine {
  readonly kind = 'browser' as const;

  constructor(options: BrowserEngine.IOptions) {
    this._config = options.config;
    this._fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this._locks = options.locks ?? defaultLocks();
    this._now = options.now ?? (() => Date.now());
    this._margin = options.refreshMarginSeconds ?? 30;
    this._settleMs = options.settleMs ?? 100;
    this._channel = (options.openChannel ?? openChannel)(SESSIONS_CHANNEL);
    this._callbacks = (options.openChannel ?? openChannel)(CALLBACK_CHANNEL);
    this._window = options.window ?? (typeof window !== 'undefined' ? window : null);
    this._callbackOrigin = new URL(this._config.redirect_uri).origin;
    this._channel.addEventListener('message', this._onTabMessage);
    this._callbacks.addEventListener('message', this._onCallbackChannel);
    this._window?.addEventListener('message', this._onWindowMessage);
    this._channel.postMessage({ t: 'hello' } satisfies TabMessage);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  async environments(): Promise<IEnvironmentsReply> {
    return {
      default_environment: this._config.default_environment,
      redirect_mode: 'browser',
      callback_timeout: this._config.callback_timeout,
      environments: this._config.environments.map(env => ({
        name: env.name,
        display_name: env.display_name,
        issuer: env.issuer,
        client_id: env.client_id,
        scopes: env.scopes,
        applications: Object.keys(env.applications),
        discovery_mode: 'auto'
      }))
    };
  }

  async status(options: OidcAPI.IStatusOptions = {}): Promise<IStatusReply> {
    if (options.after !== undefined && options.after >= this._revision) {
      await this._changeOrTimeout((options.timeoutSeconds ?? 25) * 1000, options.signal);
    }
    const now = this._now();
    return {
      revision: this._revision,
      default_environment: this._config.default_environment,
      sessions: [...this._sessions.values()].map(s => this._info(s)),
      pending: this._pending.list().map(p => ({
        state: p.request.state,
        environment: p.environment,
        application: p.application,
        login_hint: p.loginHint,
        expires_in: Math.max(0, Math.round((p.expiresAt - now) / 1000)),
        callback_received: p.callbackReceived,
        start_url: p.request.url
      })),
      store_error: null
    };
  }

  async login(body: ITarget & { login_hint: string }): Promise<ILoginReply> {
    const env = this._environment(body.environment);
    const application = body.application || null;
    if (application && !(application in env.applications)) {
      throw new OidcError(
        'invalid_request',
        `Unknown application ${application}; known: ${Object.keys(env.applications).join(', ') || 'none'}.`,
        { status: 400 }
      );
    }
    const metadata = await this._metadata(env);
    const request = await authorizationRequest({
      env,
      metadata,
      application,
      loginHint: (body.login_hint ?? '').trim(),
      redirectUri: this._config.redirect_uri
    });
    const expiresAt = this._now() + this._config.callback_timeout * 1000;
    this._pending.add(
      {
        request,
        environment: env.name,
        application,
        loginHint: (body.login_hint ?? '').trim(),
        expiresAt
      },
      () => this._bump()
    );
    this._bump();
    // The authorization URL is the start link too: the verifier stays in this tab, and the
    // callback page finds this tab (opener, or the callback channel for a link opened elsewhere).
    return {
      url: request.url,
      state: request.state,
      expires_in: this._config.callback_timeout,
      start_url: request.url
    };
  }

  async awaitLogin(
    state: string,
    waitSeconds?: number,
    signal?: AbortSignal
  ): Promise<IAwaitReply> {
    const entry = this._pending.get(state);
    const done = entry?.done ?? this._finished.get(state);
    if (!done) {
      throw new OidcError('state_mismatch', 'No sign-in with this state is waiting in this page.', {
        status: 400
      });
    }
    const waited = await Promise.race([
      done.then(key => ({ key })),
      this._changeOrTimeout(
        (waitSeconds ?? this._config.callback_timeout) * 1000,
        signal,
        done
      ).then(() => null)
    ]);
    if (!waited) {
      return { status: 'pending' };
    }
    const session = this._sessions.get(waited.key);
    if (!session) {
      throw new OidcError('not_authenticated', 'The session ended before it could be read.', {
        status: 401
      });
    }
    return { status: 'signed_in', session: this._info(session) };
  }

  async cancel(state: string): Promise<void> {
    if (!this._pending.get(state)) {
      throw new OidcError('state_mismatch', 'No sign-in with this state is waiting in this page.', {
        status: 400
      });
    }
    this._pending.end(
      state,
      new OidcError('login_cancelled', 'The sign-in was cancelled.', { status: 409 })
    );
    this._bump();
  }

  async token(body: ITarget & { min_valid?: number } = {}): Promise<ITokenReply> {
    const session = await this._refresh(this._find(body).key, {
      minValid: body.min_valid ?? this._margin
    });
    return {
      ...this._info(session),
      access_token: session.access_token,
      id_token: session.id_token,
      token_type: session.token_type
    };
  }

  async refresh(body: ITarget = {}): Promise<ISessionInfo> {
    const session = this._find(body);
    return this._info(await this._refresh(session.key, { after: session.generation }));
  }

  async logout(body: ITarget = {}): Promise<ILogoutReply> {
    const env = this._environment(body.environment);
    const key = sessionKey(env.name, body.application || null);
    const session = this._sessions.get(key);
    this._forget(key, true);
    let metadata: IProviderMetadata | null = null;
    try {
      metadata = await this._metadata(env);
    } catch {
      metadata = null;
    }
    if (metadata && session) {
      if (session.refresh_token) {
        await revoke(this._fetch, metadata, env.client_id, session.refresh_token, 'refresh_token');
      }
      await revoke(this._fetch, metadata, env.client_id, session.access_token, 'access_token');
    }
    return {
      signed_out: session !== undefined,
      end_session_url: metadata
        ? endSessionUrl(metadata, env.client_id, session?.email ?? '')
        : null
    };
  }

  async jwks(environment: string): Promise<IJwksReply> {
    const env = this._environment(environment);
    const metadata = await this._metadata(env);
    const response = await this._fetch(metadata.jwks_uri, { credentials: 'omit' }).catch(error => {
      throw new OidcError(
        'provider_unavailable',
        "The provider's JWKS did not answer (network or CORS).",
        { cause: error }
      );
    });
    const jwks = await response.json().catch(() => ({ keys: [] }));
    return {
      issuer: env.issuer,
      discovery: metadata.raw,
      jwks,
      environment: env.name,
      client_id: env.client_id,
      discovery_mode: 'auto'
    };
  }

  async preflight(environment: string): Promise<IPreflightReport> {
    const env = this._environment(environment);
    return preflight(
      env,
      this._config.redirect_uri,
      () => this._metadata(env),
      () => this.jwks(env.name)
    );
  }

  relay(
    method: 'GET' | 'POST',
    path: string,
    body: object = {},
    signal?: AbortSignal
  ): Promise<IRawReply> {
    return relay(this, method, path, body, signal);
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._pending.clear();
    for (const timer of this._timers.values()) {
      clearTimeout(timer);
    }
    this._timers.clear();
    this._channel.removeEventListener('message', this._onTabMessage);
    this._callbacks.removeEventListener('message', this._onCallbackChannel);
    this._window?.removeEventListener('message', this._onWindowMessage);
    this._channel.close();
    this._callbacks.close();
    this._bump();
  }

  /** The callback page posted to this window: only from the redirect URI's exact origin. */
  private _onWindowMessage = (event: MessageEvent): void => {
    if (event.origin === this._callbackOrigin) {
      this._onCallback(callbackMessage(event.data));
    }
  };

  private _onCallbackChannel = (event: MessageEvent): void => {
    this._onCallback(callbackMessage(event.data));
  };

  private _onCallback(message: ICallbackMessage | null): void {
    const entry = message ? this._pending.get(message.state) : undefined;
    if (!message || !entry || entry.callbackReceived) {
      return; // not ours, or a replay: the state is used once
    }
    entry.callbackReceived = true;
    this._bump();
    void this._complete(message).then(
      key => {
        this._finished.set(message.state, entry.done);
        this._pending.end(message.state, key);
        this._bump();
      },
      error => {
        this._finished.set(message.state, entry.done);
        this._pending.end(message.state, OidcError.from(error));
        this._bump();
      }
    );
  }

  /** Code exchange, id_token and identity checks; stores the session only when all pass. */
  private async _complete(message: ICallbackMessage): Promise<string> {
    const entry = this._pending.get(message.state)!;
    const env = this._environment(entry.environment);
    const record = await completeSignIn(this._ctx, env, await this._metadata(env), entry, message);
    this._store(record, true);
    return record.key;
  }

  /**
   * Refresh `key` once across tabs: under the session's Web Lock, and only if no other tab
   * (or call) refreshed it meanwhile — `minValid`: still valid that long; `after`: the
   * generation the caller saw.
   */
  private _refresh(
    key: string,
    when: { minValid?: number; after?: number }
  ): Promise<ISessionRecord> {
    return this._locks.request(
      `jupyterlab-oidc-refresh:${this._callbackOrigin}:${key}`,
      async () => {
        const session = this._sessions.get(key);
        if (!session) {
          throw new OidcError(
            'not_authenticated',
            'Not signed in: sign in from the OpenID Connect panel.',
            { status: 401 }
          );
        }
        const fresh =
          when.after !== undefined
            ? session.generation > when.after
            : session.expires_at - this._now() > (when.minValid ?? 0) * 1000;
        if (fresh) {
          return session;
        }
        const env = this._environment(session.environment);
        let next: ISessionRecord;
        try {
          next = await refreshSession(this._ctx, env, await this._metadata(env), session);
        } catch (error) {
          const newer = this._sessions.get(key);
          if (newer && newer.generation > session.generation) {
            return newer; // another tab rotated the token meanwhile: its answer counts
          }
          if (OidcError.from(error).details.ended) {
            this._forget(key, true);
          }
          throw error;
        }
        this._store(next, true);
        // Hold the lock until the other tabs have the rotated token (the channel is async).
        await new Promise(resolve => setTimeout(resolve, this._settleMs));
        return next;
      }
    );
  }

  private _store(record: ISessionRecord, announce: boolean): void {
    this._sessions.set(record.key, record);
    this._schedule(record);
    if (announce) {
      this._channel.postMessage({ t: 'session', session: record } satisfies TabMessage);
    }
    this._bump();
  }

  private _forget(key: string, announce: boolean): void {
    const session = this._sessions.get(key);
    clearTimeout(this._timers.get(key));
    this._timers.delete(key);
    if (!session) {
      return;
    }
    this._sessions.delete(key);
    if (announce) {
      this._channel.postMessage({
        t: 'ended',
        key,
        signed_in_at: session.signed_in_at
      } satisfies TabMessage);
    }
    this._bump();
  }

  /** Refresh `margin` seconds before expiry (every tab sets the timer; the lock lets one act). */
  private _schedule(record: ISessionRecord): void {
    clearTimeout(this._timers.get(record.key));
    if (!record.refresh_token || this._disposed) {
      return;
    }
    const delay = Math.max(1000, record.expires_at - this._now() - this._margin * 1000);
    this._timers.set(
      record.key,
      setTimeout(() => {
        void this._refresh(record.key, { minValid: this._margin }).catch(() => undefined);
      }, delay)
    );
  }

  private _onTabMessage = (event: MessageEvent): void => {
    const message: unknown = event.data;
    if (!isTabMessage(message) || this._disposed) {
      return;
    }
    if (message.t === 'hello') {
      if (this._sessions.size) {
        this._channel.postMessage({
          t: 'sync',
          sessions: [...this._sessions.values()]
        } satisfies TabMessage);
      }
    } else if (message.t === 'ended') {
      const mine = this._sessions.get(message.key);
      if (mine && mine.signed_in_at <= message.signed_in_at) {
        this._forget(message.key, false);
      }
    } else {
      for (const record of message.t === 'sync' ? message.sessions : [message.session]) {
        const mine = this._sessions.get(record.key);
        const newer =
          !mine ||
          record.signed_in_at > mine.signed_in_at ||
          (record.signed_in_at === mine.signed_in_at && record.generation > mine.generation);
        if (newer && this._config.environments.some(env => env.name === record.environment)) {
          this._store(record, false);
        }
      }
    }
  };

  private _environment(name?: string | null): IBrowserEnvironment {
    const wanted = name || this._config.default_environment;
    const env = this._config.environments.find(e => e.name === wanted);
    if (!env) {
      throw new OidcError(
        'unknown_environment',
        `Unknown environment ${wanted}; known: ${this._config.environments.map(e => e.name).join(', ')}.`,
        { status: 404 }
      );
    }
    return env;
  }

  private _find(target: ITarget): ISessionRecord {
    const env = this._environment(target.environment);
    const session = this._sessions.get(sessionKey(env.name, target.application || null));
    if (!session) {
      throw new OidcError(
        'not_authenticated',
        'Not signed in: sign in from the OpenID Connect panel.',
        { status: 401, details: { environment: env.name } }
      );
    }
    return session;
  }

  private _metadata(env: IBrowserEnvironment): Promise<IProviderMetadata> {
    let found = this._discovery.get(env.issuer);
    if (!found) {
      found = discover(env.issuer, this._fetch);
      this._discovery.set(env.issuer, found);
      found.catch(() => this._discovery.delete(env.issuer)); // retry on the next call
    }
    return found;
  }

  private _keys(metadata: IProviderMetadata): ReturnType<typeof remoteKeys> {
    let keys = this._jwks.get(metadata.jwks_uri);
    if (!keys) {
      keys = remoteKeys(metadata, this._fetch);
      this._jwks.set(metadata.jwks_uri, keys);
    }
    return keys;
  }

  private _info(s: ISessionRecord): ISessionInfo {
    const seconds = (ms: number) => Math.floor(ms / 1000);
    return {
      environment: s.environment,
      application: s.application,
      issuer: s.issuer,
      client_id: s.client_id,
      email: s.email,
      name: s.name,
      sub: s.sub,
      identity: s.identity,
      scope: s.scope,
      audience: s.audience,
      expires_at: seconds(s.expires_at),
      expires_in: Math.max(0, seconds(s.expires_at - this._now())),
      signed_in_at: seconds(s.signed_in_at),
      refreshed_at: seconds(s.refreshed_at),
      has_refresh_token: Boolean(s.refresh_token)
    };
  }

  private _bump(): void {
    this._revision += 1;
    for (const wake of this._waiters.splice(0)) {
      wake();
    }
  }

  /** Resolves on the next change, after `ms`, on abort, or when `also` settles. */
  private _changeOrTimeout(
    ms: number,
    signal?: AbortSignal,
    also?: Promise<unknown>
  ): Promise<void> {
    return new Promise(resolve => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done);
      if (!also) {
        this._waiters.push(done);
      }
      also?.then(done, done);
    });
  }

  private _ctx: IExchangeContext = {
    fetch: (i, o) => this._fetch(i, o),
    now: () => this._now(),
    keys: m => this._keys(m)
  };
  private _config: IBrowserConfig;
  private _fetch: typeof fetch;
  private _locks: ILocks;
  private _now: () => number;
  private _margin: number;
  private _settleMs: number;
  private _channel: IChannel;
  private _callbacks: IChannel;
  private _window: Pick<Window, 'addEventListener' | 'removeEventListener'> | null;
  private _callbackOrigin: string;
  private _disposed = false;
  private _revision = 0;
  private _waiters: Array<() => void> = [];
  private _sessions = new Map<string, ISessionRecord>();
  private _pending = new PendingSignIns();
  private _finished = new Map<string, Promise<string>>();
  private _timers = new Map<string, ReturnType<typeof setTimeout>>();
  private _discovery = new Map<string, Promise<IProviderMetadata>>();
  private _jwks = new Map<string, ReturnType<typeof remoteKeys>>();
}

/** The option types of `BrowserEngine`. */
export namespace BrowserEngine {
  export interface IOptions {
    config: IBrowserConfig;
    /** Default: the page's `fetch`. */
    fetch?: typeof fetch;
    /** Default: `navigator.locks`. */
    locks?: ILocks;
    /** Default: `BroadcastChannel`. */
    openChannel?: (name: string) => IChannel;
    /** Where the callback page posts (default: `window`). */
    window?: Pick<Window, 'addEventListener' | 'removeEventListener'> | null;
    /** The clock in ms (default `Date.now`). */
    now?: () => number;
    /** Refresh this many seconds before the access token expires (default 30). */
    refreshMarginSeconds?: number;
    /** How long a refresh holds the lock after announcing the rotation, in ms (default 100). */
    settleMs?: number;
  }
}
