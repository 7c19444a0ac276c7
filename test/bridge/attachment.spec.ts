/**
 * `KernelAttachment` through `KernelBridge#attach`: the comm target, hello → ready (after the
 * comm's subshell), answers on the comm, restarts, newer comms, detaching.
 */
import { PromiseDelegate } from '@lumino/coreutils';

import type { IRawReply } from '../../src/api';
import { KernelBridge } from '../../src/bridge/bridge';
import * as Protocol from '../../src/bridge/protocol';
import {
  BridgeFixture,
  FakeComm,
  FakeKernel,
  FakeServer,
  FakeSession,
  HELLO,
  ok,
  settle,
  TOKEN
} from './fakes';

describe('KernelAttachment', () => {
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

  describe('#attach', () => {
    it('should register the jupyterlab-oidc comm target on the kernel connection', () => {
      const kernel = new FakeKernel();
      bridge.attach(kernel.asKernel());
      expect([...kernel.targets.keys()]).toEqual(['jupyterlab-oidc']);
      expect(bridge.kernels.map(a => a.kernel)).toEqual([kernel]);
    });

    it('should answer hello with ready only once the comm subshell started', async () => {
      const kernel = new FakeKernel();
      bridge.attach(kernel.asKernel());
      const comm = kernel.open();
      await settle();
      expect(comm.sent).toEqual([]); // ready on the main shell would wait behind a running cell
      comm.subshell.resolve();
      await settle();
      expect(comm.sent).toEqual([
        {
          v: 1,
          type: 'ready',
          frontend: Protocol.FRONTEND,
          subshell: true,
          default_environment: 'prod'
        }
      ]);
      expect(bridge.kernels[0].isLive).toBe(true);
      expect(bridge.kernels[0].hello?.package).toBe('jupyterlab_oidc 0.1.0');
    });

    it('should answer ready without a subshell when the kernel has none', async () => {
      const kernel = new FakeKernel('k', { subshells: false });
      bridge.attach(kernel.asKernel());
      const comm = kernel.open(); // its subshellStarted never resolves
      await settle();
      expect(comm.sent).toEqual([expect.objectContaining({ type: 'ready', subshell: false })]);
      expect(bridge.kernels[0].isReady).toBe(true);
      expect(bridge.kernels[0].isLive).toBe(false);
    });

    it('should answer ready without a subshell when comms over subshells are disabled', async () => {
      const kernel = new FakeKernel();
      bridge.attach(kernel.asKernel());
      const target = kernel.targets.get(Protocol.TARGET_NAME)!;
      const comm = new FakeComm('c');
      comm.commsOverSubshells = 'disabled';
      target(comm, {
        content: { comm_id: 'c', target_name: Protocol.TARGET_NAME, data: HELLO }
      } as any);
      await settle();
      expect(comm.sent).toEqual([expect.objectContaining({ type: 'ready', subshell: false })]);
    });

    it('should leave out default_environment until the server named one', async () => {
      model.defaultEnvironment = '';
      const { comm } = await readyKernel();
      expect(comm.sent[0]).not.toHaveProperty('default_environment');
    });

    it('should accept a kernel that also speaks newer versions', async () => {
      const kernel = new FakeKernel();
      bridge.attach(kernel.asKernel());
      const comm = kernel.open({ ...HELLO, v: 2, versions: [1, 2] });
      comm.subshell.resolve();
      await settle();
      expect(comm.ofType('ready')).toHaveLength(1);
    });

    it('should not answer ready to a hello without a version it speaks', async () => {
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
      const kernel = new FakeKernel();
      bridge.attach(kernel.asKernel());
      const comm = kernel.open({ v: 2, type: 'hello', versions: [2] });
      comm.subshell.resolve();
      await settle();
      expect(comm.sent).toEqual([
        expect.objectContaining({ type: 'error', error: 'invalid_request' })
      ]);
      expect(comm.sent[0]).not.toHaveProperty('id');
      expect(bridge.kernels[0].isReady).toBe(false);
      warn.mockRestore();
    });

    it('should share one attachment between holders of one connection until the last lets go', () => {
      const kernel = new FakeKernel();
      const first = bridge.attach(kernel.asKernel());
      const second = bridge.attach(kernel.asKernel());
      expect(bridge.kernels).toHaveLength(1);
      first.dispose();
      expect(kernel.targets.size).toBe(1);
      second.dispose();
      expect(kernel.targets.size).toBe(0);
      expect(bridge.kernels).toHaveLength(0);
    });

    it('should unregister the target and close the comm when detached', async () => {
      const kernel = new FakeKernel();
      const handle = bridge.attach(kernel.asKernel());
      const comm = kernel.open();
      comm.subshell.resolve();
      await settle();
      handle.dispose();
      expect(kernel.targets.size).toBe(0);
      expect(comm.closed).toBe(true); // the kernel uses HTTP from now on
    });

    it('should let the newest comm of a kernel replace older ones', async () => {
      const { kernel, comm: old } = await readyKernel();
      const newer = kernel.open();
      newer.subshell.resolve();
      await settle();
      expect(old.isDisposed).toBe(true);
      expect(old.closed).toBe(false); // the kernel closed it already; nothing is sent
      bridge.broadcast(Protocol.tokenUpdate('sign_out', 'prod', null, null));
      expect(newer.ofType('token_update')).toHaveLength(1);
      expect(old.ofType('token_update')).toHaveLength(0);
    });

    it('should forget the comm when the kernel closes it', async () => {
      const { comm } = await readyKernel();
      comm.closeFromKernel();
      expect(bridge.kernels[0].isReady).toBe(false);
    });

    it('should forget the comm on a restart and answer the new process', async () => {
      const { kernel, comm } = await readyKernel();
      kernel.restart();
      expect(bridge.kernels[0].isReady).toBe(false);
      expect(kernel.targets.has(Protocol.TARGET_NAME)).toBe(true); // the same connection keeps it
      const next = kernel.open();
      next.subshell.resolve();
      await settle();
      expect(next.ofType('ready')).toHaveLength(1);
      expect(comm.sent).toHaveLength(1);
    });

    it('should detach when the kernel connection is disposed', async () => {
      const { kernel } = await readyKernel();
      kernel.dispose();
      expect(bridge.kernels).toHaveLength(0);
      expect(kernel.targets.size).toBe(0);
    });

    it('should not send ready on a comm that went away while its subshell started', async () => {
      const kernel = new FakeKernel();
      bridge.attach(kernel.asKernel());
      const comm = kernel.open();
      comm.closeFromKernel();
      comm.subshell.resolve();
      await settle();
      expect(comm.sent).toEqual([]);
    });

    it('should answer a token_request with token_reply on the same comm', async () => {
      const { comm } = await readyKernel();
      comm.receive({
        v: 1,
        type: 'token_request',
        id: 'r1',
        environment: null,
        application: null,
        min_valid: 60,
        force: false
      });
      await settle();
      expect(comm.ofType('token_reply')).toEqual([
        { v: 1, type: 'token_reply', id: 'r1', token: TOKEN }
      ]);
      expect(server.bodies('POST token')).toEqual([{ min_valid: 60 }]);
    });

    it('should refuse a call to a route the protocol does not list', async () => {
      const { comm } = await readyKernel();
      comm.receive({
        v: 1,
        type: 'call',
        id: 'c1',
        method: 'POST',
        path: 'kernel/token',
        body: {}
      });
      await settle();
      expect(comm.ofType('error')).toEqual([
        expect.objectContaining({
          id: 'c1',
          error: 'invalid_request',
          message: expect.stringContaining('cannot be relayed')
        })
      ]);
      expect(server.relay).not.toHaveBeenCalled();
    });

    it('should ignore messages of another version or an unknown type', async () => {
      const debug = jest.spyOn(console, 'debug').mockImplementation(() => undefined);
      const { comm } = await readyKernel();
      comm.receive({ v: 2, type: 'token_request', id: 'x' });
      comm.receive({ v: 1, type: 'gossip', id: 'y' });
      comm.receive('not an object');
      await settle();
      expect(comm.sent).toHaveLength(1); // ready only
      debug.mockRestore();
    });

    it('should answer invalid_request to a request without an id', async () => {
      const { comm } = await readyKernel();
      comm.receive({ v: 1, type: 'token_request', environment: 'prod' });
      await settle();
      expect(comm.ofType('error')).toEqual([expect.objectContaining({ error: 'invalid_request' })]);
      expect(comm.ofType('error')[0]).not.toHaveProperty('id');
    });

    it('should drop an answer whose comm went away meanwhile', async () => {
      const pending = new PromiseDelegate<IRawReply>();
      server.on('POST token', pending);
      const { comm } = await readyKernel();
      comm.receive({
        v: 1,
        type: 'token_request',
        id: 'r1',
        environment: null,
        application: null,
        min_valid: 60
      });
      comm.closeFromKernel();
      pending.resolve(ok(TOKEN));
      await settle();
      expect(comm.ofType('token_reply')).toEqual([]);
    });
  });
});
