/**
 * Stand-ins for the kernel bridge's specs: kernel connections and comms as JupyterLab's
 * are, the REST client answering relayed requests from a table, the part of the session
 * model the bridge uses, notebook widgets and trackers, and a bridge on all of them.
 */
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { PromiseDelegate } from '@lumino/coreutils';
import { Signal } from '@lumino/signaling';

import type { IRawReply } from '../../src/api';
import { KernelBridge } from '../../src/bridge/bridge';
import { ISessionWidget } from '../../src/bridge/follow';
import * as Protocol from '../../src/bridge/protocol';
import { IOidcSession } from '../../src/tokens';
import { flushPromises, sessionInfo } from '../utils';

export const HELLO = {
  v: 1,
  type: 'hello',
  versions: [1],
  package: 'jupyterlab_oidc 0.1.0',
  kernel: { language: 'python', implementation: 'ipykernel', subshells: true }
};

export const TOKEN = {
  ...sessionInfo(),
  access_token: 'at-1',
  id_token: 'id-1',
  token_type: 'Bearer',
  lifetime: 3600,
  refresh_margin: 60
};

/** A client-side comm as `CommHandler` is: records what it sends. */
export class FakeComm {
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
export class FakeKernel {
  constructor(
    readonly id = 'kernel-1',
    options: { subshells?: boolean } = {}
  ) {
    this.supportsSubshells = options.subshells ?? true;
  }

  supportsSubshells: boolean;
  status: Kernel.Status = 'idle';
  info = Promise.resolve({});
  targets = new Map<string, (comm: FakeComm, msg: KernelMessage.ICommOpenMsg) => void>();
  statusChanged = new Signal<FakeKernel, Kernel.Status>(this);
  anyMessage = new Signal<FakeKernel, Kernel.IAnyMessageArgs>(this);
  iopubMessage = new Signal<FakeKernel, KernelMessage.IIOPubMessage>(this);
  disposed = new Signal<FakeKernel, void>(this);
  comms: FakeComm[] = [];

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  registerCommTarget(
    name: string,
    callback: (comm: FakeComm, msg: KernelMessage.ICommOpenMsg) => void
  ): void {
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
    const returned = target(comm, {
      content: { comm_id: comm.commId, target_name: Protocol.TARGET_NAME, data }
    } as any);
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

  /** As `KernelConnection._updateStatus` (private there): emits only on a change. */
  _updateStatus(status: Kernel.Status): void {
    if (this.status !== status) {
      this.setStatus(status);
    }
  }

  /** A message sent on this connection (as `anyMessage` reports it). */
  sendMessage(msgType: string, msgId: string, subshellId: string | null = null): void {
    this.anyMessage.emit({
      direction: 'send',
      msg: {
        header: { msg_type: msgType, msg_id: msgId, subshell_id: subshellId },
        parent_header: {},
        channel: 'shell',
        content: {}
      } as any
    });
  }

  /** An iopub `status` as JupyterLab handles it: the status is taken, then `iopubMessage`. */
  iopubStatus(
    state: Kernel.Status,
    parentId: string,
    parentSubshellId: string | null = null
  ): void {
    const parent = {
      msg_id: parentId,
      msg_type: parentSubshellId ? 'comm_msg' : 'execute_request',
      subshell_id: parentSubshellId
    };
    this._updateStatus(state);
    this.iopubMessage.emit({
      header: { msg_type: 'status', msg_id: `s-${parentId}-${state}` },
      parent_header: parent,
      channel: 'iopub',
      content: { execution_state: state }
    } as any);
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

export type Answer = IRawReply | Error | PromiseDelegate<IRawReply>;

/** The REST client: answers relayed requests from a table the test fills, by `METHOD path`. */
export class FakeServer {
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
    return this.relay.mock.calls
      .filter(([m, p]) => `${m} ${p}` === route)
      .map(([, , body]) => body);
  }
}

export function ok(body: unknown, status = 200): IRawReply {
  return { status, ok: true, body };
}

export function failed(status: number, body: unknown): IRawReply {
  return { status, ok: false, body };
}

/** The part of the session model the bridge uses. */
export class FakeSession {
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

export function session(overrides: Partial<IOidcSession.ISession> = {}): IOidcSession.ISession {
  const info = sessionInfo(overrides);
  return {
    key: info.application ? `${info.environment}/${info.application}` : info.environment,
    expiresAt: 0,
    ...info,
    ...overrides
  };
}

/** Let the bridge's promise chains (relay → answer → send) run. */
export async function settle(): Promise<void> {
  await flushPromises(20);
}

/** A notebook or console panel: its session context and kernel. */
export class FakeWidget implements ISessionWidget {
  constructor(kernel: FakeKernel | null) {
    this.context.session = kernel ? { kernel: kernel.asKernel() } : null;
  }

  context = {
    session: null as { kernel: Kernel.IKernelConnection } | null,
    kernelChanged: new Signal<unknown, { name: 'kernel'; oldValue: unknown; newValue: unknown }>(
      this
    )
  };
  disposed = new Signal<FakeWidget, void>(this);

  get sessionContext(): ISessionWidget['sessionContext'] {
    return this.context as unknown as ISessionWidget['sessionContext'];
  }

  /** `kernelChanged` as JupyterLab emits it (a restart: the same connection twice). */
  changeKernel(next: FakeKernel | null): void {
    const oldValue = this.context.session?.kernel ?? null;
    this.context.session = next ? { kernel: next.asKernel() } : null;
    this.context.kernelChanged.emit({
      name: 'kernel',
      oldValue,
      newValue: next?.asKernel() ?? null
    });
  }

  dispose(): void {
    this.disposed.emit();
  }
}

export class FakeTracker {
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
export class FakeAttacher {
  events: string[] = [];
  attach(kernel: Kernel.IKernelConnection) {
    this.events.push(`+${kernel.id}`);
    return { isDisposed: false, dispose: () => this.events.push(`-${kernel.id}`) };
  }
}

/** A bridge on a fake session model and REST client (which answers POST token). */
export class BridgeFixture {
  server = new FakeServer().on('POST token', ok(TOKEN));
  model = new FakeSession();
  bridge = new KernelBridge({ session: this.model.asSession(), server: this.server });

  /** A kernel the bridge is attached to, with a comm answered `ready`. */
  async readyKernel(id = 'kernel-1'): Promise<{ kernel: FakeKernel; comm: FakeComm }> {
    const kernel = new FakeKernel(id);
    this.bridge.attach(kernel.asKernel());
    const comm = kernel.open();
    comm.subshell.resolve();
    await settle();
    expect(comm.ofType('ready')).toHaveLength(1);
    return { kernel, comm };
  }
}
