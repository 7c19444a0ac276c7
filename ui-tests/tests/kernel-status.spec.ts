/**
 * Journey (issue 18.4): a cell runs (`time.sleep`) while the panel's "Refresh now" pushes a
 * token into the kernel. The push is a comm message answered by the comm's subshell, whose
 * iopub `status: idle` JupyterLab takes as the kernel's status; the bridge's
 * `SubshellStatusGuard` keeps the kernel Busy until the cell itself ends.
 *
 * The status is read from the notebook's sessionContext: after every `statusChanged`, the
 * kernel's status once the emission is over (a microtask later, before anything is drawn).
 */
import { ALICE, expect, test } from './fixtures';
import {
  IPreludeResult,
  NotebookDriver,
  PRELUDE,
  result,
  signInInSeparatePage
} from './kernel-support';

/** Wait (≤ 30 s) for a pushed token_update, then sleep on: the kernel's main shell is busy throughout. */
const CELL = `
pushes_before = len(pushes)
_deadline = time.monotonic() + 30
while len(pushes) == pushes_before and time.monotonic() < _deadline:
    time.sleep(0.05)
time.sleep(3)  # still running after the push and its subshell's idle
print("RESULT " + json.dumps({"pushed": len(pushes) - pushes_before, **counts()}))
`;

test.describe('Kernel status while a cell runs', () => {
  test('should stay busy until the cell ends although Refresh now pushes a token', async ({
    lab,
    oidc,
    panel
  }) => {
    test.setTimeout(120_000);
    await signInInSeparatePage(lab, oidc, ALICE.email);
    const notebook = await NotebookDriver.create(lab);
    try {
      expect(result<IPreludeResult>(await notebook.run(PRELUDE))).toMatchObject({ live: true });
      await notebook.waitIdle();
      await lab.evaluate(id => {
        const app = (window as any).jupyterapp;
        const nb = Array.from(app.shell.widgets('main') as Iterable<any>).find(
          (w: any) => w.id === id
        ) as any;
        const record = {
          statuses: [] as string[],
          iopub: [] as Array<{ parent: string; state: string; after: string }>
        };
        (window as any).__oidcKernelStatus = record;
        const status = () => nb.sessionContext.session?.kernel?.status ?? 'none';
        nb.sessionContext.statusChanged.connect(() => {
          queueMicrotask(() => record.statuses.push(status()));
        });
        // Every iopub status in order: who it is for, and the kernel's status once it was handled.
        nb.sessionContext.iopubMessage.connect((_: unknown, msg: any) => {
          if (msg.header.msg_type === 'status') {
            const parent = msg.parent_header?.subshell_id
              ? 'subshell'
              : (msg.parent_header?.msg_type ?? '');
            const state = msg.content.execution_state;
            queueMicrotask(() => record.iopub.push({ parent, state, after: status() }));
          }
        });
      }, notebook.id);

      const cell = await notebook.start(CELL);
      type Record = {
        statuses: string[];
        iopub: Array<{ parent: string; state: string; after: string }>;
      };
      const record = () => lab.evaluate(() => (window as any).__oidcKernelStatus as Record);
      await expect.poll(async () => (await record()).statuses).toContain('busy'); // the cell started
      await panel.locator('[data-test=oidc-card] [data-test=oidc-refresh]').click();
      const run = result<IPreludeResult & { pushed: number }>(await cell.done(60_000));
      await notebook.waitIdle();

      const { statuses, iopub } = await record();
      test.info().annotations.push({
        type: 'kernel statuses',
        description: JSON.stringify({ statuses, iopub, run })
      });
      expect(run.pushed).toBeGreaterThanOrEqual(1); // Refresh now reached the busy cell through the comm
      const cellEnd = iopub.findIndex(m => m.parent === 'execute_request' && m.state === 'idle');
      expect(cellEnd).toBeGreaterThan(0);
      const subshellIdles = iopub
        .slice(0, cellEnd)
        .filter(m => m.parent === 'subshell' && m.state === 'idle');
      expect(subshellIdles.length).toBeGreaterThanOrEqual(1); // the push's subshell said idle mid-cell
      expect(subshellIdles.map(m => m.after)).toEqual(subshellIdles.map(() => 'busy')); // the kernel stayed busy
      expect(iopub[cellEnd].after).toBe('idle'); // until the cell's own idle
      expect(statuses.at(-1)).toBe('idle');
    } finally {
      await notebook.dispose();
    }
  });
});
