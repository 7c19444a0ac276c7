/**
 * The token check view: runs `session.checkIdToken()` on the session's current id_token and
 * lists each step with pass/fail and what was found. jose is loaded only when it runs.
 * Shown in a dialog (`actions.ts`); the claims JSON wraps instead of scrolling sideways.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { OidcError } from '../errors';
import type { ITokenCheckReport } from '../tokencheck';
import { IOidcSession } from '../tokens';
import { Breakable } from './breakable';
import { CheckState, useCheck } from './usecheck';

/** Props of `TokenCheckView`. */
export interface ITokenCheckViewProps {
  /** Runs the check (`session.checkIdToken()`). */
  model: IOidcSession;
  session: IOidcSession.ISession;
  trans: TranslationBundle;
}

/** Step-by-step check of the id_token of `session`. */
export function TokenCheckView(props: ITokenCheckViewProps): JSX.Element {
  const { model, session, trans } = props;
  const [state, again] = useCheck(() => runCheck(model, session, trans), session.key);

  return (
    <section
      className="jp-oidc-check"
      data-test="oidc-token-check"
      aria-label={trans.__('id_token check')}
      aria-busy={state.phase === 'running'}
    >
      {state.phase === 'running' && (
        <p className="jp-oidc-hint">{trans.__('Checking the id_token…')}</p>
      )}
      {state.phase === 'failed' && (
        <p className="jp-oidc-check-failed" role="alert">
          {state.message}
        </p>
      )}
      {state.phase === 'done' && (
        <>
          <p className="jp-oidc-check-summary" data-valid={state.report.valid} role="status">
            {state.report.valid
              ? trans.__('Every check passed.')
              : trans.__(
                  '%1 of %2 checks did not pass.',
                  state.report.steps.filter(s => s.outcome !== 'pass').length,
                  state.report.steps.length
                )}
          </p>
          <ol className="jp-oidc-check-steps">
            {state.report.steps.map(step => (
              <li
                key={step.name}
                className={`jp-oidc-check-step jp-mod-${step.outcome}`}
                data-step={step.name}
                data-outcome={step.outcome}
              >
                <span className="jp-oidc-check-mark" aria-hidden="true">
                  {step.outcome === 'pass' ? '✓' : step.outcome === 'fail' ? '✗' : '–'}
                </span>
                <span className="jp-oidc-check-title">
                  {step.title}
                  <span className="jp-oidc-sr-only">
                    {' '}
                    {step.outcome === 'pass'
                      ? trans.__('passed')
                      : step.outcome === 'fail'
                        ? trans.__('failed')
                        : trans.__('skipped')}
                  </span>
                </span>
                <span className="jp-oidc-check-detail">
                  <Breakable text={step.detail} />
                </span>
              </li>
            ))}
          </ol>
          <details className="jp-oidc-check-claims">
            <summary>{trans.__('Header and claims')}</summary>
            <pre className="jp-oidc-claims" data-test="oidc-claims">
              {JSON.stringify(
                { header: state.report.header, payload: state.report.payload },
                null,
                2
              )}
            </pre>
          </details>
        </>
      )}
      <button
        type="button"
        className="jp-mod-styled jp-oidc-button"
        data-test="oidc-check-again"
        disabled={state.phase === 'running'}
        onClick={again}
      >
        {trans.__('Check again')}
      </button>
    </section>
  );
}

async function runCheck(
  model: IOidcSession,
  session: IOidcSession.ISession,
  trans: TranslationBundle
): Promise<CheckState<ITokenCheckReport>> {
  try {
    const report = await model.checkIdToken({
      environment: session.environment,
      application: session.application
    });
    return { phase: 'done', report };
  } catch (error) {
    const e = OidcError.from(error);
    return {
      phase: 'failed',
      message:
        e.code === 'invalid_id_token' && e.details.reason === 'missing'
          ? trans.__('The provider did not send an id_token for this session.')
          : trans.__('The id_token could not be read: %1', e.message)
    };
  }
}
