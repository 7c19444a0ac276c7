/**
 * The life of a check view (configuration test, id_token check): run when shown, again on
 * "Check again" or when `key` changes, and never set the state of a view that is gone.
 */
import * as React from 'react';

import { OidcError } from '../errors';

/** Running, done with a report, or failed with a message to show. */
export type CheckState<T> =
  { phase: 'running' } | { phase: 'done'; report: T } | { phase: 'failed'; message: string };

/**
 * Runs `check` for `key` and answers its state and a function that runs it again. A
 * rejection becomes `failed` with the error's message; `check` may answer `failed` itself.
 */
export function useCheck<T>(
  check: () => Promise<CheckState<T>>,
  key: string
): [CheckState<T>, () => void] {
  const [run, setRun] = React.useState(0);
  const [state, setState] = React.useState<CheckState<T>>({ phase: 'running' });
  React.useEffect(() => {
    let current = true;
    setState({ phase: 'running' });
    check().then(
      next => current && setState(next),
      error => current && setState({ phase: 'failed', message: OidcError.from(error).message })
    );
    return () => {
      current = false;
    };
    // Runs again on "Check again" (run) and for another key; `check` is rebuilt each render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [run, key]);
  return [state, () => setRun(r => r + 1)];
}
