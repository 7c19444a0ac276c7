/**
 * A sign-in waiting for the provider: who and where, a countdown, the page to open
 * (again), Cancel. A sign-in this tab started stays its own after a reload.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { describeError, OidcError } from '../errors';
import { formatClock } from '../format';
import { IOidcSession } from '../tokens';
import { httpUrl } from '../urls';
import { Countdown } from './countdown';
import { DeviceCode, deviceInfo } from './devicecode';
import { displayName, label } from './labels';

/** Props of `PendingCard`. */
export interface IPendingCardProps {
  model: IOidcSession;
  pending: IOidcSession.IPending;
  trans: TranslationBundle;
  onCancel: (state: string) => void;
}

/** One pending sign-in. */
export function PendingCard(props: IPendingCardProps): JSX.Element {
  const { model, trans, pending } = props;
  const device = deviceInfo(pending); // a device sign-in (RFC 8628): its code, link and QR code
  if (device) {
    return <DeviceCode model={model} device={device} trans={trans} onCancel={props.onCancel} />;
  }
  const name = label(displayName(model, pending.environment), pending.application);
  const who = pending.login_hint || trans.__('any account');
  const href = httpUrl(pending.url)?.href;
  const unsafe =
    !href && !!(pending.url || (!pending.own && (pending.start_url || pending.start_path)));
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
            : trans.__(
                'A sign-in to %1 as %2 was started elsewhere (for example in a notebook).',
                name,
                who
              )}
      </p>
      <p className="jp-oidc-hint">
        {trans.__('Time left:')}{' '}
        <span className="jp-oidc-countdown" data-test="oidc-pending-countdown">
          <Countdown model={model} expiresAt={pending.expiresAt}>
            {left => formatClock(left)}
          </Countdown>
        </span>
      </p>
      {href && (
        <p>
          {pending.own &&
            !pending.windowOpened &&
            trans.__('Your browser blocked the new tab.') + ' '}
          <a href={href} target="_blank" rel="noopener" data-test="oidc-open-signin-page">
            {pending.own && pending.windowOpened
              ? trans.__('Open the sign-in page again')
              : trans.__('Open the sign-in page')}
          </a>
        </p>
      )}
      {unsafe && (
        <p className="jp-oidc-field-error" role="alert" data-test="oidc-unsafe-url">
          {describeError(
            new OidcError('unsafe_url', '', { details: { url_kind: 'start' } }),
            trans
          )}
        </p>
      )}
      <button
        type="button"
        className="jp-mod-styled jp-oidc-button"
        data-test="oidc-cancel"
        id={pending.own ? 'jp-oidc-cancel' : undefined}
        onClick={() => props.onCancel(pending.state)}
      >
        {trans.__('Cancel')}
      </button>
    </section>
  );
}
