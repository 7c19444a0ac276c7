/**
 * `TokenUpdates` through the bridge: `token_update` pushes on sign-in, rotation and sign-out,
 * one token fetch for every ready kernel, nothing when no kernel listens.
 */
import { PromiseDelegate } from '@lumino/coreutils';

import type { IRawReply } from '../../src/api';
import { KernelBridge } from '../../src/bridge/bridge';
import { OidcError } from '../../src/errors';
import { NOW_S } from '../utils';
import { BridgeFixture, FakeServer, FakeSession, failed, ok, session, TOKEN } from './fakes';

describe('TokenUpdates', () => {
  let server: FakeServer;
  let model: FakeSession;
  let bridge: KernelBridge;
  let readyKernel: BridgeFixture['readyKernel'];

  beforeEach(() => {
    const fixture = new BridgeFixture();
    ({ server, model, bridge } = fixture);
    readyKernel = id => fixture.readyKernel(id);
  });

  afterEach(() => {
    bridge.dispose();
  });

  describe('#sessionsChanged (of IOidcSession)', () => {
    it('should push sign_in with the token fetched once to every ready kernel', async () => {
      const a = await readyKernel('a');
      const b = await readyKernel('b');
      model.change({ added: [session()] });
      await bridge.flush();
      const expected = {
        v: 1,
        type: 'token_update',
        reason: 'sign_in',
        environment: 'prod',
        application: null,
        token: TOKEN
      };
      expect(a.comm.ofType('token_update')).toEqual([expected]);
      expect(b.comm.ofType('token_update')).toEqual([expected]);
      expect(server.bodies('POST token')).toEqual([{ environment: 'prod', min_valid: 0 }]);
    });

    it('should push refresh when a session rotates', async () => {
      const { comm } = await readyKernel();
      model.change({ added: [session()] });
      model.change({ updated: [session({ refreshed_at: NOW_S + 60, expires_at: NOW_S + 3660 })] });
      await bridge.flush();
      expect(comm.ofType('token_update').map(m => m.reason)).toEqual(['refresh']); // the newer change wins
    });

    it('should push sign_in when another sign-in replaced the session', async () => {
      const { comm } = await readyKernel();
      model.change({ added: [session()] });
      await bridge.flush();
      model.change({ updated: [session({ signed_in_at: NOW_S + 100, email: 'bob@corp.com' })] });
      await bridge.flush();
      expect(comm.ofType('token_update').map(m => m.reason)).toEqual(['sign_in', 'sign_in']);
    });

    it('should push sign_out with a null token, without asking the server', async () => {
      const { comm } = await readyKernel();
      model.change({ removed: [session({ application: 'spatial_engine' })] });
      expect(comm.ofType('token_update')).toEqual([
        {
          v: 1,
          type: 'token_update',
          reason: 'sign_out',
          environment: 'prod',
          application: 'spatial_engine',
          token: null
        }
      ]);
      expect(server.relay).not.toHaveBeenCalled();
    });

    it('should not push a token fetched before a sign-out', async () => {
      const pending = new PromiseDelegate<IRawReply>();
      server.on('POST token', pending);
      const { comm } = await readyKernel();
      model.change({ added: [session()] });
      model.change({ removed: [session()] });
      pending.resolve(ok(TOKEN));
      await bridge.flush();
      expect(comm.ofType('token_update').map(m => m.reason)).toEqual(['sign_out']);
    });

    it('should not ask the server when no kernel listens', async () => {
      model.change({ added: [session()] });
      await bridge.flush();
      expect(server.relay).not.toHaveBeenCalled();
    });

    it('should push nothing when the token cannot be read', async () => {
      const debug = jest.spyOn(console, 'debug').mockImplementation(() => undefined);
      const { comm } = await readyKernel();
      server.on('POST token', failed(401, { error: 'not_authenticated', message: 'no' }));
      model.change({ added: [session()] });
      server.on('POST token', new OidcError('network_error', 'down'));
      model.change({ added: [session({ environment: 'dev' })] });
      await bridge.flush();
      expect(comm.ofType('token_update')).toEqual([]);
      debug.mockRestore();
    });
  });
});
