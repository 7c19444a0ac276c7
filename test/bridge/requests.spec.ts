/**
 * `KernelRequests`: token requests answered from `POST oidc/token` (shared while in flight,
 * refreshed first when forced), relayed calls, and the errors kernels get.
 */
import { PromiseDelegate } from '@lumino/coreutils';

import type { IRawReply } from '../../src/api';
import * as Protocol from '../../src/bridge/protocol';
import { KernelRequests } from '../../src/bridge/requests';
import { OidcError } from '../../src/errors';
import { sessionInfo } from '../utils';
import { failed, FakeServer, ok, TOKEN } from './fakes';

describe('KernelRequests', () => {
  let server: FakeServer;
  let requests: KernelRequests;

  beforeEach(() => {
    jest.useFakeTimers();
    server = new FakeServer().on('POST token', ok(TOKEN));
    requests = new KernelRequests({ server, tokenTimeoutMs: 50 });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  function tokenRequest(overrides: Partial<Protocol.ITokenRequest> = {}): Protocol.ITokenRequest {
    return {
      type: 'token_request',
      id: 'r1',
      environment: null,
      application: null,
      min_valid: 60,
      force: false,
      ...overrides
    };
  }

  describe('#answer', () => {
    it('should answer token_reply with the whole POST oidc/token body', async () => {
      await expect(requests.answer(tokenRequest())).resolves.toEqual({
        v: 1,
        type: 'token_reply',
        id: 'r1',
        token: TOKEN
      });
    });

    it('should send environment, application and min_valid, leaving out what is null', async () => {
      await requests.answer(
        tokenRequest({ environment: 'dev', application: 'spatial_engine', min_valid: 5 })
      );
      await requests.answer(tokenRequest({ id: 'r2', min_valid: null }));
      expect(server.bodies('POST token')).toEqual([
        { environment: 'dev', application: 'spatial_engine', min_valid: 5 },
        {}
      ]);
    });

    it('should ask the server to refresh first when forced', async () => {
      server.on('POST refresh', ok(sessionInfo()));
      await expect(
        requests.answer(tokenRequest({ force: true, environment: 'prod' }))
      ).resolves.toMatchObject({
        type: 'token_reply'
      });
      expect(server.relay.mock.calls.map(([m, p]) => `${m} ${p}`)).toEqual([
        'POST refresh',
        'POST token'
      ]);
      expect(server.bodies('POST refresh')).toEqual([{ environment: 'prod' }]);
    });

    it('should forward the error of a failed forced refresh', async () => {
      server.on('POST refresh', failed(401, { error: 'session_expired', message: 'signed out' }));
      await expect(requests.answer(tokenRequest({ force: true }))).resolves.toEqual({
        v: 1,
        type: 'error',
        id: 'r1',
        error: 'session_expired',
        message: 'signed out'
      });
      expect(server.bodies('POST token')).toEqual([]);
    });

    it("should forward the server's error body with the request id", async () => {
      server.on(
        'POST token',
        failed(404, { error: 'unknown_environment', message: 'no such', environment: 'qa' })
      );
      await expect(requests.answer(tokenRequest({ environment: 'qa' }))).resolves.toEqual({
        v: 1,
        type: 'error',
        id: 'r1',
        error: 'unknown_environment',
        message: 'no such',
        environment: 'qa'
      });
    });

    it('should answer server_unreachable when the server does not answer', async () => {
      server.on('POST token', new OidcError('network_error', 'The Jupyter server did not answer.'));
      await expect(requests.answer(tokenRequest())).resolves.toMatchObject({
        type: 'error',
        id: 'r1',
        error: 'server_unreachable'
      });
    });

    it('should answer unavailable to an answer without a token or an OIDC error body', async () => {
      server.on('POST token', failed(403, undefined), ok({ status: 'weird' }));
      await expect(requests.answer(tokenRequest())).resolves.toMatchObject({
        type: 'error',
        error: 'unavailable'
      });
      await expect(requests.answer(tokenRequest({ id: 'r2' }))).resolves.toMatchObject({
        type: 'error',
        error: 'unavailable'
      });
    });

    it('should answer unavailable when the server is slower than the kernel waits', async () => {
      const pending = new PromiseDelegate<IRawReply>();
      server.on('POST token', pending);
      const answer = requests.answer(tokenRequest());
      jest.advanceTimersByTime(50); // the kernel's wait is over
      await expect(answer).resolves.toMatchObject({
        type: 'error',
        id: 'r1',
        error: 'unavailable'
      });
      pending.resolve(ok(TOKEN));
    });

    it('should share one POST oidc/token between identical requests in flight', async () => {
      const pending = new PromiseDelegate<IRawReply>();
      server.on('POST token', pending, ok(TOKEN));
      const first = requests.answer(tokenRequest({ id: 'a' }));
      const second = requests.answer(tokenRequest({ id: 'b' }));
      const other = requests.answer(tokenRequest({ id: 'c', environment: 'dev' }));
      pending.resolve(ok(TOKEN));
      expect((await first) as any).toMatchObject({ id: 'a', type: 'token_reply' });
      expect((await second) as any).toMatchObject({ id: 'b', type: 'token_reply' });
      expect((await other) as any).toMatchObject({ id: 'c', type: 'token_reply' });
      expect(server.bodies('POST token')).toHaveLength(2);
      await requests.answer(tokenRequest({ id: 'd' }));
      expect(server.bodies('POST token')).toHaveLength(3); // nothing shared once answered
    });

    it('should relay a call and answer its status and body, errors included', async () => {
      server.on(
        'POST await',
        ok({ status: 'pending' }, 202),
        failed(403, { error: 'identity_mismatch', message: 'bob' })
      );
      const call: Protocol.ICall = {
        type: 'call',
        id: 'c1',
        method: 'POST',
        path: 'await',
        body: { state: 's', wait_seconds: 20 }
      };
      await expect(requests.answer(call)).resolves.toEqual({
        v: 1,
        type: 'call_reply',
        id: 'c1',
        status: 202,
        body: { status: 'pending' }
      });
      await expect(requests.answer({ ...call, id: 'c2' })).resolves.toEqual({
        v: 1,
        type: 'call_reply',
        id: 'c2',
        status: 403,
        body: { error: 'identity_mismatch', message: 'bob' }
      });
      expect(server.bodies('POST await')[0]).toEqual({ state: 's', wait_seconds: 20 });
    });

    it('should not hurry a relayed call', async () => {
      const pending = new PromiseDelegate<IRawReply>();
      server.on('GET status', pending);
      const answer = requests.answer({
        type: 'call',
        id: 'c1',
        method: 'GET',
        path: 'status',
        body: {}
      });
      jest.advanceTimersByTime(80); // longer than the token timeout
      pending.resolve(ok({ sessions: [] }));
      await expect(answer).resolves.toMatchObject({ type: 'call_reply', status: 200 });
    });

    it('should answer server_unreachable for a call that got no answer', async () => {
      server.on('POST login', new OidcError('network_error', 'down'));
      await expect(
        requests.answer({
          type: 'call',
          id: 'c1',
          method: 'POST',
          path: 'login',
          body: { login_hint: 'a@b.c' }
        })
      ).resolves.toMatchObject({ type: 'error', id: 'c1', error: 'server_unreachable' });
    });
  });
});
