/**
 * The browser engine's refresh in the JupyterLite site (`make lite`): a rotation reaches the
 * Pyodide kernel by a comm push, and two tabs of the site send one refresh_token grant between
 * them when the token is due. The provider's access tokens are short-lived here
 * (`POST /_test/ttl`); the engine refreshes 30 s before expiry.
 * Run: `make lite-test` (or `npx playwright test -c ui-tests/lite.config.ts`).
 */
import { expect, Page, test } from '@playwright/test';

import { LITE_ISSUER } from '../lite.config';
import {
  card,
  digest,
  IKernelState,
  LiteNotebook,
  openLab,
  Provider,
  RECORDER,
  result,
  signIn,
  STATE,
  watchTokenEndpoint
} from '../lite-support';

const ALICE = 'alice@example.com';
/** The provider's default access token lifetime (dev/idp/server.mjs), restored after each test. */
const DEFAULT_ACCESS_TTL = 300;
/** How long the wait for a due refresh may take (it is due 10 s or 30 s after the sign-in). */
const REFRESH_DUE_MS = 120_000;

/** A cell calling the provider's userinfo from the kernel with the kernel's current token. */
const USERINFO = `
from pyodide.http import pyfetch
config = await (await pyfetch("${LITE_ISSUER}/.well-known/openid-configuration")).json()
token = client._cache[("dev", None)]
answer = await pyfetch(config["userinfo_endpoint"], headers={"Authorization": "Bearer " + token.access_token})
body = await answer.json()
print("RESULT " + json.dumps({"status": answer.status, "email": body.get("email"), "token": digest(token.access_token)}))
`;

/** Make `notebook`'s kernel record what reaches the kernel helper; wait until its comm is attached. */
async function record(notebook: LiteNotebook): Promise<LiteNotebook> {
  await notebook.run(RECORDER); // the first cell opens the comm; the page's ready lands after it
  await notebook.runUntil(STATE, output => result<IKernelState>(output).attached);
  return notebook;
}

/** Refresh locks of the site held or waited for (Web Locks are shared by the site's tabs). */
function refreshLocks(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const { held = [], pending = [] } = await navigator.locks.query();
    return [...held, ...pending].filter(l => l.name?.startsWith('jupyterlab-oidc-refresh:')).length;
  });
}

test.describe('JupyterLite refresh', () => {
  test.beforeEach(() => {
    test.skip(
      !test.info().config.metadata?.lite,
      'needs `make lite` and -c ui-tests/lite.config.ts'
    );
  });

  test.afterEach(async ({ request }) => {
    if (test.info().config.metadata?.lite) {
      await new Provider(request).accessTtl(DEFAULT_ACCESS_TTL);
    }
  });

  test('a rotation reaches the kernel', async ({ page, request }) => {
    test.setTimeout(300_000);
    const provider = new Provider(request);
    const responses = watchTokenEndpoint(page, await provider.tokenEndpoint());
    const trouble = await openLab(page);
    const notebook = await record(await LiteNotebook.create(page, trouble));

    await provider.accessTtl(40); // due 10 s after the sign-in
    const popup = await signIn(page, ALICE);
    await expect(card(page).locator('[data-test=oidc-card-email]')).toHaveText(ALICE);
    await popup.close();
    await provider.accessTtl(DEFAULT_ACCESS_TTL); // the rotated token lives long: one rotation
    const signedIn = responses.find(r => r.grant === 'authorization_code' && r.access_token);
    expect(signedIn, 'the sign-in code exchange, seen from the page').toBeTruthy();
    const first = digest(signedIn!.access_token!);

    // The engine refreshes on its timer; nothing in the test asks for it.
    await expect
      .poll(() => responses.filter(r => r.grant === 'refresh_token' && r.access_token).length, {
        timeout: REFRESH_DUE_MS
      })
      .toBeGreaterThan(0);
    const rotated = responses.filter(r => r.grant === 'refresh_token' && r.access_token);
    expect(rotated[0].refresh_token, 'the provider rotates the refresh token').toBeTruthy();
    expect(rotated[0].refresh_token).not.toBe(signedIn!.refresh_token);
    const fresh = rotated.map(r => digest(r.access_token!));

    const state = result<IKernelState>(
      await notebook.runUntil(STATE, output =>
        fresh.includes(result<IKernelState>(output).token ?? '')
      )
    );
    expect(state.token).not.toBe(first);
    expect(state.email).toBe(ALICE);
    // Pushed by the page (a pull is the kernel's own request): the sign-in, then the rotation.
    expect(state.seen).toContainEqual(['sign_in', first]);
    expect(
      state.seen.filter(([reason, token]) => reason !== 'pull' && token === state.token)
    ).not.toHaveLength(0);

    const api = result<{ status: number; email: string; token: string }>(
      await notebook.run(USERINFO)
    );
    expect(api).toEqual({ status: 200, email: ALICE, token: state.token });
    const stats = await provider.stats();
    expect(stats.token_errors.refresh_token).toBe(0);
  });

  test('two tabs refresh once', async ({ page, request }) => {
    test.setTimeout(420_000);
    const provider = new Provider(request);
    const responses = watchTokenEndpoint(page, await provider.tokenEndpoint());
    const second = await page.context().newPage();
    // One tab after the other: JupyterLite's contents drive lives in the origin's IndexedDB,
    // and two tabs creating it at once can fail ("can't be downgraded from version 4 to
    // version 3"); the kernels then start side by side.
    const opened = [await LiteNotebook.open(page, await openLab(page))];
    opened.push(await LiteNotebook.open(second, await openLab(second)));
    const tabs = await Promise.all(
      opened.map(async notebook => {
        await notebook.waitIdle();
        return record(notebook);
      })
    );

    await provider.accessTtl(60); // due 30 s after the sign-in
    await provider.resetStats();
    const popup = await signIn(page, ALICE);
    await expect(card(page).locator('[data-test=oidc-card-email]')).toHaveText(ALICE);
    await popup.close();
    await provider.accessTtl(DEFAULT_ACCESS_TTL); // the rotated token lives long: one refresh due
    // The other tab's status bar (no click: a background tab draws no frames to click in).
    await expect(
      second.getByRole('button', { name: /^Signed in to dev as alice@example\.com/ })
    ).toBeVisible();
    // Both tabs hold the session, with the same expiry, before its refresh is due.
    expect((await provider.stats()).token.refresh_token).toBe(0);
    const signedIn = responses.find(r => r.grant === 'authorization_code' && r.access_token);
    expect(signedIn).toBeTruthy();
    const first = digest(signedIn!.access_token!);

    await expect
      .poll(async () => (await provider.stats()).token.refresh_token, { timeout: REFRESH_DUE_MS })
      .toBeGreaterThan(0);
    // Both tabs' timers fired at once: wait until neither holds or waits for the refresh lock.
    await expect.poll(() => refreshLocks(page)).toBe(0);
    const states = await Promise.all(
      tabs.map(async notebook =>
        result<IKernelState>(
          await notebook.runUntil(STATE, output => {
            const token = result<IKernelState>(output).token;
            return token !== null && token !== first;
          })
        )
      )
    );

    const stats = await provider.stats();
    const refreshes = responses.filter(r => r.grant === 'refresh_token');
    test.info().annotations.push({
      type: 'refresh from',
      description: refreshes
        .map(r => (r.page === page ? 'tab 1' : r.page === second ? 'tab 2' : '?'))
        .join(', ')
    });
    expect(
      stats.token.refresh_token + stats.token_errors.refresh_token,
      'refresh_token grants at the provider'
    ).toBe(1);
    expect(refreshes, 'refresh_token requests of both tabs').toHaveLength(1);
    const fresh = digest(refreshes[0].access_token!);
    expect(states.map(s => s.token)).toEqual([fresh, fresh]);
    for (const state of states) {
      expect(
        state.seen.filter(([reason, token]) => reason !== 'pull' && token === fresh)
      ).not.toHaveLength(0);
    }
    // The rotated token works from the other tab's kernel (a second grant would have revoked it).
    const api = result<{ status: number; email: string; token: string }>(
      await tabs[1].run(USERINFO)
    );
    expect(api).toEqual({ status: 200, email: ALICE, token: fresh });
    expect((await provider.stats()).token.refresh_token).toBe(1);
    await second.close();
  });
});
