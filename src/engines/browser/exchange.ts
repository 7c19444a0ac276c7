/**
 * The token requests of the browser engine with their checks: the code exchange of a
 * sign-in (id_token with nonce, userinfo fallback, login_hint) and a refresh (rotation; a
 * new id_token must name the same user).
 */
import { OidcError } from '../../errors';
import type { IBrowserEnvironment } from './config';
import type { IProviderMetadata } from './discovery';
import { revoke, tokenRequest, userinfo } from './endpoints';
import { enforceLoginHint, identityOf, mergeUserinfo, remoteKeys, verifyIdToken } from './idtoken';
import type { ICallbackMessage, IPendingSignIn } from './signin';
import type { ISessionRecord } from './tabs';

/** What the exchanges need from the engine. */
export interface IExchangeContext {
  fetch: typeof fetch;
  now: () => number;
  keys: (metadata: IProviderMetadata) => ReturnType<typeof remoteKeys>;
}

/** The session key of (environment, application). */
export function sessionKey(environment: string, application: string | null): string {
  return application ? `${environment}/${application}` : environment;
}

/** Code exchange and every check; answers the session to store, or throws (nothing kept). */
export async function completeSignIn(
  ctx: IExchangeContext,
  env: IBrowserEnvironment,
  metadata: IProviderMetadata,
  entry: IPendingSignIn,
  message: ICallbackMessage
): Promise<ISessionRecord> {
  if (message.error || !message.code) {
    throw new OidcError(
      'provider_error',
      `The provider refused the sign-in (${(message.error ?? 'no code').slice(0, 60)}).`,
      { status: 502 }
    );
  }
  if (message.iss !== null && message.iss !== metadata.issuer) {
    throw new OidcError(
      'provider_error',
      'The callback came from another provider (iss does not match): nothing was stored.',
      { status: 502, details: { check: 'iss' } }
    );
  }
  const tokens = await tokenRequest(
    ctx.fetch,
    metadata,
    {
      grant_type: 'authorization_code',
      code: message.code,
      redirect_uri: entry.request.redirectUri,
      code_verifier: entry.request.verifier,
      client_id: env.client_id
    },
    'code exchange'
  );
  try {
    if (!tokens.id_token) {
      throw new OidcError(
        'invalid_id_token',
        'The provider sent no id_token. Nothing was stored.',
        { status: 502, details: { check: 'structure' } }
      );
    }
    let claims: Record<string, unknown> = await verifyIdToken({
      idToken: tokens.id_token,
      metadata,
      clientId: env.client_id,
      nonce: entry.request.nonce,
      keys: ctx.keys(metadata),
      now: ctx.now()
    });
    if (!claims.email && metadata.userinfo_endpoint) {
      claims = mergeUserinfo(
        claims,
        await userinfo(ctx.fetch, metadata.userinfo_endpoint, tokens.access_token)
      );
    }
    const email = enforceLoginHint(claims, entry.loginHint, env.require_verified_email);
    const now = ctx.now();
    const aud = claims.aud;
    return {
      key: sessionKey(env.name, entry.application),
      environment: env.name,
      application: entry.application,
      issuer: metadata.issuer,
      client_id: env.client_id,
      sub: String(claims.sub),
      email,
      name: typeof claims.name === 'string' ? claims.name : '',
      identity: identityOf(claims),
      scope: tokens.scope ?? entry.request.scope,
      audience:
        typeof aud === 'string'
          ? [aud]
          : Array.isArray(aud)
            ? aud.filter((a): a is string => typeof a === 'string')
            : [],
      access_token: tokens.access_token,
      token_type: tokens.token_type,
      id_token: tokens.id_token,
      refresh_token: tokens.refresh_token,
      expires_at: now + (tokens.expires_in ?? 300) * 1000,
      signed_in_at: now,
      refreshed_at: now,
      generation: 0
    };
  } catch (error) {
    // Refused: nothing is kept, and what the provider issued is revoked.
    if (tokens.refresh_token) {
      void revoke(ctx.fetch, metadata, env.client_id, tokens.refresh_token, 'refresh_token');
    }
    throw error;
  }
}

/**
 * One refresh of `session` (the caller holds its lock). Answers the next record (the new
 * refresh token when the provider rotates), or throws: `session_expired` with `ended` set
 * when the session is over (the caller forgets it).
 */
export async function refreshSession(
  ctx: IExchangeContext,
  env: IBrowserEnvironment,
  metadata: IProviderMetadata,
  session: ISessionRecord
): Promise<ISessionRecord> {
  if (!session.refresh_token) {
    throw new OidcError(
      'session_expired',
      'The session cannot be renewed (no refresh token): sign in again.',
      { status: 401 }
    );
  }
  let tokens;
  try {
    tokens = await tokenRequest(
      ctx.fetch,
      metadata,
      {
        grant_type: 'refresh_token',
        refresh_token: session.refresh_token,
        client_id: env.client_id
      },
      'refresh'
    );
  } catch (error) {
    const e = OidcError.from(error);
    if (e.detail('provider_error') === 'invalid_grant') {
      throw new OidcError('session_expired', 'The provider ended the session: sign in again.', {
        status: 401,
        cause: e,
        details: { ended: true }
      });
    }
    throw e;
  }
  if (tokens.id_token) {
    const claims = await verifyIdToken({
      idToken: tokens.id_token,
      metadata,
      clientId: env.client_id,
      nonce: null,
      keys: ctx.keys(metadata),
      now: ctx.now()
    });
    if (claims.sub !== session.sub) {
      throw new OidcError(
        'invalid_id_token',
        'The refreshed id_token names another user; the session was ended.',
        { status: 502, details: { check: 'sub', ended: true } }
      );
    }
  }
  const now = ctx.now();
  return {
    ...session,
    access_token: tokens.access_token,
    token_type: tokens.token_type,
    id_token: tokens.id_token ?? session.id_token,
    refresh_token: tokens.refresh_token ?? session.refresh_token,
    scope: tokens.scope ?? session.scope,
    expires_at: now + (tokens.expires_in ?? 300) * 1000,
    refreshed_at: now,
    generation: session.generation + 1
  };
}
