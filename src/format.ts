/**
 * Durations for humans: "54 min" in the status bar, "53:12" in countdowns.
 */
import { TranslationBundle } from '@jupyterlab/translation';

/**
 * A short remaining time: "1 h 05 min", "54 min", "42 s", or "expired".
 * Minutes round down, so "1 min" shows until the last minute has started.
 */
export function formatRemaining(seconds: number, trans: TranslationBundle): string {
  const total = Math.floor(seconds);
  if (total <= 0) {
    return trans.__('expired');
  }
  if (total < 60) {
    return trans.__('%1 s', total);
  }
  const minutes = Math.floor(total / 60);
  if (minutes < 60) {
    return trans.__('%1 min', minutes);
  }
  const hours = Math.floor(minutes / 60);
  return trans.__('%1 h %2 min', hours, String(minutes % 60).padStart(2, '0'));
}

/** A countdown clock: "4:59", "1:02:03"; never negative. */
export function formatClock(seconds: number): string {
  const total = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A local date and time for an epoch in seconds. */
export function formatTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toLocaleString();
}
