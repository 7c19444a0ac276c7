/**
 * The panel's message boxes: the last error (a sentence chosen by code, the server's own
 * beside it when it adds facts), a token store warning, and what a sign-out left to do.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { describeError, OidcError } from '../errors';
import { IOidcSession } from '../tokens';
import { httpUrl } from '../urls';
import { label, showsServerMessage } from './labels';

/** A typed error as a sentence, with Try again (while the server is away) and Dismiss. */
export function ErrorBox(props: {
  error: OidcError;
  trans: TranslationBundle;
  onDismiss: () => void;
  onRetry: (() => void) | null;
}): JSX.Element {
  const { error, trans } = props;
  const sentence = describeError(error, trans);
  const detail = showsServerMessage(error.code) && error.message !== sentence ? error.message : '';
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
          <button
            type="button"
            className="jp-mod-styled jp-oidc-button"
            data-test="oidc-retry"
            onClick={props.onRetry}
          >
            {trans.__('Try again')}
          </button>
        )}
        <button
          type="button"
          className="jp-mod-styled jp-oidc-button"
          data-test="oidc-error-dismiss"
          onClick={props.onDismiss}
        >
          {trans.__('Dismiss')}
        </button>
      </div>
    </div>
  );
}

/** The server could not read or write its token store. */
export function StoreWarning(props: { error: OidcError; trans: TranslationBundle }): JSX.Element {
  return (
    <div
      className="jp-oidc-warning"
      data-error-code={props.error.code}
      data-test="oidc-store-warning"
    >
      <p>{describeError(props.error, props.trans)}</p>
      <p className="jp-oidc-error-detail">{props.trans.__('Details: %1', props.error.message)}</p>
    </div>
  );
}

/** "Signed out of prod", and the provider's end-session link when there is one. */
export function SignOutNotice(props: {
  notice: IOidcSession.ISignOutNotice;
  trans: TranslationBundle;
  onDismiss: () => void;
}): JSX.Element {
  const { notice, trans } = props;
  const name = label(notice.environment, notice.application);
  const endSessionUrl = httpUrl(notice.endSessionUrl)?.href;
  return (
    <div
      className="jp-oidc-notice"
      data-test="oidc-signed-out"
      data-environment={notice.environment}
    >
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
      <button
        type="button"
        className="jp-mod-styled jp-oidc-button"
        data-test="oidc-notice-dismiss"
        onClick={props.onDismiss}
      >
        {trans.__('Dismiss')}
      </button>
    </div>
  );
}
