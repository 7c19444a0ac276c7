/**
 * Keeps a kernel's displayed status Busy while a cell runs, although a subshell went idle.
 *
 * JupyterLab ≥ 4.4 sends comm messages to a kernel subshell (ipykernel ≥ 7). The subshell
 * publishes `status: busy` / `status: idle` on iopub with our comm message as parent, and
 * `KernelConnection._handleMessage` takes every iopub `status` as the kernel's status (it
 * filters only by the parent's msg_type, `untracked_message_types`; not by `subshell_id`).
 * So a token push or a reply to a cell's pull, answered by the subshell while the main
 * shell runs a cell, turns the indicator Idle until the cell ends. Upstream report:
 * docs/kernel-protocol.md, "Kernel status and subshells".
 *
 * The workaround: count the main shell's `execute_request`s sent on this connection (no
 * `subshell_id`) until their reply or their own `status: idle`; when a status from a subshell leaves the
 * connection `idle` while one is still running, set the status back to `busy`.
 */
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';

/** The one private member used: `KernelConnection._updateStatus` (checked before use). */
interface IStatusSetter {
  _updateStatus?: (status: Kernel.Status) => void;
}

/** Restores `busy` after a subshell's idle while the main shell still runs a cell. */
export class SubshellStatusGuard implements IDisposable {
  constructor(kernel: Kernel.IKernelConnection) {
    this._kernel = kernel;
    kernel.anyMessage.connect(this._onAnyMessage, this);
    kernel.iopubMessage.connect(this._onIOPub, this);
    kernel.statusChanged.connect(this._onStatus, this);
  }

  /** The main shell's execute requests not yet finished (tests). */
  get running(): number {
    return this._running.size;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._running.clear();
    this._kernel.anyMessage.disconnect(this._onAnyMessage, this);
    this._kernel.iopubMessage.disconnect(this._onIOPub, this);
    this._kernel.statusChanged.disconnect(this._onStatus, this);
  }

  private _onAnyMessage(_: Kernel.IKernelConnection, args: Kernel.IAnyMessageArgs): void {
    const header = args.msg.header as KernelMessage.IHeader & { subshell_id?: string | null };
    if (args.direction === 'send' && header.msg_type === 'execute_request' && !header.subshell_id) {
      this._running.add(header.msg_id);
    } else if (args.direction === 'recv' && header.msg_type === 'execute_reply') {
      this._running.delete((args.msg.parent_header as Partial<KernelMessage.IHeader>).msg_id ?? ''); // aborted ones too
    }
  }

  private _onIOPub(kernel: Kernel.IKernelConnection, msg: KernelMessage.IIOPubMessage): void {
    if (msg.header.msg_type !== 'status') {
      return;
    }
    const state = (msg as KernelMessage.IStatusMsg).content.execution_state;
    const parent = msg.parent_header as Partial<KernelMessage.IHeader> & {
      subshell_id?: string | null;
    };
    if (state !== 'idle') {
      return;
    }
    if (parent.msg_id && this._running.delete(parent.msg_id)) {
      return; // a cell of the main shell ended
    }
    const setter = kernel as unknown as IStatusSetter;
    if (
      parent.subshell_id &&
      this._running.size > 0 &&
      kernel.status === 'idle' &&
      typeof setter._updateStatus === 'function'
    ) {
      setter._updateStatus.call(kernel, 'busy');
    }
  }

  private _onStatus(_: Kernel.IKernelConnection, status: Kernel.Status): void {
    if (
      status === 'restarting' ||
      status === 'autorestarting' ||
      status === 'dead' ||
      status === 'unknown'
    ) {
      this._running.clear(); // the requests in flight died with the kernel
    }
  }

  private _kernel: Kernel.IKernelConnection;
  private _running = new Set<string>();
  private _isDisposed = false;
}
