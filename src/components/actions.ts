/**
 * What the panel's buttons do, and the dialogs they open: the results of Check id_token and
 * Test configuration (seen whatever the sidebar's width), and the question before Sign out.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { copyAccessToken, ISignInRequest, startSignIn } from '../actions';
import { IOidcSession, ITarget } from '../tokens';
import { displayName, label } from './labels';
import { PreflightView } from './preflightview';
import { TokenCheckView } from './tokencheckview';

/** What the panel's buttons do. `signIn` must open the provider window synchronously. */
export interface IPanelActions {
  signIn(form: ISignInRequest): void;
  cancel(state: string): void;
  /** Ask before signing out; answers whether to go on. */
  confirmSignOut(session: IOidcSession.ISession): Promise<boolean>;
  signOut(target: ITarget): Promise<void>;
  refresh(target: ITarget): Promise<void>;
  copyToken(target: ITarget): Promise<void>;
  retry(): void;
  /** Show the id_token check of a session. */
  showTokenCheck(session: IOidcSession.ISession): void;
  /** Show the configuration test of an environment. */
  showPreflight(environment: string): void;
}

/** The actions of a panel on `model`. */
export function panelActions(model: IOidcSession, trans: TranslationBundle): IPanelActions {
  return {
    signIn: form => void startSignIn(model, form, trans),
    cancel: state => void model.cancelSignIn(state).catch(() => undefined),
    confirmSignOut: session => confirmSignOut(model, session, trans),
    signOut: target =>
      model.signOut(target).then(
        () => undefined,
        () => undefined
      ),
    refresh: target =>
      model.refreshSession(target).then(
        () => undefined,
        () => undefined
      ),
    copyToken: target => copyAccessToken(model, target, trans).then(() => undefined),
    retry: () => void model.refresh().catch(() => undefined),
    showTokenCheck: session => void showTokenCheck(model, session, trans),
    showPreflight: environment => void showPreflight(model, environment, trans)
  };
}

/** "Sign out of prod?" with the consequences; answers true on Sign out. */
export async function confirmSignOut(
  model: IOidcSession,
  session: IOidcSession.ISession,
  trans: TranslationBundle
): Promise<boolean> {
  const name = label(session.environment, session.application);
  const result = await showDialog({
    title: trans.__('Sign out of %1?', name),
    body: trans.__(
      'The Jupyter server revokes and forgets the tokens of %1. Running kernels lose access until you sign in again.',
      session.email || session.sub
    ),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.warnButton({ label: trans.__('Sign out') })
    ],
    defaultButton: 0
  });
  return result.button.accept;
}

/** The id_token check of `session` in a dialog. */
export async function showTokenCheck(
  model: IOidcSession,
  session: IOidcSession.ISession,
  trans: TranslationBundle
): Promise<void> {
  const name = label(displayName(model, session.environment), session.application);
  await showDialog({
    title: trans.__('id_token of %1', name),
    body: React.createElement(
      'div',
      { className: 'jp-oidc-dialog-body' },
      React.createElement(TokenCheckView, { model, session, trans })
    ),
    buttons: [Dialog.okButton({ label: trans.__('Close') })]
  });
}

/** The configuration test of `environment` in a dialog. */
export async function showPreflight(
  model: IOidcSession,
  environment: string,
  trans: TranslationBundle
): Promise<void> {
  await showDialog({
    title: trans.__('Configuration of %1', displayName(model, environment)),
    body: React.createElement(
      'div',
      { className: 'jp-oidc-dialog-body' },
      React.createElement(PreflightView, { model, environment, trans })
    ),
    buttons: [Dialog.okButton({ label: trans.__('Close') })]
  });
}
