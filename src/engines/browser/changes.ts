/**
 * The browser engine's revision: bumped on every change, so a long poll of `status`
 * (`after=<revision>`) and an `await` of a sign-in wake up as soon as something changes.
 */

/** The revision and the callers waiting for its next bump. */
export class Changes {
  get revision(): number {
    return this._revision;
  }

  /** Something changed: bump the revision and wake every waiter. */
  bump(): void {
    this._revision += 1;
    for (const wake of this._waiters.splice(0)) {
      wake();
    }
  }

  /** Resolves on the next change, after `ms`, on abort, or when `also` settles. */
  changeOrTimeout(ms: number, signal?: AbortSignal, also?: Promise<unknown>): Promise<void> {
    return new Promise(resolve => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done);
      if (!also) {
        this._waiters.push(done);
      }
      also?.then(done, done);
    });
  }

  private _revision = 0;
  private _waiters: Array<() => void> = [];
}
