/**
 * The one part of the panel that re-renders every second: a countdown to `expiresAt`,
 * following the session model's clock (`ticked`). Everything else renders on
 * `stateChanged` only.
 */
import * as React from 'react';

import { IOidcSession } from '../tokens';

/** Props of `Countdown`. */
export interface ICountdownProps {
  /** The model whose clock drives the countdown. */
  model: Pick<IOidcSession, 'ticked' | 'secondsLeft'>;
  /** The instant counted down to, in ms since the epoch. */
  expiresAt: number;
  /** What to show for the seconds left (negative once past). */
  children: (secondsLeft: number) => React.ReactNode;
}

/** Renders `children(secondsLeft)` now and on every tick of the model's clock. */
export function Countdown(props: ICountdownProps): JSX.Element {
  const { model, expiresAt } = props;
  const [, setNow] = React.useState(0);
  React.useEffect(() => {
    const onTick = (_: unknown, now: number): void => setNow(now);
    model.ticked.connect(onTick);
    return () => {
      model.ticked.disconnect(onTick);
    };
  }, [model]);
  return <>{props.children(model.secondsLeft(expiresAt))}</>;
}
