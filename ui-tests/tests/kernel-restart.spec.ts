/**
 * Journey (issue 3, test 4): after a kernel restart and after a kernel change in JupyterLab,
 * the bridge is attached again without a page reload: the new kernel process opens the
 * comm, the frontend answers `ready` over a subshell, and get_token() is answered through
 * the comm (no HTTP request at all). The kernels have the kernel secret, so each new kernel
 * process is told to pull through the comm (`JUPYTERLAB_OIDC_PULL=comm`, docs/kernel-protocol.md
 * §2); without it a pull would go over HTTP.
 */
import { ALICE, expect, test } from './fixtures';
import {
  IPreludeResult,
  NotebookDriver,
  PRELUDE,
  result,
  signInInSeparatePage
} from './kernel-support';

/** Pull through the live comm although the kernel has the secret (the helper's switch). */
const PULL_OVER_COMM = 'import os\nos.environ["JUPYTERLAB_OIDC_PULL"] = "comm"\n';

/** Drop the cache and pull once; report who the token is for and how it came. */
const PULL = `
client.forget()
token = get_token()
print("RESULT " + json.dumps({"email": token.email, "userinfo": userinfo_status(token), **counts()}))
`;

interface IPull extends IPreludeResult {
  email: string;
  userinfo: number;
}

test.describe('Kernel: the bridge across restarts and kernel changes', () => {
  test('should answer get_token() through the comm after a restart and after a kernel change', async ({
    lab,
    oidc
  }) => {
    await signInInSeparatePage(lab, oidc, ALICE.email);
    const notebook = await NotebookDriver.create(lab);
    try {
      const checkComm = async (when: string) => {
        const prelude = result<IPreludeResult>(await notebook.run(PULL_OVER_COMM + PRELUDE));
        expect(prelude, when).toMatchObject({
          live: true,
          frontend: 'jupyterlab-oidc 0.1.0',
          http_requests: 0
        });
        const pull = result<IPull>(await notebook.run(PULL));
        expect(pull, when).toMatchObject({
          email: ALICE.email,
          userinfo: 200,
          comm_pulls: 1,
          http_requests: 0
        });
      };
      await checkComm('first kernel');

      const kernel = await notebook.kernelId();
      await notebook.restartKernel();
      expect(await notebook.kernelId()).toBe(kernel);
      await checkComm('after a restart');

      const next = await notebook.changeKernel();
      expect(next).not.toBe(kernel);
      await checkComm('after a kernel change');
    } finally {
      await notebook.dispose();
    }
  });
});
