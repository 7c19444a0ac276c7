/**
 * Sign-ins waiting for their callback: the authorization request (verifier, nonce) in
 * memory, the callback message's checks (exact origin, known `state`, `iss` when sent), and
 * waiters for the result.
 */
import { OidcError } from '../../errors';
import type { IAuthorizationRequest } from './authorize';
import { CALLBACK_MESSAGE } from './tabs';

/** What the callback page posts. */
export interface ICallbackMessage {
  type: typeof CALLBACK_MESSAGE;
  state: string;
  code: string | null;
  error: string | null;
  iss: string | null;
}

/** One sign-in started in this tab. */
export interface IPendingSignIn {
  request: IAuthorizationRequest;
  environment: string;
  application: string | null;
  loginHint: string;
  /** ms since epoch. */
  expiresAt: number;
  callbackReceived: boolean;
  done: Promise<string>;
  resolve: (key: string) => void;
  reject: (error: OidcError) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** The callback message in `data`, or null when it is not one. */
export function callbackMessage(data: unknown): ICallbackMessage | null {
  if (typeof data !== 'object' || data === null) {
    return null;
  }
  const m = data as Record<string, unknown>;
  const text = (key: string): string | null =>
    typeof m[key] === 'string' && m[key] ? (m[key] as string) : null;
  if (m.type !== CALLBACK_MESSAGE || !text('state')) {
    return null;
  }
  return {
    type: CALLBACK_MESSAGE,
    state: text('state')!,
    code: text('code'),
    error: text('error'),
    iss: text('iss')
  };
}

/** The pending sign-ins of this tab. */
export class PendingSignIns {
  /** Add a sign-in; it fails with `login_timeout` after `timeoutSeconds`. */
  add(
    options: Omit<IPendingSignIn, 'done' | 'resolve' | 'reject' | 'timer' | 'callbackReceived'>,
    onChange: () => void
  ): IPendingSignIn {
    let resolve!: (key: string) => void;
    let reject!: (error: OidcError) => void;
    const done = new Promise<string>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    done.catch(() => undefined); // awaited by awaitLogin; unhandled otherwise
    const state = options.request.state;
    const timer = setTimeout(
      () => {
        this.end(
          state,
          new OidcError(
            'login_timeout',
            'The sign-in took too long and was abandoned. Sign in again.',
            { status: 410 }
          )
        );
        onChange();
      },
      Math.max(0, options.expiresAt - Date.now())
    );
    const entry: IPendingSignIn = {
      ...options,
      callbackReceived: false,
      done,
      resolve,
      reject,
      timer
    };
    this._entries.set(state, entry);
    return entry;
  }

  get(state: string): IPendingSignIn | undefined {
    return this._entries.get(state);
  }

  /** All of them, oldest first. */
  list(): IPendingSignIn[] {
    return [...this._entries.values()];
  }

  /** Finish a sign-in: with the session key, or with an error. */
  end(state: string, result: string | OidcError): void {
    const entry = this._entries.get(state);
    if (!entry) {
      return;
    }
    clearTimeout(entry.timer);
    this._entries.delete(state);
    if (typeof result === 'string') {
      entry.resolve(result);
    } else {
      entry.reject(result);
    }
  }

  /** End every sign-in (the engine is disposed). */
  clear(): void {
    for (const state of [...this._entries.keys()]) {
      this.end(state, new OidcError('aborted', 'The page closed the sign-in.'));
    }
  }

  private _entries = new Map<string, IPendingSignIn>();
}
