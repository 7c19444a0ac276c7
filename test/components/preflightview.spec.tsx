import { nullTranslator } from '@jupyterlab/translation';
import * as React from 'react';
import { act } from 'react';

import { IPreflightReport } from '../../src/api';
import { PreflightView } from '../../src/components/preflightview';
import { OidcError } from '../../src/errors';
import { IMounted, mount, settle } from './render';

const trans = nullTranslator.load('jupyterlab_oidc');

function report(overrides: Partial<IPreflightReport> = {}): IPreflightReport {
  return {
    environment: 'prod',
    issuer: 'https://id.example.com',
    client_id: 'jupyterlab',
    discovery_mode: 'auto',
    redirect_uri: 'http://localhost:8888/oidc/callback',
    ok: false,
    counts: { pass: 1, warn: 1, fail: 1, skip: 0 },
    checks: [
      {
        name: 'discovery',
        title: 'Discovery document',
        outcome: 'pass',
        message: 'Fetched it.',
        hint: ''
      },
      {
        name: 'pkce',
        title: 'PKCE S256',
        outcome: 'fail',
        message: 'The provider supports PKCE plain, not S256.',
        hint: 'Enable PKCE with S256.'
      },
      {
        name: 'scopes',
        title: 'Requested scopes',
        outcome: 'warn',
        message: 'Not listed: api://x/.default',
        hint: 'Check the spelling.'
      }
    ],
    ...overrides
  };
}

describe('PreflightView', () => {
  let preflight: jest.Mock<Promise<IPreflightReport>, [string]>;
  let view: IMounted;
  const $ = (selector: string) => view.node.querySelector<HTMLElement>(selector);

  beforeEach(() => {
    preflight = jest.fn(async (_environment: string) => report());
  });

  afterEach(() => view.unmount());

  it('should run the check through the session model and show each check with its fix', async () => {
    view = await mount(<PreflightView model={{ preflight }} environment="prod" trans={trans} />);
    expect(preflight).toHaveBeenCalledWith('prod');
    const steps = Array.from(view.node.querySelectorAll<HTMLElement>('li'));
    expect(steps.map(s => [s.dataset.step, s.dataset.outcome])).toEqual([
      ['discovery', 'pass'],
      ['pkce', 'fail'],
      ['scopes', 'warn']
    ]);
    expect(steps[1].textContent).toContain('Enable PKCE with S256.');
    expect(steps[0].textContent).not.toContain('Enable');
    expect($('[role="status"]')?.textContent).toBe(
      '1 check(s) failed: fix them before signing in.'
    );
    expect($('[data-test="oidc-preflight-redirect-uri"]')?.textContent).toBe(
      'http://localhost:8888/oidc/callback'
    );
  });

  it('should test again and say when the configuration is ready', async () => {
    view = await mount(<PreflightView model={{ preflight }} environment="prod" trans={trans} />);
    preflight.mockResolvedValueOnce(
      report({ ok: true, counts: { pass: 3, warn: 0, fail: 0, skip: 0 } })
    );
    await act(async () => $('[data-test="oidc-preflight-again"]')!.click());
    await settle();
    expect(preflight).toHaveBeenCalledTimes(2);
    expect($('[role="status"]')?.textContent).toBe('Ready to sign in (0 warning(s)).');
  });

  it('should show why the test could not run', async () => {
    preflight.mockRejectedValueOnce(new OidcError('unknown_environment', 'Unknown environment.'));
    view = await mount(<PreflightView model={{ preflight }} environment="prod" trans={trans} />);
    await settle();
    expect($('[role="alert"]')?.textContent).toBe('Unknown environment.');
  });
});
