/**
 * The provider's endpoints as a public client calls them from the page (CORS, no cookies,
 * no client secret): code exchange, refresh, userinfo, revocation, end-session.
 */
import { isRecord, OidcError } from '../../errors';
import type { IProviderMetadata } from './discovery';

/** A token endpoint answer. */
export interface ITokenSet {
  access_token: string;
  token_type: string;
  expires_in: number | null;
  refresh_token: string | null;
  id_token: string | null;
  scope: string | null;
}

/** POST a form to the token endpoint; throws `provider_error` / `provider_unavailable`. */
export async function tokenRequest(
  fetchFn: typeof fetch,
  metadata: IProviderMetadata,
  form: Record<string, string>,
  what: 'code exchange' | 'refresh'
): Promise<ITokenSet> {
  let response: Response;
  try {
    response = await fetchFn(metadata.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      credentials: 'omit'
    });
  } catch (error) {
    throw new OidcError(
      'provider_unavailable',
      `The provider's token endpoint did not answer the ${what} (network or CORS).`,
      { cause: error }
    );
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const code =
      isRecord(body) && typeof body.error === 'string' ? body.error : `HTTP ${response.status}`;
    // The provider's own description is not shown: it may echo request parameters.
    throw new OidcError(
      what === 'refresh' ? 'refresh_failed' : 'provider_error',
      `The provider refused the ${what} (${code.slice(0, 60)}).`,
      {
        status: response.status,
        details: { provider_error: code.slice(0, 60) }
      }
    );
  }
  if (!isRecord(body) || typeof body.access_token !== 'string' || !body.access_token) {
    throw new OidcError(
      'provider_error',
      `The provider's answer to the ${what} has no access token.`
    );
  }
  const text = (key: string): string | null =>
    typeof body[key] === 'string' && body[key] ? (body[key] as string) : null;
  return {
    access_token: body.access_token,
    token_type: text('token_type') ?? 'Bearer',
    expires_in: typeof body.expires_in === 'number' ? body.expires_in : null,
    refresh_token: text('refresh_token'),
    id_token: text('id_token'),
    scope: text('scope')
  };
}

/** GET userinfo with the access token. */
export async function userinfo(
  fetchFn: typeof fetch,
  url: string,
  accessToken: string
): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetchFn(url, {
      headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' },
      credentials: 'omit'
    });
  } catch (error) {
    throw new OidcError(
      'provider_unavailable',
      "The provider's userinfo endpoint did not answer (network or CORS).",
      { cause: error }
    );
  }
  const body = await response.json().catch(() => null);
  if (!response.ok || !isRecord(body)) {
    throw new OidcError(
      'provider_error',
      `The provider's userinfo endpoint answered HTTP ${response.status}.`,
      { status: response.status }
    );
  }
  return body;
}

/** Revoke `token` (RFC 7009); failures are ignored (the session ends here anyway). */
export async function revoke(
  fetchFn: typeof fetch,
  metadata: IProviderMetadata,
  clientId: string,
  token: string,
  hint: string
): Promise<boolean> {
  if (!metadata.revocation_endpoint) {
    return false;
  }
  try {
    const response = await fetchFn(metadata.revocation_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, token_type_hint: hint, client_id: clientId }).toString(),
      credentials: 'omit'
    });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * The provider's end-session URL (RP-initiated logout) as the server builds it: `client_id`
 * and `logout_hint` (the email), never the id_token (a URL ends up in history and logs).
 */
export function endSessionUrl(
  metadata: IProviderMetadata,
  clientId: string,
  email: string
): string | null {
  if (!metadata.end_session_endpoint) {
    return null;
  }
  const url = new URL(metadata.end_session_endpoint);
  url.searchParams.set('client_id', clientId);
  if (email) {
    url.searchParams.set('logout_hint', email);
  }
  return url.href;
}
