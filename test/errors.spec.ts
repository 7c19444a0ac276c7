import * as fs from 'fs';
import * as path from 'path';

import { nullTranslator } from '@jupyterlab/translation';

import {
  describeError,
  isServerErrorCode,
  OidcError,
  OidcErrorCode,
  SERVER_ERROR_CODES
} from '../src/errors';

const trans = nullTranslator.load('jupyterlab_oidc');

describe('OidcError', () => {
  describe('#constructor', () => {
    it('should carry code, status, details and cause', () => {
      const cause = new Error('low level');
      const error = new OidcError('refresh_failed', 'msg', {
        status: 502,
        details: { environment: 'prod' },
        cause
      });
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('OidcError');
      expect(error.code).toBe('refresh_failed');
      expect(error.status).toBe(502);
      expect(error.detail('environment')).toBe('prod');
      expect(error.cause).toBe(cause);
    });
  });

  describe('.fromResponse', () => {
    it('should take the code from error and the sentence from message', () => {
      const error = OidcError.fromResponse(408, {
        error: 'login_timeout',
        message: 'No answer.',
        environment: 'dev'
      });
      expect(error.code).toBe('login_timeout');
      expect(error.message).toBe('No answer.');
      expect(error.detail('environment')).toBe('dev');
    });

    it('should use http_error when the body has no code', () => {
      expect(OidcError.fromResponse(502, undefined).code).toBe('http_error');
      expect(OidcError.fromResponse(502, undefined).message).toBe('HTTP 502');
    });
  });

  describe('.from', () => {
    it('should keep an OidcError as it is', () => {
      const error = new OidcError('store_error', 'x');
      expect(OidcError.from(error)).toBe(error);
    });

    it('should wrap anything else as oidc_error', () => {
      const error = OidcError.from(new Error('boom'));
      expect(error.code).toBe('oidc_error');
      expect(error.message).toBe('boom');
    });
  });
});

describe('isServerErrorCode', () => {
  it('should know every server code and nothing else', () => {
    for (const code of SERVER_ERROR_CODES) {
      expect(isServerErrorCode(code)).toBe(true);
    }
    expect(isServerErrorCode('network_error')).toBe(false);
    expect(isServerErrorCode('ERR_JWT_EXPIRED')).toBe(false);
  });

  it('should list the codes of jupyterlab_oidc/errors.py, in its order', () => {
    const source = fs.readFileSync(
      path.join(__dirname, '..', 'jupyterlab_oidc', 'errors.py'),
      'utf8'
    );
    const python = Array.from(source.matchAll(/^\s+code(?::[^=]+)? = "([a-z_]+)"$/gm), m => m[1]);
    expect(python).toContain('browser_mismatch');
    expect(SERVER_ERROR_CODES).toEqual(python);
  });
});

describe('describeError', () => {
  const ALL_CODES: OidcErrorCode[] = [
    ...SERVER_ERROR_CODES,
    'network_error',
    'http_error',
    'invalid_response',
    'aborted',
    'unsafe_url'
  ];

  it.each(ALL_CODES.map(code => [code]))('should give %s a sentence of its own', code => {
    const sentence = describeError(new OidcError(code, 'SERVER TEXT'), trans);
    expect(sentence.length).toBeGreaterThan(15);
    expect(sentence).not.toContain('SERVER TEXT');
    expect(sentence).not.toMatch(/[{}]/);
  });

  it('should name both accounts on identity_mismatch', () => {
    const error = new OidcError('identity_mismatch', 'x', {
      details: { expected: 'alice@corp.com', actual: 'bob@corp.com' }
    });
    expect(describeError(error, trans)).toBe(
      'You signed in as bob@corp.com, but this sign-in was for alice@corp.com. Nothing was stored — sign in again with the right account.'
    );
  });

  it('should explain an unverified email when both accounts are the same', () => {
    const error = new OidcError('identity_mismatch', 'x', {
      details: { expected: 'alice@corp.com', actual: 'Alice@corp.com' }
    });
    expect(describeError(error, trans)).toContain('not verified');
  });

  it('should name the failed check of invalid_id_token', () => {
    const error = new OidcError('invalid_id_token', 'x', { details: { check: 'nonce' } });
    expect(describeError(error, trans)).toContain('nonce check');
  });

  it('should say a sign-in started in another browser stored nothing', () => {
    const sentence = describeError(new OidcError('browser_mismatch', 'x', { status: 403 }), trans);
    expect(sentence).toContain('started in another browser');
    expect(sentence).toContain('nothing was stored');
  });

  it('should tell an unsafe sign-in address from an unsafe sign-out address', () => {
    const signIn = describeError(
      new OidcError('unsafe_url', 'x', { details: { url_kind: 'authorization' } }),
      trans
    );
    const signOut = describeError(
      new OidcError('unsafe_url', 'x', { details: { url_kind: 'end_session' } }),
      trans
    );
    expect(signIn).toContain('nothing was signed in');
    expect(signOut).toContain('sign-out address');
  });

  it('should tell a missing server extension from other HTTP errors', () => {
    expect(describeError(new OidcError('http_error', 'x', { status: 404 }), trans)).toContain(
      'not enabled'
    );
    expect(describeError(new OidcError('http_error', 'x', { status: 500 }), trans)).toContain(
      'HTTP 500'
    );
  });
});
