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
import { Changes } from './changes';
import { findEnvironment, IBrowserConfig, IBrowserEnvironment } from './config';
import type { IProviderMetadata } from './discovery';
import { endSessionUrl, revoke } from './endpoints';
import { completeSignIn, IExchangeContext, refreshSession, sessionKey } from './exchange';
import { preflight } from './preflight';
import { ProviderCache } from './providers';
import { IRefreshContext, RefreshTimers, refreshOnce } from './refresh';
import { relay } from './relay';
import { callbackMessage, ICallbackMessage, PendingSignIns } from './signin';
import { environmentsReply, pendingInfo, sessionInfo } from './status';
import { TabSessions } from './sync';
import {
  CALLBACK_CHANNEL,
  defaultLocks,
  IChannel,
  ILocks,
  ISessionRecord,
  openChannel,
  SESSIONS_CHANNEL
} from './tabs';

/** The browser engine. */
export class BrowserEngine implements IDisposableSessionEngine {
  readonly kind = 'browser' as const;

  constructor(options: BrowserEngine.IOptions) {
    this._config = options.config;
    this._fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this._providers = new ProviderCache(this._fetch);
    this._locks = options.locks ?? defaultLocks();
    this._now = options.now ?? (() => Date.now());
    this._margin = options.refreshMarginSeconds ?? 30;
    this._settleMs = options.settleMs ?? 100;
    this._tabs = new TabSessions({
      channel: (options.openChannel ?? openChannel)(SESSIONS_CHANNEL),
      sessions: this._sessions,
      knows: environment => this._config.environments.some(env => env.name === environment),
      stored: record => this._timers.schedule(record),
      forgotten: key => this._timers.cancel(key),
      changed: () => this._changes.bump(),
      isDisposed: () => this._disposed
    });
    this._timers = new RefreshTimers({
      now: () => this._now(),
      margin: this._margin,
      refresh: (key, minValid) => this._refresh(key, { minValid }),
      isDisposed: () => this._disposed
    });
    this._callbacks = (options.openChannel ?? openChannel)(CALLBACK_CHANNEL);
    this._window = options.window ?? (typeof window !== 'undefined' ? window : null);
    this._callbackOrigin = new URL(this._config.redirect_uri).origin;
    this._callbacks.addEventListener('message', this._onCallbackChannel);
    this._window?.addEventListener('message', this._onWindowMessage);
    this._tabs.hello();
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  async environments(): Promise<IEnvironmentsReply> {
    return environmentsReply(this._config);
  }

  async status(options: OidcAPI.IStatusOptions = {}): Promise<IStatusReply> {
    if (options.after !== undefined && options.after >= this._changes.revision) {
      await this._changes.changeOrTimeout((options.timeoutSeconds ?? 25) * 1000, options.signal);
    }
    return {
      revision: this._changes.revision,
      default_environment: this._config.default_environment,
      sessions: [...this._sessions.values()].map(s => sessionInfo(s, this._now())),
      pending: pendingInfo(this._pending.list(), this._now()),
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
    const metadata = await this._providers.metadata(env);
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
      () => this._changes.bump()
    );
    this._changes.bump();
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
      this._changes
        .changeOrTimeout((waitSeconds ?? this._config.callback_timeout) * 1000, signal, done)
        .then(() => null)
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
    return { status: 'signed_in', session: sessionInfo(session, this._now()) };
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
    this._changes.bump();
  }

  async token(body: ITarget & { min_valid?: number } = {}): Promise<ITokenReply> {
    const session = await this._refresh(this._find(body).key, {
      minValid: body.min_valid ?? this._margin
    });
    return {
      ...sessionInfo(session, this._now()),
      access_token: session.access_token,
      id_token: session.id_token,
      token_type: session.token_type
    };
  }

  async refresh(body: ITarget = {}): Promise<ISessionInfo> {
    const session = this._find(body);
    return sessionInfo(
      await this._refresh(session.key, { after: session.generation }),
      this._now()
    );
  }

  async logout(body: ITarget = {}): Promise<ILogoutReply> {
    const env = this._environment(body.environment);
    const key = sessionKey(env.name, body.application || null);
    const session = this._sessions.get(key);
    this._tabs.forget(key, true);
    let metadata: IProviderMetadata | null = null;
    try {
      metadata = await this._providers.metadata(env);
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
    return this._providers.jwks(this._environment(environment));
  }

  async preflight(environment: string): Promise<IPreflightReport> {
    const env = this._environment(environment);
    return preflight(
      env,
      this._config.redirect_uri,
      () => this._providers.metadata(env),
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
    this._timers.clear();
    this._tabs.dispose();
    this._callbacks.removeEventListener('message', this._onCallbackChannel);
    this._window?.removeEventListener('message', this._onWindowMessage);
    this._callbacks.close();
    this._changes.bump();
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
    this._changes.bump();
    void this._complete(message).then(
      key => {
        this._finished.set(message.state, entry.done);
        this._pending.end(message.state, key);
        this._changes.bump();
      },
      error => {
        this._finished.set(message.state, entry.done);
        this._pending.end(message.state, OidcError.from(error));
        this._changes.bump();
      }
    );
  }

  /** Code exchange, id_token and identity checks; stores the session only when all pass. */
  private async _complete(message: ICallbackMessage): Promise<string> {
    const entry = this._pending.get(message.state)!;
    const env = this._environment(entry.environment);
    const record = await completeSignIn(
      this._ctx,
      env,
      await this._providers.metadata(env),
      entry,
      message
    );
    this._tabs.store(record, true);
    return record.key;
  }

  /** Refresh `key` once across tabs (see `refreshOnce`). */
  private _refresh(
    key: string,
    when: { minValid?: number; after?: number }
  ): Promise<ISessionRecord> {
    const ctx: IRefreshContext = {
      locks: this._locks,
      origin: this._callbackOrigin,
      sessions: this._sessions,
      now: () => this._now(),
      settleMs: this._settleMs,
      environment: name => this._environment(name),
      renew: async (env, session) =>
        refreshSession(this._ctx, env, await this._providers.metadata(env), session),
      store: record => this._tabs.store(record, true),
      forget: key => this._tabs.forget(key, true)
    };
    return refreshOnce(ctx, key, when);
  }

  private _environment(name?: string | null): IBrowserEnvironment {
    return findEnvironment(this._config, name);
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

  private _ctx: IExchangeContext = {
    fetch: (i, o) => this._fetch(i, o),
    now: () => this._now(),
    keys: m => this._providers.keys(m)
  };
  private _config: IBrowserConfig;
  private _fetch: typeof fetch;
  private _providers: ProviderCache;
  private _locks: ILocks;
  private _now: () => number;
  private _margin: number;
  private _settleMs: number;
  private _tabs: TabSessions;
  private _timers: RefreshTimers;
  private _callbacks: IChannel;
  private _window: Pick<Window, 'addEventListener' | 'removeEventListener'> | null;
  private _callbackOrigin: string;
  private _disposed = false;
  private _changes = new Changes();
  private _sessions = new Map<string, ISessionRecord>();
  private _pending = new PendingSignIns();
  private _finished = new Map<string, Promise<string>>();
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
