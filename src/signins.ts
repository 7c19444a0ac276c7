/**
 * The sign-ins this tab starts: the provider window, the `await` loop, Cancel, and the
 * memory that keeps them this tab's own across a reload (`resume.ts`).
 *
 * The session model owns one; it holds no session, only what a pending sign-in needs.
 */
import { ILoginReply, IOidcAPI, IPendingInfo, ISessionInfo } from './api';
import { OidcError } from './errors';
import { SignInMemory } from './resume';
import { IOwnSignIn, IPendingEntry, startLink, toPending, unsafeUrl } from './sessions';
import { IOidcSession } from './tokens';
import { closeWindow, httpUrl, openExternal } from './urls';

/** The sign-ins of this tab. */
export class OwnSignIns {
  constructor(options: OwnSignIns.IOptions) {
    this._options = options;
    this._memory = options.memory ?? new SignInMemory();
  }

  /** Whether a sign-in of this tab waits. */
  get active(): boolean {
    return this._own !== null;
  }

  /** The pending sign-ins of the server with this tab's own marked (and added if not listed yet). */
  pending(entries: ReadonlyArray<IPendingEntry>): IOidcSession.IPending[] {
    const own = this._own;
    const list = entries.map(p => toPending(p, own));
    if (own && !list.some(p => p.state === own.info.state)) {
      list.push(toPending(own.info, own));
    }
    return list;
  }

  /**
   * Start a sign-in: `POST login`, navigate the window opened in the click handler, then
   * await its result. Rejects with the `OidcError` (`login_cancelled` when cancelled here).
   */
  async start(
    options: IOidcSession.ISignInOptions & { environment: string }
  ): Promise<ISessionInfo> {
    const { api } = this._options;
    const win = options.window ?? null;
    const loginHint = options.loginHint.trim();
    let reply: ILoginReply;
    try {
      reply = await api.login({
        environment: options.environment || undefined,
        application: options.application || undefined,
        login_hint: loginHint,
        ...(options.flow === 'device' ? { flow: 'device' as const } : {}),
        ...(options.prompt ? { prompt: options.prompt } : {}),
        ...(options.maxAge !== undefined ? { max_age: options.maxAge } : {})
      });
    } catch (error) {
      closeWindow(win);
      throw this._options.onError(error);
    }
    const info: IPendingInfo = {
      state: reply.state,
      environment: options.environment,
      application: options.application || null,
      login_hint: loginHint,
      expires_in: reply.expires_in,
      callback_received: false
    };
    let url: string;
    let windowOpened = false;
    if (reply.flow === 'device' || typeof reply.user_code === 'string') {
      // A device sign-in (RFC 8628): no provider page here; the panel shows the code to enter elsewhere.
      closeWindow(win);
      url =
        httpUrl(reply.verification_uri_complete)?.href ??
        httpUrl(reply.verification_uri)?.href ??
        '';
      Object.assign(info, Private.deviceFields(reply));
    } else {
      const opened = openExternal(win, reply.url);
      if (opened === 'refused') {
        // Never navigated: a javascript: URL would run in JupyterLab's origin.
        void api.cancel(reply.state).catch(() => undefined);
        throw this._options.onError(unsafeUrl('authorization'));
      }
      url = httpUrl(reply.url)!.href;
      windowOpened = opened === 'navigated';
    }
    this._memory.remember(reply.state, options.environment);
    this._own = { url, windowOpened, info, expiresAt: Date.now() + reply.expires_in * 1000 };
    this._options.changed();
    return this._await(reply.state);
  }

  /** The state to cancel (default: this tab's sign-in); remembered as cancelled here. */
  cancelling(state?: string): string | null {
    const target = state ?? this._own?.info.state ?? null;
    if (target) {
      this._cancelled.add(target);
      this._memory.forget(target);
    }
    return target;
  }

  /**
   * The server's pending sign-ins changed: forget those it no longer waits for; after a
   * reload, make a remembered one this tab's own again (its start link, its result awaited).
   */
  update(entries: ReadonlyArray<IPendingEntry>): void {
    this._memory.keepOnly(entries.map(p => p.state));
    if (this._own) {
      return;
    }
    const entry = entries.find(p => this._memory.has(p.state));
    // A device sign-in has no start link: its card shows the code (`url` only for the link).
    const url = entry
      ? (startLink(entry) ?? (typeof entry.user_code === 'string' ? '' : null))
      : null;
    if (entry && url !== null) {
      this._own = { url, windowOpened: true, info: { ...entry }, expiresAt: entry.expiresAt };
      void this._await(entry.state).then(
        info => this._options.onSignedIn(info),
        () => undefined
      );
    }
  }

  private async _await(state: string): Promise<ISessionInfo> {
    for (;;) {
      let reply;
      try {
        reply = await this._options.api.awaitLogin(
          state,
          this._options.awaitSeconds,
          this._options.signal
        );
      } catch (error) {
        const e = OidcError.from(error);
        // A request cut off (the page reloading, the server away) leaves the sign-in to resume.
        this._end(state, !Private.NO_ANSWER.includes(e.code));
        if (e.code === 'login_cancelled' && this._cancelled.has(state)) {
          this._options.changed(); // cancelled here: nothing to report
          throw e;
        }
        throw this._options.onError(e);
      }
      if (reply.status === 'signed_in') {
        this._end(state, true);
        return reply.session;
      }
    }
  }

  private _end(state: string, forget: boolean): void {
    if (this._own?.info.state === state) {
      this._own = null;
    }
    if (forget) {
      this._memory.forget(state);
    }
    this._options.ended(state);
  }

  private _options: OwnSignIns.IOptions;
  private _memory: SignInMemory;
  private _own: IOwnSignIn | null = null;
  private _cancelled = new Set<string>();
}

/** The option types of `OwnSignIns`. */
export namespace OwnSignIns {
  export interface IOptions {
    api: Pick<IOidcAPI, 'login' | 'awaitLogin' | 'cancel'>;
    signal: AbortSignal;
    /** Seconds one `await` request may wait. */
    awaitSeconds: number;
    memory?: SignInMemory;
    /** Record an error for the views; answers it as an `OidcError`. */
    onError: (error: unknown) => OidcError;
    /** A resumed sign-in finished. */
    onSignedIn: (info: ISessionInfo) => void;
    /** A sign-in ended (the server no longer waits for it). */
    ended: (state: string) => void;
    /** Something views render changed. */
    changed: () => void;
  }
}

namespace Private {
  /** What a device sign-in's card shows, from `POST login`'s answer (never a device code). */
  export function deviceFields(reply: ILoginReply): Partial<IPendingInfo> {
    const {
      flow,
      user_code,
      verification_uri,
      verification_uri_complete,
      interval,
      client_id,
      display_name
    } = reply;
    return {
      flow: flow ?? 'device',
      user_code,
      verification_uri,
      verification_uri_complete,
      interval,
      client_id,
      display_name
    };
  }

  /** Codes of a request that got no answer. */
  export const NO_ANSWER: ReadonlyArray<string> = ['network_error', 'aborted'];
}
