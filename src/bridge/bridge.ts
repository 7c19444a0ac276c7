/**
 * The kernel bridge: the `jupyterlab-oidc` comm on every kernel connection it is given,
 * answers to their requests, and `token_update` pushes to all of them.
 */
import { Kernel } from '@jupyterlab/services';
import {
  DisposableDelegate,
  DisposableSet,
  IDisposable,
  IObservableDisposable
} from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { IOidcSession } from '../tokens';
import { KernelAttachment } from './attachment';
import { followKernels, ISessionWidgetTracker } from './follow';
import * as Protocol from './protocol';
import { IBridgeServer, KernelRequests } from './requests';
import { TokenUpdates } from './updates';

/** Kernels' comm channel to the server extension, through this page. */
export class KernelBridge implements IObservableDisposable {
  constructor(options: KernelBridge.IOptions) {
    this._session = options.session;
    this._requests = new KernelRequests({
      server: options.server,
      tokenTimeoutMs: options.tokenTimeoutMs
    });
    const updates = new TokenUpdates({
      session: options.session,
      server: options.server,
      send: message => this.broadcast(message),
      hasListeners: () => this.kernels.some(a => a.isReady)
    });
    this._updates = updates;
    this._disposables.add(updates);
  }

  /** The attachments, one per kernel connection. */
  get kernels(): ReadonlyArray<KernelAttachment> {
    return [...this._attachments.values()].map(entry => entry.attachment);
  }

  /** Emitted once, when the bridge is disposed. */
  get disposed(): ISignal<this, void> {
    return this._disposed;
  }

  /** Whether `dispose()` was called. */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Attach the bridge to `kernel` (a notebook's or console's own session kernel). Several
   * holders of one connection (two views of a notebook) share one attachment; it goes away
   * when the last handle is disposed or the connection is.
   */
  attach(kernel: Kernel.IKernelConnection): IDisposable {
    if (this._isDisposed || kernel.isDisposed) {
      return new DisposableDelegate(() => undefined);
    }
    let entry = this._attachments.get(kernel);
    if (!entry) {
      const attachment = new KernelAttachment(kernel, {
        answer: request => this._requests.answer(request),
        defaultEnvironment: () => this._session.defaultEnvironment
      });
      const created = { attachment, holders: 0 };
      entry = created;
      this._attachments.set(kernel, created);
      attachment.disposed.connect(() => {
        if (this._attachments.get(kernel) === created) {
          this._attachments.delete(kernel);
        }
      });
    }
    const attached = entry;
    attached.holders += 1;
    return new DisposableDelegate(() => {
      attached.holders -= 1;
      if (attached.holders <= 0) {
        attached.attachment.dispose();
      }
    });
  }

  /**
   * Attach to the session kernel of every widget of `tracker` (notebooks, consoles), now
   * and later: after kernel changes and restarts too. Undone when the bridge is disposed.
   */
  follow(tracker: ISessionWidgetTracker): void {
    if (!this._isDisposed) {
      this._disposables.add(followKernels(tracker, this));
    }
  }

  /** Send `message` to every kernel whose comm was answered `ready`. */
  broadcast(message: Protocol.FrontendMessage): void {
    for (const attachment of this.kernels) {
      attachment.send(message);
    }
  }

  /** Resolves once pushes started so far are sent (tests). */
  flush(): Promise<void> {
    return this._updates.flush();
  }

  /** Detach from every kernel (closing their comms) and stop pushing. */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    for (const attachment of this.kernels) {
      attachment.dispose();
    }
    this._attachments.clear();
    this._disposables.dispose();
    this._disposed.emit();
    Signal.clearData(this);
  }

  private _session: IOidcSession;
  private _requests: KernelRequests;
  private _updates: TokenUpdates;
  private _attachments = new Map<
    Kernel.IKernelConnection,
    { attachment: KernelAttachment; holders: number }
  >();
  private _disposables = new DisposableSet();
  private _isDisposed = false;
  private _disposed = new Signal<this, void>(this);
}

/** The option types of `KernelBridge`. */
export namespace KernelBridge {
  export interface IOptions {
    /** The session model: the server's default environment and session changes. */
    session: IOidcSession;
    /** The REST client (`OidcAPI`). */
    server: IBridgeServer;
    /** See `KernelRequests.IOptions.tokenTimeoutMs`. */
    tokenTimeoutMs?: number;
  }
}
