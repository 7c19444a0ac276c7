/**
 * A device sign-in (RFC 8628) waiting for its code to be approved: the user code large and
 * copyable, the verification link and its QR code (an SVG in the theme's colours), the
 * countdown and Cancel. Beside the code: the client and the email it is for, so that a
 * code someone else sent (device-code phishing, RFC 8628 §5.4) is easier to recognise.
 *
 * Only http(s) links are shown or encoded (`httpUrl`); anything else shows the code alone.
 */
import { Clipboard } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import qrcode from 'qrcode-generator';
import * as React from 'react';

import { formatClock } from '../format';
import { IOidcSession } from '../tokens';
import { httpUrl } from '../urls';
import { Countdown } from './countdown';

/** What `POST oidc/login` with `flow: "device"` (and `GET status`) tells about a device sign-in. */
export interface IDeviceCodeInfo {
  readonly state: string;
  readonly user_code: string;
  readonly verification_uri: string;
  readonly verification_uri_complete?: string | null;
  readonly environment: string;
  readonly display_name?: string;
  readonly client_id?: string;
  readonly login_hint?: string;
  /** When the code expires, in ms since the epoch. */
  readonly expiresAt: number;
}

/** A pending sign-in as a device sign-in (its status carries `user_code`), or null. */
export function deviceInfo(pending: { expiresAt: number }): IDeviceCodeInfo | null {
  const info = pending as Partial<IDeviceCodeInfo> & { expiresAt: number };
  return typeof info.user_code === 'string' && typeof info.verification_uri === 'string'
    ? (info as IDeviceCodeInfo)
    : null;
}

/** Props of `DeviceCode`. */
export interface IDeviceCodeProps {
  model: Pick<IOidcSession, 'ticked' | 'secondsLeft'>;
  device: IDeviceCodeInfo;
  trans: TranslationBundle;
  onCancel: (state: string) => void;
  /** Copies text to the clipboard (default: JupyterLab's `Clipboard.copyToSystem`). */
  copy?: (text: string) => void;
}

/** The modules of `text`'s QR code as one SVG path (one unit per module), and the size. */
export function qrPath(text: string): { size: number; d: string } {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const size = qr.getModuleCount();
  const parts: string[] = [];
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      if (qr.isDark(row, col)) {
        parts.push(`M${col} ${row}h1v1h-1z`);
      }
    }
  }
  return { size, d: parts.join('') };
}

/** A QR code of `text`, in the theme's colours (classes `jp-oidc-qr-*`), 4 modules of quiet zone. */
export function QrCode(props: { text: string; label: string }): JSX.Element {
  const { size, d } = React.useMemo(() => qrPath(props.text), [props.text]);
  const quiet = 4;
  const box = size + 2 * quiet;
  return (
    <svg
      className="jp-oidc-qr"
      data-test="oidc-device-qr"
      role="img"
      aria-label={props.label}
      viewBox={`0 0 ${box} ${box}`}
      width={box * 4}
      height={box * 4}
      shapeRendering="crispEdges"
    >
      <rect className="jp-oidc-qr-background" width={box} height={box} />
      <path className="jp-oidc-qr-modules" transform={`translate(${quiet} ${quiet})`} d={d} />
    </svg>
  );
}

/** One device sign-in. */
export function DeviceCode(props: IDeviceCodeProps): JSX.Element {
  const { model, device, trans } = props;
  const copy = props.copy ?? ((text: string) => Clipboard.copyToSystem(text));
  const [copied, setCopied] = React.useState(false);
  const page = httpUrl(device.verification_uri);
  const complete = httpUrl(device.verification_uri_complete);
  const link = complete ?? page;
  const client = device.display_name || device.environment;
  return (
    <section
      className="jp-oidc-device"
      data-test="oidc-device"
      data-environment={device.environment}
      aria-label={trans.__('Device sign-in to %1', client)}
    >
      <p className="jp-oidc-device-for" data-test="oidc-device-for">
        {device.login_hint
          ? trans.__('Code for %1 at %2', device.login_hint, client)
          : trans.__('Code for a sign-in at %1', client)}
        {device.client_id && (
          <span className="jp-oidc-hint"> {trans.__('(client %1)', device.client_id)}</span>
        )}
      </p>
      <p className="jp-oidc-device-code-row">
        <code className="jp-oidc-device-code" data-test="oidc-device-code">
          {device.user_code}
        </code>
        <button
          type="button"
          className="jp-mod-styled"
          data-test="oidc-device-copy"
          onClick={() => {
            copy(device.user_code);
            setCopied(true);
          }}
        >
          {copied ? trans.__('Copied') : trans.__('Copy')}
        </button>
      </p>
      {page ? (
        <p>
          {trans.__('Enter it at')}{' '}
          <a
            href={page.href}
            target="_blank"
            rel="noopener noreferrer"
            data-test="oidc-device-link"
          >
            {page.href}
          </a>
          {complete && (
            <>
              {' '}
              {trans.__('or open')}{' '}
              <a
                href={complete.href}
                target="_blank"
                rel="noopener noreferrer"
                data-test="oidc-device-complete"
              >
                {trans.__('the page with the code filled in')}
              </a>
            </>
          )}
        </p>
      ) : (
        <p className="jp-oidc-hint" data-test="oidc-device-unsafe">
          {trans.__(
            'The provider sent a verification page that is not an http(s) link; it is not shown.'
          )}
        </p>
      )}
      {link && <QrCode text={link.href} label={trans.__('QR code of %1', link.href)} />}
      <p className="jp-oidc-hint">
        {trans.__('Enter the code only if you started this sign-in yourself.')}
      </p>
      <p className="jp-oidc-hint">
        {trans.__('Time left:')}{' '}
        <span className="jp-oidc-countdown" data-test="oidc-device-countdown">
          <Countdown model={model} expiresAt={device.expiresAt}>
            {left => formatClock(left)}
          </Countdown>
        </span>
      </p>
      <button
        type="button"
        className="jp-mod-styled jp-mod-reject"
        data-test="oidc-device-cancel"
        onClick={() => props.onCancel(device.state)}
      >
        {trans.__('Cancel')}
      </button>
    </section>
  );
}
