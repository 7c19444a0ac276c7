/**
 * Refresh scheduling of the browser engine: every tab sets a timer `margin` seconds before
 * a session's access token expires, and the refresh runs once across tabs — under the
 * session's Web Lock, and only if no other tab (or call) refreshed it meanwhile.
 */
import { OidcError } from '../../errors';
import type { IBrowserEnvironment } from './config';
import type { ILocks, ISessionRecord } from './tabs';

/** A refresh timer per session. */
export class RefreshTimers {
  constructor(options: RefreshTimers.IOptions) {
    this._options = options;
  }

  /** Refresh `margin` seconds before expiry (every tab sets the timer; the lock lets one act). */
  schedule(record: ISessionRecord): void {
    clearTimeout(this._timers.get(record.key));
    if (!record.refresh_token || this._options.isDisposed()) {
      return;
    }
    const margin = this._options.margin;
    const delay = Math.max(1000, record.expires_at - this._options.now() - margin * 1000);
    this._timers.set(
      record.key,
      setTimeout(() => {
        void this._options.refresh(record.key, margin).catch(() => undefined);
      }, delay)
    );
  }

  cancel(key: string): void {
    clearTimeout(this._timers.get(key));
    this._timers.delete(key);
  }

  clear(): void {
    for (const timer of this._timers.values()) {
      clearTimeout(timer);
    }
    this._timers.clear();
  }

  private _options: RefreshTimers.IOptions;
  private _timers = new Map<string, ReturnType<typeof setTimeout>>();
}

/** The option types of `RefreshTimers`. */
export namespace RefreshTimers {
  export interface IOptions {
    /** The clock in ms. */
    now: () => number;
    /** Refresh this many seconds before the access token expires. */
    margin: number;
    /** Refresh the session `key` if it is valid less than `minValid` seconds. */
    refresh: (key: string, minValid: number) => Promise<unknown>;
    isDisposed: () => boolean;
  }
}

/** What `refreshOnce` works with: the engine's sessions, lock, clock and provider. */
export interface IRefreshContext {
  locks: ILocks;
  /** The origin of the redirect URI (part of the lock's name). */
  origin: string;
  sessions: Map<string, ISessionRecord>;
  now: () => number;
  /** How long a refresh holds the lock after announcing the rotation, in ms. */
  settleMs: number;
  environment: (name: string) => IBrowserEnvironment;
  /** The refresh grant itself. */
  renew: (env: IBrowserEnvironment, session: ISessionRecord) => Promise<ISessionRecord>;
  /** Keep the rotated record and announce it. */
  store: (record: ISessionRecord) => void;
  /** End the session `key` and announce it. */
  forget: (key: string) => void;
}

/**
 * Refresh `key` once across tabs: under the session's Web Lock, and only if no other tab
 * (or call) refreshed it meanwhile — `minValid`: still valid that long; `after`: the
 * generation the caller saw.
 */
export function refreshOnce(
  ctx: IRefreshContext,
  key: string,
  when: { minValid?: number; after?: number }
): Promise<ISessionRecord> {
  return ctx.locks.request(`jupyterlab-oidc-refresh:${ctx.origin}:${key}`, async () => {
    const session = ctx.sessions.get(key);
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
        : session.expires_at - ctx.now() > (when.minValid ?? 0) * 1000;
    if (fresh) {
      return session;
    }
    const env = ctx.environment(session.environment);
    let next: ISessionRecord;
    try {
      next = await ctx.renew(env, session);
    } catch (error) {
      const newer = ctx.sessions.get(key);
      if (newer && newer.generation > session.generation) {
        return newer; // another tab rotated the token meanwhile: its answer counts
      }
      if (OidcError.from(error).details.ended) {
        ctx.forget(key);
      }
      throw error;
    }
    ctx.store(next);
    // Hold the lock until the other tabs have the rotated token (the channel is async).
    await new Promise(resolve => setTimeout(resolve, ctx.settleMs));
    return next;
  });
}
