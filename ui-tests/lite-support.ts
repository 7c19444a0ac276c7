/**
 * Helpers of the JupyterLite specs (tests/lite*.spec.ts): the lab page with what went wrong in
 * it, Pyodide notebooks driven through JupyterLab's commands (the site is built with
 * `--expose-app`: `window.jupyterapp`), the sign-in from the panel, and the dev provider's
 * control routes.
 *
 * A notebook is used only once its kernel is idle, and a cell counts as run once its prompt
 * has an execution count: no keyboard focus, no guessing how long Pyodide takes to start.
 */
import { createHash } from 'crypto';

import { APIRequestContext, expect, Page } from '@playwright/test';

import { LITE_ISSUER, LITE_URL } from './lite.config';
import { appendAndRunCell, evalInNotebook } from './notebook-eval';

/** How long a Pyodide kernel may take to become idle (wasm, stdlib, preloaded wheels). */
export const KERNEL_START_MS = 150_000;
/** How long one cell may take (the first one imports IPython's display machinery). */
export const CELL_MS = 60_000;

/** What went wrong in a page: console errors and warnings, failed requests, 4xx/5xx answers. */
export class PageTrouble {
  constructor(readonly page: Page) {
    page.on('console', message => {
      const text = message.text();
      const warning = message.type() === 'warning' && !/Unsatisfied version|terminals/.test(text);
      if (message.type() === 'error' || warning) {
        this.lines.push(`console ${message.type()}: ${text.slice(0, 400)}`);
      }
    });
    page.on('pageerror', error => this.lines.push(`page error: ${String(error).slice(0, 400)}`));
    page.on('requestfailed', request =>
      this.lines.push(
        `failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`
      )
    );
    page.on('response', response => {
      if (response.status() >= 400) {
        this.lines.push(`${response.status()}: ${response.request().method()} ${response.url()}`);
      }
    });
  }

  readonly lines: string[] = [];

  toString(): string {
    return this.lines.length ? this.lines.join('\n') : '(no console error, no failed request)';
  }
}

/** Open the lite lab in `page`, once the app and this extension's panel are there. */
export async function openLab(page: Page): Promise<PageTrouble> {
  const trouble = new PageTrouble(page);
  await page.goto(`${LITE_URL}lab/index.html`);
  await page.waitForFunction(() => (window as any).jupyterapp, undefined, { timeout: 60_000 });
  await page.evaluate(() => (window as any).jupyterapp.restored);
  await page.waitForFunction(() =>
    (window as any).jupyterapp.isPluginActivated('jupyterlab-oidc:sidebar')
  );
  await expect(page.locator('#jp-main-dock-panel')).toBeVisible();
  // No autosave: after its first one (120 s in), JupyterLite's drive reports the notebook
  // changed on disk and a "File Changed" dialog covers the page (the setting is the site's,
  // shared by the context's tabs: switched off once).
  await page.evaluate(async () => {
    const app = (window as any).jupyterapp;
    if (app.commands.isToggled('docmanager:toggle-autosave')) {
      await app.commands.execute('docmanager:toggle-autosave');
    }
  });
  return trouble;
}

/** A Pyodide notebook of the lite lab, driven through JupyterLab's commands. */
export class LiteNotebook {
  /** A new notebook with the Pyodide kernel, its kernel idle. */
  static async create(page: Page, trouble: PageTrouble): Promise<LiteNotebook> {
    const notebook = await LiteNotebook.open(page, trouble);
    await notebook.waitIdle();
    return notebook;
  }

  /**
   * A new notebook (a file of its own) whose kernel is starting. The site's tabs share one
   * contents drive (in IndexedDB): open several tabs and their notebooks one after the other.
   */
  static async open(page: Page, trouble: PageTrouble): Promise<LiteNotebook> {
    const created = page.evaluate(async () => {
      const app = (window as any).jupyterapp;
      // A file of its own: two tabs' `notebook:create-new` may both pick Untitled.ipynb, and
      // each tab's autosave then makes the other ask about a file changed on disk.
      const path = `lite-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.ipynb`;
      const content = { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 };
      await app.serviceManager.contents.save(path, { type: 'notebook', format: 'json', content });
      const panel = await app.commands.execute('docmanager:open', {
        path,
        factory: 'Notebook',
        kernel: { name: 'python' }
      });
      await panel.sessionContext.ready;
      return panel.id as string;
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`No notebook session in ${KERNEL_START_MS} ms. The page saw:\n${trouble}`)
          ),
        KERNEL_START_MS
      );
    });
    try {
      return new LiteNotebook(page, await Promise.race([created, late]), trouble);
    } finally {
      clearTimeout(timer);
    }
  }

  private constructor(
    readonly page: Page,
    readonly id: string,
    readonly trouble: PageTrouble
  ) {}

  /** The kernel's status and connection status (`idle connected` once usable). */
  kernelState(): Promise<string> {
    return this._eval(panel => {
      const kernel = panel.sessionContext.session?.kernel;
      return kernel ? `${kernel.status} ${kernel.connectionStatus}` : 'no kernel';
    });
  }

  /** Wait until the kernel is idle; the failure says what the page saw meanwhile. */
  async waitIdle(timeout = KERNEL_START_MS): Promise<void> {
    try {
      await expect
        .poll(() => this.kernelState(), { timeout, intervals: [250, 500, 1000] })
        .toBe('idle connected');
    } catch (error) {
      throw new Error(
        `The Pyodide kernel did not become idle (${await this.kernelState()}). The page saw:\n${this.trouble}\n${error}`
      );
    }
  }

  /** Append a code cell, run it, wait for its execution count; answers its outputs' text. */
  async run(code: string, timeout = CELL_MS): Promise<string> {
    await this.waitIdle();
    const index = await appendAndRunCell(this.page, this.id, code);
    const cell = this.page.locator(`[id="${this.id}"] .jp-Notebook .jp-Cell`).nth(index);
    try {
      await expect(cell.locator('.jp-InputPrompt')).toHaveText(/\[\d+\]/, { timeout });
    } catch (error) {
      throw new Error(
        `Cell ${index} did not run (kernel ${await this.kernelState()}). The page saw:\n${this.trouble}\n${error}`
      );
    }
    return (await cell.locator('.jp-OutputArea-output').allInnerTexts()).join('\n');
  }

  /**
   * Run `code` until `done(output)` holds (the page's messages land in the kernel between
   * cells); answers the last output.
   */
  async runUntil(
    code: string,
    done: RegExp | ((output: string) => boolean),
    attempts = 20
  ): Promise<string> {
    const holds = typeof done === 'function' ? done : (output: string) => done.test(output);
    let output = '';
    for (let attempt = 0; attempt < attempts; attempt++) {
      output = await this.run(code);
      if (holds(output)) {
        return output;
      }
    }
    throw new Error(
      `After ${attempts} runs the cell's output is still not what was awaited:\n${output}`
    );
  }

  private _eval<R, A = undefined>(fn: (panel: any, arg: A) => R | Promise<R>, arg?: A): Promise<R> {
    return evalInNotebook(this.page, this.id, fn, arg);
  }
}

/** The JSON of the `RESULT ` line of a cell's output (fails with the output if none). */
export function result<T = Record<string, unknown>>(output: string): T {
  const line = output.split('\n').find(l => l.startsWith('RESULT '));
  expect(line, `a RESULT line in the cell output:\n${output}`).toBeTruthy();
  return JSON.parse(line!.slice('RESULT '.length)) as T;
}

/**
 * Kernel-side recorder: every change of the kernel helper's cache, as `(reason, sha256 prefix)`
 * (`pull`: an answer to the kernel's own request; anything else came as a push). Tokens are
 * never printed.
 */
export const RECORDER = `
import hashlib, json
from jupyterlab_oidc.kernel import default_client
client = default_client()
def digest(token):
    return hashlib.sha256(token.encode()).hexdigest()[:16]
seen = []
client.subscribe(lambda key, token, reason: seen.append([reason, digest(token.access_token) if token else None]))
def state():
    token = client._cache.get(("dev", None))
    return {"attached": client.comm.attached, "seen": seen, "token": digest(token.access_token) if token else None,
            "email": token.email if token else None}
print("RESULT " + json.dumps(state()))
`;

/** A cell printing the recorder's state. */
export const STATE = 'print("RESULT " + json.dumps(state()))';

/** What `STATE` prints. */
export interface IKernelState {
  attached: boolean;
  seen: [string, string | null][];
  token: string | null;
  email: string | null;
}

/** The sha256 prefix the recorder prints for `token`. */
export function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}

/** The sign-in panel, opened from its sidebar tab and done checking. */
export async function openPanel(page: Page) {
  const panel = page.locator('#jp-oidc-panel');
  if (!(await panel.isVisible())) {
    await page.locator('.jp-SideBar [data-id="jp-oidc-panel"]').click();
  }
  await expect(panel).toBeVisible();
  await expect(panel.locator('.jp-oidc-body')).toHaveAttribute('data-phase', 'ready');
  return panel;
}

/** Sign in from the panel for `email` as the provider's `account`; answers the provider tab. */
export async function signIn(page: Page, email: string, account = email): Promise<Page> {
  const panel = await openPanel(page);
  await panel.locator('#jp-oidc-email').fill(email);
  const popupEvent = page.context().waitForEvent('page');
  await panel.locator('#jp-oidc-sign-in').click();
  const popup = await popupEvent;
  // The provider asks who signs in, unless its session already is `account` (no page then).
  await popup.waitForURL(/\/interaction\/|oidc-callback\.html/);
  if (/\/interaction\//.test(popup.url())) {
    await popup.locator('#email').fill(account);
    await popup.locator('#sign-in').click();
  }
  return popup;
}

/** The signed-in card of the panel. */
export function card(page: Page) {
  return page.locator('#jp-oidc-panel [data-test=oidc-card]');
}

/** The dev provider's control routes (dev/idp/control.mjs). */
export class Provider {
  constructor(readonly request: APIRequestContext) {}

  /** Access token lifetime (seconds) of tokens issued from now on. */
  async accessTtl(seconds: number): Promise<void> {
    const response = await this.request.post(`${LITE_ISSUER}/_test/ttl`, {
      data: { access: seconds }
    });
    expect(response.ok(), await response.text()).toBe(true);
  }

  async resetStats(): Promise<void> {
    expect((await this.request.post(`${LITE_ISSUER}/_test/reset-stats`)).ok()).toBe(true);
  }

  /** Successful and refused token requests by grant type. */
  async stats(): Promise<{
    token: Record<string, number>;
    token_errors: Record<string, number>;
    userinfo: number;
  }> {
    const response = await this.request.get(`${LITE_ISSUER}/_test/stats`);
    expect(response.ok()).toBe(true);
    return response.json();
  }

  async tokenEndpoint(): Promise<string> {
    const response = await this.request.get(`${LITE_ISSUER}/.well-known/openid-configuration`);
    return (await response.json()).token_endpoint as string;
  }
}

/** A token response a page of the context received: its grant type, the page, the tokens. */
export interface ITokenResponse {
  grant: string;
  page: Page | null;
  status: number;
  access_token?: string;
  refresh_token?: string;
}

/** Record every token-endpoint answer the pages of `page`'s context receive. */
export function watchTokenEndpoint(page: Page, endpoint: string): ITokenResponse[] {
  const seen: ITokenResponse[] = [];
  page.context().on('response', async response => {
    const request = response.request();
    if (request.method() !== 'POST' || response.url() !== endpoint) {
      return;
    }
    const grant = new URLSearchParams(request.postData() ?? '').get('grant_type') ?? '';
    let from: Page | null = null;
    try {
      from = request.frame().page();
    } catch {
      from = null; // a service worker's request
    }
    const entry: ITokenResponse = { grant, page: from, status: response.status() };
    seen.push(entry);
    try {
      const body = await response.json();
      entry.access_token = body.access_token;
      entry.refresh_token = body.refresh_token;
    } catch {
      // an error page, or the page went away
    }
  });
  return seen;
}
