/**
 * The start of a sign-in: PKCE (`pkce-challenge`, S256), `state` and `nonce` from
 * `crypto.getRandomValues`, and the provider's authorization URL.
 */
import { base64url } from 'jose';
import pkceChallenge from 'pkce-challenge';

import type { IBrowserEnvironment } from './config';
import type { IProviderMetadata } from './discovery';

/** Zitadel's project audience scope (as the server adds it for an application). */
export const PROJECT_AUDIENCE_SCOPE = 'urn:zitadel:iam:org:project:id:{id}:aud';

/** What a sign-in keeps in memory until its callback. */
export interface IAuthorizationRequest {
  url: string;
  state: string;
  nonce: string;
  verifier: string;
  scope: string;
  redirectUri: string;
}

/** `bytes` random bytes, base64url (256 bits by default). */
export function randomToken(bytes = 32): string {
  const buffer = new Uint8Array(bytes);
  crypto.getRandomValues(buffer);
  return base64url.encode(buffer);
}

/** The scopes of a sign-in: the environment's, plus the application's project audience. */
export function scopesFor(env: IBrowserEnvironment, application: string | null): string[] {
  const scopes = [...env.scopes];
  if (application) {
    const project = env.applications[application];
    const scope = PROJECT_AUDIENCE_SCOPE.replace('{id}', project);
    if (project && !scopes.includes(scope)) {
      scopes.push(scope);
    }
  }
  return scopes;
}

/** Build the authorization request of a sign-in. */
export async function authorizationRequest(options: {
  env: IBrowserEnvironment;
  metadata: IProviderMetadata;
  application: string | null;
  loginHint: string;
  redirectUri: string;
}): Promise<IAuthorizationRequest> {
  const { code_verifier: verifier, code_challenge: challenge } = await pkceChallenge(64, 'S256');
  const state = randomToken();
  const nonce = randomToken();
  const scope = scopesFor(options.env, options.application).join(' ');
  const url = new URL(options.metadata.authorization_endpoint);
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: options.env.client_id,
    redirect_uri: options.redirectUri,
    scope,
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256'
  };
  if (options.loginHint) {
    params.login_hint = options.loginHint;
  }
  for (const [key, value] of Object.entries(params)) {
    url.searchParams.set(key, value);
  }
  return { url: url.href, state, nonce, verifier, scope, redirectUri: options.redirectUri };
}
