import { nullTranslator } from '@jupyterlab/translation';

import { confirmSignOut, showPreflight } from '../../src/components/actions';
import { IOidcSession } from '../../src/tokens';
import { flushPromises, NOW_S, sessionInfo } from '../utils';

const trans = nullTranslator.load('jupyterlab_oidc');
const SESSION: IOidcSession.ISession = {
  ...sessionInfo({ email: 'demo@example.com' }),
  key: 'prod',
  expiresAt: NOW_S * 1000
};

function fakeModel(): IOidcSession {
  return {
    environments: [],
    preflight: jest.fn(async () => ({
      ok: true,
      counts: { pass: 0, warn: 0, fail: 0, skip: 0 },
      checks: [],
      redirect_uri: 'x'
    }))
  } as unknown as IOidcSession;
}

/** The open dialog, once it is there. */
async function dialog(): Promise<HTMLElement> {
  for (let i = 0; i < 50; i++) {
    const node = document.querySelector<HTMLElement>('.jp-Dialog');
    if (node) {
      return node;
    }
    await flushPromises(2);
    await new Promise(resolve => setTimeout(resolve, 5));
  }
  throw new Error('no dialog');
}

describe('panel actions', () => {
  afterEach(() => document.querySelectorAll('.jp-Dialog').forEach(node => node.remove()));

  describe('confirmSignOut', () => {
    it('should name the environment and the account, and answer true on Sign out', async () => {
      const answer = confirmSignOut(fakeModel(), SESSION, trans);
      const node = await dialog();
      expect(node.textContent).toContain('Sign out of prod?');
      expect(node.textContent).toContain('demo@example.com');
      node.querySelector<HTMLButtonElement>('.jp-mod-warn')!.click();
      await expect(answer).resolves.toBe(true);
    });

    it('should answer false on Cancel', async () => {
      const answer = confirmSignOut(fakeModel(), SESSION, trans);
      const node = await dialog();
      node.querySelector<HTMLButtonElement>('.jp-mod-reject')!.click();
      await expect(answer).resolves.toBe(false);
    });
  });

  describe('showPreflight', () => {
    it('should show the configuration test in a dialog, run by the session model', async () => {
      const model = fakeModel();
      const shown = showPreflight(model, 'prod', trans);
      const node = await dialog();
      expect(node.textContent).toContain('Configuration of prod');
      expect(node.querySelector('.jp-oidc-dialog-body')).not.toBeNull();
      expect(model.preflight).toHaveBeenCalledWith('prod');
      node.querySelector<HTMLButtonElement>('.jp-mod-accept')!.click();
      await shown;
    });
  });
});
