/**
 * The session model: the one source of truth the panel, the status bar, the commands and
 * (later) the kernel bridge render or use.
 *
 * It follows the server with a long poll on `GET status?after=<revision>`, so sign-ins
 * started in a notebook cell, background refreshes and sign-outs in another tab show up
 * within about a second. A one-second clock runs while something counts down.
 */
import { ISignal, Signal } from '@lumino/signaling';

import {
  IEnvironmentInfo,
  IEnvironmentsReply,
  ILogoutReply,
  IOidcAPI,
  IPendingInfo,
  ISessionInfo,
  IStatusReply,
  ITarget,
  ITokenReply,
  OidcAPI
} from './api';
import { OidcError } from './errors';
import { OidcPreferences } from './preferences';
import { IOidcSession } from './tokens';
import { closeWindow, httpUrl, openExternal } from './urls';

/** The session model of jupyterlab-oidc. */
export class OidcSessionModel implements IOidcSession {
  constructor(options: OidcSessionModel.IOptions = {}) {
    this._api = options.api ?? new OidcAPI();
    this.preferences = options.preferences ?? new OidcPreferences();
    this._pollTimeoutSeconds = options.pollTimeoutSeconds ?? 25;
    this._awaitSeconds = options.awaitSeconds ?? 25;
    this.preferences.changed.connect(this._emitState, this);
  }

  readonly preferences: OidcPreferences;

  get stateChanged(): ISignal<this, void> {
    return this._stateChanged;
  }

  get sessionsChanged(): ISignal<this, IOidcSession.ISessionsChange> {
    return this._sessionsChanged;
  }

  get ticked(): ISignal<this, number> {
    return this._ticked;
  }

  /** Emitted once, when the model is disposed. */
  get disposed(): ISignal<this, void> {
    return this._disposed;
  }

  get phase(): IOidcSession.Phase {
    return this._phase;
  }

  get environments(): ReadonlyArray<IEnvironmentInfo> {
    return this._environments?.environments ?? [];
  }

  get defaultEnvironment(): string {
    return this._environments?.default_environment ?? this._serverDefault;
  }

  get preferredEnvironment(): string {
    const names = this.environments.map(env => env.name);
    for (const name of [this.preferences.defaultEnvironment, this.defaultEnvironment]) {
      if (name && names.includes(name)) {
        return name;
      }
    }
    return names[0] ?? this.defaultEnvironment;
  }

  get callbackTimeout(): number {
    return this._environments?.callback_timeout ?? 300;
  }

  get sessions(): ReadonlyArray<IOidcSession.ISession> {
    return this._sessions;
  }

  get pending(): ReadonlyArray<IOidcSession.IPending> {
    const own = this._own;
    const list = this._pending.map(p => Private.pending(p, own));
    if (own && !list.some(p => p.state === own.info.state)) {
      list.push(Private.pending(own.info, own));
    }
    return list;
  }

  get error(): OidcError | null {
    return this._error?.error ?? null;
  }

  get storeError(): OidcError | null {
    return this._storeError;
  }

  get notice(): IOidcSession.ISignOutNotice | null {
    return this._notice;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  start(): void {
    if (this._following || this._isDisposed) {
      return;
    }
    this._following = true;
    void this._follow();
  }

  async refresh(): Promise<void> {
    try {
      const environments = await this._api.environments();
      this._environments = environments;
      this._applyStatus(await this._api.status({ signal: this._abort.signal }));
      this._clearError('status');
    } catch (error) {
      throw this._fail(error, 'status');
    }
  }

  secondsLeft(expiresAt: number): number {
    return (expiresAt - Date.now()) / 1000;
  }

  findSession(target: ITarget = {}): IOidcSession.ISession | null {
    const sessions = this._sessions;
    if (target.environment) {
      const matches = sessions.filter(s => s.environment === target.environment);
      if (target.application !== undefined) {
        return matches.find(s => (s.application ?? null) === (target.application || null)) ?? null;
      }
      return matches.find(s => !s.application) ?? matches[0] ?? null;
    }
    const preferred = this.preferredEnvironment;
    return sessions.find(s => s.environment === preferred && !s.application) ?? sessions[0] ?? null;
  }

  async signIn(options: IOidcSession.ISignInOptions): Promise<IOidcSession.ISession> {
    const win = options.window ?? null;
    const loginHint = options.loginHint.trim();
    this._clearError();
    this._notice = null;
    let reply;
    try {
      reply = await this._api.login({
        environment: options.environment || undefined,
        application: options.application || undefined,
        login_hint: loginHint
      });
    } catch (error) {
      closeWindow(win);
      throw this._fail(error);
    }
    const opened = openExternal(win, reply.url);
    if (opened === 'refused') {
      // Never navigated: a javascript: URL would run in JupyterLab's origin.
      void this._api.cancel(reply.state).catch(() => undefined);
      throw this._fail(Private.unsafeUrl('authorization'));
    }
    void this.preferences.setLastEmail(loginHint).catch(() => undefined);
    this._own = {
      url: httpUrl(reply.url)!.href,
      windowOpened: opened === 'navigated',
      info: {
        state: reply.state,
        environment: options.environment || this.preferredEnvironment,
        application: options.application || null,
        login_hint: loginHint,
        expires_in: reply.expires_in,
        callback_received: false
      },
      expiresAt: Date.now() + reply.expires_in * 1000
    };
    this._emitState();
    return this._awaitSignIn(reply.state);
  }

  async cancelSignIn(state?: string): Promise<void> {
    const target = state ?? this._own?.info.state;
    if (!target) {
      return;
    }
    this._cancelled.add(target);
    try {
      await this._api.cancel(target);
    } catch (error) {
      const e = OidcError.from(error);
      if (e.code !== 'state_mismatch') {
        throw this._fail(e);
      }
    }
    this._pending = this._pending.filter(p => p.state !== target);
    this._emitState();
  }

  async signOut(target: ITarget = {}): Promise<ILogoutReply> {
    const session = this.findSession(target);
    const environment = target.environment || session?.environment || this.preferredEnvironment;
    const application = target.application !== undefined ? target.application || null : session?.application ?? null;
    this._clearError();
    let reply: ILogoutReply;
    try {
      reply = await this._api.logout({ environment, application: application ?? undefined });
    } catch (error) {
      throw this._fail(error);
    }
    const endSessionUrl = httpUrl(reply.end_session_url)?.href ?? null;
    if (reply.end_session_url && !endSessionUrl) {
      this._error = { error: Private.unsafeUrl('end_session'), source: 'action' };
    }
    this._notice = { environment, application, signedOut: reply.signed_out, endSessionUrl };
    this._setSessions(this._sessions.filter(s => s.key !== Private.key(environment, application)));
    return { ...reply, end_session_url: endSessionUrl };
  }

  async refreshSession(target: ITarget = {}): Promise<IOidcSession.ISession> {
    const session = this.findSession(target);
    this._clearError();
    try {
      const info = await this._api.refresh({
        environment: target.environment || session?.environment,
        application: target.application ?? session?.application ?? undefined
      });
      return this._upsertSession(info);
    } catch (error) {
      throw this._fail(error);
    }
  }

  async getToken(options: IOidcSession.ITokenOptions = {}): Promise<ITokenReply> {
    const session = options.environment ? null : this.findSession();
    const reply = await this._api.token({
      environment: options.environment || session?.environment,
      application: options.application ?? session?.application ?? undefined,
      min_valid: options.minValid
    });
    this._upsertSession(reply);
    return reply;
  }

  reportError(error: unknown): void {
    const e = OidcError.from(error);
    if (e.code !== 'aborted') {
      this._error = { error: e, source: 'action' };
      this._emitState();
    }
  }

  clearError(): void {
    if (this._error) {
      this._error = null;
      this._emitState();
    }
  }

  clearNotice(): void {
    if (this._notice) {
      this._notice = null;
      this._emitState();
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._abort.abort();
    this._stopClock();
    for (const timer of this._sleepers) {
      clearTimeout(timer);
    }
    this._sleepers.clear();
    this.preferences.changed.disconnect(this._emitState, this);
    this._disposed.emit();
    Signal.clearData(this);
  }

  /** Follow the server: long polls, with backoff while it does not answer. */
  private async _follow(): Promise<void> {
    let failures = 0;
    while (!this._isDisposed) {
      const started = Date.now();
      try {
        if (this._environments === null) {
          this._environments = await this._api.environments();
        }
        const before = this._revision;
        const status = await this._api.status(
          before < 0
            ? { signal: this._abort.signal }
            : { after: before, timeoutSeconds: this._pollTimeoutSeconds, signal: this._abort.signal }
        );
        if (this._isDisposed) {
          return;
        }
        failures = 0;
        this._applyStatus(status);
        this._clearError('status');
        if (status.revision === before && Date.now() - started < Private.MIN_POLL_MS) {
          await this._sleep(Private.MIN_POLL_MS); // a server that answers without waiting
        }
      } catch (error) {
        if (this._isDisposed) {
          return;
        }
        failures += 1;
        this._fail(error, 'status');
        await this._sleep(Math.min(Private.MAX_RETRY_MS, 1000 * 2 ** Math.min(failures - 1, 5)));
      }
    }
  }

  private async _awaitSignIn(state: string): Promise<IOidcSession.ISession> {
    for (;;) {
      let reply;
      try {
        reply = await this._api.awaitLogin(state, this._awaitSeconds, this._abort.signal);
      } catch (error) {
        this._endPending(state);
        const e = OidcError.from(error);
        if (e.code === 'login_cancelled' && this._cancelled.has(state)) {
          this._emitState(); // cancelled here: nothing to report
          throw e;
        }
        throw this._fail(e);
      }
      if (reply.status === 'signed_in') {
        this._endPending(state);
        return this._upsertSession(reply.session);
      }
    }
  }

  private _endPending(state: string): void {
    if (this._own?.info.state === state) {
      this._own = null;
    }
    this._pending = this._pending.filter(p => p.state !== state);
  }

  private _applyStatus(status: IStatusReply): void {
    this._revision = status.revision;
    this._serverDefault = status.default_environment;
    this._phase = 'ready';
    this._storeError = status.store_error
      ? OidcError.fromResponse(500, status.store_error)
      : null;
    const now = Date.now();
    this._pending = status.pending.map(p => ({ ...p, expiresAt: now + p.expires_in * 1000 }));
    this._setSessions(status.sessions.map(s => Private.session(s, now)));
  }

  private _upsertSession(info: ISessionInfo): IOidcSession.ISession {
    const session = Private.session(info, Date.now());
    const others = this._sessions.filter(s => s.key !== session.key);
    this._setSessions([...others, session].sort(Private.compareSessions));
    return session;
  }

  /** Replace the sessions, announce what changed, and re-render. */
  private _setSessions(sessions: IOidcSession.ISession[]): void {
    const old = new Map(this._sessions.map(s => [s.key, s]));
    const now = new Map(sessions.map(s => [s.key, s]));
    const added = sessions.filter(s => !old.has(s.key));
    const removed = this._sessions.filter(s => !now.has(s.key));
    const updated = sessions.filter(s => {
      const before = old.get(s.key);
      return before !== undefined && Private.differs(before, s);
    });
    this._sessions = sessions.sort(Private.compareSessions);
    if (added.length || removed.length || updated.length) {
      this._sessionsChanged.emit({ added, updated, removed });
    }
    this._emitState();
  }

  /** Record `error` for the views (unless aborted) and answer it as an `OidcError`. */
  private _fail(error: unknown, source: Private.ErrorSource = 'action'): OidcError {
    const e = OidcError.from(error);
    if (e.code === 'aborted' || this._isDisposed) {
      return e;
    }
    if (source === 'status') {
      this._phase = 'unavailable';
      if (this._error?.source === 'action') {
        this._emitState();
        return e; // keep showing what the user did last
      }
    }
    this._error = { error: e, source };
    this._emitState();
    return e;
  }

  private _clearError(source?: Private.ErrorSource): void {
    if (this._error && (source === undefined || this._error.source === source)) {
      this._error = null;
      this._emitState();
    }
  }

  private _emitState(): void {
    if (this._isDisposed) {
      return;
    }
    this._syncClock();
    this._stateChanged.emit();
  }

  private _syncClock(): void {
    const needed = this._sessions.length > 0 || this._pending.length > 0 || this._own !== null;
    if (needed && this._clock === null) {
      this._clock = setInterval(() => this._ticked.emit(Date.now()), 1000);
    } else if (!needed) {
      this._stopClock();
    }
  }

  private _stopClock(): void {
    if (this._clock !== null) {
      clearInterval(this._clock);
      this._clock = null;
    }
  }

  private _sleep(ms: number): Promise<void> {
    return new Promise(resolve => {
      const timer = setTimeout(() => {
        this._sleepers.delete(timer);
        resolve();
      }, ms);
      this._sleepers.add(timer);
    });
  }

  private _api: IOidcAPI;
  private _pollTimeoutSeconds: number;
  private _awaitSeconds: number;
  private _abort = new AbortController();
  private _following = false;
  private _isDisposed = false;
  private _phase: IOidcSession.Phase = 'checking';
  private _revision = -1;
  private _serverDefault = '';
  private _environments: IEnvironmentsReply | null = null;
  private _sessions: IOidcSession.ISession[] = [];
  private _pending: Private.IPendingEntry[] = [];
  private _own: Private.IOwnSignIn | null = null;
  private _cancelled = new Set<string>();
  private _error: { error: OidcError; source: Private.ErrorSource } | null = null;
  private _storeError: OidcError | null = null;
  private _notice: IOidcSession.ISignOutNotice | null = null;
  private _clock: ReturnType<typeof setInterval> | null = null;
  private _sleepers = new Set<ReturnType<typeof setTimeout>>();
  private _stateChanged = new Signal<this, void>(this);
  private _sessionsChanged = new Signal<this, IOidcSession.ISessionsChange>(this);
  private _ticked = new Signal<this, number>(this);
  private _disposed = new Signal<this, void>(this);
}

/** The option types of `OidcSessionModel`. */
export namespace OidcSessionModel {
  export interface IOptions {
    /** The REST client (default: `new OidcAPI()`). */
    api?: IOidcAPI;
    /** The user's preferences (default: schema defaults). */
    preferences?: OidcPreferences;
    /** How long the server may hold a status long poll, in seconds (default 25). */
    pollTimeoutSeconds?: number;
    /** How long one `await` request may wait for a sign-in, in seconds (default 25). */
    awaitSeconds?: number;
  }
}

namespace Private {
  /** A long poll answered faster than this without a change waits this long. */
  export const MIN_POLL_MS = 1000;
  export const MAX_RETRY_MS = 30000;

  export type ErrorSource = 'status' | 'action';

  export interface IPendingEntry extends IPendingInfo {
    expiresAt: number;
  }

  export interface IOwnSignIn {
    url: string;
    windowOpened: boolean;
    info: IPendingInfo;
    expiresAt: number;
  }

  export function key(environment: string, application: string | null | undefined): string {
    return application ? `${environment}/${application}` : environment;
  }

  /** Only the fields of a session: a token reply's tokens are never kept. */
  export function session(info: ISessionInfo, now: number): IOidcSession.ISession {
    return {
      key: key(info.environment, info.application),
      expiresAt: now + info.expires_in * 1000,
      environment: info.environment,
      application: info.application ?? null,
      issuer: info.issuer,
      client_id: info.client_id,
      email: info.email,
      name: info.name,
      sub: info.sub,
      identity: info.identity ?? {},
      scope: info.scope,
      audience: info.audience ?? [],
      expires_at: info.expires_at,
      expires_in: info.expires_in,
      signed_in_at: info.signed_in_at,
      refreshed_at: info.refreshed_at,
      has_refresh_token: info.has_refresh_token
    };
  }

  export function pending(
    info: IPendingInfo & { expiresAt?: number },
    own: IOwnSignIn | null
  ): IOidcSession.IPending {
    const mine = own !== null && own.info.state === info.state;
    return {
      ...info,
      key: key(info.environment, info.application),
      expiresAt: info.expiresAt ?? own?.expiresAt ?? Date.now() + info.expires_in * 1000,
      own: mine,
      // Started elsewhere (a kernel cell, the CLI, before a reload): its start link binds this browser.
      url: mine ? own.url : httpUrl(info.start_url)?.href ?? null,
      windowOpened: mine ? own.windowOpened : false
    };
  }

  export function differs(a: IOidcSession.ISession, b: IOidcSession.ISession): boolean {
    return (
      a.expires_at !== b.expires_at ||
      a.refreshed_at !== b.refreshed_at ||
      a.signed_in_at !== b.signed_in_at ||
      a.email !== b.email ||
      a.sub !== b.sub
    );
  }

  export function compareSessions(a: IOidcSession.ISession, b: IOidcSession.ISession): number {
    return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  }

  /** A server-provided address that is not http(s): refused, never navigated. */
  export function unsafeUrl(kind: 'authorization' | 'start' | 'end_session'): OidcError {
    return new OidcError('unsafe_url', `The ${kind} URL the server sent is not an http(s) URL; it was not opened.`, {
      details: { url_kind: kind }
    });
  }
}
