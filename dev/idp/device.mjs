// The device authorization grant (RFC 8628) as tests need it. oidc-provider sends no
// `interval` and never answers `slow_down`; this middleware, around its device and
// token endpoints, adds both:
//   - the device authorization answer carries `interval` (settings.deviceInterval, 5 s by
//     default as in RFC 8628 §3.2; tests lower it through POST /_test/device);
//   - a device-code poll that arrives before the code's interval has passed is counted
//     (stats.device_too_early) and, while the code is still pending, answered `slow_down`
//     with the code's interval raised by 5 s (§3.5), as a strict provider would;
//   - settings.deviceSlowDown > 0 answers that many next pending polls `slow_down`
//     anyway, so tests can check a client slows down.
// Only pending polls are rewritten: an answer with tokens (the code is consumed) or a
// final error always reaches the client as oidc-provider gave it.

import { DEVICE_CODE_GRANT } from './provider.mjs';

// Timers and the network round trip may make a correct client look a few ms early.
const TOLERANCE_MS = 50;
const MAX_TRACKED_CODES = 1000;

export function devicePolling(provider, settings, stats) {
  const deviceAuthorizationPath = provider.pathFor('device_authorization');
  const tokenPath = provider.pathFor('token');
  const polls = new Map(); // device_code -> { last (ms, 0 before the first poll), interval (s) }

  return async function device(ctx, next) {
    await next();
    if (ctx.method !== 'POST') return;
    if (ctx.path === deviceAuthorizationPath && ctx.status === 200 && ctx.body?.device_code) {
      ctx.body = { ...ctx.body, interval: settings.deviceInterval };
      stats().device_authorization += 1;
      if (polls.size >= MAX_TRACKED_CODES) polls.delete(polls.keys().next().value);
      polls.set(ctx.body.device_code, { last: 0, interval: settings.deviceInterval });
      return;
    }
    if (ctx.path !== tokenPath || ctx.oidc?.params?.grant_type !== DEVICE_CODE_GRANT) return;
    const code = String(ctx.oidc.params.device_code ?? '');
    const poll = polls.get(code);
    const counts = stats();
    counts.device_polls += 1;
    if (!poll) return;
    const now = Date.now();
    const early = poll.last > 0 && now - poll.last < poll.interval * 1000 - TOLERANCE_MS;
    poll.last = now;
    if (early) counts.device_too_early += 1;
    const pending = ctx.status === 400 && ctx.body?.error === 'authorization_pending';
    if (!pending) {
      polls.delete(code);
      return;
    }
    if (early || settings.deviceSlowDown > 0) {
      if (!early) settings.deviceSlowDown -= 1;
      poll.interval += 5;
      counts.device_slow_down += 1;
      ctx.body = { error: 'slow_down', error_description: `polling too fast: wait ${poll.interval} s between polls` };
    }
  };
}
