import { ServerConnection } from '@jupyterlab/services';

import { OidcAPI, requestAPI } from '../src/api';
import { OidcError, SERVER_ERROR_CODES } from '../src/errors';
import { environmentsReply, rejection, sessionInfo, statusReply } from './utils';

const BASE_URL = 'http://localhost:8888/a%40b/';

type Answer = { status: number; body: unknown } | Error;

/** Settings whose fetch records requests and answers from `answers`, in order. */
function stubbedSettings(...answers: Answer[]) {
  const requests: Array<{ method: string; url: string; body: string; contentType: string | null }> =
    [];
  const fetch = jest.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input as RequestInfo, init);
    requests.push({
      method: request.method,
      url: request.url.replace(/[?&]\d{10,}$/, ''), // ServerConnection's no-store cache buster
      body: request.method === 'GET' ? '' : await request.text(),
      contentType: request.headers.get('Content-Type')
    });
    const answer = answers.shift() ?? { status: 200, body: {} };
    if (answer instanceof Error) {
      throw answer;
    }
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    return new Response(answer.status === 204 ? null : text, { status: answer.status });
  });
  const serverSettings = ServerConnection.makeSettings({
    baseUrl: BASE_URL,
    fetch,
    token: 'jupyter-token'
  });
  return { api: new OidcAPI({ serverSettings }), requests, serverSettings };
}

describe('OidcAPI', () => {
  describe('#environments', () => {
    it('should GET oidc/environments below the base URL', async () => {
      const { api, requests } = stubbedSettings({ status: 200, body: environmentsReply() });
      const reply = await api.environments();
      expect(reply.default_environment).toBe('prod');
      expect(requests[0]).toMatchObject({ method: 'GET', url: `${BASE_URL}oidc/environments` });
    });
  });

  describe('#status', () => {
    it('should GET oidc/status without a query for a snapshot', async () => {
      const { api, requests } = stubbedSettings({ status: 200, body: statusReply() });
      await api.status();
      expect(requests[0].url).toBe(`${BASE_URL}oidc/status`);
    });

    it('should long-poll with after and timeout', async () => {
      const { api, requests } = stubbedSettings({
        status: 200,
        body: statusReply({ revision: 8 })
      });
      const reply = await api.status({ after: 7, timeoutSeconds: 20 });
      expect(reply.revision).toBe(8);
      expect(requests[0].url).toBe(`${BASE_URL}oidc/status?after=7&timeout=20`);
    });
  });

  describe('#login', () => {
    it('should POST environment, application and login_hint as JSON', async () => {
      const { api, requests } = stubbedSettings({
        status: 200,
        body: { url: 'https://id.example/authorize', state: 's', expires_in: 300 }
      });
      const reply = await api.login({
        environment: 'dev',
        application: 'spatial_engine',
        login_hint: 'a@b.c'
      });
      expect(reply.state).toBe('s');
      expect(requests[0].method).toBe('POST');
      expect(requests[0].url).toBe(`${BASE_URL}oidc/login`);
      expect(requests[0].contentType).toBe('application/json');
      expect(JSON.parse(requests[0].body)).toEqual({
        environment: 'dev',
        application: 'spatial_engine',
        login_hint: 'a@b.c'
      });
    });
  });

  describe('#awaitLogin', () => {
    it('should answer signed_in with the session', async () => {
      const { api, requests } = stubbedSettings({
        status: 200,
        body: { status: 'signed_in', session: sessionInfo() }
      });
      const reply = await api.awaitLogin('s', 25);
      expect(reply.status).toBe('signed_in');
      expect(JSON.parse(requests[0].body)).toEqual({ state: 's', wait_seconds: 25 });
    });

    it('should answer pending on 202', async () => {
      const { api } = stubbedSettings({ status: 202, body: { status: 'pending' } });
      expect(await api.awaitLogin('s', 25)).toEqual({ status: 'pending' });
    });

    it('should throw identity_mismatch with expected and actual', async () => {
      const { api } = stubbedSettings({
        status: 403,
        body: {
          error: 'identity_mismatch',
          message: 'You signed in as bob@corp.com, but this sign-in was for alice@corp.com.',
          expected: 'alice@corp.com',
          actual: 'bob@corp.com'
        }
      });
      const error = await rejection(api.awaitLogin('s'));
      expect(error).toBeInstanceOf(OidcError);
      expect(error.code).toBe('identity_mismatch');
      expect(error.status).toBe(403);
      expect(error.detail('expected')).toBe('alice@corp.com');
      expect(error.detail('actual')).toBe('bob@corp.com');
    });
  });

  describe('#cancel', () => {
    it('should POST the state', async () => {
      const { api, requests } = stubbedSettings({ status: 200, body: { status: 'cancelled' } });
      await api.cancel('s');
      expect(requests[0].url).toBe(`${BASE_URL}oidc/cancel`);
      expect(JSON.parse(requests[0].body)).toEqual({ state: 's' });
    });
  });

  describe('#token', () => {
    it('should POST min_valid and answer the access token', async () => {
      const { api, requests } = stubbedSettings({
        status: 200,
        body: { ...sessionInfo(), access_token: 'at', id_token: 'it', token_type: 'Bearer' }
      });
      const reply = await api.token({ environment: 'prod', min_valid: 120 });
      expect(reply.access_token).toBe('at');
      expect(JSON.parse(requests[0].body)).toEqual({ environment: 'prod', min_valid: 120 });
    });

    it('should throw not_authenticated on 401', async () => {
      const { api } = stubbedSettings({
        status: 401,
        body: { error: 'not_authenticated', message: "Not signed in to 'prod'." }
      });
      await expect(api.token()).rejects.toMatchObject({ code: 'not_authenticated', status: 401 });
    });
  });

  describe('#refresh', () => {
    it('should POST to oidc/refresh', async () => {
      const { api, requests } = stubbedSettings({ status: 200, body: sessionInfo() });
      await api.refresh({ environment: 'prod' });
      expect(requests[0].url).toBe(`${BASE_URL}oidc/refresh`);
    });
  });

  describe('#logout', () => {
    it('should answer the end-session URL', async () => {
      const { api } = stubbedSettings({
        status: 200,
        body: { signed_out: true, end_session_url: 'https://id.example/end' }
      });
      expect(await api.logout({ environment: 'prod' })).toEqual({
        signed_out: true,
        end_session_url: 'https://id.example/end'
      });
    });
  });

  describe('#jwks', () => {
    it('should GET oidc/jwks with the environment', async () => {
      const { api, requests } = stubbedSettings({
        status: 200,
        body: { issuer: 'i', discovery: {}, jwks: { keys: [] } }
      });
      await api.jwks('dev');
      expect(requests[0].url).toBe(`${BASE_URL}oidc/jwks?environment=dev`);
    });

    it('should throw http_error 404 while the server has no such route', async () => {
      const { api } = stubbedSettings({ status: 404, body: '<html>404 Not Found</html>' });
      await expect(api.jwks('prod')).rejects.toMatchObject({ code: 'http_error', status: 404 });
    });
  });
  describe('#relay', () => {
    it('should POST the body and answer status and body of a success', async () => {
      const { api, requests } = stubbedSettings({ status: 202, body: { status: 'pending' } });
      const reply = await api.relay('POST', 'await', { state: 's', wait_seconds: 20 });
      expect(reply).toEqual({ status: 202, ok: true, body: { status: 'pending' } });
      expect(requests[0]).toMatchObject({
        method: 'POST',
        url: `${BASE_URL}oidc/await`,
        contentType: 'application/json'
      });
      expect(JSON.parse(requests[0].body)).toEqual({ state: 's', wait_seconds: 20 });
    });

    it('should answer an error body as it came instead of throwing', async () => {
      const { api } = stubbedSettings({
        status: 401,
        body: { error: 'not_authenticated', message: 'sign in' }
      });
      await expect(api.relay('POST', 'token', {})).resolves.toEqual({
        status: 401,
        ok: false,
        body: { error: 'not_authenticated', message: 'sign in' }
      });
    });

    it('should send a GET without a body', async () => {
      const { api, requests } = stubbedSettings({ status: 200, body: { sessions: [] } });
      await api.relay('GET', 'status', { ignored: true });
      expect(requests[0]).toMatchObject({ method: 'GET', url: `${BASE_URL}oidc/status`, body: '' });
    });

    it('should throw network_error when the server does not answer', async () => {
      const { api } = stubbedSettings(new TypeError('Failed to fetch'));
      await expect(api.relay('GET', 'status')).rejects.toMatchObject({ code: 'network_error' });
    });
  });
});

describe('requestAPI', () => {
  it.each(SERVER_ERROR_CODES.map(code => [code]))(
    'should map the server code %s to OidcError.code',
    async code => {
      const { serverSettings } = stubbedSettings({
        status: 502,
        body: { error: code, message: `sentence for ${code}` }
      });
      const error = await rejection(requestAPI('status', { method: 'GET' }, serverSettings));
      expect(error).toBeInstanceOf(OidcError);
      expect(error.name).toBe('OidcError');
      expect(error.code).toBe(code);
      expect(error.message).toBe(`sentence for ${code}`);
      expect(error.status).toBe(502);
    }
  );

  it('should keep extra fields as details', async () => {
    const { serverSettings } = stubbedSettings({
      status: 502,
      body: { error: 'invalid_id_token', message: 'bad', check: 'nonce' }
    });
    const error = await rejection(requestAPI('await', { method: 'POST' }, serverSettings));
    expect(error.detail('check')).toBe('nonce');
  });

  it('should map an unknown server code to oidc_error', async () => {
    const { serverSettings } = stubbedSettings({
      status: 500,
      body: { error: 'brand_new_code', message: 'new' }
    });
    const error = await rejection(requestAPI('status', { method: 'GET' }, serverSettings));
    expect(error.code).toBe('oidc_error');
    expect(error.detail('server_code')).toBe('brand_new_code');
  });

  it('should map an answer without an OIDC body to http_error', async () => {
    const { serverSettings } = stubbedSettings({
      status: 403,
      body: { message: "'_xsrf' argument missing from POST" }
    });
    const error = await rejection(requestAPI('login', { method: 'POST' }, serverSettings));
    expect(error.code).toBe('http_error');
    expect(error.status).toBe(403);
  });

  it('should map a failed fetch to network_error', async () => {
    const { serverSettings } = stubbedSettings(new TypeError('Failed to fetch'));
    const error = await rejection(requestAPI('status', { method: 'GET' }, serverSettings));
    expect(error.code).toBe('network_error');
    expect(error.status).toBe(0);
    expect(error.cause).toBeDefined();
  });

  it('should map an aborted request to aborted', async () => {
    const { serverSettings } = stubbedSettings(new Error('The operation was aborted.'));
    const controller = new AbortController();
    controller.abort();
    const error = await rejection(
      requestAPI('status', { method: 'GET', signal: controller.signal }, serverSettings)
    );
    expect(error.code).toBe('aborted');
  });

  it('should map a successful answer that is not JSON to invalid_response', async () => {
    const { serverSettings } = stubbedSettings({ status: 200, body: 'not json' });
    await expect(requestAPI('status', { method: 'GET' }, serverSettings)).rejects.toMatchObject({
      code: 'invalid_response'
    });
  });
});
