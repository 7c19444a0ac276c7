/**
 * Sign-ins this browser tab started, remembered across a reload so they stay this tab's
 * own (resumable, "Open the sign-in page again") instead of "started elsewhere".
 *
 * Kept in `sessionStorage` (this tab only, gone when it closes): only the `state` and the
 * environment of each sign-in, never a token, a code or a URL.
 */

/** The storage key. */
export const RESUME_KEY = 'jupyterlab-oidc:own-sign-ins';

/** One remembered sign-in. */
export interface IRememberedSignIn {
  readonly state: string;
  readonly environment: string;
}

/** The sign-ins of this tab, in `sessionStorage` (or a given `Storage`). */
export class SignInMemory {
  constructor(storage?: Storage | null) {
    this._storage = storage === undefined ? Private.sessionStorage() : storage;
  }

  /** The remembered sign-ins. */
  list(): IRememberedSignIn[] {
    if (!this._storage) {
      return [];
    }
    try {
      const value: unknown = JSON.parse(this._storage.getItem(RESUME_KEY) ?? '[]');
      return Array.isArray(value)
        ? value.filter(Private.isEntry).map(e => ({ state: e.state, environment: e.environment }))
        : [];
    } catch {
      return [];
    }
  }

  /** Whether `state` was started in this tab. */
  has(state: string): boolean {
    return this.list().some(e => e.state === state);
  }

  /** Remember a sign-in started here. */
  remember(state: string, environment: string): void {
    this._write([...this.list().filter(e => e.state !== state), { state, environment }]);
  }

  /** Forget one sign-in (finished, failed or cancelled). */
  forget(state: string): void {
    const list = this.list();
    if (list.some(e => e.state === state)) {
      this._write(list.filter(e => e.state !== state));
    }
  }

  /** Forget every sign-in the server no longer waits for. */
  keepOnly(states: ReadonlyArray<string>): void {
    const list = this.list();
    const kept = list.filter(e => states.includes(e.state));
    if (kept.length !== list.length) {
      this._write(kept);
    }
  }

  private _write(list: IRememberedSignIn[]): void {
    try {
      if (list.length === 0) {
        this._storage?.removeItem(RESUME_KEY);
      } else {
        this._storage?.setItem(RESUME_KEY, JSON.stringify(list));
      }
    } catch {
      // storage full or disabled: the sign-in still works, only not across a reload
    }
  }

  private _storage: Storage | null;
}

namespace Private {
  export function sessionStorage(): Storage | null {
    try {
      return typeof window !== 'undefined' ? window.sessionStorage : null;
    } catch {
      return null; // disabled by the browser's privacy settings
    }
  }

  export function isEntry(value: unknown): value is IRememberedSignIn {
    const entry = value as IRememberedSignIn | null;
    return typeof entry?.state === 'string' && typeof entry?.environment === 'string';
  }
}
