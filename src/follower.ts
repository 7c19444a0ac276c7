/**
 * Following the server: long polls on `GET status?after=<revision>`, with back-off while
 * the server does not answer. The session model owns one and applies what it reports.
 */
import { IOidcAPI, IStatusReply } from './api';

/** The long-poll loop of the session model. */
export class StatusFollower {
  constructor(options: StatusFollower.IOptions) {
    this._options = options;
  }

  /** Start following (idempotent); stops for good on `dispose()`. */
  start(): void {
    if (this._started || this._isDisposed) {
      return;
    }
    this._started = true;
    void this._loop();
  }

  /** Stop: no request after this, no timer left. */
  dispose(): void {
    this._isDisposed = true;
    for (const timer of this._sleepers) {
      clearTimeout(timer);
    }
    this._sleepers.clear();
  }

  private async _loop(): Promise<void> {
    const { api, signal } = this._options;
    let failures = 0;
    while (!this._isDisposed) {
      const started = Date.now();
      try {
        await this._options.loadEnvironments();
        const before = this._options.revision();
        const status = await api.status(
          before < 0
            ? { signal }
            : { after: before, timeoutSeconds: this._options.pollTimeoutSeconds, signal }
        );
        if (this._isDisposed) {
          return;
        }
        failures = 0;
        this._options.onStatus(status);
        if (status.revision === before && Date.now() - started < Private.MIN_POLL_MS) {
          await this._sleep(Private.MIN_POLL_MS); // a server that answers without waiting
        }
      } catch (error) {
        if (this._isDisposed) {
          return;
        }
        failures += 1;
        this._options.onError(error);
        await this._sleep(Math.min(Private.MAX_RETRY_MS, 1000 * 2 ** Math.min(failures - 1, 5)));
      }
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

  private _options: StatusFollower.IOptions;
  private _started = false;
  private _isDisposed = false;
  private _sleepers = new Set<ReturnType<typeof setTimeout>>();
}

/** The option types of `StatusFollower`. */
export namespace StatusFollower {
  export interface IOptions {
    api: Pick<IOidcAPI, 'status'>;
    /** Aborts the open request. */
    signal: AbortSignal;
    /** How long the server may hold a long poll, in seconds. */
    pollTimeoutSeconds: number;
    /** The last revision applied (-1 before the first answer). */
    revision: () => number;
    /** Load the environments if not loaded yet. */
    loadEnvironments: () => Promise<void>;
    onStatus: (status: IStatusReply) => void;
    onError: (error: unknown) => void;
  }
}

namespace Private {
  /** A long poll answered faster than this without a change waits this long. */
  export const MIN_POLL_MS = 1000;
  export const MAX_RETRY_MS = 30000;
}

/** A clock that emits every second while `needed()` holds; the model's `ticked`. */
export class Ticker {
  constructor(private readonly _tick: (now: number) => void) {}

  /** Run the clock or stop it. */
  sync(needed: boolean): void {
    if (needed && this._clock === null) {
      this._clock = setInterval(() => this._tick(Date.now()), 1000);
    } else if (!needed) {
      this.stop();
    }
  }

  stop(): void {
    if (this._clock !== null) {
      clearInterval(this._clock);
      this._clock = null;
    }
  }

  private _clock: ReturnType<typeof setInterval> | null = null;
}
