/**
 * `followKernels`: the kernels of a tracker's widgets, across kernel changes, restarts and
 * closed widgets.
 */
import { KernelBridge } from '../../src/bridge/bridge';
import { followKernels } from '../../src/bridge/follow';
import {
  FakeAttacher,
  FakeKernel,
  FakeServer,
  FakeSession,
  FakeTracker,
  FakeWidget
} from './fakes';

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
    const bridge = new KernelBridge({
      session: new FakeSession().asSession(),
      server: new FakeServer()
    });
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
