/**
 * Run `fn` in the page with the notebook widget `id` of `window.jupyterapp` (JupyterLab started
 * with --expose-app, or the lite site built with it). `fn` is serialized: no closures.
 */
import type { Page } from '@playwright/test';

export function evalInNotebook<R, A = undefined>(
  page: Page,
  id: string,
  fn: (panel: any, arg: A) => R | Promise<R>,
  arg?: A
): Promise<R> {
  return page.evaluate(
    async ({ id, source, arg }) => {
      const app = (window as any).jupyterapp;
      const panel = Array.from(app.shell.widgets('main') as Iterable<any>).find(
        (w: any) => w.id === id
      );
      if (!panel) {
        throw new Error(`no notebook ${id}`);
      }
      return new Function('panel', 'arg', `return (${source})(panel, arg);`)(panel, arg);
    },
    { id, source: fn.toString(), arg }
  ) as Promise<R>;
}

/** Append a code cell with `code` to notebook `id` and start it (`notebook:run-cell`); answers its index. */
export function appendAndRunCell(page: Page, id: string, code: string): Promise<number> {
  return evalInNotebook(
    page,
    id,
    (panel, source: string) => {
      const notebook = panel.content;
      const at = notebook.model.cells.length;
      notebook.model.sharedModel.insertCell(at, { cell_type: 'code', source });
      notebook.activeCellIndex = at;
      (window as any).jupyterapp.shell.activateById(panel.id);
      void (window as any).jupyterapp.commands.execute('notebook:run-cell');
      return at as number;
    },
    code
  );
}
