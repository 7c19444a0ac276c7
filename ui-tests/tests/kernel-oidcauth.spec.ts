/**
 * Journey (issue 3, test 5): sign in from a notebook cell. `OIDCAuth.start_login(email)`
 * shows a link; the user opens it and signs in at the provider while the next cell waits
 * in `await_callback()`, which returns the TokenStore. Signing in as someone else raises
 * IdentityMismatchError in the cell and stores nothing. The kernel's REST calls (login,
 * await) are relayed by the frontend over the comm.
 */
import { ALICE, BOB, completeProviderPage, expect, test } from './fixtures';
import { IPreludeResult, NotebookDriver, PRELUDE, result } from './kernel-support';

const START_LOGIN = `
from jupyterlab_oidc import OIDCAuth, TokenStore
auth = OIDCAuth(environment="prod")
url = auth.start_login("${ALICE.email}")
print("RESULT " + json.dumps({"url_returned": url.startswith("http"), **counts()}))
`;

const AWAIT_CALLBACK = `
store = auth.await_callback()
print("RESULT " + json.dumps({"type": type(store).__name__, "is_token_store": isinstance(store, TokenStore),
                              "email": store.email, "has_access_token": bool(store.access_token),
                              "refresh_token_in_kernel": store.refresh_token is not None, **counts()}))
`;

const COUNTS = `print("RESULT " + json.dumps(counts()))`;

interface IOutcome extends IPreludeResult {
  type: string;
  is_token_store: boolean;
  email: string;
  has_access_token: boolean;
  refresh_token_in_kernel: boolean;
}

test.describe('Kernel: OIDCAuth sign-in from a cell', () => {
  test('should raise IdentityMismatchError for bob, then return the TokenStore for alice', async ({
    lab,
    oidc
  }) => {
    const notebook = await NotebookDriver.create(lab);
    /** start_login(alice) in one cell, await_callback() in the next while `email` signs in from the link. */
    const signIn = async (email: string) => {
      const started = await notebook.start(START_LOGIN);
      expect(result<IPreludeResult>(await started.done())).toMatchObject({ url_returned: true });
      const waiting = await notebook.start(AWAIT_CALLBACK); // blocks until the provider's callback
      const popup = lab.context().waitForEvent('page');
      await notebook.providerLink(started.index).click();
      const page = await popup;
      const resultPage = await completeProviderPage(page, email);
      const output = await waiting.done(60_000);
      return { output, resultPage, close: () => page.close() };
    };
    try {
      // the token fetch after the sign-in through the comm too (a kernel with the secret pulls over HTTP)
      const pullOverComm = 'import os\nos.environ["JUPYTERLAB_OIDC_PULL"] = "comm"\n';
      expect(result<IPreludeResult>(await notebook.run(pullOverComm + PRELUDE))).toMatchObject({
        live: true
      });

      const bob = await signIn(BOB.email);
      expect(bob.output).toContain('IdentityMismatchError'); // the cell raised it
      expect(bob.output).not.toMatch(/^RESULT /m); // the traceback quotes the print; it never ran
      expect((await oidc.status()).sessions).toEqual([]); // nothing stored
      await bob.close();

      const alice = await signIn(ALICE.email);
      await expect(alice.resultPage).toContainText(`Signed in as ${ALICE.email}`);
      expect(result<IOutcome>(alice.output)).toMatchObject({
        type: 'TokenStore',
        is_token_store: true,
        email: ALICE.email,
        has_access_token: true,
        refresh_token_in_kernel: false
      });
      expect((await oidc.status()).sessions.map(s => s.email)).toEqual([ALICE.email]);

      const counts = result<IPreludeResult>(await notebook.run(COUNTS));
      expect(counts.http_requests).toBe(0); // login and await were relayed over the comm
      expect(counts.comm_calls).toBeGreaterThanOrEqual(4);
    } finally {
      await notebook.dispose();
    }
  });
});
