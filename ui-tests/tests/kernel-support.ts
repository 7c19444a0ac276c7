/**
 * Helpers of the kernel journeys (kernel-*.spec.ts): a notebook driven through JupyterLab's
 * own commands, cells whose results are read from the DOM, and the kernel-side prelude
 * that counts how the kernel helper pulled its tokens (comm or HTTP).
 *
 * Cells never print a token: only status codes, counts and identities, on one
 * `RESULT {json}` line that `result()` parses.
 */
import { Page } from '@playwright/test';

import { BASE_URL, ISSUER } from '../playwright.config';
import { completeProviderPage, expect, OidcRest } from './fixtures';
import { appendAndRunCell, evalInNotebook } from '../notebook-eval';

/**
 * Kernel-side prelude: count token pulls through the comm (`comm_pulls`), relayed calls
 * (`comm_calls`), pushed updates (`pushes`) and every HTTP request to the server extension
 * (`http_requests`); then open the comm and wait (≤ 20 s) until it is live, i.e. the
 * frontend answered `ready` on a subshell thread.
 */
export const PRELUDE = `
import hashlib, json, statistics, time, urllib.error, urllib.request
from jupyterlab_oidc import get_token
from jupyterlab_oidc.kernel import default_client
client = default_client()
comm_pulls, comm_calls, pushes, http_requests = [], [], [], []
def _counting(original, counter):
    def wrapper(*args, **kwargs):
        counter.append(1)
        return original(*args, **kwargs)
    return wrapper
http_token_uncounted = client.http.token  # for timing the HTTP path beside the comm
client.http.token = _counting(client.http.token, http_requests)
client.http.rest = _counting(client.http.rest, http_requests)
_request = client.comm.request
def _comm_request(message, *args, **kwargs):
    (comm_pulls if message.get("type") == "token_request" else comm_calls).append(1)
    return _request(message, *args, **kwargs)
client.comm.request = _comm_request
client.comm._on_update = _counting(client.comm._on_update, pushes)
client.comm.ensure_open()
_deadline = time.monotonic() + 20
while not client.comm.live and time.monotonic() < _deadline:
    time.sleep(0.01)
def counts():
    return {"comm_pulls": len(comm_pulls), "comm_calls": len(comm_calls), "pushes": len(pushes),
            "http_requests": len(http_requests)}
def userinfo_status(token):
    request = urllib.request.Request("${ISSUER}/me", headers={"Authorization": "Bearer " + token.access_token})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code
print("RESULT " + json.dumps({"live": client.comm.live, "frontend": client.comm.frontend.get("frontend"), **counts()}))
`;

/** What a prelude cell reports. */
export interface IPreludeResult {
  live: boolean;
  frontend: string | null;
  comm_pulls: number;
  comm_calls: number;
  pushes: number;
  http_requests: number;
}

/** The JSON of the `RESULT ` line of a cell's output (fails the test with the output if none). */
export function result<T = Record<string, unknown>>(output: string): T {
  const line = output.split('\n').find(l => l.startsWith('RESULT '));
  expect(line, `a RESULT line in the cell output:\n${output}`).toBeTruthy();
  return JSON.parse(line!.slice('RESULT '.length)) as T;
}

/** A cell that was started. */
export interface IRunningCell {
  readonly index: number;
  /** Wait until the cell ran; answers the text of its outputs. */
  done(timeout?: number): Promise<string>;
}

/** A notebook in the JupyterLab page, driven through JupyterLab's commands. */
export class NotebookDriver {
  /** A new notebook with a python3 kernel (`notebook:create-new`), its kernel idle. */
  static async create(page: Page): Promise<NotebookDriver> {
    const id = await page.evaluate(async () => {
      const app = (window as any).jupyterapp;
      const panel = await app.commands.execute('notebook:create-new', { kernelName: 'python3' });
      await panel.sessionContext.ready;
      return panel.id as string;
    });
    const notebook = new NotebookDriver(page, id);
    await notebook.waitIdle();
    return notebook;
  }

  private constructor(
    readonly page: Page,
    readonly id: string
  ) {}

  /** The kernel's id (changes with a kernel change, not with a restart). */
  kernelId(): Promise<string> {
    return this._eval(panel => panel.sessionContext.session?.kernel?.id ?? '');
  }

  /** Wait until the notebook's kernel is idle. */
  async waitIdle(timeout = 60_000): Promise<void> {
    await this.page.waitForFunction(
      id => {
        const app = (window as any).jupyterapp;
        const panel = Array.from(app.shell.widgets('main') as Iterable<any>).find(
          (w: any) => w.id === id
        ) as any;
        return panel?.sessionContext?.session?.kernel?.status === 'idle';
      },
      this.id,
      { timeout }
    );
  }

  /**
   * Append a code cell, run it with `notebook:run-cell`, wait until it has an execution
   * count, and answer the text of its outputs (read from the DOM).
   */
  async run(code: string, timeout = 60_000): Promise<string> {
    return (await this.start(code)).done(timeout);
  }

  /** Append a code cell and start it; `done()` waits for it and answers its output text. */
  async start(code: string): Promise<IRunningCell> {
    const index = await appendAndRunCell(this.page, this.id, code);
    const cell = this.page.locator(`[id="${this.id}"] .jp-Notebook .jp-Cell`).nth(index);
    return {
      index,
      done: async (timeout = 60_000) => {
        await expect(cell.locator('.jp-InputPrompt')).toHaveText(/\[\d+\]/, { timeout });
        return (await cell.locator('.jp-OutputArea-output').allInnerTexts()).join('\n');
      }
    };
  }

  /**
   * The cell's sign-in link, from the DOM. `OIDCAuth.start_login` links the server's start link
   * as a path (`{base_url}oidc/start?state=`), so the browser opens it on its own host.
   */
  providerLink(index: number) {
    const path = new URL(BASE_URL).pathname;
    return this.page
      .locator(`[id="${this.id}"] .jp-Notebook .jp-Cell`)
      .nth(index)
      .locator(`.jp-OutputArea-output a[href^="${path}oidc/start?"]`);
  }

  /** Restart the kernel as a user does: the command, then Restart in its dialog. */
  async restartKernel(): Promise<void> {
    const before = await this.kernelId();
    await this._eval(panel => {
      (window as any).jupyterapp.shell.activateById(panel.id);
      void (window as any).jupyterapp.commands.execute('notebook:restart-kernel');
    });
    await this.page.locator('.jp-Dialog .jp-mod-accept').click();
    await this.page.waitForFunction(id => {
      const app = (window as any).jupyterapp;
      const panel = Array.from(app.shell.widgets('main') as Iterable<any>).find(
        (w: any) => w.id === id
      ) as any;
      return panel && !panel.sessionContext.isRestarting && panel.sessionContext.isReady;
    }, this.id);
    await this.waitIdle();
    expect(await this.kernelId()).toBe(before); // a restart keeps the kernel (and its connection)
  }

  /** Switch to a new python3 kernel (what the kernel selector dialog does); answers its id. */
  async changeKernel(): Promise<string> {
    const before = await this.kernelId();
    await this._eval(async panel => {
      await panel.sessionContext.changeKernel({ name: 'python3' });
    });
    await this.waitIdle();
    const after = await this.kernelId();
    expect(after).not.toBe(before);
    return after;
  }

  /** Shut the kernel down and close the notebook without saving. */
  async dispose(): Promise<void> {
    await this._eval(async panel => {
      await panel.sessionContext.shutdown();
      panel.context.model.dirty = false;
      panel.dispose();
    }).catch(() => undefined);
  }

  private _eval<R, A = undefined>(fn: (panel: any, arg: A) => R | Promise<R>, arg?: A): Promise<R> {
    return evalInNotebook(this.page, this.id, fn, arg);
  }
}

/** Start a sign-in through the REST API and complete the provider's page in a separate page. */
export async function signInInSeparatePage(
  page: Page,
  oidc: OidcRest,
  email: string
): Promise<void> {
  const { start_url } = await oidc.login(email, 'prod'); // no browser asked: its start link binds one
  const provider = await page.context().newPage();
  try {
    await provider.goto(start_url);
    await expect(await completeProviderPage(provider, email)).toContainText(email);
  } finally {
    await provider.close();
  }
  await expect.poll(async () => (await oidc.status()).sessions.map(s => s.email)).toContain(email);
}

/** Set the provider's access token lifetime (seconds) for tokens issued from now on. */
export async function setAccessTtl(oidc: OidcRest, seconds: number): Promise<void> {
  const response = await oidc.request.post(`${ISSUER}/_test/ttl`, { data: { access: seconds } });
  expect(response.ok(), await response.text()).toBe(true);
}
