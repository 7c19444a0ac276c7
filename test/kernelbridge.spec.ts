/**
 * The kernel bridge with stubbed kernel connections and comms: the comm target, hello →
 * ready (after the comm's subshell), answers to token requests and relayed calls, token
 * updates, following notebooks' kernels across changes and restarts, and disposal.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Kernel, KernelMessage, ServerConnection } from '@jupyterlab/services';
import { PromiseDelegate } from '@lumino/coreutils';
import { Signal } from '@lumino/signaling';

import type { IRawReply } from '../src/api';
import { KernelBridge } from '../src/bridge/bridge';
import { followKernels, ISessionWidget } from '../src/bridge/follow';
import * as Protocol from '../src/bridge/protocol';
import { KernelRequests } from '../src/bridge/requests';
import { OidcError } from '../src/errors';
import plugins from '../src/index';
import { IOidcSession } from '../src/tokens';
import { flushPromises, NOW_S, sessionInfo } from './utils';

const HELLO = {
  v: 1,
  type: 'hello',
  versions: [1],
  package: 'jupyterlab_oidc 0.1.0',
  kernel: { language: 'python', implementation: 'ipykernel', subshells: true }
};

const TOKEN = { ...sessionInfo(), access_token: 'at-1', id_token: 'id-1', token_type: 'Bearer', lifetime: 3600, refresh_margin: 60 };

/** A client-side comm as `CommHandler` is: records what it sends. */
class FakeComm {
  constructor(readonly commId: string) {}

  readonly targetName = Protocol.TARGET_NAME;
  commsOverSubshells = 'perCommTarget';
  subshell = new PromiseDelegate<void>();
  sent: Array<Record<string, any>> = [];
  closed = false;
  onMsg: (msg: KernelMessage.ICommMsgMsg) => void = () => undefined;
  onClose: (msg: KernelMessage.ICommCloseMsg) => void = () => undefined;

  get subshellStarted(): Promise<void> {
    return this.subshell.promise;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  send(data: unknown): void {
    if (this._isDisposed) {
      throw new Error('Cannot send');
    }
    this.sent.push(data as Record<string, any>);
  }

  close(): void {
    this.closed = true;
    this.dispose();
  }

  dispose(): void {
    this._isDisposed = true;
  }

  /** A `comm_msg` from the kernel. */
  receive(data: unknown): void {
    this.onMsg({ content: { comm_id: this.commId, data } } as unknown as KernelMessage.ICommMsgMsg);
  }

  /** A `comm_close` from the kernel (JupyterLab calls onClose, then disposes). */
  closeFromKernel(): void {
    this.onClose({} as KernelMessage.ICommCloseMsg);
    this.dispose();
  }

  /** The messages of `type` sent so far. */
  ofType(type: string): Array<Record<string, any>> {
    return this.sent.filter(m => m.type === type);
  }

  private _isDisposed = false;
}

/** A kernel connection that handles comms, as a notebook's own session kernel is. */
class FakeKernel {
  constructor(readonly id = 'kernel-1', options: { subshells?: boolean } = {}) {
    this.supportsSubshells = options.subshells ?? true;
  }

  supportsSubshells: boolean;
  status: Kernel.Status = 'idle';
  info = Promise.resolve({});
  targets = new Map<string, (comm: FakeComm, msg: KernelMessage.ICommOpenMsg) => void>();
  statusChanged = new Signal<FakeKernel, Kernel.Status>(this);
  disposed = new Signal<FakeKernel, void>(this);
  comms: FakeComm[] = [];

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  registerCommTarget(name: string, callback: (comm: FakeComm, msg: KernelMessage.ICommOpenMsg) => void): void {
    this.targets.set(name, callback);
  }

  removeCommTarget(name: string, callback: unknown): void {
    if (this.targets.get(name) === callback) {
      this.targets.delete(name);
    }
  }

  /** The kernel opens a comm to our target with `data`; answers the client-side comm. */
  open(data: unknown = HELLO): FakeComm {
    const comm = new FakeComm(`comm-${this.comms.length + 1}`);
    this.comms.push(comm);
    const target = this.targets.get(Protocol.TARGET_NAME);
    if (!target) {
      throw new Error('no comm target registered');
    }
    const returned = target(comm, { content: { comm_id: comm.commId, target_name: Protocol.TARGET_NAME, data } } as any);
    expect(returned).toBeUndefined(); // a promise would hold the kernel's message processing
    return comm;
  }

  /** A restart: the connection disposes its comms (`_clearKernelState`). */
  restart(): void {
    this.setStatus('restarting');
    this.comms.forEach(comm => comm.dispose());
    this.setStatus('idle');
  }

  setStatus(status: Kernel.Status): void {
    this.status = status;
    this.statusChanged.emit(status);
  }

  dispose(): void {
    this._isDisposed = true;
    this.disposed.emit();
  }

  asKernel(): Kernel.IKernelConnection {
    return this as unknown as Kernel.IKernelConnection;
  }

  private _isDisposed = false;
}

type Answer = IRawReply | Error | PromiseDelegate<IRawReply>;

/** The REST client: answers relayed requests from a table the test fills, by `METHOD path`. */
class FakeServer {
  answers = new Map<string, Answer[]>();
  relay = jest.fn((method: 'GET' | 'POST', path: string, _body?: object): Promise<IRawReply> => {
    const queue = this.answers.get(`${method} ${path}`) ?? [];
    const answer = queue.length > 1 ? queue.shift()! : queue[0];
    if (answer === undefined) {
      return Promise.resolve({ status: 404, ok: false, body: undefined });
    }
    if (answer instanceof PromiseDelegate) {
      return answer.promise;
    }
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  });

  /** Answer `METHOD path` with these, in order (the last one repeats). */
  on(route: string, ...answers: Answer[]): this {
    this.answers.set(route, answers);
    return this;
  }

  /** The bodies sent to `METHOD path`. */
  bodies(route: string): unknown[] {
    return this.relay.mock.calls.filter(([m, p]) => `${m} ${p}` === route).map(([, , body]) => body);
  }
}

function ok(body: unknown, status = 200): IRawReply {
  return { status, ok: true, body };
}

function failed(status: number, body: unknown): IRawReply {
  return { status, ok: false, body };
}

/** The part of the session model the bridge uses. */
class FakeSession {
  defaultEnvironment = 'prod';
  sessions: IOidcSession.ISession[] = [];
  sessionsChanged = new Signal<FakeSession, IOidcSession.ISessionsChange>(this);
  disposed = new Signal<FakeSession, void>(this);

  change(change: Partial<IOidcSession.ISessionsChange>): void {
    this.sessionsChanged.emit({ added: [], updated: [], removed: [], ...change });
  }

  asSession(): IOidcSession {
    return this as unknown as IOidcSession;
  }
}

function session(overrides: Partial<IOidcSession.ISession> = {}): IOidcSession.ISession {
  const info = sessionInfo(overrides);
  return { key: info.application ? `${info.environment}/${info.application}` : info.environment, expiresAt: 0, ...info, ...overrides };
}

/** Let the bridge's promise chains (relay → answer → send) run. */
async function settle(): Promise<void> {
  await flushPromises(20);
}

describe('KernelBridge', () => {
  let server: FakeServer;
  let model: FakeSession;
  let bridge: KernelBridge;

  beforeEach(() => {
    server = new FakeServer().on('POST token', ok(TOKEN));
    model = new FakeSession();
    bridge = new KernelBridge({ session: model.asSession(), server });
  });

  afterEach(() => {
    bridge.dispose();
  });

  /** A kernel the bridge is attached to, with a comm answered `ready`. */
  async function readyKernel(id = 'kernel-1'): Promise<{ kernel: FakeKernel; comm: FakeComm }> {
    const kernel = new FakeKernel(id);
    bridge.attach(kernel.asKernel());
    const comm = kernel.open();
    comm.subshell.resolve();
    await settle();
    expect(comm.ofType('ready')).toHaveLength(1);
    return { kernel, comm };
  }

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
        { v: 1, type: 'ready', frontend: Protocol.FRONTEND, subshell: true, default_environment: 'prod' }
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
      target(comm, { content: { comm_id: 'c', target_name: Protocol.TARGET_NAME, data: HELLO } } as any);
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
      expect(comm.sent).toEqual([expect.objectContaining({ type: 'error', error: 'invalid_request' })]);
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
      comm.receive({ v: 1, type: 'token_request', id: 'r1', environment: null, application: null, min_valid: 60, force: false });
      await settle();
      expect(comm.ofType('token_reply')).toEqual([{ v: 1, type: 'token_reply', id: 'r1', token: TOKEN }]);
      expect(server.bodies('POST token')).toEqual([{ min_valid: 60 }]);
    });

    it('should refuse a call to a route the protocol does not list', async () => {
      const { comm } = await readyKernel();
      comm.receive({ v: 1, type: 'call', id: 'c1', method: 'POST', path: 'kernel/token', body: {} });
      await settle();
      expect(comm.ofType('error')).toEqual([
        expect.objectContaining({ id: 'c1', error: 'invalid_request', message: expect.stringContaining('cannot be relayed') })
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
      comm.receive({ v: 1, type: 'token_request', id: 'r1', environment: null, application: null, min_valid: 60 });
      comm.closeFromKernel();
      pending.resolve(ok(TOKEN));
      await settle();
      expect(comm.ofType('token_reply')).toEqual([]);
    });
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

  describe('#sessionsChanged (of IOidcSession)', () => {
    it('should push sign_in with the token fetched once to every ready kernel', async () => {
      const a = await readyKernel('a');
      const b = await readyKernel('b');
      model.change({ added: [session()] });
      await bridge.flush();
      const expected = { v: 1, type: 'token_update', reason: 'sign_in', environment: 'prod', application: null, token: TOKEN };
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
        { v: 1, type: 'token_update', reason: 'sign_out', environment: 'prod', application: 'spatial_engine', token: null }
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

describe('KernelRequests', () => {
  let server: FakeServer;
  let requests: KernelRequests;

  beforeEach(() => {
    server = new FakeServer().on('POST token', ok(TOKEN));
    requests = new KernelRequests({ server, tokenTimeoutMs: 50 });
  });

  function tokenRequest(overrides: Partial<Protocol.ITokenRequest> = {}): Protocol.ITokenRequest {
    return { type: 'token_request', id: 'r1', environment: null, application: null, min_valid: 60, force: false, ...overrides };
  }

  describe('#answer', () => {
    it('should answer token_reply with the whole POST oidc/token body', async () => {
      await expect(requests.answer(tokenRequest())).resolves.toEqual({ v: 1, type: 'token_reply', id: 'r1', token: TOKEN });
    });

    it('should send environment, application and min_valid, leaving out what is null', async () => {
      await requests.answer(tokenRequest({ environment: 'dev', application: 'spatial_engine', min_valid: 5 }));
      await requests.answer(tokenRequest({ id: 'r2', min_valid: null }));
      expect(server.bodies('POST token')).toEqual([{ environment: 'dev', application: 'spatial_engine', min_valid: 5 }, {}]);
    });

    it('should ask the server to refresh first when forced', async () => {
      server.on('POST refresh', ok(sessionInfo()));
      await expect(requests.answer(tokenRequest({ force: true, environment: 'prod' }))).resolves.toMatchObject({
        type: 'token_reply'
      });
      expect(server.relay.mock.calls.map(([m, p]) => `${m} ${p}`)).toEqual(['POST refresh', 'POST token']);
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
      server.on('POST token', failed(404, { error: 'unknown_environment', message: 'no such', environment: 'qa' }));
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
      await expect(requests.answer(tokenRequest())).resolves.toMatchObject({ type: 'error', id: 'r1', error: 'server_unreachable' });
    });

    it('should answer unavailable to an answer without a token or an OIDC error body', async () => {
      server.on('POST token', failed(403, undefined), ok({ status: 'weird' }));
      await expect(requests.answer(tokenRequest())).resolves.toMatchObject({ type: 'error', error: 'unavailable' });
      await expect(requests.answer(tokenRequest({ id: 'r2' }))).resolves.toMatchObject({ type: 'error', error: 'unavailable' });
    });

    it('should answer unavailable when the server is slower than the kernel waits', async () => {
      const pending = new PromiseDelegate<IRawReply>();
      server.on('POST token', pending);
      await expect(requests.answer(tokenRequest())).resolves.toMatchObject({ type: 'error', id: 'r1', error: 'unavailable' });
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
      server.on('POST await', ok({ status: 'pending' }, 202), failed(403, { error: 'identity_mismatch', message: 'bob' }));
      const call: Protocol.ICall = { type: 'call', id: 'c1', method: 'POST', path: 'await', body: { state: 's', wait_seconds: 20 } };
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
      const answer = requests.answer({ type: 'call', id: 'c1', method: 'GET', path: 'status', body: {} });
      await new Promise(resolve => setTimeout(resolve, 80)); // longer than the token timeout
      pending.resolve(ok({ sessions: [] }));
      await expect(answer).resolves.toMatchObject({ type: 'call_reply', status: 200 });
    });

    it('should answer server_unreachable for a call that got no answer', async () => {
      server.on('POST login', new OidcError('network_error', 'down'));
      await expect(
        requests.answer({ type: 'call', id: 'c1', method: 'POST', path: 'login', body: { login_hint: 'a@b.c' } })
      ).resolves.toMatchObject({ type: 'error', id: 'c1', error: 'server_unreachable' });
    });
  });
});

describe('Protocol', () => {
  describe('#parseRequest', () => {
    it('should read a token_request, null names and the force flag', () => {
      expect(Protocol.parseRequest({ v: 1, type: 'token_request', id: 'a', environment: '', min_valid: 0 })).toEqual({
        type: 'token_request',
        id: 'a',
        environment: null,
        application: null,
        min_valid: 0,
        force: false
      });
    });

    it.each([
      ['min_valid', { min_valid: -1 }],
      ['min_valid', { min_valid: 'soon' }],
      ['environment', { environment: 3 }],
      ['application', { application: ['x'] }]
    ])('should refuse a bad %s with the request id', (_name, fields) => {
      expect(() => Protocol.parseRequest({ v: 1, type: 'token_request', id: 'a', ...fields })).toThrow(
        expect.objectContaining({ id: 'a', ignore: false })
      );
    });

    it.each(Protocol.CALLABLE.map(route => [route]))('should accept a call to %s', route => {
      const [method, path] = route.split(' ');
      expect(Protocol.parseRequest({ v: 1, type: 'call', id: 'c', method, path })).toMatchObject({ method, path, body: {} });
    });

    it.each([
      ['DELETE', 'logout'],
      ['GET', 'token'],
      ['POST', 'kernel/token'],
      ['POST', '../api/kernels'],
      ['POST', 'login?x=1']
    ])('should refuse a call to %s %s', (method, path) => {
      expect(() => Protocol.parseRequest({ v: 1, type: 'call', id: 'c', method, path })).toThrow(
        expect.objectContaining({ id: 'c', ignore: false })
      );
    });
  });

  describe('#tokenUpdate', () => {
    it('should never carry a token on sign_out', () => {
      expect(Protocol.tokenUpdate('sign_out', 'prod', null, TOKEN)).toMatchObject({ token: null });
    });
  });

  describe('FRONTEND', () => {
    it('should name the package version', () => {
      const { name, version } = require('../package.json');
      expect(Protocol.FRONTEND).toBe(`${name} ${version}`);
    });
  });
});

/** A notebook or console panel: its session context and kernel. */
class FakeWidget implements ISessionWidget {
  constructor(kernel: FakeKernel | null) {
    this.context.session = kernel ? { kernel: kernel.asKernel() } : null;
  }

  context = {
    session: null as { kernel: Kernel.IKernelConnection } | null,
    kernelChanged: new Signal<unknown, { name: 'kernel'; oldValue: unknown; newValue: unknown }>(this)
  };
  disposed = new Signal<FakeWidget, void>(this);

  get sessionContext(): ISessionWidget['sessionContext'] {
    return this.context as unknown as ISessionWidget['sessionContext'];
  }

  /** `kernelChanged` as JupyterLab emits it (a restart: the same connection twice). */
  changeKernel(next: FakeKernel | null): void {
    const oldValue = this.context.session?.kernel ?? null;
    this.context.session = next ? { kernel: next.asKernel() } : null;
    this.context.kernelChanged.emit({ name: 'kernel', oldValue, newValue: next?.asKernel() ?? null });
  }

  dispose(): void {
    this.disposed.emit();
  }
}

class FakeTracker {
  constructor(readonly widgets: FakeWidget[] = []) {}

  widgetAdded = new Signal<FakeTracker, FakeWidget>(this);

  add(widget: FakeWidget): void {
    this.widgets.push(widget);
    this.widgetAdded.emit(widget);
  }

  forEach(fn: (widget: FakeWidget) => void): void {
    this.widgets.forEach(fn);
  }
}

/** Records attach/detach per kernel id. */
class FakeAttacher {
  events: string[] = [];
  attach(kernel: Kernel.IKernelConnection) {
    this.events.push(`+${kernel.id}`);
    return { isDisposed: false, dispose: () => this.events.push(`-${kernel.id}`) };
  }
}

describe('followKernels', () => {
  it('should attach to the kernel of every widget, present and added later', () => {
    const attacher = new FakeAttacher();
    const tracker = new FakeTracker([new FakeWidget(new FakeKernel('a'))]);
    followKernels(tracker, attacher);
    tracker.add(new FakeWidget(new FakeKernel('b')));
    tracker.add(new FakeWidget(null)); // no kernel yet
    expect(attacher.events).toEqual(['+a', '+b']);
  });

  it('should move to the new kernel on a kernel change', () => {
    const attacher = new FakeAttacher();
    const widget = new FakeWidget(new FakeKernel('a'));
    followKernels(new FakeTracker([widget]), attacher);
    widget.changeKernel(new FakeKernel('b'));
    widget.changeKernel(null); // "No Kernel"
    expect(attacher.events).toEqual(['+a', '+b', '-a', '-b']);
  });

  it('should attach again before letting go on a restart, so the attachment stays', () => {
    const bridge = new KernelBridge({ session: new FakeSession().asSession(), server: new FakeServer() });
    const kernel = new FakeKernel('a');
    const widget = new FakeWidget(kernel);
    followKernels(new FakeTracker([widget]), bridge);
    const attachment = bridge.kernels[0];
    widget.changeKernel(kernel); // SessionContext.restartKernel emits the same connection
    expect(bridge.kernels).toEqual([attachment]);
    expect(attachment.isDisposed).toBe(false);
    bridge.dispose();
  });

  it('should let go when the widget is disposed, and stop following when disposed itself', () => {
    const attacher = new FakeAttacher();
    const closed = new FakeWidget(new FakeKernel('a'));
    const open = new FakeWidget(new FakeKernel('b'));
    const tracker = new FakeTracker([closed, open]);
    const following = followKernels(tracker, attacher);
    closed.dispose();
    following.dispose();
    tracker.add(new FakeWidget(new FakeKernel('c')));
    open.changeKernel(new FakeKernel('d'));
    expect(attacher.events).toEqual(['+a', '+b', '-a', '-b']);
  });
});

describe('jupyterlab-oidc:kernel-bridge', () => {
  describe('#activate', () => {
    it('should follow the kernels of notebooks and consoles at once, until the session model goes', () => {
      const plugin = (plugins as JupyterFrontEndPlugin<unknown>[]).find(p => p.id === 'jupyterlab-oidc:kernel-bridge')!;
      expect(plugin.requires).toEqual([IOidcSession]);
      const serverSettings = ServerConnection.makeSettings({ baseUrl: 'http://localhost:8888/' });
      const app = { serviceManager: { serverSettings } } as unknown as JupyterFrontEnd;
      const model = new FakeSession();
      const notebookKernel = new FakeKernel('notebook');
      const consoleKernel = new FakeKernel('console');
      const consoles = new FakeTracker();
      const returned = plugin.activate(app, model.asSession(), new FakeTracker([new FakeWidget(notebookKernel)]), consoles);
      expect(returned).toBeUndefined(); // never awaits
      consoles.add(new FakeWidget(consoleKernel));
      expect(notebookKernel.targets.has(Protocol.TARGET_NAME)).toBe(true);
      expect(consoleKernel.targets.has(Protocol.TARGET_NAME)).toBe(true);
      model.disposed.emit();
      expect(notebookKernel.targets.size + consoleKernel.targets.size).toBe(0);
    });

    it('should work without notebook and console trackers', () => {
      const plugin = (plugins as JupyterFrontEndPlugin<unknown>[]).find(p => p.id === 'jupyterlab-oidc:kernel-bridge')!;
      const app = { serviceManager: { serverSettings: ServerConnection.makeSettings() } } as unknown as JupyterFrontEnd;
      expect(() => plugin.activate(app, new FakeSession().asSession(), null, null)).not.toThrow();
    });
  });
});
