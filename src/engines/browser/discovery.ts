/**
 * Provider discovery in the browser (`{issuer}/.well-known/openid-configuration`, CORS).
 *
 * The same rules as the server: the document's `issuer` must be exactly the configured one
 * (a trailing slash counts), and every endpoint is https — plain http only on loopback.
 */
import { OidcError } from '../../errors';
import { httpUrl } from '../../urls';

/** What the engine uses of the provider metadata. */
export interface IProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint: string | null;
  revocation_endpoint: string | null;
  end_session_endpoint: string | null;
  id_token_signing_alg_values_supported: string[] | null;
  /** The document as it came (for the token check view). */
  raw: Record<string, unknown>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** `value` as a provider endpoint URL, or null when it is not https (http on loopback only). */
export function endpointUrl(value: unknown): string | null {
  const url = httpUrl(value);
  if (!url || url.username || url.password) {
    return null;
  }
  if (url.protocol === 'https:' || LOOPBACK.has(url.hostname)) {
    return url.href;
  }
  return null;
}

/** Fetch and check the discovery document of `issuer`. */
export async function discover(issuer: string, fetchFn: typeof fetch): Promise<IProviderMetadata> {
  const where = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  if (!endpointUrl(where)) {
    throw new OidcError(
      'discovery_failed',
      `The issuer ${issuer} is not an https URL (http only on loopback).`
    );
  }
  let doc: unknown;
  try {
    const response = await fetchFn(where, {
      headers: { Accept: 'application/json' },
      credentials: 'omit'
    });
    if (!response.ok) {
      throw new Error(`HTTP ${response.status}`);
    }
    doc = await response.json();
  } catch (error) {
    throw new OidcError(
      'discovery_failed',
      `The provider's discovery document could not be read (${Private.message(error)}). Does the provider allow this site's origin (CORS)?`,
      { cause: error }
    );
  }
  if (typeof doc !== 'object' || doc === null) {
    throw new OidcError('discovery_failed', 'The discovery document is not a JSON object.');
  }
  const raw = doc as Record<string, unknown>;
  if (raw.issuer !== issuer) {
    throw new OidcError(
      'discovery_failed',
      `The discovery document names the issuer ${String(raw.issuer)}, not ${issuer}.`,
      {
        details: { field: 'issuer' }
      }
    );
  }
  const required = (field: string): string => {
    const url = endpointUrl(raw[field]);
    if (!url) {
      throw new OidcError(
        'discovery_failed',
        `The discovery document's ${field} is missing or not an https URL.`,
        {
          details: { field }
        }
      );
    }
    return url;
  };
  const optional = (field: string): string | null => {
    if (raw[field] === undefined || raw[field] === null) {
      return null;
    }
    return required(field);
  };
  const algs = raw.id_token_signing_alg_values_supported;
  return {
    issuer,
    authorization_endpoint: required('authorization_endpoint'),
    token_endpoint: required('token_endpoint'),
    jwks_uri: required('jwks_uri'),
    userinfo_endpoint: optional('userinfo_endpoint'),
    revocation_endpoint: optional('revocation_endpoint'),
    end_session_endpoint: optional('end_session_endpoint'),
    id_token_signing_alg_values_supported: Array.isArray(algs)
      ? algs.filter((a): a is string => typeof a === 'string')
      : null,
    raw
  };
}

namespace Private {
  export function message(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
  }
}
