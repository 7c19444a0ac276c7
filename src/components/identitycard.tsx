/**
 * One signed-in session, compact enough for JupyterLab's 250 px sidebar: identity and
 * expiry on top, the actions in a toolbar of icon buttons with tooltips, the details
 * (environment, issuer, scopes, audience, renewal) folded away.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { checkIcon, copyIcon, LabIcon, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { formatClock, formatTime } from '../format';
import { signOutIcon } from '../icons';
import { IOidcSession, ITarget } from '../tokens';
import { IPanelActions } from './actions';
import { Breakable } from './breakable';
import { Countdown } from './countdown';
import { displayName, label, looksLikeEmail } from './labels';

/** Props of `IdentityCard`. */
export interface IIdentityCardProps {
  model: IOidcSession;
  session: IOidcSession.ISession;
  trans: TranslationBundle;
  actions: IPanelActions;
}

type Busy = '' | 'refresh' | 'sign-out' | 'copy';

/** The card of one session. */
export function IdentityCard(props: IIdentityCardProps): JSX.Element {
  const { model, trans, session, actions } = props;
  const [busy, setBusy] = React.useState<Busy>('');
  const target: ITarget = { environment: session.environment, application: session.application };
  const name = label(displayName(model, session.environment), session.application);
  const run = (kind: Busy, action: () => Promise<void>) => {
    setBusy(kind);
    void action().finally(() => setBusy(''));
  };
  const switching = model.pending.some(p => p.own && p.key === session.key);
  const signOut = async () => {
    if (await actions.confirmSignOut(session)) {
      await actions.signOut(target);
    }
  };
  return (
    <article
      className="jp-oidc-card"
      data-test="oidc-card"
      data-environment={session.environment}
      data-application={session.application ?? ''}
      aria-label={trans.__('Signed in to %1', name)}
    >
      <header className="jp-oidc-card-header">
        <h3 className="jp-oidc-card-title" data-test="oidc-card-email">
          {session.email || '—'}
        </h3>
        <p className="jp-oidc-card-where">
          <span className="jp-oidc-card-environment">{name}</span>
          {session.name && (
            <>
              {' · '}
              <span data-test="oidc-card-name">{session.name}</span>
            </>
          )}
        </p>
      </header>
      <p className="jp-oidc-card-expiry">
        <Countdown model={model} expiresAt={session.expiresAt}>
          {left => (
            <span className={left > 0 ? 'jp-oidc-badge' : 'jp-oidc-badge jp-mod-expired'}>
              {left > 0 ? trans.__('Signed in') : trans.__('Expired')}
            </span>
          )}
        </Countdown>{' '}
        <span
          data-test="oidc-card-expiry"
          className="jp-oidc-countdown"
          title={formatTime(session.expires_at)}
        >
          <Countdown model={model} expiresAt={session.expiresAt}>
            {left =>
              left > 0 ? trans.__('expires in %1', formatClock(left)) : trans.__('expired')
            }
          </Countdown>
        </span>
        <span className="jp-oidc-card-renewal">
          {session.has_refresh_token
            ? trans.__('renews automatically')
            : trans.__('no renewal: sign in again when it expires')}
        </span>
      </p>
      <div
        className="jp-oidc-card-toolbar"
        role="toolbar"
        aria-label={trans.__('Actions for %1', name)}
      >
        <IconButton
          test="oidc-refresh"
          icon={refreshIcon}
          label={busy === 'refresh' ? trans.__('Refreshing…') : trans.__('Refresh now')}
          tooltip={
            session.has_refresh_token
              ? trans.__('Get a new access token from the provider now')
              : trans.__('No refresh token: sign in again when the access token expires')
          }
          disabled={busy !== '' || !session.has_refresh_token}
          onClick={() => run('refresh', () => actions.refresh(target))}
        />
        <IconButton
          test="oidc-copy-token"
          icon={copyIcon}
          label={trans.__('Copy access token')}
          tooltip={trans.__(
            'Copy the access token. It is a secret: anyone who has it can act as you until it expires.'
          )}
          disabled={busy !== ''}
          onClick={() => run('copy', () => actions.copyToken(target))}
        />
        <IconButton
          test="oidc-check-token"
          icon={checkIcon}
          label={trans.__('Check id_token')}
          tooltip={trans.__('Check the id_token step by step: signature, issuer, audience, expiry')}
          onClick={() => actions.showTokenCheck(session)}
        />
        <span className="jp-oidc-toolbar-spacer" />
        <IconButton
          test="oidc-sign-out"
          icon={signOutIcon}
          label={busy === 'sign-out' ? trans.__('Signing out…') : trans.__('Sign out')}
          tooltip={trans.__(
            'Sign out of %1: the Jupyter server revokes and forgets the tokens',
            name
          )}
          warn
          disabled={busy !== ''}
          onClick={() => run('sign-out', signOut)}
        />
      </div>
      <details
        className="jp-oidc-card-details"
        data-test="oidc-card-details"
        open={switching || undefined}
      >
        <summary>{trans.__('Details')}</summary>
        <SwitchAccount model={model} session={session} trans={trans} actions={actions} />
        <dl className="jp-oidc-facts">
          <dt>{trans.__('Environment')}</dt>
          <dd>{session.environment}</dd>
          {session.application && (
            <>
              <dt>{trans.__('Application')}</dt>
              <dd>{session.application}</dd>
            </>
          )}
          <dt>{trans.__('Issuer')}</dt>
          <dd className="jp-oidc-url">
            <Breakable text={session.issuer} />
          </dd>
          <dt>{trans.__('Scopes')}</dt>
          <dd>{session.scope || '—'}</dd>
          <dt>{trans.__('Audience')}</dt>
          <dd className="jp-oidc-url">
            <Breakable text={session.audience.join(', ') || '—'} />
          </dd>
          <dt>{trans.__('Renewal')}</dt>
          <dd>
            {session.has_refresh_token
              ? trans.__('automatic, before it expires')
              : trans.__('none (no refresh token): sign in again when it expires')}
          </dd>
        </dl>
      </details>
    </article>
  );
}

/**
 * "Sign in as someone else": a sign-in for the same environment with `prompt=login` (the
 * provider asks again instead of reusing its session) as the email typed here. The card
 * stays until the new sign-in has passed the server's checks, which then replace it.
 */
function SwitchAccount(props: IIdentityCardProps): JSX.Element {
  const { model, session, trans, actions } = props;
  const [open, setOpen] = React.useState(false);
  const [email, setEmail] = React.useState('');
  const [invalid, setInvalid] = React.useState(false);
  const who = session.email || session.sub;
  const waiting = model.pending.find(p => p.own && p.key === session.key);
  if (waiting) {
    return (
      <p className="jp-oidc-hint" data-test="oidc-card-switching" role="status">
        {trans.__(
          'Signing in as %1: %2 stays signed in until that sign-in succeeds.',
          waiting.login_hint || trans.__('another account'),
          who
        )}
      </p>
    );
  }
  if (!open) {
    return (
      <div className="jp-oidc-form-actions">
        <button
          type="button"
          className="jp-mod-styled jp-oidc-button"
          data-test="oidc-switch-account"
          onClick={() => setOpen(true)}
        >
          {trans.__('Sign in as someone else')}
        </button>
      </div>
    );
  }
  const onSubmit = (event: React.FormEvent) => {
    event.preventDefault();
    const loginHint = email.trim();
    if (!looksLikeEmail(loginHint)) {
      setInvalid(true);
      return;
    }
    setOpen(false);
    setEmail('');
    // Synchronously in the submit handler: the provider's window opens here.
    actions.signIn({
      environment: session.environment,
      application: session.application,
      loginHint,
      prompt: 'login'
    });
  };
  const id = `jp-oidc-switch-email-${session.key.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return (
    <form
      className="jp-oidc-form jp-oidc-switch"
      data-test="oidc-switch-form"
      onSubmit={onSubmit}
      noValidate
    >
      <label htmlFor={id}>{trans.__('Email of the other account')}</label>
      <input
        id={id}
        className="jp-mod-styled"
        data-test="oidc-switch-email"
        type="email"
        autoComplete="email"
        spellCheck={false}
        required
        placeholder={trans.__('you@example.com')}
        value={email}
        aria-invalid={invalid}
        onChange={e => {
          setEmail(e.target.value);
          setInvalid(false);
        }}
      />
      <p className="jp-oidc-hint">
        {invalid ? (
          <span className="jp-oidc-field-error" role="alert" data-test="oidc-switch-invalid">
            {trans.__('Type the email of the account to sign in with.')}
          </span>
        ) : (
          trans.__(
            '%1 stays signed in until the new account passes the checks; then it replaces %1 here and in running kernels.',
            who
          )
        )}
      </p>
      <div className="jp-oidc-form-actions">
        <button
          type="submit"
          className="jp-mod-styled jp-mod-accept jp-oidc-button"
          data-test="oidc-switch-go"
        >
          {trans.__('Sign in')}
        </button>
        <button
          type="button"
          className="jp-mod-styled jp-oidc-button"
          data-test="oidc-switch-keep"
          onClick={() => setOpen(false)}
        >
          {trans.__('Keep %1', who)}
        </button>
      </div>
    </form>
  );
}

/** A toolbar button: an icon, its name for screen readers and a tooltip. */
function IconButton(props: {
  test: string;
  icon: LabIcon;
  label: string;
  tooltip: string;
  onClick: () => void;
  disabled?: boolean;
  warn?: boolean;
}): JSX.Element {
  return (
    <button
      type="button"
      className={`jp-oidc-icon-button${props.warn ? ' jp-mod-warn' : ''}`}
      data-test={props.test}
      aria-label={props.label}
      title={props.tooltip}
      disabled={props.disabled}
      onClick={props.onClick}
    >
      <props.icon.react tag="span" elementSize="normal" />
    </button>
  );
}
