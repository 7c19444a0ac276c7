import { nullTranslator } from '@jupyterlab/translation';
import * as React from 'react';

import { TokenCheckView } from '../../src/components/tokencheckview';
import { OidcError } from '../../src/errors';
import { ITokenCheckReport } from '../../src/tokencheck';
import { IOidcSession } from '../../src/tokens';
import { NOW_S, sessionInfo } from '../utils';
import { IMounted, mount, settle } from './render';

const trans = nullTranslator.load('jupyterlab_oidc');

const SESSION: IOidcSession.ISession = {
  ...sessionInfo(),
  key: 'prod',
  expiresAt: NOW_S * 1000 + 3_270_000
};

function report(): ITokenCheckReport {
  return {
    valid: true,
    steps: [
      { name: 'signature', outcome: 'pass', title: 'Signature', detail: 'Valid RS256 signature.' }
    ],
    header: { alg: 'RS256' },
    payload: { iss: 'https://id.corp.example/realms/a-very-long-realm-name', sub: 'x'.repeat(200) },
    thumbprint: null
  };
}

describe('TokenCheckView', () => {
  let view: IMounted;
  let checkIdToken: jest.Mock;
  const $ = (selector: string) => view.node.querySelector<HTMLElement>(selector);

  beforeEach(() => {
    checkIdToken = jest.fn(async () => report());
  });

  afterEach(() => view.unmount());

  async function show(): Promise<void> {
    const model = { checkIdToken } as unknown as IOidcSession;
    view = await mount(<TokenCheckView model={model} session={SESSION} trans={trans} />);
    await settle();
  }

  it('should run the check through the session model, for that session', async () => {
    await show();
    expect(checkIdToken).toHaveBeenCalledWith({ environment: 'prod', application: null });
    expect($('[data-step="signature"]')?.dataset.outcome).toBe('pass');
    expect($('.jp-oidc-check-summary')?.textContent).toBe('Every check passed.');
  });

  it('should show the claims as wrapping JSON', async () => {
    await show();
    const claims = $('[data-test="oidc-claims"]')!;
    expect(claims.className).toBe('jp-oidc-claims');
    expect(JSON.parse(claims.textContent!)).toEqual({
      header: report().header,
      payload: report().payload
    });
  });

  it('should say when the provider sent no id_token', async () => {
    checkIdToken.mockRejectedValueOnce(
      new OidcError('invalid_id_token', 'x', { details: { reason: 'missing' } })
    );
    await show();
    expect($('[role="alert"]')?.textContent).toBe(
      'The provider did not send an id_token for this session.'
    );
  });

  it('should say why the id_token could not be read', async () => {
    checkIdToken.mockRejectedValueOnce(new OidcError('session_expired', 'Sign in again.'));
    await show();
    expect($('[role="alert"]')?.textContent).toBe('The id_token could not be read: Sign in again.');
  });
});
