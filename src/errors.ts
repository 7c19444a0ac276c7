/**
 * Typed errors of jupyterlab-oidc.
 *
 * The server answers every failure with `{error, message, ...details}`; `error` is a
 * stable snake-case code. The frontend takes those codes from the generated contract and switches on
 * `OidcError.code`, never on message text (like jose's `JOSEError.code`).
 */
import { ITranslator, nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { ERROR_CODES, ErrorCode } from './generated/contract';

/** The translation domain of jupyterlab-oidc. */
export const TRANSLATION_DOMAIN = 'jupyterlab_oidc';

/**
 * Codes the server extension sends as `error` (Python `OIDCError.code`): the base class's
 * `oidc_error` and every code of `jupyterlab_oidc/errors.py`, generated into
 * `generated/contract.ts` (never copied by hand).
 */
export type ServerErrorCode = 'oidc_error' | ErrorCode;

/**
 * Codes the browser raises itself:
 * - `network_error`: the Jupyter server did not answer;
 * - `http_error`: an answer without an OIDC error body (proxy, missing route, Jupyter login);
 * - `invalid_response`: an answer that is not the JSON the API promises;
 * - `aborted`: the request was cancelled (the model was disposed);
 * - `unsafe_url`: the server sent an address to open that is not http(s) (`url_kind` says which).
 */
export type ClientErrorCode =
  'network_error' | 'http_error' | 'invalid_response' | 'aborted' | 'unsafe_url';

/** Every code an `OidcError` may carry. */
export type OidcErrorCode = ServerErrorCode | ClientErrorCode;

/** The server codes, in the order of the Python table (generated). */
export const SERVER_ERROR_CODES: ReadonlyArray<ServerErrorCode> = ['oidc_error', ...ERROR_CODES];

/** Details the server may add to an error body (`expected`, `actual`, `check`, ...). */
export type OidcErrorDetails = Readonly<Record<string, unknown>>;

/**
 * The one error class of jupyterlab-oidc: a stable `code`, the HTTP status (0 when there
 * was no answer), the server's sentence in `message` and its extra fields in `details`.
 */
export class OidcError extends Error {
  constructor(code: OidcErrorCode, message: string, options: OidcError.IOptions = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'OidcError';
    this.code = code;
    this.status = options.status ?? 0;
    this.details = options.details ?? {};
  }

  /** The stable code; switch on this, never on `message`. */
  readonly code: OidcErrorCode;

  /** The HTTP status of the answer, or 0 when there was none. */
  readonly status: number;

  /** Extra fields of the server's error body. */
  readonly details: OidcErrorDetails;

  /** A detail as a string, or '' when it is missing or not a string. */
  detail(name: string): string {
    const value = this.details[name];
    return typeof value === 'string' ? value : '';
  }

  /**
   * Build the typed error from an HTTP status and the parsed body of an error answer.
   * A body without a known `error` code becomes `http_error` (or `oidc_error` when the
   * server named a code this frontend does not know yet).
   */
  static fromResponse(status: number, body: unknown): OidcError {
    if (isRecord(body) && typeof body.error === 'string') {
      const { error, message, ...details } = body;
      const text = typeof message === 'string' && message ? message : error;
      const code = isServerErrorCode(error) ? error : 'oidc_error';
      return new OidcError(code, text, { status, details: { ...details, server_code: error } });
    }
    const message =
      isRecord(body) && typeof body.message === 'string' && body.message
        ? body.message
        : `HTTP ${status}`;
    return new OidcError('http_error', message, { status });
  }

  /** Any thrown value as an `OidcError` (other errors become `oidc_error`). */
  static from(error: unknown): OidcError {
    if (error instanceof OidcError) {
      return error;
    }
    const message = error instanceof Error ? error.message : String(error);
    return new OidcError('oidc_error', message, { cause: error });
  }
}

/** The option types of `OidcError`. */
export namespace OidcError {
  export interface IOptions {
    /** The HTTP status (0 when there was no answer). */
    status?: number;
    /** Extra fields of the server's error body. */
    details?: OidcErrorDetails;
    /** The underlying error. */
    cause?: unknown;
  }
}

/** Whether `value` is one of the server's error codes. */
export function isServerErrorCode(value: unknown): value is ServerErrorCode {
  return typeof value === 'string' && (SERVER_ERROR_CODES as ReadonlyArray<string>).includes(value);
}

/** Whether `value` is a plain object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The translation bundle of jupyterlab-oidc. */
export function loadTranslation(translator?: ITranslator | null): TranslationBundle {
  return (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
}

/**
 * A sentence a user can act on for `error`, chosen by its code. Details the server sent
 * (expected and actual email, the failed check, the provider's error) fill the sentence
 * in; the server's own message is shown beside it by the views, never parsed.
 */
export function describeError(error: OidcError, trans: TranslationBundle): string {
  const environment = error.detail('environment');
  switch (error.code) {
    case 'identity_mismatch': {
      const expected = error.detail('expected');
      const actual = error.detail('actual');
      if (expected && actual && expected.toLowerCase() === actual.toLowerCase()) {
        return trans.__(
          'The provider has not verified the email %1. Nothing was stored — verify the address with your provider, or ask your admin.',
          actual
        );
      }
      if (expected && actual) {
        return trans.__(
          'You signed in as %1, but this sign-in was for %2. Nothing was stored — sign in again with the right account.',
          actual,
          expected
        );
      }
      return trans.__(
        'The provider did not confirm which account signed in. Nothing was stored — sign in again with the right account, or ask your admin to grant the email scope.'
      );
    }
    case 'login_timeout':
      return trans.__(
        'The sign-in page was not completed in time, so the sign-in was abandoned. Click Sign in to start again.'
      );
    case 'login_cancelled':
      return trans.__('The sign-in was cancelled. Click Sign in to start again.');
    case 'state_mismatch':
      return trans.__(
        'This sign-in is unknown, was already used, or has expired (the server may have restarted). Nothing was stored — start the sign-in again.'
      );
    case 'browser_mismatch':
      return trans.__(
        'This sign-in was started in another browser, so it was refused here and nothing was stored. Finish it in the browser that started it, or start a new sign-in in this one.'
      );
    case 'redirect_mismatch':
      return trans.__(
        "The provider sent this sign-in back to another environment's address, so it was refused and nothing was stored. Start the sign-in again; if it persists, ask your admin to check the redirect URIs."
      );
    case 'provider_error': {
      const providerError = error.detail('provider_error');
      return providerError === 'access_denied'
        ? trans.__(
            'The provider refused the sign-in (access denied). Check that your account may use this application, then try again.'
          )
        : trans.__(
            'The provider reported an error%1. Try again; if it persists, contact your admin.',
            providerError ? ` (${providerError})` : ''
          );
    }
    case 'invalid_id_token': {
      const check = error.detail('check');
      return trans.__(
        'The provider sent an identity token that failed the %1 check, so it was not trusted and nothing was stored. Contact your admin.',
        check || trans.__('security')
      );
    }
    case 'discovery_failed':
      return trans.__(
        "The provider's configuration could not be loaded. Check the issuer URL of this environment, or try again later."
      );
    case 'provider_unavailable':
      return trans.__(
        'The provider did not answer. Check your network connection and try again in a moment.'
      );
    case 'config_error':
      return trans.__(
        'The sign-in configuration on this Jupyter server is incomplete. Ask your admin to check the OIDCLogin settings.'
      );
    case 'unknown_environment':
      return environment
        ? trans.__(
            'The environment "%1" is not configured on this Jupyter server. Pick another environment.',
            environment
          )
        : trans.__(
            'This environment is not configured on this Jupyter server. Pick another environment.'
          );
    case 'invalid_request':
      return trans.__('The request was incomplete. Check the form and try again.');
    case 'not_authenticated':
      return trans.__('You are not signed in to this environment. Sign in first.');
    case 'session_expired':
      return trans.__(
        'Your session has ended at the provider — you are signed out. Sign in again.'
      );
    case 'refresh_failed':
      return trans.__(
        'The access token could not be refreshed and has expired. Try Refresh now in a moment, or sign in again.'
      );
    case 'grant_not_allowed':
      return trans.__(
        "This environment does not allow this way of signing in. Use the provider's sign-in page instead, or ask your admin."
      );
    case 'forbidden':
      return trans.__(
        'The Jupyter server refused the request: only its own kernels may use it. Restart the kernel and try again.'
      );
    case 'server_unreachable':
      return trans.__(
        'The kernel could not reach the Jupyter server. Check that it is still running, then restart the kernel.'
      );
    case 'store_error':
      return trans.__(
        'The token store on the Jupyter server cannot be read or written. Sessions are not kept across restarts until your admin fixes it.'
      );
    case 'network_error':
      return trans.__(
        'The Jupyter server did not answer. Check that it is still running, then try again.'
      );
    case 'http_error':
      return error.status === 404
        ? trans.__(
            'The jupyterlab-oidc server extension is not enabled on this Jupyter server. Ask your admin to enable it.'
          )
        : error.status === 403
          ? trans.__('The Jupyter server refused the request. Reload JupyterLab and try again.')
          : trans.__(
              'The Jupyter server answered with an unexpected error (HTTP %1). Try again.',
              error.status
            );
    case 'invalid_response':
      return trans.__(
        'The Jupyter server sent an answer this extension does not understand. Reload JupyterLab.'
      );
    case 'aborted':
      return trans.__('The request was cancelled.');
    case 'unsafe_url':
      return error.detail('url_kind') === 'end_session'
        ? trans.__(
            "The provider's sign-out address is not a web (http or https) address, so it was not opened. This Jupyter server no longer holds your tokens."
          )
        : trans.__(
            'The sign-in address the server sent is not a web (http or https) address, so it was not opened and nothing was signed in. Ask your admin to check the provider configuration.'
          );
    case 'oidc_error':
    default:
      return trans.__(
        'The sign-in failed unexpectedly. Try again; if it persists, contact your admin.'
      );
  }
}
