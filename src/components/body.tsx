/**
 * The content of the sign-in panel: a thin view of the session model, rendered on
 * `stateChanged` only (countdowns re-render themselves, `countdown.tsx`).
 *
 * Signed out it shows the sign-in form; while a sign-in waits, its card with Cancel;
 * signed in, one compact identity card per session. Errors are sentences chosen by code.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IOidcSession } from '../tokens';
import { IPanelActions } from './actions';
import { IdentityCard } from './identitycard';
import { label } from './labels';
import { ErrorBox, SignOutNotice, StoreWarning } from './messages';
import { PendingCard } from './pendingcard';
import { SignInForm } from './signinform';

/** The panel's content widget. */
export class OidcPanelBody extends ReactWidget {
  constructor(options: OidcPanelBody.IOptions) {
    super();
    this._model = options.model;
    this._trans = options.trans;
    this._actions = options.actions;
    this.addClass('jp-oidc-content');
    this._model.stateChanged.connect(this._onChange, this);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.stateChanged.disconnect(this._onChange, this);
    super.dispose();
  }

  protected render(): JSX.Element {
    return <PanelView model={this._model} trans={this._trans} actions={this._actions} />;
  }

  private _onChange(): void {
    this.update();
  }

  private _model: IOidcSession;
  private _trans: TranslationBundle;
  private _actions: IPanelActions;
}

/** The option types of `OidcPanelBody`. */
export namespace OidcPanelBody {
  export interface IOptions {
    model: IOidcSession;
    trans: TranslationBundle;
    actions: IPanelActions;
  }
}

/** Props of `PanelView`. */
export interface IPanelViewProps {
  model: IOidcSession;
  trans: TranslationBundle;
  actions: IPanelActions;
}

/** The whole content. */
export function PanelView(props: IPanelViewProps): JSX.Element {
  const { model, trans, actions } = props;
  const pending = model.pending;
  const ownPending = pending.some(p => p.own);
  return (
    <div className="jp-oidc-body" data-phase={model.phase}>
      <p className="jp-oidc-sr-only" role="status" aria-live="polite" data-test="oidc-live">
        {liveText(model, trans)}
      </p>
      {model.error && (
        <ErrorBox
          error={model.error}
          trans={trans}
          onDismiss={() => model.clearError()}
          onRetry={model.phase === 'unavailable' ? actions.retry : null}
        />
      )}
      {model.storeError && <StoreWarning error={model.storeError} trans={trans} />}
      {model.phase === 'checking' && (
        <p className="jp-oidc-checking" data-test="oidc-checking">
          {trans.__('Checking sign-in status…')}
        </p>
      )}
      {model.notice && (
        <SignOutNotice notice={model.notice} trans={trans} onDismiss={() => model.clearNotice()} />
      )}
      {pending.map(p => (
        <PendingCard
          key={p.state}
          model={model}
          pending={p}
          trans={trans}
          onCancel={actions.cancel}
        />
      ))}
      {model.sessions.map(s => (
        <IdentityCard key={s.key} model={model} session={s} trans={trans} actions={actions} />
      ))}
      {model.phase !== 'checking' && (
        <SignInForm
          key={model.sessions.map(s => s.key).join(' ')}
          model={model}
          trans={trans}
          actions={actions}
          hidden={ownPending}
        />
      )}
    </div>
  );
}

/** One sentence for screen readers; changes only when the state does, not every second. */
export function liveText(model: IOidcSession, trans: TranslationBundle): string {
  if (model.phase === 'checking') {
    return trans.__('Checking sign-in status…');
  }
  const own = model.pending.find(p => p.own);
  if (own) {
    return trans.__(
      'Waiting for the sign-in to %1 to finish on the provider page.',
      label(own.environment, own.application)
    );
  }
  if (model.sessions.length > 0) {
    return model.sessions
      .map(s =>
        trans.__('Signed in to %1 as %2.', label(s.environment, s.application), s.email || s.sub)
      )
      .join(' ');
  }
  return trans.__('Signed out.');
}
