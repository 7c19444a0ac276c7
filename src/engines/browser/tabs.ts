/**
 * Tabs of one site share their sessions in memory: a `BroadcastChannel` carries sign-ins,
 * rotations and sign-outs, and Web Locks (`navigator.locks`) make refreshes single flight —
 * two tabs never send the same refresh token (a rotating provider would see a replay).
 * Nothing is written to localStorage, IndexedDB or the settings: a new tab asks the open
 * ones; with none open, it starts signed out.
 */

/** The part of `BroadcastChannel` the engine uses (a stub implements it in tests). */
export interface IChannel {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  close(): void;
}

/** The part of `navigator.locks` the engine uses. */
export interface ILocks {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** The sessions channel's name. */
export const SESSIONS_CHANNEL = 'jupyterlab-oidc-sessions';
/** The callback page's channel (used when the callback window has no opener). */
export const CALLBACK_CHANNEL = 'jupyterlab-oidc-callback';
/** The message type the callback page posts. */
export const CALLBACK_MESSAGE = 'jupyterlab-oidc-callback';

/** A channel of this origin, or a no-op one where `BroadcastChannel` is missing. */
export function openChannel(name: string): IChannel {
  if (typeof BroadcastChannel !== 'undefined') {
    return new BroadcastChannel(name);
  }
  return {
    postMessage: () => undefined,
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
    close: () => undefined
  };
}

/** The browser's Web Locks, or an in-page mutex where they are missing (one tab only). */
export function defaultLocks(): ILocks {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (locks) {
    return { request: (name, callback) => locks.request(name, callback) };
  }
  return new LocalLocks();
}

/** An in-page mutex per name (also what tests share between two engines). */
export class LocalLocks implements ILocks {
  async request<T>(name: string, callback: () => Promise<T>): Promise<T> {
    const before = this._tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const tail = new Promise<void>(resolve => (release = resolve));
    const chained = before.then(() => tail);
    this._tails.set(name, chained);
    await before;
    try {
      return await callback();
    } finally {
      release();
      if (this._tails.get(name) === chained) {
        this._tails.delete(name);
      }
    }
  }

  private _tails = new Map<string, Promise<void>>();
}

/** A session as the tabs hold it: in memory only. */
export interface ISessionRecord {
  key: string;
  environment: string;
  application: string | null;
  issuer: string;
  client_id: string;
  sub: string;
  email: string;
  name: string;
  identity: Record<string, unknown>;
  scope: string;
  audience: string[];
  access_token: string;
  token_type: string;
  id_token: string | null;
  refresh_token: string | null;
  /** ms since epoch. */
  expires_at: number;
  signed_in_at: number;
  refreshed_at: number;
  /** Bumped on every refresh: the newest record wins across tabs. */
  generation: number;
}

/** Messages on the sessions channel. */
export type TabMessage =
  | { t: 'hello' }
  | { t: 'sync'; sessions: ISessionRecord[] }
  | { t: 'session'; session: ISessionRecord }
  | { t: 'ended'; key: string; signed_in_at: number };

/** Whether `value` is a tab message (the channel is same-origin; still, check the shape). */
export function isTabMessage(value: unknown): value is TabMessage {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const t = (value as { t?: unknown }).t;
  return t === 'hello' || t === 'sync' || t === 'session' || t === 'ended';
}
