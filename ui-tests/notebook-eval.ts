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
