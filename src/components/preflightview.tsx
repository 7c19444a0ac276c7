/**
 * "Test configuration": the server's preflight of an environment (`GET oidc/preflight`) —
 * discovery, issuer, endpoints, JWKS, PKCE, scopes, redirect URI — one line per check with
 * what was found and how to fix it. The same report as `jupyter oidc preflight`. Shown in
 * a dialog (`actions.ts`), where it is seen whatever the sidebar's width.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IPreflightReport } from '../api';
import { IOidcSession } from '../tokens';
import { Breakable } from './breakable';
import { useCheck } from './usecheck';

/** Props of `PreflightView`. */
export interface IPreflightViewProps {
  /** Runs the check (`session.preflight()`). */
  model: Pick<IOidcSession, 'preflight'>;
  environment: string;
  trans: TranslationBundle;
}

const MARKS: Record<string, string> = { pass: '✓', warn: '!', fail: '✗', skip: '–' };

/** The configuration check of `environment`, run when shown and on "Test again". */
export function PreflightView(props: IPreflightViewProps): JSX.Element {
  const { model, environment, trans } = props;
  const [state, again] = useCheck<IPreflightReport>(
    () => model.preflight(environment).then(report => ({ phase: 'done', report })),
    environment
  );

  return (
    <section
      className="jp-oidc-check"
      data-test="oidc-preflight"
      aria-label={trans.__('Configuration test')}
      aria-busy={state.phase === 'running'}
    >
      {state.phase === 'running' && (
        <p className="jp-oidc-hint">{trans.__('Testing the configuration…')}</p>
      )}
      {state.phase === 'failed' && (
        <p className="jp-oidc-check-failed" role="alert">
          {state.message}
        </p>
      )}
      {state.phase === 'done' && (
        <>
          <p className="jp-oidc-hint">
            {trans.__('Redirect URI to register with the provider:')}{' '}
            <span className="jp-oidc-url" data-test="oidc-preflight-redirect-uri">
              <Breakable text={state.report.redirect_uri} />
            </span>
          </p>
          <p className="jp-oidc-check-summary" data-valid={state.report.ok} role="status">
            {state.report.ok
              ? trans.__('Ready to sign in (%1 warning(s)).', state.report.counts.warn)
              : trans.__(
                  '%1 check(s) failed: fix them before signing in.',
                  state.report.counts.fail
                )}
          </p>
          <ol className="jp-oidc-check-steps">
            {state.report.checks.map(check => (
              <li
                key={check.name}
                className={`jp-oidc-check-step jp-mod-${check.outcome}`}
                data-step={check.name}
                data-outcome={check.outcome}
              >
                <span className="jp-oidc-check-mark" aria-hidden="true">
                  {MARKS[check.outcome] ?? '?'}
                </span>
                <span className="jp-oidc-check-title">
                  {check.title}
                  <span className="jp-oidc-sr-only"> {check.outcome}</span>
                </span>
                <span className="jp-oidc-check-detail">
                  <Breakable text={check.message} />
                  {check.hint && check.outcome !== 'pass' && check.outcome !== 'skip' && (
                    <span className="jp-oidc-preflight-hint"> {check.hint}</span>
                  )}
                </span>
              </li>
            ))}
          </ol>
        </>
      )}
      <button
        type="button"
        className="jp-mod-styled jp-oidc-button"
        data-test="oidc-preflight-again"
        disabled={state.phase === 'running'}
        onClick={again}
      >
        {trans.__('Test again')}
      </button>
    </section>
  );
}
