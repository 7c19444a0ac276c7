/**
 * The configuration check of an environment, done from the page (what the server's
 * `GET oidc/preflight` reports, for a browser-only client): discovery with CORS, keys,
 * PKCE S256, a token endpoint that answers this origin, and the redirect URI to register.
 */
import type { IJwksReply, IPreflightCheck, IPreflightReport } from '../../api';
import { OidcError } from '../../errors';
import type { IBrowserEnvironment } from './config';
import type { IProviderMetadata } from './discovery';

/** Run the checks; never throws. */
export async function preflight(
  env: IBrowserEnvironment,
  redirectUri: string,
  metadata: () => Promise<IProviderMetadata>,
  jwks: () => Promise<IJwksReply>
): Promise<IPreflightReport> {
  const checks: IPreflightCheck[] = [];
  const add = (
    name: string,
    title: string,
    outcome: IPreflightCheck['outcome'],
    message: string,
    hint = ''
  ) => checks.push({ name, title, outcome, message, hint });
  let meta: IProviderMetadata | null = null;
  try {
    meta = await metadata();
    add('discovery', 'Discovery (CORS)', 'pass', `issuer ${meta.issuer}`);
  } catch (error) {
    add(
      'discovery',
      'Discovery (CORS)',
      'fail',
      OidcError.from(error).message,
      `The provider must answer ${globalThis.location?.origin ?? 'this site'} with CORS.`
    );
  }
  if (meta) {
    try {
      const keys = (await jwks()).jwks.keys ?? [];
      add('jwks', 'Provider keys (JWKS)', keys.length ? 'pass' : 'fail', `${keys.length} key(s)`);
    } catch (error) {
      add('jwks', 'Provider keys (JWKS)', 'fail', OidcError.from(error).message);
    }
    const methods = meta.raw.code_challenge_methods_supported;
    const s256 = Array.isArray(methods) && methods.includes('S256');
    add(
      'pkce',
      'PKCE S256',
      s256 ? 'pass' : 'warn',
      s256
        ? 'S256 supported'
        : 'The provider does not list S256 (code_challenge_methods_supported).'
    );
    add(
      'revocation',
      'Revocation',
      meta.revocation_endpoint ? 'pass' : 'warn',
      meta.revocation_endpoint ?? 'No revocation endpoint: sign-out cannot revoke the tokens.'
    );
  } else {
    for (const [name, title] of [
      ['jwks', 'Provider keys (JWKS)'],
      ['pkce', 'PKCE S256'],
      ['revocation', 'Revocation']
    ]) {
      add(name, title, 'skip', 'needs discovery');
    }
  }
  add(
    'redirect_uri',
    'Redirect URI',
    'pass',
    redirectUri,
    'Register it with the provider for this public client (no secret).'
  );
  const counts = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const check of checks) {
    counts[check.outcome] += 1;
  }
  return {
    environment: env.name,
    issuer: env.issuer,
    client_id: env.client_id,
    discovery_mode: 'auto',
    redirect_uri: redirectUri,
    ok: counts.fail === 0,
    counts,
    checks
  };
}
