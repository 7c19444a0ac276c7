/**
 * The session model: the one source of truth the panel, the status bar, the commands and
 * (later) the kernel bridge render or use.
 *
 * It follows the server with a long poll on `GET status?after=<revision>`, so sign-ins
 * started in a notebook cell, background refreshes and sign-outs in another tab show up
 * within about a second. A one-second clock (`ticked`) runs while something counts down;
 * only countdowns listen to it.
 *
 * It is the only owner of the REST client: views and the kernel bridge go through it
 * (`checkIdToken`, `preflight`, `relay`).
 */
import { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import {
  IEnvironmentInfo,
  IEnvironmentsReply,
  ILogoutReply,
  IOidcAPI,
  IPreflightReport,
  IRawReply,
  ISessionInfo,
  IStatusReply,
  ITarget,
  ITokenReply,
  OidcAPI
} from './api';
import { loadTranslation, OidcError } from './errors';
import { StatusFollower, Ticker } from './follower';
import { ModelErrors } from './modelerrors';
import { OidcPreferences } from './preferences';
import { SignInMemory } from './resume';
import {
  compareSessions,
  diffSessions,
  findSession,
  IPendingEntry,
  sessionKey,
  toSession,
  unsafeUrl
} from './sessions';
import { checkSessionToken } from './sessioncheck';
import { OwnSignIns } from './signins';
import type { ITokenCheckReport } from './tokencheck';
import { IOidcSession } from './tokens';
import { httpUrl } from './urls';

/** The session model of jupyterlab-oidc. */
export class OidcSessionModel implements IOidcSession {
  constructor(options: OidcSessionModel.IOptions = {}) {
    this._api = options.api ?? new OidcAPI();
    this.preferences = options.preferences ?? new OidcPreferences();
    this._signIns = new OwnSignIns({
      api: this._api,
      signal: this._abort.signal,
      awaitSeconds: options.awaitSeconds ?? 25,
      memory: options.memory,
      onError: error => this._errors.fail(error),
      onSignedIn: info => void this._upsertSession(info),
      ended: state => {
        this._pending = this._pending.filter(p => p.state !== state);
      },
      changed: () => this._emitState()
    });
    this._trans = loadTranslation(options.translator);
    this._follower = new StatusFollower({
      api: this._api,
      signal: this._abort.signal,
      pollTimeoutSeconds: options.pollTimeoutSeconds ?? 25,
      revision: () => this._revision,
      loadEnvironments: async () => {
        this._environments ??= await this._api.environments();
      },
      onStatus: status => {
        this._applyStatus(status);
        this._errors.clear('status');
      },
      onError: error => void this._errors.fail(error, 'status')
    });
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
    return this._signIns.pending(this._pending);
  }

  get error(): OidcError | null {
    return this._errors.error;
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
    this._follower.start();
  }

  async refresh(): Promise<void> {
    try {
      const environments = await this._api.environments();
      this._environments = environments;
      this._applyStatus(await this._api.status({ signal: this._abort.signal }));
      this._errors.clear('status');
    } catch (error) {
      throw this._errors.fail(error, 'status');
    }
  }

  secondsLeft(expiresAt: number): number {
    return (expiresAt - Date.now()) / 1000;
  }

  findSession(target: ITarget = {}): IOidcSession.ISession | null {
    return findSession(this._sessions, target, this.preferredEnvironment);
  }

  async signIn(options: IOidcSession.ISignInOptions): Promise<IOidcSession.ISession> {
    this._errors.clear();
    this._notice = null;
    const environment = options.environment || this.preferredEnvironment;
    const flow = options.flow ?? this.environments.find(env => env.name === environment)?.flow;
    const started = this._signIns.start({ ...options, environment, flow });
    void started.then(
      () => this.preferences.setLastEmail(options.loginHint.trim()).catch(() => undefined),
      () => undefined
    );
    return this._upsertSession(await started);
  }

  async cancelSignIn(state?: string): Promise<void> {
    const target = this._signIns.cancelling(state);
    if (!target) {
      return;
    }
    try {
      await this._api.cancel(target);
    } catch (error) {
      const e = OidcError.from(error);
      if (e.code !== 'state_mismatch') {
        throw this._errors.fail(e);
      }
    }
    this._pending = this._pending.filter(p => p.state !== target);
    this._emitState();
  }

  async signOut(target: ITarget = {}): Promise<ILogoutReply> {
    const session = this.findSession(target);
    const environment = target.environment || session?.environment || this.preferredEnvironment;
    const application =
      target.application !== undefined
        ? target.application || null
        : (session?.application ?? null);
    this._errors.clear();
    let reply: ILogoutReply;
    try {
      reply = await this._api.logout({ environment, application: application ?? undefined });
    } catch (error) {
      throw this._errors.fail(error);
    }
    const endSessionUrl = httpUrl(reply.end_session_url)?.href ?? null;
    if (reply.end_session_url && !endSessionUrl) {
      this._errors.set(unsafeUrl('end_session'), 'action');
    }
    this._notice = { environment, application, signedOut: reply.signed_out, endSessionUrl };
    this._setSessions(this._sessions.filter(s => s.key !== sessionKey(environment, application)));
    return { ...reply, end_session_url: endSessionUrl };
  }

  async refreshSession(target: ITarget = {}): Promise<IOidcSession.ISession> {
    const session = this.findSession(target);
    this._errors.clear();
    try {
      const info = await this._api.refresh({
        environment: target.environment || session?.environment,
        application: target.application ?? session?.application ?? undefined
      });
      return this._upsertSession(info);
    } catch (error) {
      throw this._errors.fail(error);
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

  async checkIdToken(target: ITarget = {}): Promise<ITokenCheckReport> {
    return checkSessionToken({
      session: this.findSession(target),
      getToken: options => this.getToken(options),
      fetchJwks: environment => this._api.jwks(environment),
      trans: this._trans
    });
  }

  async preflight(environment: string): Promise<IPreflightReport> {
    if (!this._api.preflight) {
      throw new OidcError('http_error', 'This engine has no configuration check.', { status: 404 });
    }
    return this._api.preflight(environment);
  }

  relay(
    method: 'GET' | 'POST',
    path: string,
    body?: object,
    signal?: AbortSignal
  ): Promise<IRawReply> {
    return this._api.relay(method, path, body, signal);
  }

  reportError(error: unknown): void {
    this._errors.report(error);
  }

  clearError(): void {
    this._errors.clear();
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
    this._ticker.stop();
    this._follower.dispose();
    this.preferences.changed.disconnect(this._emitState, this);
    this._disposed.emit();
    Signal.clearData(this);
  }

  private _applyStatus(status: IStatusReply): void {
    this._revision = status.revision;
    this._serverDefault = status.default_environment;
    this._phase = 'ready';
    this._storeError = status.store_error ? OidcError.fromResponse(500, status.store_error) : null;
    const now = Date.now();
    this._pending = status.pending.map(p => ({ ...p, expiresAt: now + p.expires_in * 1000 }));
    this._signIns.update(this._pending);
    this._setSessions(status.sessions.map(s => toSession(s, now)));
  }

  private _upsertSession(info: ISessionInfo): IOidcSession.ISession {
    const session = toSession(info, Date.now());
    const others = this._sessions.filter(s => s.key !== session.key);
    this._setSessions([...others, session].sort(compareSessions));
    return session;
  }

  /** Replace the sessions, announce what changed, and re-render. */
  private _setSessions(sessions: IOidcSession.ISession[]): void {
    const change = diffSessions(this._sessions, sessions);
    this._sessions = sessions.sort(compareSessions);
    if (change.added.length || change.removed.length || change.updated.length) {
      this._sessionsChanged.emit(change);
    }
    this._emitState();
  }

  private _emitState(): void {
    if (this._isDisposed) {
      return;
    }
    this._ticker.sync(
      this._sessions.length > 0 || this._pending.length > 0 || this._signIns.active
    );
    this._stateChanged.emit();
  }

  private _api: IOidcAPI;
  private _abort = new AbortController();
  private _following = false;
  private _isDisposed = false;
  private _phase: IOidcSession.Phase = 'checking';
  private _revision = -1;
  private _serverDefault = '';
  private _environments: IEnvironmentsReply | null = null;
  private _sessions: IOidcSession.ISession[] = [];
  private _pending: IPendingEntry[] = [];
  private _signIns: OwnSignIns;
  private _trans: TranslationBundle;
  private _errors = new ModelErrors({
    changed: () => this._emitState(),
    isDisposed: () => this._isDisposed,
    unavailable: () => (this._phase = 'unavailable')
  });
  private _storeError: OidcError | null = null;
  private _notice: IOidcSession.ISignOutNotice | null = null;
  private _ticker = new Ticker(now => this._ticked.emit(now));
  private _follower: StatusFollower;
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
    /** This tab's own sign-ins across reloads (default: in `sessionStorage`). */
    memory?: SignInMemory;
    /** Translations of the token check's report. */
    translator?: ITranslator | null;
  }
}
