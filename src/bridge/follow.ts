/**
 * Keep the bridge on the kernel of every notebook and console: the current one, the next
 * one after a kernel change, and the same one after a restart (JupyterLab emits
 * `kernelChanged` with the same connection then).
 */
import { ISessionContext } from '@jupyterlab/apputils';
import { IChangedArgs } from '@jupyterlab/coreutils';
import { Kernel } from '@jupyterlab/services';
import { DisposableDelegate, DisposableSet, IDisposable } from '@lumino/disposable';
import { ISignal } from '@lumino/signaling';

/** A widget with its own session (a notebook panel, a console panel). */
export interface ISessionWidget {
  readonly sessionContext: ISessionContext;
  readonly disposed: ISignal<unknown, void>;
}

/** A widget tracker as `INotebookTracker` and `IConsoleTracker` are. */
export interface ISessionWidgetTracker {
  readonly widgetAdded: ISignal<unknown, ISessionWidget>;
  forEach(fn: (widget: ISessionWidget) => void): void;
}

/** Attaches to a kernel connection; the handle detaches. */
export interface IKernelAttacher {
  attach(kernel: Kernel.IKernelConnection): IDisposable;
}

/** Attach `bridge` to the session kernel of every widget of `tracker`, now and later. */
export function followKernels(
  tracker: ISessionWidgetTracker,
  bridge: IKernelAttacher
): IDisposable {
  const all = new DisposableSet();
  const follow = (widget: ISessionWidget): void => {
    const handle = followWidget(widget, bridge);
    all.add(handle);
    const forget = () => {
      handle.dispose();
      all.remove(handle);
    };
    widget.disposed.connect(forget);
    all.add(new DisposableDelegate(() => widget.disposed.disconnect(forget)));
  };
  tracker.forEach(follow);
  const onAdded = (_: unknown, widget: ISessionWidget) => follow(widget);
  tracker.widgetAdded.connect(onAdded);
  all.add(new DisposableDelegate(() => tracker.widgetAdded.disconnect(onAdded)));
  return all;
}

/** Attach `bridge` to `widget`'s kernel, and again whenever it changes or restarts. */
function followWidget(widget: ISessionWidget, bridge: IKernelAttacher): IDisposable {
  const context = widget.sessionContext;
  let current: IDisposable | null = null;
  const attach = (kernel: Kernel.IKernelConnection | null | undefined): void => {
    const next = kernel ? bridge.attach(kernel) : null; // before detaching: a restart keeps the attachment
    current?.dispose();
    current = next;
  };
  const onKernelChanged = (
    _: ISessionContext,
    change: IChangedArgs<Kernel.IKernelConnection | null>
  ): void => {
    attach(change.newValue);
  };
  context.kernelChanged.connect(onKernelChanged);
  attach(context.session?.kernel);
  return new DisposableDelegate(() => {
    context.kernelChanged.disconnect(onKernelChanged);
    current?.dispose();
    current = null;
  });
}
