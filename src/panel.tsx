/**
 * The sidebar panel: a thin view of the session model.
 *
 * Signed out it shows the sign-in form; while a sign-in waits, a countdown and Cancel;
 * signed in, one identity card per session with a live expiry countdown, Refresh now,
 * Copy access token, Check id_token and Sign out. Errors are sentences chosen by code.
 */
import { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { copyAccessToken, startSignIn } from './actions';
import { IJwksReply, IPreflightReport, OidcAPI } from './api';
import { describeError, loadTranslation, OidcError, OidcErrorCode } from './errors';
import { formatClock, formatTime } from './format';
import { keyIcon } from './icons';
import { PreflightView } from './preflightview';
import { TokenCheckView } from './tokencheckview';
import { IOidcSession, ITarget } from './tokens';
import { httpUrl } from './urls';

/** The id of the panel (ILayoutRestorer, `shell.activateById`, UI tests). */
export const PANEL_ID = 'jp-oidc-panel';

/** The sidebar panel of jupyterlab-oidc. */
export class OidcPanel extends ReactWidget {
  constructor(options: OidcPanel.IOptions) {
    super();
    this._model = options.model;
    this._trans = loadTranslation(options.translator);
    const api = options.api ?? new OidcAPI();
    this._actions = {
      signIn: form => void startSignIn(this._model, form, this._trans),
      cancel: state => void this._model.cancelSignIn(state).catch(() => undefined),
      signOut: target => this._model.signOut(target).then(() => undefined, () => undefined),
      refresh: target => this._model.refreshSession(target).then(() => undefined, () => undefined),
      copyToken: target => copyAccessToken(this._model, target, this._trans).then(() => undefined),
      retry: () => void this._model.refresh().catch(() => undefined),
      fetchJwks: environment => api.jwks(environment),
      fetchPreflight: environment => api.preflight(environment),
      ...options.actions
    };
    this.id = PANEL_ID;
    this.addClass('jp-oidc-panel');
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', this._trans.__('OpenID Connect sign-in'));
    this.title.icon = keyIcon;
    this.title.caption = this._trans.__('OpenID Connect sign-in');
    this._model.stateChanged.connect(this._onChange, this);
    this._model.ticked.connect(this._onChange, this);
  }

  /** The model this panel renders. */
  get model(): IOidcSession {
    return this._model;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.stateChanged.disconnect(this._onChange, this);
    this._model.ticked.disconnect(this._onChange, this);
    super.dispose();
  }

  protected render(): JSX.Element {
    return <PanelView model={this._model} trans={this._trans} actions={this._actions} />;
  }

  /** Focus the email field when empty, else the first control. */
  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    const email = this.node.querySelector<HTMLInputElement>('#jp-oidc-email');
    const target =
      email && !email.value ? email : this.node.querySelector<HTMLElement>('input, select, button, a[href]');
    (target ?? this.node).focus();
  }

  private _onChange(): void {
    this.update();
  }

  private _model: IOidcSession;
  private _trans: TranslationBundle;
  private _actions: OidcPanel.IActions;
}

/** The option types of `OidcPanel`. */
export namespace OidcPanel {
  export interface IOptions {
    model: IOidcSession;
    translator?: ITranslator | null;
    /** For the token check's discovery and JWKS (default: a new `OidcAPI`). */
    api?: Pick<OidcAPI, 'jwks' | 'preflight'>;
    /** Replace actions (tests). */
    actions?: Partial<IActions>;
  }

  /** What the panel's buttons do. `signIn` must open the provider window synchronously. */
  export interface IActions {
    signIn(form: ITarget & { loginHint: string }): void;
    cancel(state: string): void;
    signOut(target: ITarget): Promise<void>;
    refresh(target: ITarget): Promise<void>;
    copyToken(target: ITarget): Promise<void>;
    retry(): void;
    fetchJwks(environment: string): Promise<IJwksReply>;
    fetchPreflight(environment: string): Promise<IPreflightReport>;
  }
}

interface IViewProps {
  model: IOidcSession;
  trans: TranslationBundle;
  actions: OidcPanel.IActions;
}

/** The whole panel. */
function PanelView(props: IViewProps): JSX.Element {
  const { model, trans } = props;
  const pending = model.pending;
  const ownPending = pending.some(p => p.own);
  return (
    <div className="jp-oidc-body" data-phase={model.phase}>
      <header className="jp-oidc-header">
        <keyIcon.react tag="span" className="jp-oidc-header-icon" />
        <h2 className="jp-oidc-title">{trans.__('OpenID Connect')}</h2>
      </header>
      <p className="jp-oidc-sr-only" role="status" aria-live="polite" data-test="oidc-live">
        {Private.liveText(model, trans)}
      </p>
      {model.error && <ErrorBox error={model.error} trans={trans} onDismiss={() => model.clearError()} onRetry={model.phase === 'unavailable' ? props.actions.retry : null} />}
      {model.storeError && <StoreWarning error={model.storeError} trans={trans} />}
      {model.phase === 'checking' && (
        <p className="jp-oidc-checking" data-test="oidc-checking">
          {trans.__('Checking sign-in status…')}
        </p>
      )}
      {model.notice && <SignOutNotice notice={model.notice} model={model} trans={trans} />}
      {pending.map(p => (
        <PendingCard key={p.state} pending={p} {...props} />
      ))}
      {model.sessions.map(s => (
        <IdentityCard key={s.key} session={s} {...props} />
      ))}
      {model.phase !== 'checking' && <SignInForm {...props} hidden={ownPending} />}
    </div>
  );
}

/** A typed error as a sentence; the server's own sentence beside it when it adds facts. */
function ErrorBox(props: {
  error: OidcError;
  trans: TranslationBundle;
  onDismiss: () => void;
  onRetry: (() => void) | null;
}): JSX.Element {
  const { error, trans } = props;
  const sentence = describeError(error, trans);
  const detail = Private.showsServerMessage(error.code) && error.message !== sentence ? error.message : '';
  return (
    <div className="jp-oidc-error" role="alert" data-error-code={error.code} data-test="oidc-error">
      <p className="jp-oidc-error-message">{sentence}</p>
      {detail && (
        <p className="jp-oidc-error-detail" data-test="oidc-error-detail">
          {trans.__('Details: %1', detail)}
        </p>
      )}
      <div className="jp-oidc-actions">
        {props.onRetry && (
          <button type="button" className="jp-mod-styled jp-oidc-button" data-test="oidc-retry" onClick={props.onRetry}>
            {trans.__('Try again')}
          </button>
        )}
        <button type="button" className="jp-mod-styled jp-oidc-button" data-test="oidc-error-dismiss" onClick={props.onDismiss}>
          {trans.__('Dismiss')}
        </button>
      </div>
    </div>
  );
}

function StoreWarning(props: { error: OidcError; trans: TranslationBundle }): JSX.Element {
  return (
    <div className="jp-oidc-warning" data-error-code={props.error.code} data-test="oidc-store-warning">
      <p>{describeError(props.error, props.trans)}</p>
      <p className="jp-oidc-error-detail">{props.trans.__('Details: %1', props.error.message)}</p>
    </div>
  );
}

function SignOutNotice(props: {
  notice: IOidcSession.ISignOutNotice;
  model: IOidcSession;
  trans: TranslationBundle;
}): JSX.Element {
  const { notice, trans } = props;
  const name = Private.label(notice.environment, notice.application);
  const endSessionUrl = httpUrl(notice.endSessionUrl)?.href;
  return (
    <div className="jp-oidc-notice" data-test="oidc-signed-out" data-environment={notice.environment}>
      <p>
        {notice.signedOut
          ? trans.__('Signed out of %1. This Jupyter server no longer holds its tokens.', name)
          : trans.__('You were not signed in to %1.', name)}
      </p>
      {endSessionUrl && (
        <p>
          {trans.__('Your provider may still remember you in this browser.')}{' '}
          <a
            href={endSessionUrl}
            target="_blank"
            rel="noopener noreferrer"
            data-test="oidc-end-session-link"
          >
            {trans.__('Sign out at the provider too')}
          </a>
        </p>
      )}
      <button type="button" className="jp-mod-styled jp-oidc-button" data-test="oidc-notice-dismiss" onClick={() => props.model.clearNotice()}>
        {trans.__('Dismiss')}
      </button>
    </div>
  );
}

/** A sign-in waiting for the provider: countdown, link, Cancel. */
function PendingCard(props: IViewProps & { pending: IOidcSession.IPending }): JSX.Element {
  const { model, trans, pending } = props;
  const left = model.secondsLeft(pending.expiresAt);
  const name = Private.label(Private.displayName(model, pending.environment), pending.application);
  const who = pending.login_hint || trans.__('any account');
  const href = httpUrl(pending.url)?.href;
  const unsafe = !href && !!(pending.url || (!pending.own && pending.start_url));
  return (
    <section
      className="jp-oidc-pending"
      data-test="oidc-pending"
      data-environment={pending.environment}
      data-own={pending.own}
      aria-label={trans.__('Sign-in to %1 in progress', name)}
    >
      <p className="jp-oidc-pending-text">
        {pending.callback_received
          ? trans.__('The provider answered; finishing the sign-in to %1…', name)
          : pending.own
            ? trans.__('Finish signing in to %1 as %2 on the provider page.', name, who)
            : trans.__('A sign-in to %1 as %2 was started elsewhere (for example in a notebook).', name, who)}
      </p>
      <p className="jp-oidc-hint">
        {trans.__('Time left:')}{' '}
        <span className="jp-oidc-countdown" data-test="oidc-pending-countdown">
          {formatClock(left)}
        </span>
      </p>
      {href && (
        <p>
          {pending.own && !pending.windowOpened && trans.__('Your browser blocked the new tab.') + ' '}
          <a href={href} target="_blank" rel="noopener" data-test="oidc-open-signin-page">
            {pending.own && pending.windowOpened ? trans.__('Open the sign-in page again') : trans.__('Open the sign-in page')}
          </a>
        </p>
      )}
      {unsafe && (
        <p className="jp-oidc-field-error" role="alert" data-test="oidc-unsafe-url">
          {describeError(new OidcError('unsafe_url', '', { details: { url_kind: 'start' } }), trans)}
        </p>
      )}
      <button
        type="button"
        className="jp-mod-styled jp-oidc-button"
        data-test="oidc-cancel"
        id={pending.own ? 'jp-oidc-cancel' : undefined}
        onClick={() => props.actions.cancel(pending.state)}
      >
        {trans.__('Cancel')}
      </button>
    </section>
  );
}

/** One signed-in session. */
function IdentityCard(props: IViewProps & { session: IOidcSession.ISession }): JSX.Element {
  const { model, trans, session, actions } = props;
  const [busy, setBusy] = React.useState<'' | 'refresh' | 'sign-out' | 'copy'>('');
  const [checking, setChecking] = React.useState(false);
  const target: ITarget = { environment: session.environment, application: session.application };
  const left = model.secondsLeft(session.expiresAt);
  const name = Private.label(Private.displayName(model, session.environment), session.application);
  const run = (kind: 'refresh' | 'sign-out' | 'copy', action: () => Promise<void>) => {
    setBusy(kind);
    void action().finally(() => setBusy(''));
  };
  const checkId = `jp-oidc-check-${session.key.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return (
    <article
      className="jp-oidc-card"
      data-test="oidc-card"
      data-environment={session.environment}
      data-application={session.application ?? ''}
      aria-label={trans.__('Signed in to %1', name)}
    >
      <header className="jp-oidc-card-header">
        <h3 className="jp-oidc-card-title">{name}</h3>
        <span className={left > 0 ? 'jp-oidc-badge' : 'jp-oidc-badge jp-mod-expired'}>
          {left > 0 ? trans.__('Signed in') : trans.__('Expired')}
        </span>
      </header>
      <dl className="jp-oidc-facts">
        <dt>{trans.__('Email')}</dt>
        <dd data-test="oidc-card-email">{session.email || '—'}</dd>
        {session.name && (
          <>
            <dt>{trans.__('Name')}</dt>
            <dd data-test="oidc-card-name">{session.name}</dd>
          </>
        )}
        <dt>{trans.__('Environment')}</dt>
        <dd>{session.environment}</dd>
        <dt>{trans.__('Issuer')}</dt>
        <dd className="jp-oidc-wrap">{session.issuer}</dd>
        <dt>{trans.__('Scopes')}</dt>
        <dd className="jp-oidc-wrap">{session.scope || '—'}</dd>
        <dt>{trans.__('Audience')}</dt>
        <dd className="jp-oidc-wrap">{session.audience.join(', ') || '—'}</dd>
        <dt>{trans.__('Access token')}</dt>
        <dd data-test="oidc-card-expiry" className="jp-oidc-countdown" title={formatTime(session.expires_at)}>
          {left > 0 ? trans.__('expires in %1', formatClock(left)) : trans.__('expired')}
        </dd>
        <dt>{trans.__('Renewal')}</dt>
        <dd>
          {session.has_refresh_token
            ? trans.__('automatic, before it expires')
            : trans.__('none (no refresh token): sign in again when it expires')}
        </dd>
      </dl>
      <div className="jp-oidc-actions">
        <button
          type="button"
          className="jp-mod-styled jp-oidc-button"
          data-test="oidc-refresh"
          disabled={busy !== '' || !session.has_refresh_token}
          onClick={() => run('refresh', () => actions.refresh(target))}
        >
          {busy === 'refresh' ? trans.__('Refreshing…') : trans.__('Refresh now')}
        </button>
        <button
          type="button"
          className="jp-mod-styled jp-oidc-button"
          data-test="oidc-copy-token"
          disabled={busy !== ''}
          title={trans.__('The access token is a secret: anyone who has it can act as you until it expires.')}
          onClick={() => run('copy', () => actions.copyToken(target))}
        >
          {trans.__('Copy access token')}
        </button>
        <button
          type="button"
          className="jp-mod-styled jp-oidc-button"
          data-test="oidc-check-token"
          aria-expanded={checking}
          aria-controls={checking ? checkId : undefined}
          onClick={() => setChecking(!checking)}
        >
          {checking ? trans.__('Hide id_token check') : trans.__('Check id_token')}
        </button>
        <button
          type="button"
          className="jp-mod-styled jp-mod-warn jp-oidc-button"
          data-test="oidc-sign-out"
          disabled={busy !== ''}
          onClick={() => run('sign-out', () => actions.signOut(target))}
        >
          {busy === 'sign-out' ? trans.__('Signing out…') : trans.__('Sign out')}
        </button>
      </div>
      <p className="jp-oidc-hint">
        {trans.__('The access token is a secret: copy it only into places you trust.')}
      </p>
      {checking && (
        <div id={checkId}>
          <TokenCheckView model={model} session={session} fetchJwks={actions.fetchJwks} trans={trans} />
        </div>
      )}
    </article>
  );
}

/** Environment, application, email; Sign in. Hidden (not unmounted) while a sign-in waits. */
function SignInForm(props: IViewProps & { hidden: boolean }): JSX.Element {
  const { model, trans, actions } = props;
  const [environment, setEnvironment] = React.useState<string | null>(null);
  const [application, setApplication] = React.useState('');
  const [email, setEmail] = React.useState<string | null>(null);
  const [invalid, setInvalid] = React.useState(false);
  const [testing, setTesting] = React.useState(false);
  const environments = model.environments;
  const selected = environment ?? model.preferredEnvironment;
  const applications = environments.find(env => env.name === selected)?.applications ?? [];
  const emailValue = email ?? model.preferences.lastEmail;
  if (environments.length === 0) {
    return (
      <p className="jp-oidc-hint" data-test="oidc-no-environments">
        {model.phase === 'ready'
          ? trans.__('No environment is configured on this Jupyter server. Ask your admin to set c.OIDCLogin.environments.')
          : trans.__('Sign-in is not available until the Jupyter server answers.')}
      </p>
    );
  }
  const onSubmit = (event: React.FormEvent) => {
    event.preventDefault();
    const loginHint = emailValue.trim();
    if (!Private.looksLikeEmail(loginHint)) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    actions.signIn({
      environment: selected,
      application: applications.includes(application) ? application : undefined,
      loginHint
    });
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
        onChange={e => {
          setEnvironment(e.target.value);
          setApplication('');
        }}
      >
        {environments.map(env => (
          <option key={env.name} value={env.name}>
            {Private.optionLabel(env.name, env.display_name)}
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
            onChange={e => setApplication(e.target.value)}
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
        onChange={e => {
          setEmail(e.target.value);
          setInvalid(false);
        }}
      />
      <p id="jp-oidc-email-hint" className="jp-oidc-hint">
        {invalid
          ? <span className="jp-oidc-field-error" role="alert" data-test="oidc-email-invalid">{trans.__('Type the email of the account to sign in with.')}</span>
          : trans.__('Only this account is accepted; a different one is refused and nothing is stored.')}
      </p>
      <button type="submit" id="jp-oidc-sign-in" className="jp-mod-styled jp-mod-accept jp-oidc-button" data-test="oidc-sign-in">
        {trans.__('Sign in')}
      </button>
      <button type="button" className="jp-mod-styled jp-oidc-button" data-test="oidc-test-configuration"
        aria-expanded={testing} onClick={() => setTesting(!testing)}>
        {testing ? trans.__('Hide configuration test') : trans.__('Test configuration')}
      </button>
      {testing && <PreflightView environment={selected} fetchPreflight={actions.fetchPreflight} trans={trans} />}
    </form>
  );
}

namespace Private {
  /** Codes whose server sentence adds facts to ours (provider error text, failed check…). */
  const SERVER_DETAIL_CODES: ReadonlyArray<OidcErrorCode> = [
    'oidc_error',
    'config_error',
    'discovery_failed',
    'provider_unavailable',
    'provider_error',
    'invalid_id_token',
    'refresh_failed',
    'store_error',
    'http_error'
  ];

  export function showsServerMessage(code: OidcErrorCode): boolean {
    return SERVER_DETAIL_CODES.includes(code);
  }

  export function label(environment: string, application: string | null | undefined): string {
    return application ? `${environment} · ${application}` : environment;
  }

  export function displayName(model: IOidcSession, environment: string): string {
    return model.environments.find(env => env.name === environment)?.display_name || environment;
  }

  /** "Development (dev)"; just the display name when it already names the environment. */
  export function optionLabel(name: string, displayName: string): string {
    return !displayName || displayName.includes(name) ? displayName || name : `${displayName} (${name})`;
  }

  export function looksLikeEmail(value: string): boolean {
    return /^[^\s@]+@[^\s@]+$/.test(value);
  }

  /** One sentence for screen readers; changes only when the state does, not every second. */
  export function liveText(model: IOidcSession, trans: TranslationBundle): string {
    if (model.phase === 'checking') {
      return trans.__('Checking sign-in status…');
    }
    const own = model.pending.find(p => p.own);
    if (own) {
      return trans.__('Waiting for the sign-in to %1 to finish on the provider page.', label(own.environment, own.application));
    }
    if (model.sessions.length > 0) {
      return model.sessions
        .map(s => trans.__('Signed in to %1 as %2.', label(s.environment, s.application), s.email || s.sub))
        .join(' ');
    }
    return trans.__('Signed out.');
  }
}
