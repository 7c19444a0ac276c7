/**
 * The session model's error for the views, and where it came from: a failed status poll
 * (`status`) or something the user did (`action`). An action's error outlives later poll
 * failures, so the views keep showing what the user did last.
 */
import { OidcError } from './errors';

/** Where an error of the model came from. */
export type ErrorSource = 'status' | 'action';

/** The model's current error (one at a time). */
export class ModelErrors {
  constructor(options: ModelErrors.IOptions) {
    this._options = options;
  }

  get error(): OidcError | null {
    return this._current?.error ?? null;
  }

  /** Show `error` as `source`'s without re-rendering (the caller re-renders). */
  set(error: OidcError, source: ErrorSource): void {
    this._current = { error, source };
  }

  /** Show `error` as the user's action's (never an abort), and re-render. */
  report(error: unknown): void {
    const e = OidcError.from(error);
    if (e.code !== 'aborted') {
      this._current = { error: e, source: 'action' };
      this._options.changed();
    }
  }

  /** Record `error` for the views (unless aborted) and answer it as an `OidcError`. */
  fail(error: unknown, source: ErrorSource = 'action'): OidcError {
    const e = OidcError.from(error);
    if (e.code === 'aborted' || this._options.isDisposed()) {
      return e;
    }
    if (source === 'status') {
      this._options.unavailable();
      if (this._current?.source === 'action') {
        this._options.changed();
        return e; // keep showing what the user did last
      }
    }
    this._current = { error: e, source };
    this._options.changed();
    return e;
  }

  /** Clear the error (only `source`'s when given), re-rendering if there was one. */
  clear(source?: ErrorSource): void {
    if (this._current && (source === undefined || this._current.source === source)) {
      this._current = null;
      this._options.changed();
    }
  }

  private _options: ModelErrors.IOptions;
  private _current: { error: OidcError; source: ErrorSource } | null = null;
}

/** The option types of `ModelErrors`. */
export namespace ModelErrors {
  export interface IOptions {
    /** Re-render the views. */
    changed: () => void;
    /** Whether the model is disposed (its errors are then dropped). */
    isDisposed: () => boolean;
    /** A status poll failed: the server is unavailable. */
    unavailable: () => void;
  }
}
