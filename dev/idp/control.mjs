// Test-control routes under /_test/ (JSON). They let tests look inside the
// provider (how often was /token called?), change it at run time (shorter
// access tokens) and act as its administrator (revoke everything). Only this
// dev provider has them; a real provider never would.

import { findUserByEmail } from './accounts.mjs';
import { DEVICE_CODE_GRANT, PROJECT_AUDIENCE_SCOPE } from './provider.mjs';
import { readBody, routes, sendJson } from './http.mjs';

const KNOWN_GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT];

function emptyStats() {
  const zeroes = () => Object.fromEntries(KNOWN_GRANT_TYPES.map((g) => [g, 0]));
  return {
    token: zeroes(),
    token_errors: zeroes(),
    authorization: 0,
    userinfo: 0,
    userinfo_errors: 0,
    revocation: 0,
    introspection: 0,
    // Device authorization grant (device.mjs): codes issued, polls, slow_down answers,
    // polls that came before the code's interval had passed.
    device_authorization: 0,
    device_polls: 0,
    device_slow_down: 0,
    device_too_early: 0,
  };
}

/** What tests want to know about an authorization request, plus its raw parameters. */
function describeAuthorization(params) {
  const scopes = String(params.scope ?? '').split(' ').filter(Boolean);
  return {
    ...params,
    scopes,
    project_ids: scopes.map((s) => PROJECT_AUDIENCE_SCOPE.exec(s)?.[1]).filter(Boolean),
    code_challenge_present: Boolean(params.code_challenge),
    nonce_present: Boolean(params.nonce),
    state_present: Boolean(params.state),
    received_at: new Date().toISOString(),
  };
}

function positiveSeconds(value, name) {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw Object.assign(new Error(`${name} must be a positive integer (seconds)`), { status: 400 });
  return n;
}

function deviceSettings(settings) {
  return { interval: settings.deviceInterval, expires_in: settings.deviceCodeTtl, slow_down: settings.deviceSlowDown };
}

/**
 * @returns {{observe: Function, routes: Function}} two Koa middlewares:
 *   `observe` counts and records provider traffic, `routes` serves /_test/.
 */
export function controlRoutes(provider, { store, settings }) {
  let stats = emptyStats();
  let lastAuthorization = null;
  const pathFor = (name) => {
    try {
      return provider.pathFor(name);
    } catch {
      return undefined; // a feature that is off (PAR without --par)
    }
  };
  const path = Object.fromEntries(
    ['authorization', 'pushed_authorization_request', 'token', 'userinfo', 'revocation', 'introspection']
      .map((name) => [name, pathFor(name)]),
  );

  // Counts by outcome after oidc-provider has answered; its own error handler
  // turns failures into 4xx responses, so the status tells success from error.
  // Authorization requests are recorded as sent, before the provider drops
  // scopes it doesn't know; a pushed request (PAR) counts as the request.
  async function observe(ctx, next) {
    if (ctx.path === path.authorization && ctx.method === 'GET' && !ctx.query.request_uri) {
      lastAuthorization = describeAuthorization({ ...ctx.query });
    }
    await next();
    const ok = ctx.status < 400;
    switch (ctx.path) {
      case path.authorization:
        stats.authorization += 1;
        break;
      case path.pushed_authorization_request:
        if (ok && ctx.oidc?.body) lastAuthorization = describeAuthorization({ ...ctx.oidc.body });
        break;
      case path.token: {
        const grantType = ctx.oidc?.params?.grant_type ?? 'unknown';
        const bucket = ok ? stats.token : stats.token_errors;
        bucket[grantType] = (bucket[grantType] ?? 0) + 1;
        break;
      }
      case path.userinfo:
        if (ok) stats.userinfo += 1;
        else stats.userinfo_errors += 1;
        break;
      case path.revocation:
        if (ok) stats.revocation += 1;
        break;
      case path.introspection:
        if (ok) stats.introspection += 1;
        break;
      default:
    }
  }

  const table = routes([
    ['GET', /^\/_test\/stats$/, (ctx) => sendJson(ctx, stats)],
    ['POST', /^\/_test\/reset-stats$/, (ctx) => {
      stats = emptyStats();
      sendJson(ctx, stats);
    }],
    ['GET', /^\/_test\/last-authorization$/, (ctx) => {
      if (!lastAuthorization) return sendJson(ctx, { error: 'no authorization request yet' }, 404);
      return sendJson(ctx, lastAuthorization);
    }],
    ['POST', /^\/_test\/revoke-all$/, async (ctx) => {
      const body = await readBody(ctx);
      let sub = body.sub;
      if (sub === undefined && body.email !== undefined) {
        sub = findUserByEmail(body.email)?.sub;
        if (!sub) return sendJson(ctx, { error: `unknown email ${body.email}` }, 404);
      }
      return sendJson(ctx, { sub: sub ?? null, revoked: store.revokeAll(sub) });
    }],
    ['POST', /^\/_test\/ttl$/, async (ctx) => {
      const body = await readBody(ctx);
      const next = { ...settings };
      if (body.access !== undefined) next.accessTtl = positiveSeconds(body.access, 'access');
      if (body.id_token !== undefined) next.idTokenTtl = positiveSeconds(body.id_token, 'id_token');
      if (body.refresh !== undefined) next.refreshTtl = positiveSeconds(body.refresh, 'refresh');
      Object.assign(settings, next);
      return sendJson(ctx, { access: settings.accessTtl, id_token: settings.idTokenTtl, refresh: settings.refreshTtl });
    }],
    ['GET', /^\/_test\/ttl$/, (ctx) => sendJson(ctx, {
      access: settings.accessTtl, id_token: settings.idTokenTtl, refresh: settings.refreshTtl,
    })],
    // Device grant knobs: {interval, expires_in (of new codes), slow_down (next pending polls)}.
    ['POST', /^\/_test\/device$/, async (ctx) => {
      const body = await readBody(ctx);
      const next = { ...settings };
      if (body.interval !== undefined) next.deviceInterval = positiveSeconds(body.interval, 'interval');
      if (body.expires_in !== undefined) next.deviceCodeTtl = positiveSeconds(body.expires_in, 'expires_in');
      if (body.slow_down !== undefined) {
        const n = Number(body.slow_down);
        if (!Number.isInteger(n) || n < 0) throw Object.assign(new Error('slow_down must be a whole number'), { status: 400 });
        next.deviceSlowDown = n;
      }
      Object.assign(settings, next);
      return sendJson(ctx, deviceSettings(settings));
    }],
    ['GET', /^\/_test\/device$/, (ctx) => sendJson(ctx, deviceSettings(settings))],
  ]);

  async function serve(ctx, next) {
    if (!ctx.path.startsWith('/_test/')) return next();
    try {
      await table(ctx, async () => sendJson(ctx, { error: `no such test route: ${ctx.method} ${ctx.path}` }, 404));
    } catch (err) {
      sendJson(ctx, { error: err.message }, err.status ?? 500);
    }
    return undefined;
  }

  return { observe, routes: serve, stats: () => stats };
}
