/**
 * The sign-in form: environment, application, work email; Sign in; Test configuration.
 *
 * It selects an environment without a session first, and asks before a sign-in replaces a
 * session ("This replaces demo@example.com in prod"): the confirmation is a second click in
 * the form, so the provider's window still opens synchronously in a click handler.
 * Hidden (not unmounted) while a sign-in of this tab waits.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IOidcSession } from '../tokens';
import type { SignInFlow } from '../api';
import { IPanelActions } from './actions';
import { firstFreeEnvironment, label, looksLikeEmail, optionLabel } from './labels';

/** Props of `SignInForm`. */
export interface ISignInFormProps {
  model: IOidcSession;
  trans: TranslationBundle;
  actions: IPanelActions;
  hidden: boolean;
}

/** The form. Remount it (a `key`) when the sessions change, to select afresh. */
export function SignInForm(props: ISignInFormProps): JSX.Element {
  const { model, trans, actions } = props;
  const [environment, setEnvironment] = React.useState<string | null>(null);
  const [application, setApplication] = React.useState('');
  const [email, setEmail] = React.useState<string | null>(null);
  const [invalid, setInvalid] = React.useState(false);
  const [replacing, setReplacing] = React.useState<IOidcSession.ISession | null>(null);
  const [flow, setFlow] = React.useState<SignInFlow | undefined>(undefined);
  const environments = model.environments;
  const selected = environment ?? firstFreeEnvironment(model);
  const applications = environments.find(env => env.name === selected)?.applications ?? [];
  const emailValue = email ?? model.preferences.lastEmail;
  if (environments.length === 0) {
    return (
      <p className="jp-oidc-hint" data-test="oidc-no-environments">
        {model.phase === 'ready'
          ? trans.__(
              'No environment is configured on this Jupyter server. Ask your admin to set c.OIDCLogin.environments.'
            )
          : trans.__('Sign-in is not available until the Jupyter server answers.')}
      </p>
    );
  }
  const chosenApplication = applications.includes(application) ? application : undefined;
  const deviceOnly = environments.find(env => env.name === selected)?.flow === 'device';
  const signIn = (how = flow) => {
    setReplacing(null);
    actions.signIn({
      environment: selected,
      application: chosenApplication,
      loginHint: emailValue.trim(),
      flow: how
    });
  };
  const onSubmit = (event: React.FormEvent, how?: SignInFlow) => {
    event.preventDefault();
    setFlow(how);
    if (!looksLikeEmail(emailValue.trim())) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    const existing = model.findSession({
      environment: selected,
      application: chosenApplication ?? null
    });
    if (existing) {
      setReplacing(existing); // ask first; the provider window opens on the confirming click
      return;
    }
    signIn(how);
  };
  const change = (update: () => void) => {
    update();
    setReplacing(null);
  };
  const signedIn = model.sessions.length > 0;
  return (
    <form
      className="jp-oidc-form"
      data-test="oidc-form"
      onSubmit={onSubmit}
      noValidate
      hidden={props.hidden}
      aria-labelledby="jp-oidc-form-title"
    >
      <h3 id="jp-oidc-form-title" className="jp-oidc-form-title">
        {signedIn ? trans.__('Sign in to another environment') : trans.__('Sign in')}
      </h3>
      <label htmlFor="jp-oidc-environment">{trans.__('Environment')}</label>
      <select
        id="jp-oidc-environment"
        className="jp-mod-styled"
        data-test="oidc-environment"
        value={selected}
        onChange={e =>
          change(() => {
            setEnvironment(e.target.value);
            setApplication('');
          })
        }
      >
        {environments.map(env => (
          <option key={env.name} value={env.name}>
            {optionLabel(env.name, env.display_name)}
            {model.findSession({ environment: env.name, application: null })
              ? ` — ${trans.__('signed in')}`
              : ''}
          </option>
        ))}
      </select>
      {applications.length > 0 && (
        <>
          <label htmlFor="jp-oidc-application">{trans.__('Application')}</label>
          <select
            id="jp-oidc-application"
            className="jp-mod-styled"
            data-test="oidc-application"
            value={application}
            onChange={e => change(() => setApplication(e.target.value))}
          >
            <option value="">{trans.__('None (environment only)')}</option>
            {applications.map(app => (
              <option key={app} value={app}>
                {app}
              </option>
            ))}
          </select>
        </>
      )}
      <label htmlFor="jp-oidc-email">{trans.__('Work email')}</label>
      <input
        id="jp-oidc-email"
        className="jp-mod-styled"
        data-test="oidc-email"
        type="email"
        autoComplete="email"
        spellCheck={false}
        required
        placeholder={trans.__('you@example.com')}
        value={emailValue}
        aria-invalid={invalid}
        aria-describedby="jp-oidc-email-hint"
        onChange={e =>
          change(() => {
            setEmail(e.target.value);
            setInvalid(false);
          })
        }
      />
      <p id="jp-oidc-email-hint" className="jp-oidc-hint">
        {invalid ? (
          <span className="jp-oidc-field-error" role="alert" data-test="oidc-email-invalid">
            {trans.__('Type the email of the account to sign in with.')}
          </span>
        ) : (
          trans.__(
            'Only this account is accepted; a different one is refused and nothing is stored.'
          )
        )}
      </p>
      {replacing ? (
        <div className="jp-oidc-warning" role="alert" data-test="oidc-replace-confirm">
          <p>
            {trans.__(
              'This replaces %1 in %2. Running kernels switch to the new account’s tokens.',
              replacing.email || replacing.sub,
              label(replacing.environment, replacing.application)
            )}
          </p>
          <div className="jp-oidc-form-actions">
            <button
              type="button"
              className="jp-mod-styled jp-mod-warn jp-oidc-button"
              data-test="oidc-replace-yes"
              onClick={() => signIn()}
            >
              {trans.__('Replace and sign in')}
            </button>
            <button
              type="button"
              className="jp-mod-styled jp-oidc-button"
              data-test="oidc-replace-no"
              onClick={() => setReplacing(null)}
            >
              {trans.__('Keep %1', replacing.email || replacing.sub)}
            </button>
          </div>
        </div>
      ) : (
        <div className="jp-oidc-form-actions">
          <button
            type="submit"
            id="jp-oidc-sign-in"
            className="jp-mod-styled jp-mod-accept jp-oidc-button"
            data-test="oidc-sign-in"
          >
            {deviceOnly ? trans.__('Sign in with a code') : trans.__('Sign in')}
          </button>
          {!deviceOnly && (
            <button
              type="button"
              className="jp-mod-styled jp-oidc-button"
              data-test="oidc-sign-in-device"
              title={trans.__(
                'Get a code to enter on any device: for places the provider cannot send the browser back to'
              )}
              onClick={e => onSubmit(e, 'device')}
            >
              {trans.__('Sign in with a code')}
            </button>
          )}
          <button
            type="button"
            className="jp-mod-styled jp-oidc-button"
            data-test="oidc-test-configuration"
            title={trans.__(
              'Check the provider configuration of %1 (discovery, keys, PKCE, scopes, redirect URI)',
              selected
            )}
            onClick={() => actions.showPreflight(selected)}
          >
            {trans.__('Test configuration')}
          </button>
        </div>
      )}
    </form>
  );
}
