/**
 * Check an id_token step by step in the browser, with jose — like kstlib's TokenChecker:
 * structure, discovery, JWKS, key (and its thumbprint), signature, then each claim.
 *
 * The server already verified the token at sign-in; this view lets a user (or an admin)
 * see the proof chain. Discovery and JWKS come through the server (`GET oidc/jwks`), so the
 * browser needs no CORS access to the provider. Loaded on demand: jose stays out of the
 * main bundle.
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import {
  base64url,
  calculateJwkThumbprint,
  compactVerify,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  JWK,
  JWTPayload,
  ProtectedHeaderParameters
} from 'jose';

import { IJwksReply } from './api';
import { checkClaims, ITokenCheckReport, stepLog } from './checksteps';
import { ID_TOKEN_ALGORITHMS, LEEWAY_SECONDS, REFUSED_ALGORITHMS } from './generated/contract';
import { OidcError, TRANSLATION_DOMAIN } from './errors';

export type { CheckOutcome, CheckStepName, ICheckStep, ITokenCheckReport } from './checksteps';

/**
 * Algorithms an id_token may use when the server does not say (`GET oidc/jwks` →
 * `id_token_algorithms`): the server's own list (generated), asymmetric only (never `none`, never HS*).
 */
export const ALLOWED_ALGORITHMS: ReadonlyArray<string> = ID_TOKEN_ALGORITHMS;

/** The clock leeway when the server does not say (`GET oidc/jwks` → `leeway_seconds`): the server's own (generated). */
export const DEFAULT_LEEWAY_SECONDS = LEEWAY_SECONDS;

/** Check `options.idToken` step by step; never throws. */
export async function checkIdToken(options: TokenCheck.IOptions): Promise<ITokenCheckReport> {
  const trans = options.trans ?? nullTranslator.load(TRANSLATION_DOMAIN);
  const now = options.now ?? Date.now();
  const leeway = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  const allowed = Private.asymmetric(options.algorithms ?? ALLOWED_ALGORITHMS);
  const log = stepLog(trans);
  const { add, titles, skipRest, finish } = log;

  // 1. structure
  let header: ProtectedHeaderParameters;
  let payload: JWTPayload;
  try {
    if (options.idToken.split('.').length !== 3) {
      throw new Error(trans.__('a signed JWT has three dot-separated parts'));
    }
    header = decodeProtectedHeader(options.idToken);
    payload = decodeJwt(options.idToken);
  } catch (error) {
    add(
      'structure',
      'fail',
      titles.structure,
      trans.__('Not a signed JWT: %1', Private.message(error))
    );
    skipRest('discovery', trans.__('needs a well-formed token'));
    return finish();
  }
  const alg = header.alg ?? '';
  if (!allowed.includes(alg)) {
    add(
      'structure',
      'fail',
      titles.structure,
      trans.__(
        'Algorithm "%1" is not allowed for id_tokens (asymmetric algorithms only).',
        alg || '-'
      )
    );
    skipRest('discovery', trans.__('needs an allowed algorithm'));
    return finish({ header, payload });
  }
  add(
    'structure',
    'pass',
    titles.structure,
    trans.__('alg %1 · kid %2 · typ %3', alg, header.kid ?? '-', header.typ ?? '-')
  );

  // 2. discovery and 3. JWKS, fetched by the server in one request
  let reply: IJwksReply;
  try {
    reply = await options.fetchJwks();
  } catch (error) {
    const e = OidcError.from(error);
    const missing = e.code === 'http_error' && e.status === 404;
    add(
      'discovery',
      'fail',
      titles.discovery,
      missing
        ? trans.__('Not available: this Jupyter server has no GET oidc/jwks endpoint yet.')
        : trans.__('Could not be fetched: %1', e.message)
    );
    add(
      'jwks',
      'fail',
      titles.jwks,
      missing
        ? trans.__(
            'The JWKS could not be fetched: the server extension does not offer GET oidc/jwks (HTTP 404). Update jupyterlab-oidc on the server.'
          )
        : trans.__('The JWKS could not be fetched (%1): %2', e.code, e.message)
    );
    skipRest('key', trans.__('needs the JWKS'));
    return finish({ header, payload });
  }
  const discovery = reply.discovery ?? {};
  const discoveryIssuer = typeof discovery.issuer === 'string' ? discovery.issuer : '';
  const jwksUri = typeof discovery.jwks_uri === 'string' ? discovery.jwks_uri : '';
  const signingAlgs = discovery.id_token_signing_alg_values_supported;
  const issuer = discoveryIssuer || reply.issuer || '';
  if (issuer && issuer !== options.issuer) {
    add(
      'discovery',
      'fail',
      titles.discovery,
      trans.__(
        'The provider configuration names issuer %1, but this session was issued by %2.',
        issuer,
        options.issuer
      )
    );
  } else if (Array.isArray(signingAlgs) && !signingAlgs.includes(alg)) {
    add(
      'discovery',
      'fail',
      titles.discovery,
      trans.__(
        'The provider does not list %1 among its id_token signing algorithms (%2).',
        alg,
        signingAlgs.join(', ')
      )
    );
  } else {
    const facts = [
      reply.discovery_mode ? trans.__('mode %1', reply.discovery_mode) : '',
      issuer ? trans.__('issuer %1', issuer) : '',
      jwksUri ? trans.__('jwks_uri %1', jwksUri) : ''
    ].filter(Boolean);
    add(
      'discovery',
      'pass',
      titles.discovery,
      facts.length
        ? facts.join(' · ')
        : trans.__('No discovery document (endpoints configured by hand).')
    );
  }
  const keys = Array.isArray(reply.jwks?.keys) ? (reply.jwks.keys as JWK[]) : [];
  if (keys.length === 0) {
    add('jwks', 'fail', titles.jwks, trans.__('The provider publishes no keys.'));
    skipRest('key', trans.__('needs a key'));
    return finish({ header, payload });
  }
  add(
    'jwks',
    'pass',
    titles.jwks,
    trans.__('%1 key(s): %2', keys.length, keys.map(k => k.kid ?? '?').join(', '))
  );

  // 4. key
  const jwk = Private.selectKey(keys, header);
  if (!jwk) {
    add(
      'key',
      'fail',
      titles.key,
      trans.__('No %1 signing key with kid "%2" in the JWKS.', alg, header.kid ?? '-')
    );
    skipRest('signature', trans.__('needs the key'));
    return finish({ header, payload });
  }
  let key: CryptoKey | Uint8Array;
  let thumbprint: string;
  try {
    key = await importJWK(jwk, alg);
    thumbprint = await calculateJwkThumbprint(jwk, 'sha256');
  } catch (error) {
    add('key', 'fail', titles.key, trans.__('The key cannot be used: %1', Private.message(error)));
    skipRest('signature', trans.__('needs the key'));
    return finish({ header, payload });
  }
  add(
    'key',
    'pass',
    titles.key,
    trans.__('%1 · SHA-256 thumbprint %2', Private.describeKey(jwk), thumbprint)
  );

  // 5. signature
  try {
    await compactVerify(options.idToken, key, { algorithms: [alg] });
    add(
      'signature',
      'pass',
      titles.signature,
      trans.__('Valid %1 signature by key %2.', alg, jwk.kid ?? thumbprint)
    );
  } catch (error) {
    add(
      'signature',
      'fail',
      titles.signature,
      trans.__('The signature does not verify: %1', Private.message(error))
    );
  }

  // 6. claims
  checkClaims(
    payload,
    { issuer: options.issuer, clientId: options.clientId, now, leeway },
    log,
    trans
  );
  return finish({ header, payload, thumbprint });
}

/** The option types of `checkIdToken`. */
export namespace TokenCheck {
  export interface IOptions {
    /** The compact id_token. */
    idToken: string;
    /** The issuer the environment expects. */
    issuer: string;
    /** The client id the token must be issued to. */
    clientId: string;
    /** Fetches discovery and JWKS (through the server). */
    fetchJwks: () => Promise<IJwksReply>;
    /** The current time in ms (default `Date.now()`). */
    now?: number;
    /** Clock skew tolerated for exp, iat and nbf, in seconds (the server's; default `DEFAULT_LEEWAY_SECONDS`). */
    leewaySeconds?: number;
    /** Allowed signing algorithms (the server's; default `ALLOWED_ALGORITHMS`); none/HS* never. */
    algorithms?: ReadonlyArray<string>;
    trans?: TranslationBundle;
  }

  export type ISessionOptions = Omit<IOptions, 'leewaySeconds' | 'algorithms'>;
}

namespace Private {
  /** Drop `none` and symmetric (HS*) algorithms, whoever listed them. */
  export function asymmetric(algorithms: ReadonlyArray<string>): ReadonlyArray<string> {
    const refused: ReadonlyArray<string> = REFUSED_ALGORITHMS;
    return algorithms.filter(
      alg =>
        typeof alg === 'string' &&
        !refused.includes(alg) &&
        alg !== 'none' &&
        !alg.toUpperCase().startsWith('HS')
    );
  }

  const FAMILIES: Record<string, string> = { RS: 'RSA', PS: 'RSA', ES: 'EC', Ed: 'OKP' };

  /** The signing key for `header`: same kid (when given), a fitting kty, `use` sig. */
  export function selectKey(keys: JWK[], header: ProtectedHeaderParameters): JWK | null {
    const alg = header.alg ?? '';
    const kty = FAMILIES[alg.slice(0, 2)];
    const candidates = keys.filter(
      k =>
        (header.kid === undefined || k.kid === header.kid) &&
        (k.use === undefined || k.use === 'sig') &&
        (k.alg === undefined || k.alg === alg) &&
        (kty === undefined || k.kty === kty)
    );
    return candidates[0] ?? null;
  }

  export function describeKey(jwk: JWK): string {
    if (jwk.kty === 'RSA' && typeof jwk.n === 'string') {
      return `RSA ${base64url.decode(jwk.n).length * 8} bits`;
    }
    if (jwk.kty === 'EC' || jwk.kty === 'OKP') {
      return `${jwk.kty} ${jwk.crv ?? ''}`.trim();
    }
    return String(jwk.kty);
  }

  export function message(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Check the id_token of a session with the server's own leeway and algorithms
 * (`GET oidc/jwks` → `leeway_seconds`, `id_token_algorithms`; today's defaults when it does
 * not say). A JWKS fetch that fails is reported as the discovery step.
 */
export async function checkSessionIdToken(
  options: TokenCheck.ISessionOptions
): Promise<ITokenCheckReport> {
  const jwks = options.fetchJwks();
  const served = await jwks.catch(() => null);
  return checkIdToken({
    idToken: options.idToken,
    issuer: options.issuer,
    clientId: options.clientId,
    fetchJwks: () => jwks,
    leewaySeconds:
      typeof served?.leeway_seconds === 'number' ? served.leeway_seconds : DEFAULT_LEEWAY_SECONDS,
    algorithms: Array.isArray(served?.id_token_algorithms)
      ? served.id_token_algorithms
      : ALLOWED_ALGORITHMS,
    now: options.now,
    trans: options.trans
  });
}
