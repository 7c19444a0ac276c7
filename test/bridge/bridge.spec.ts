/**
 * `KernelBridge`: broadcasting to ready kernels, following trackers, disposal; and the
 * `jupyterlab-oidc:kernel-bridge` plugin that wires it to the session model.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ServerConnection } from '@jupyterlab/services';

import { KernelBridge } from '../../src/bridge/bridge';
import * as Protocol from '../../src/bridge/protocol';
import plugins from '../../src/index';
import { IOidcSession } from '../../src/tokens';
import {
  BridgeFixture,
  FakeKernel,
  FakeServer,
  FakeSession,
  FakeTracker,
  FakeWidget,
  session,
  settle
} from './fakes';

describe('KernelBridge', () => {
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

  describe('#broadcast', () => {
    it('should send to every kernel that was answered ready, and only those', async () => {
      const a = await readyKernel('a');
      const b = await readyKernel('b');
      const waiting = new FakeKernel('c');
      bridge.attach(waiting.asKernel());
      const c = waiting.open(); // no subshell yet: not ready
      bridge.broadcast(Protocol.tokenUpdate('sign_out', 'prod', null, null));
      expect(a.comm.ofType('token_update')).toHaveLength(1);
      expect(b.comm.ofType('token_update')).toHaveLength(1);
      expect(c.sent).toEqual([]);
    });
  });

  describe('#follow', () => {
    it('should attach to notebooks and consoles through their trackers', async () => {
      const kernel = new FakeKernel();
      const tracker = new FakeTracker([new FakeWidget(kernel)]);
      bridge.follow(tracker);
      expect(bridge.kernels.map(a => a.kernel)).toEqual([kernel]);
    });
  });

  describe('#dispose', () => {
    it('should close every comm, unregister every target and stop pushing', async () => {
      const { kernel, comm } = await readyKernel();
      let emitted = 0;
      bridge.disposed.connect(() => (emitted += 1));
      bridge.dispose();
      bridge.dispose();
      expect(emitted).toBe(1);
      expect(bridge.isDisposed).toBe(true);
      expect(comm.closed).toBe(true);
      expect(kernel.targets.size).toBe(0);
      model.change({ added: [session()] });
      await settle();
      expect(server.relay).not.toHaveBeenCalled();
    });

    it('should not attach once disposed', () => {
      bridge.dispose();
      const kernel = new FakeKernel();
      bridge.attach(kernel.asKernel()).dispose();
      expect(kernel.targets.size).toBe(0);
    });
  });
});

describe('jupyterlab-oidc:kernel-bridge', () => {
  describe('#activate', () => {
    it('should follow the kernels of notebooks and consoles at once, until the session model goes', () => {
      const plugin = (plugins as JupyterFrontEndPlugin<unknown>[]).find(
        p => p.id === 'jupyterlab-oidc:kernel-bridge'
      )!;
      expect(plugin.requires).toEqual([IOidcSession]);
      const serverSettings = ServerConnection.makeSettings({ baseUrl: 'http://localhost:8888/' });
      const app = { serviceManager: { serverSettings } } as unknown as JupyterFrontEnd;
      const model = new FakeSession();
      const notebookKernel = new FakeKernel('notebook');
      const consoleKernel = new FakeKernel('console');
      const consoles = new FakeTracker();
      const returned = plugin.activate(
        app,
        model.asSession(),
        new FakeTracker([new FakeWidget(notebookKernel)]),
        consoles
      );
      expect(returned).toBeUndefined(); // never awaits
      consoles.add(new FakeWidget(consoleKernel));
      expect(notebookKernel.targets.has(Protocol.TARGET_NAME)).toBe(true);
      expect(consoleKernel.targets.has(Protocol.TARGET_NAME)).toBe(true);
      model.disposed.emit();
      expect(notebookKernel.targets.size + consoleKernel.targets.size).toBe(0);
    });

    it('should work without notebook and console trackers', () => {
      const plugin = (plugins as JupyterFrontEndPlugin<unknown>[]).find(
        p => p.id === 'jupyterlab-oidc:kernel-bridge'
      )!;
      const app = {
        serviceManager: { serverSettings: ServerConnection.makeSettings() }
      } as unknown as JupyterFrontEnd;
      expect(() => plugin.activate(app, new FakeSession().asSession(), null, null)).not.toThrow();
    });
  });
});
