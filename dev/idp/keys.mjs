// Signing keys, new on every start (tokens from an earlier run must not verify).
// Generated asynchronously so the slow RSA part overlaps module loading and
// the provider still starts in well under a second.

import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';

const generate = promisify(generateKeyPair);

/** Private JWKs: RS256 first (every client's id_token algorithm), then ES256. */
export async function generateSigningKeys() {
  const stamp = Date.now().toString(36);
  const [rsa, ec] = await Promise.all([
    generate('rsa', { modulusLength: 2048 }),
    generate('ec', { namedCurve: 'P-256' }),
  ]);
  return [
    { ...rsa.privateKey.export({ format: 'jwk' }), kid: `rs256-${stamp}`, alg: 'RS256', use: 'sig' },
    { ...ec.privateKey.export({ format: 'jwk' }), kid: `es256-${stamp}`, alg: 'ES256', use: 'sig' },
  ];
}
