/**
 * The REST routes the kernel bridge relays (`call` requests, `token_request`), answered by
 * the browser engine as the server extension would: status and JSON body, error or not.
 */
import type { IOidcAPI, IRawReply } from '../../api';
import { isRecord, OidcError } from '../../errors';
import { ERROR_STATUS } from '../../generated/contract';

/** Answer `{method} oidc/{path}` with `engine`. */
export async function relay(
  engine: IOidcAPI,
  method: 'GET' | 'POST',
  path: string,
  body: object = {},
  signal?: AbortSignal
): Promise<IRawReply> {
  const url = new URL(path.replace(/^\/+/, ''), 'http://engine/');
  const route = url.pathname.slice(1);
  const args: Record<string, unknown> = isRecord(body) ? (body as Record<string, unknown>) : {};
  const text = (key: string): string | undefined =>
    typeof args[key] === 'string' ? (args[key] as string) : undefined;
  const target = { environment: text('environment'), application: text('application') ?? null };
  try {
    let answer: unknown;
    if (method === 'GET' && route === 'environments') {
      answer = await engine.environments();
    } else if (method === 'GET' && route === 'status') {
      answer = await engine.status({ signal });
    } else if (method === 'GET' && route === 'jwks') {
      answer = await engine.jwks(url.searchParams.get('environment') ?? '');
    } else if (method === 'POST' && route === 'login') {
      answer = await engine.login({ ...target, login_hint: text('login_hint') ?? '' });
    } else if (method === 'POST' && route === 'await') {
      const wait = typeof args.wait_seconds === 'number' ? args.wait_seconds : undefined;
      answer = await engine.awaitLogin(text('state') ?? '', wait, signal);
    } else if (method === 'POST' && route === 'cancel') {
      await engine.cancel(text('state') ?? '');
      answer = { cancelled: true };
    } else if (method === 'POST' && route === 'token') {
      const minValid = typeof args.min_valid === 'number' ? args.min_valid : undefined;
      answer = await engine.token({ ...target, min_valid: minValid });
    } else if (method === 'POST' && route === 'refresh') {
      answer = await engine.refresh(target);
    } else if (method === 'POST' && route === 'logout') {
      answer = await engine.logout(target);
    } else {
      return {
        status: 404,
        ok: false,
        body: {
          error: 'invalid_request',
          message: `The browser engine has no route ${method} oidc/${route}.`
        }
      };
    }
    return { status: 200, ok: true, body: answer };
  } catch (error) {
    const e = OidcError.from(error);
    const status = e.status || (ERROR_STATUS as Record<string, number>)[e.code] || 500;
    return { status, ok: false, body: { error: e.code, message: e.message, ...e.details } };
  }
}
