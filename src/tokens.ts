/**
 * The service jupyterlab-oidc provides to other plugins: `IOidcSession`.
 *
 * It is the single source of truth of the frontend: environments, signed-in sessions,
 * pending sign-ins, countdowns, the last error, the user's preferences, and a getter for
 * fresh access tokens (which the kernel bridge uses to answer kernels).
 */
import { IObservableDisposable } from '@lumino/disposable';
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

import type {
  IEnvironmentInfo,
  ILogoutReply,
  IPendingInfo,
  IPreflightReport,
  IRawReply,
  ISessionInfo,
  ITarget,
  ITokenReply,
  SignInFlow
} from './api';
import type { ITokenCheckReport } from './tokencheck';
import type { OidcError } from './errors';
import type { OidcPreferences } from './preferences';

export type { ITokenCheckReport } from './tokencheck';
export type {
  IEnvironmentInfo,
  IPreflightReport,
  ILogoutReply,
  IPendingInfo,
  ISessionInfo,
  ITarget,
  ITokenReply,
  SignInFlow
} from './api';

/** The OpenID Connect sessions held by the jupyterlab-oidc server extension. */
export const IOidcSession = new Token<IOidcSession>(
  'jupyterlab-oidc:IOidcSession',
  'OpenID Connect sessions held by the jupyterlab-oidc server extension: state, sign-in and sign-out, and fresh access tokens (never the refresh token).'
);

/** The OpenID Connect sessions held by the jupyterlab-oidc server extension. */
export interface IOidcSession extends IObservableDisposable {
  /** Emitted whenever anything that views render changes (not on clock ticks). */
  readonly stateChanged: ISignal<IOidcSession, void>;
  /** Emitted when sessions appear, change (refresh, rotation) or end: push tokens on this. */
  readonly sessionsChanged: ISignal<IOidcSession, IOidcSession.ISessionsChange>;
  /** Emitted every second while a countdown runs, with the current time in ms. */
  readonly ticked: ISignal<IOidcSession, number>;

  readonly phase: IOidcSession.Phase;
  /** Configured environments. */
  readonly environments: ReadonlyArray<IEnvironmentInfo>;
  /** The server's default environment. */
  readonly defaultEnvironment: string;
  /** The environment forms select first: the user's setting, else the server's default. */
  readonly preferredEnvironment: string;
  /** Seconds a sign-in may take. */
  readonly callbackTimeout: number;
  readonly sessions: ReadonlyArray<IOidcSession.ISession>;
  /** Sign-ins waiting for the provider, from this panel or elsewhere (a notebook cell). */
  readonly pending: ReadonlyArray<IOidcSession.IPending>;
  /** The last error to show, or null. */
  readonly error: OidcError | null;
  /** A problem with the server's token store, or null. */
  readonly storeError: OidcError | null;
  /** What the last sign-out left to do (the provider's end-session link), or null. */
  readonly notice: IOidcSession.ISignOutNotice | null;
  /** The user's preferences (schema/plugin.json), live. */
  readonly preferences: OidcPreferences;

  /** Start following the server (idempotent; never awaits). */
  start(): void;
  /** Reload environments and status now. */
  refresh(): Promise<void>;
  /** Seconds until `expiresAt` (ms since epoch), from the model's clock. */
  secondsLeft(expiresAt: number): number;
  /** The session for `target`, or the preferred one; null when there is none. */
  findSession(target?: ITarget): IOidcSession.ISession | null;

  /** Start a sign-in and resolve with the session once the provider's callback is done. */
  signIn(options: IOidcSession.ISignInOptions): Promise<IOidcSession.ISession>;
  /** Cancel a pending sign-in (default: the one started here). */
  cancelSignIn(state?: string): Promise<void>;
  /** Sign out; the answer has the provider's end-session URL, if any. */
  signOut(target?: ITarget): Promise<ILogoutReply>;
  /** Refresh the access token now. */
  refreshSession(target?: ITarget): Promise<IOidcSession.ISession>;
  /** An access token valid for at least `minValid` seconds (default 60). */
  getToken(options?: IOidcSession.ITokenOptions): Promise<ITokenReply>;
  /**
   * Check the session's id_token step by step in the browser, with the server's leeway and
   * algorithms. Rejects when the token cannot be read (`invalid_id_token`: none was sent).
   */
  checkIdToken(target?: ITarget): Promise<ITokenCheckReport>;
  /** The server's configuration check of `environment` (`GET oidc/preflight`). */
  preflight(environment: string): Promise<IPreflightReport>;
  /**
   * Call a route under `oidc/` and answer its status and body as they came: what the
   * kernel bridge relays for a kernel.
   */
  relay(
    method: 'GET' | 'POST',
    path: string,
    body?: object,
    signal?: AbortSignal
  ): Promise<IRawReply>;

  /** Show `error` (a view's action failed); ignores `aborted`. */
  reportError(error: unknown): void;
  clearError(): void;
  clearNotice(): void;
}

/** The types of `IOidcSession`. */
export namespace IOidcSession {
  /** `checking` until the server first answers; `unavailable` while it does not. */
  export type Phase = 'checking' | 'ready' | 'unavailable';

  /** A session as the model keeps it; `expiresAt` is in ms on the browser's clock. */
  export interface ISession extends ISessionInfo {
    /** `environment` or `environment/application`, like the server's session key. */
    readonly key: string;
    readonly expiresAt: number;
  }

  /**
   * A pending sign-in. `url` is the page to open: the provider's for the one started here
   * (`own`), the server's start link for one started elsewhere; always http(s), else null.
   */
  export interface IPending extends IPendingInfo {
    readonly key: string;
    readonly expiresAt: number;
    readonly own: boolean;
    readonly url: string | null;
    /** Whether the sign-in window could be navigated (false: popup blocked; use `url`). */
    readonly windowOpened: boolean;
  }

  export interface ISignInOptions extends ITarget {
    /** The email of the account to sign in with (login_hint); enforced by the server. */
    loginHint: string;
    /**
     * A window opened synchronously in the click handler (`window.open('')`), which is
     * navigated to the provider once the URL is known; null when it was blocked.
     */
    window?: Window | null;
    /**
     * `device`: sign in with a code entered on any device (RFC 8628), for places the
     * provider's redirect cannot reach; the default is the environment's `flow`.
     */
    flow?: SignInFlow;
    /** `login` or `select_account` to sign in as someone else; `login` to re-authenticate. */
    prompt?: string;
    /** Seconds since the last authentication the provider may accept (OIDC `max_age`). */
    maxAge?: number;
  }

  export interface ITokenOptions extends ITarget {
    /** Seconds the token must stay valid (server default 60). */
    minValid?: number;
  }

  export interface ISignOutNotice {
    readonly environment: string;
    readonly application: string | null;
    /** Whether a session was signed out (false: there was none). */
    readonly signedOut: boolean;
    readonly endSessionUrl: string | null;
  }

  export interface ISessionsChange {
    readonly added: ReadonlyArray<ISession>;
    readonly updated: ReadonlyArray<ISession>;
    readonly removed: ReadonlyArray<ISession>;
  }
}
