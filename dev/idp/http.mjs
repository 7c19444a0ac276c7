// Small Koa helpers for our own routes. oidc-provider parses bodies only on
// its own endpoints, and we don't want a body-parser dependency for two forms.

const MAX_BODY_BYTES = 64 * 1024;

/** Read a urlencoded or JSON request body into a plain object ({} if empty). */
export async function readBody(ctx) {
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) ctx.throw(413, 'request body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  if (ctx.is('application/json')) {
    try {
      const value = JSON.parse(text);
      return value && typeof value === 'object' ? value : {};
    } catch {
      ctx.throw(400, 'body is not valid JSON');
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

/**
 * Build a middleware from `[method, /regex/, handler]` rows. Handlers get
 * (ctx, ...captures); unmatched requests fall through to the provider.
 */
export function routes(table) {
  return async function route(ctx, next) {
    for (const [method, pattern, handler] of table) {
      if (ctx.method !== method) continue;
      const match = pattern.exec(ctx.path);
      if (match) {
        let captures;
        try {
          captures = match.slice(1).map(decodeURIComponent);
        } catch {
          ctx.throw(400, 'malformed path');
        }
        await handler(ctx, ...captures);
        return;
      }
    }
    await next();
  };
}

export function sendJson(ctx, body, status = 200) {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}
