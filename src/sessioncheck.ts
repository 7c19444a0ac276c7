/**
 * The session model's id_token check: a token of the session (fetched fresh enough), then
 * the step-by-step check of `tokencheck.ts`, loaded on demand so jose stays out of the main
 * bundle.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { IJwksReply, ITokenReply } from './api';
import { OidcError } from './errors';
import type { ITokenCheckReport } from './tokencheck';
import { IOidcSession } from './tokens';

/** Check the id_token of `options.session` (throws when not signed in or it has none). */
export async function checkSessionToken(options: {
  session: IOidcSession.ISession | null;
  getToken: (options: IOidcSession.ITokenOptions) => Promise<ITokenReply>;
  fetchJwks: (environment: string) => Promise<IJwksReply>;
  trans: TranslationBundle;
}): Promise<ITokenCheckReport> {
  const session = options.session;
  if (!session) {
    throw new OidcError('not_authenticated', 'Not signed in.');
  }
  const { environment, application } = session;
  const reply = await options.getToken({ environment, application, minValid: 0 });
  if (!reply.id_token) {
    throw new OidcError(
      'invalid_id_token',
      'The provider did not send an id_token for this session.',
      {
        details: { reason: 'missing' }
      }
    );
  }
  const { checkSessionIdToken } = await import('./tokencheck');
  const fetchJwks = () => options.fetchJwks(environment);
  return checkSessionIdToken({
    idToken: reply.id_token,
    issuer: session.issuer,
    clientId: session.client_id,
    fetchJwks,
    trans: options.trans
  });
}
