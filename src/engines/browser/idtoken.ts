/**
 * The id_token check of the browser engine, with jose (`createRemoteJWKSet` + `jwtVerify`),
 * and the identity rules of the server (`jupyterlab_oidc/identity.py`): userinfo only fills
 * in what the id_token lacks and must answer for the same `sub`; the login_hint email must
 * match (`toLowerCase()` on NFC strings, never case folding) and be verified (JSON `true`).
 */
import { createRemoteJWKSet, customFetch, errors as joseErrors, JWTPayload, jwtVerify } from 'jose';

import { OidcError } from '../../errors';
import { ALLOWED_ALGORITHMS } from '../../tokencheck';
import type { IProviderMetadata } from './discovery';

/** Clock skew tolerated for exp, iat and nbf, in seconds (the server's LEEWAY). */
export const LEEWAY_SECONDS = 60;

/** The claims shown as the identity (as `IDENTITY_CLAIMS` on the server). */
export const IDENTITY_CLAIMS = [
  'sub',
  'email',
  'email_verified',
  'name',
  'preferred_username',
  'given_name',
  'family_name'
];

/** What `verifyIdToken` needs. */
export interface IVerifyOptions {
  idToken: string;
  metadata: IProviderMetadata;
  clientId: string;
  /** The sign-in's nonce; null on a refresh (the token then must carry none or the same). */
  nonce: string | null;
  /** The provider's keys (one remote set per provider, cached by the engine). */
  keys: ReturnType<typeof createRemoteJWKSet>;
  /** The current time in ms (default `Date.now()`). */
  now?: number;
}

/** The provider's remote key set: fetched with CORS, cached, refetched on an unknown kid. */
export function remoteKeys(
  metadata: IProviderMetadata,
  fetchFn?: typeof fetch
): ReturnType<typeof createRemoteJWKSet> {
  const options: Parameters<typeof createRemoteJWKSet>[1] = { cooldownDuration: 60_000 };
  if (fetchFn) {
    options[customFetch] = (url, init) => fetchFn(url, { ...init, credentials: 'omit' });
  }
  return createRemoteJWKSet(new URL(metadata.jwks_uri), options);
}

/** Verify `idToken`; answers its claims or throws `invalid_id_token` naming the check. */
export async function verifyIdToken(options: IVerifyOptions): Promise<JWTPayload> {
  const { metadata, clientId } = options;
  const allowed = ALLOWED_ALGORITHMS.filter(
    alg =>
      !metadata.id_token_signing_alg_values_supported ||
      metadata.id_token_signing_alg_values_supported.includes(alg)
  );
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(options.idToken, options.keys, {
      algorithms: allowed.length ? allowed : [...ALLOWED_ALGORITHMS],
      issuer: metadata.issuer,
      audience: clientId,
      clockTolerance: LEEWAY_SECONDS,
      currentDate: options.now !== undefined ? new Date(options.now) : undefined,
      requiredClaims: ['sub', 'exp', 'iat']
    }));
  } catch (error) {
    throw invalid(Private.check(error), Private.describe(error), error);
  }
  const seconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (typeof payload.iat !== 'number' || payload.iat - LEEWAY_SECONDS > seconds) {
    throw invalid('iat', 'The id_token was issued in the future (iat): check the clocks.');
  }
  const audiences = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
  if (payload.azp !== undefined && payload.azp !== clientId) {
    throw invalid(
      'azp',
      `The id_token was issued to ${String(payload.azp)} (azp), not to this client.`
    );
  }
  if (audiences.length > 1 && payload.azp !== clientId) {
    throw invalid('azp', 'The id_token has several audiences but no azp naming this client.');
  }
  if (options.nonce !== null) {
    if (payload.nonce !== options.nonce) {
      throw invalid(
        'nonce',
        'The id_token does not carry the nonce of this sign-in (replayed or mixed up).'
      );
    }
  } else if (payload.nonce !== undefined && typeof payload.nonce !== 'string') {
    throw invalid('nonce', 'The refreshed id_token has a malformed nonce.');
  }
  return payload;
}

/** Identity claims of the id_token, completed by userinfo (whose `sub` must match). */
export function mergeUserinfo(
  claims: Record<string, unknown>,
  userinfo: Record<string, unknown>
): Record<string, unknown> {
  if (userinfo.sub !== claims.sub) {
    throw invalid(
      'userinfo_sub',
      "The provider's userinfo answered for a different user than the id_token; nothing was stored. Sign in again."
    );
  }
  const merged = { ...claims };
  for (const name of IDENTITY_CLAIMS) {
    if (
      (merged[name] === undefined || merged[name] === null) &&
      userinfo[name] !== undefined &&
      userinfo[name] !== null
    ) {
      merged[name] = userinfo[name];
    }
  }
  return merged;
}

/** The claims worth showing (no token material). */
export function identityOf(claims: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    IDENTITY_CLAIMS.filter(name => name in claims).map(name => [name, claims[name]])
  );
}

/** `String.prototype.toLowerCase()` equality of two NFC strings (as `same_email` on the server). */
export function sameEmail(a: string, b: string): boolean {
  if (a.normalize('NFC') !== a || b.normalize('NFC') !== b) {
    return false;
  }
  return a.toLowerCase() === b.toLowerCase();
}

/** The authenticated email, or throws `identity_mismatch` (as `enforce_login_hint`). */
export function enforceLoginHint(
  claims: Record<string, unknown>,
  loginHint: string,
  requireVerifiedEmail: boolean
): string {
  const email = typeof claims.email === 'string' ? claims.email.trim() : '';
  const expected = loginHint.trim();
  if (!expected) {
    return email;
  }
  if (!email) {
    throw new OidcError(
      'identity_mismatch',
      `This sign-in was for ${expected}, but the provider did not say which email signed in (no email claim in the id_token or userinfo). Nothing was stored. Ask your admin to grant the 'email' scope.`,
      {
        details: { expected, actual: null }
      }
    );
  }
  if (!sameEmail(email, expected)) {
    throw new OidcError(
      'identity_mismatch',
      `You signed in as ${email}, but this sign-in was for ${expected}. Nothing was stored — sign in again with the right account.`,
      {
        details: { expected, actual: email }
      }
    );
  }
  const verified = claims.email_verified;
  if (requireVerifiedEmail && verified !== true) {
    const said =
      verified === false
        ? 'says it is not verified'
        : verified === undefined || verified === null
          ? 'does not say it is verified'
          : `sends email_verified as ${JSON.stringify(verified).slice(0, 40)}, not the JSON boolean true`;
    throw new OidcError(
      'identity_mismatch',
      `The provider ${said} for the email ${email}. Nothing was stored. Verify the address with your provider.`,
      {
        details: { expected, actual: email, reason: 'email_not_verified' }
      }
    );
  }
  return email;
}

function invalid(check: string, message: string, cause?: unknown): OidcError {
  return new OidcError('invalid_id_token', `${message} Nothing was stored.`, {
    details: { check },
    cause
  });
}

namespace Private {
  /** The check a jose error stands for. */
  export function check(error: unknown): string {
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      return error.claim;
    }
    if (error instanceof joseErrors.JWTExpired) {
      return 'exp';
    }
    if (error instanceof joseErrors.JOSEAlgNotAllowed) {
      return 'alg';
    }
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
      return 'signature';
    }
    if (
      error instanceof joseErrors.JWKSNoMatchingKey ||
      error instanceof joseErrors.JWKSMultipleMatchingKeys
    ) {
      return 'key';
    }
    if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) {
      return 'jwks';
    }
    return 'structure';
  }

  export function describe(error: unknown): string {
    const text = error instanceof Error ? error.message : String(error);
    return `The id_token was refused (${check(error)}: ${text}).`;
  }
}
