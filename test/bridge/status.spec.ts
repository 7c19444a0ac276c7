/**
 * `SubshellStatusGuard` (issue 18.4): a subshell's `status: idle` (parent: our comm message)
 * must not show a kernel Idle while its main shell still runs a cell.
 */
import { SubshellStatusGuard } from '../../src/bridge/status';
import { BridgeFixture, FakeKernel } from './fakes';

describe('SubshellStatusGuard', () => {
  let kernel: FakeKernel;
  let guard: SubshellStatusGuard;
  let seen: string[];

  beforeEach(() => {
    kernel = new FakeKernel();
    guard = new SubshellStatusGuard(kernel.asKernel());
    seen = [];
    kernel.statusChanged.connect((_, status) => seen.push(status));
  });

  afterEach(() => guard.dispose());

  /** A cell starts on the main shell; a token push is answered by the comm's subshell. */
  function cellWithPush(): void {
    kernel.sendMessage('execute_request', 'exec-1');
    kernel.iopubStatus('busy', 'exec-1');
    kernel.iopubStatus('busy', 'push-1', 'subshell-1');
    kernel.iopubStatus('idle', 'push-1', 'subshell-1');
  }

  it('should keep the kernel busy while a cell runs and a subshell goes idle', () => {
    cellWithPush();
    expect(kernel.status).toBe('busy');
    expect(guard.running).toBe(1);
    kernel.iopubStatus('idle', 'exec-1');
    expect(kernel.status).toBe('idle');
    expect(guard.running).toBe(0);
    expect(seen).toEqual(['busy', 'idle', 'busy', 'idle']);
  });

  it('should leave a subshell idle alone when no cell runs', () => {
    kernel.iopubStatus('busy', 'push-1', 'subshell-1');
    kernel.iopubStatus('idle', 'push-1', 'subshell-1');
    expect(kernel.status).toBe('idle');
  });

  it('should forget a cell at its reply (aborted cells send no idle of their own)', () => {
    kernel.sendMessage('execute_request', 'exec-1');
    kernel.anyMessage.emit({
      direction: 'recv',
      msg: {
        header: { msg_type: 'execute_reply', msg_id: 'r' },
        parent_header: { msg_id: 'exec-1' }
      } as any
    });
    kernel.iopubStatus('busy', 'push-1', 'subshell-1');
    kernel.iopubStatus('idle', 'push-1', 'subshell-1');
    expect(kernel.status).toBe('idle');
    expect(guard.running).toBe(0);
  });

  it('should not count execute requests sent to a subshell, and forget cells at a restart', () => {
    kernel.sendMessage('execute_request', 'exec-sub', 'subshell-2');
    expect(guard.running).toBe(0);
    kernel.sendMessage('execute_request', 'exec-1');
    kernel.setStatus('restarting');
    kernel.setStatus('idle');
    kernel.iopubStatus('idle', 'push-1', 'subshell-1');
    expect(kernel.status).toBe('idle');
  });

  it('should stop once disposed', () => {
    guard.dispose();
    cellWithPush();
    expect(kernel.status).toBe('idle');
  });

  it('should guard every kernel the bridge attaches to, and let go when it detaches', async () => {
    const fixture = new BridgeFixture();
    const { kernel: attached } = await fixture.readyKernel('kernel-2');
    attached.sendMessage('execute_request', 'exec-1');
    attached.iopubStatus('busy', 'exec-1');
    attached.iopubStatus('idle', 'push-1', 'subshell-1');
    expect(attached.status).toBe('busy');
    fixture.bridge.dispose();
    attached.iopubStatus('idle', 'push-2', 'subshell-1');
    expect(attached.status).toBe('idle');
  });
});
