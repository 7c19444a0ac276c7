/**
 * The bridge on one kernel connection: the comm target `jupyterlab-oidc`, the kernel's
 * current comm, `hello` → `ready` (after the comm's subshell started), and requests
 * handed to the bridge.
 *
 * Registered on the notebook's or console's own kernel connection (the one that handles
 * comms), never on a second connection. The registration survives restarts (same
 * connection); the comm does not: a restart disposes it and the kernel says `hello` again
 * on its next pull.
 */
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { DisposableDelegate, DisposableSet, IObservableDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import * as Protocol from './protocol';
import { SubshellStatusGuard } from './status';

/** The bridge on one kernel connection. */
export class KernelAttachment implements IObservableDisposable {
  constructor(kernel: Kernel.IKernelConnection, options: KernelAttachment.IOptions) {
    this.kernel = kernel;
    this._options = options;
    kernel.registerCommTarget(Protocol.TARGET_NAME, this._onCommOpen);
    this._disposables.add(
      new DisposableDelegate(() => kernel.removeCommTarget(Protocol.TARGET_NAME, this._onCommOpen))
    );
    kernel.statusChanged.connect(this._onStatus, this);
    this._disposables.add(
      new DisposableDelegate(() => kernel.statusChanged.disconnect(this._onStatus, this))
    );
    kernel.disposed.connect(this._onKernelDisposed, this);
    this._disposables.add(
      new DisposableDelegate(() => kernel.disposed.disconnect(this._onKernelDisposed, this))
    );
    this._disposables.add(new SubshellStatusGuard(kernel)); // issue 18.4: Busy stays Busy while a cell runs
  }

  /** The kernel connection this attachment is registered on. */
  readonly kernel: Kernel.IKernelConnection;

  /** Whether the kernel has a comm that was answered `ready` (it receives updates). */
  get isReady(): boolean {
    return this._current !== null && this._current.ready && !this._current.comm.isDisposed;
  }

  /** Whether `ready` went over a subshell (the kernel can pull while a cell runs). */
  get isLive(): boolean {
    return this.isReady && this._current!.subshell;
  }

  /** What the kernel said in its last `hello`, or null. */
  get hello(): Protocol.IHello | null {
    return this._current?.hello ?? null;
  }

  /** Emitted once, when the attachment is disposed. */
  get disposed(): ISignal<this, void> {
    return this._disposed;
  }

  /** Whether `dispose()` was called. */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Send `message` on the kernel's comm if it was answered `ready`; false otherwise. */
  send(message: Protocol.FrontendMessage): boolean {
    return this.isReady && Private.send(this._current!.comm, message);
  }

  /** Unregister the target and close the comm, so the kernel uses HTTP from now on. */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    const current = this._current;
    this._current = null;
    if (
      current &&
      !current.comm.isDisposed &&
      !this.kernel.isDisposed &&
      this.kernel.status !== 'dead'
    ) {
      try {
        current.comm.close();
      } catch {
        // the connection is going away: nothing to tell the kernel
      }
    }
    this._disposables.dispose();
    this._disposed.emit();
    Signal.clearData(this);
  }

  /** `comm_open` for our target: must not return a promise (it would hold the kernel's messages). */
  private _onCommOpen = (comm: Kernel.IComm, msg: KernelMessage.ICommOpenMsg): void => {
    if (this._isDisposed) {
      comm.close();
      return;
    }
    let hello: Protocol.IHello;
    try {
      hello = Protocol.parseHello(msg.content.data);
    } catch (error) {
      // Leave the comm open without `ready`: the kernel uses HTTP and says hello again later.
      console.warn(`jupyterlab-oidc: kernel ${this.kernel.id}: ${(error as Error).message}`);
      Private.send(comm, Protocol.error(null, 'invalid_request', (error as Error).message));
      return;
    }
    const previous = this._current;
    const current: Private.ICurrent = { comm, hello, ready: false, subshell: false };
    this._current = current; // the newest comm replaces older ones
    if (previous && previous.comm !== comm && !previous.comm.isDisposed) {
      previous.comm.dispose(); // the kernel closed it already; forget it here
    }
    comm.onMsg = (message: KernelMessage.ICommMsgMsg) => this._onCommMsg(current, message);
    comm.onClose = () => {
      if (this._current === current) {
        this._current = null;
      }
    };
    void this._sayReady(current);
  };

  /** `ready` once messages to the comm go to its subshell (else they wait behind a running cell). */
  private async _sayReady(current: Private.ICurrent): Promise<void> {
    const { comm } = current;
    try {
      await this.kernel.info;
    } catch {
      // no kernel info: decide on what the connection knows
    }
    let subshell = false;
    const started = (comm as Private.ISubshellComm).subshellStarted;
    if (this.kernel.supportsSubshells && comm.commsOverSubshells !== 'disabled' && started) {
      try {
        await started; // never resolves without subshells: checked above
        subshell = true;
      } catch (error) {
        console.warn(
          `jupyterlab-oidc: kernel ${this.kernel.id}: no subshell for the comm (${String(error)})`
        );
      }
    }
    if (this._current !== current || comm.isDisposed || this._isDisposed) {
      return;
    }
    current.subshell = subshell;
    current.ready = Private.send(
      comm,
      Protocol.ready({ subshell, defaultEnvironment: this._options.defaultEnvironment() })
    );
  }

  /** A request from the kernel: answered on the comm it came from; never holds the kernel's messages. */
  private _onCommMsg(current: Private.ICurrent, msg: KernelMessage.ICommMsgMsg): void {
    let request: Protocol.KernelRequest;
    try {
      request = Protocol.parseRequest(msg.content.data);
    } catch (error) {
      const e = error as Protocol.ProtocolError;
      if (e.ignore) {
        console.debug(`jupyterlab-oidc: comm message ignored: ${e.message}`);
      } else {
        Private.send(current.comm, Protocol.error(e.id, 'invalid_request', e.message));
      }
      return;
    }
    void this._options.answer(request).then(answer => {
      if (!current.comm.isDisposed) {
        Private.send(current.comm, answer);
      }
    });
  }

  /** A restart disposes the connection's comms: the kernel will open a new one. */
  private _onStatus(_: Kernel.IKernelConnection, status: Kernel.Status): void {
    if (status === 'restarting' || status === 'autorestarting' || status === 'dead') {
      this._current = null;
    }
  }

  private _onKernelDisposed(): void {
    this.dispose();
  }

  private _options: KernelAttachment.IOptions;
  private _current: Private.ICurrent | null = null;
  private _disposables = new DisposableSet();
  private _isDisposed = false;
  private _disposed = new Signal<this, void>(this);
}

/** The option types of `KernelAttachment`. */
export namespace KernelAttachment {
  export interface IOptions {
    /** The answer to a kernel's request (never rejects). */
    answer(request: Protocol.KernelRequest): Promise<Protocol.FrontendMessage>;
    /** The server's default environment, for `ready` ('' when not known yet). */
    defaultEnvironment(): string;
  }
}

namespace Private {
  /** `CommHandler` (JupyterLab ≥ 4.4) resolves this once its subshell exists. */
  export type ISubshellComm = Kernel.IComm & { readonly subshellStarted?: Promise<void> };

  export interface ICurrent {
    readonly comm: Kernel.IComm;
    readonly hello: Protocol.IHello;
    ready: boolean;
    subshell: boolean;
  }

  /** Send on `comm`; false when it is gone. */
  export function send(comm: Kernel.IComm, message: Protocol.FrontendMessage): boolean {
    if (comm.isDisposed) {
      return false;
    }
    try {
      comm.send(message as unknown as KernelMessage.ICommMsgMsg['content']['data']);
      return true;
    } catch (error) {
      console.warn(`jupyterlab-oidc: cannot send ${message.type} to the kernel (${String(error)})`);
      return false;
    }
  }
}
