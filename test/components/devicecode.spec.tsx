import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';
import { act } from 'react';
import * as React from 'react';

import { DeviceCode, IDeviceCodeInfo, qrPath } from '../../src/components/devicecode';
import { IOidcSession } from '../../src/tokens';
import { mount } from './render';

const trans = nullTranslator.load('jupyterlab_oidc');

/** The model's clock: `tick(ms)` moves it and emits `ticked`, as the session model does. */
class Clock {
  now = Date.UTC(2026, 0, 1);
  readonly ticked = new Signal<this, number>(this);
  secondsLeft = (expiresAt: number): number => Math.round((expiresAt - this.now) / 1000);
  tick(ms: number): void {
    this.now += ms;
    this.ticked.emit(this.now);
  }
}

/** The clock as the component sees the model (its `ticked` signal is the model's). */
const modelOf = (clock: Clock) => clock as unknown as Pick<IOidcSession, 'ticked' | 'secondsLeft'>;

function device(clock: Clock, extra: Partial<IDeviceCodeInfo> = {}): IDeviceCodeInfo {
  return {
    state: 's1',
    user_code: 'WDJB-MJHT',
    verification_uri: 'https://idp.example/device',
    verification_uri_complete: 'https://idp.example/device?user_code=WDJB-MJHT',
    environment: 'prod',
    display_name: 'Production',
    client_id: 'jupyterlab-oidc',
    login_hint: 'alice@corp.com',
    expiresAt: clock.now + 600_000,
    ...extra
  };
}

describe('DeviceCode', () => {
  it('should show the code with the client and the email beside it, the links, a QR code and the countdown', async () => {
    const clock = new Clock();
    const { node, unmount } = await mount(
      <DeviceCode
        model={modelOf(clock)}
        device={device(clock)}
        trans={trans}
        onCancel={jest.fn()}
        copy={jest.fn()}
      />
    );
    const $ = (test: string) => node.querySelector<HTMLElement>(`[data-test="${test}"]`);
    expect($('oidc-device-code')?.textContent).toBe('WDJB-MJHT');
    expect($('oidc-device-for')?.textContent).toBe(
      'Code for alice@corp.com at Production (client jupyterlab-oidc)'
    );
    expect($('oidc-device-link')?.getAttribute('href')).toBe('https://idp.example/device');
    expect($('oidc-device-complete')?.getAttribute('href')).toBe(
      'https://idp.example/device?user_code=WDJB-MJHT'
    );
    const qr = $('oidc-device-qr')!;
    expect(qr.tagName.toLowerCase()).toBe('svg');
    expect(qr.getAttribute('aria-label')).toBe(
      'QR code of https://idp.example/device?user_code=WDJB-MJHT'
    );
    expect(qr.querySelector('path.jp-oidc-qr-modules')?.getAttribute('d')).toBe(
      qrPath('https://idp.example/device?user_code=WDJB-MJHT').d
    );
    expect($('oidc-device-countdown')?.textContent).toBe('10:00');
    await act(async () => clock.tick(61_000));
    expect($('oidc-device-countdown')?.textContent).toBe('8:59');
    unmount();
  });

  it('should copy the code and cancel the sign-in', async () => {
    const clock = new Clock();
    const copy = jest.fn();
    const onCancel = jest.fn();
    const { node, unmount } = await mount(
      <DeviceCode
        model={modelOf(clock)}
        device={device(clock)}
        trans={trans}
        onCancel={onCancel}
        copy={copy}
      />
    );
    const copyButton = node.querySelector<HTMLButtonElement>('[data-test="oidc-device-copy"]')!;
    await act(async () => copyButton.click());
    expect(copy).toHaveBeenCalledWith('WDJB-MJHT');
    expect(copyButton.textContent).toBe('Copied');
    await act(async () =>
      node.querySelector<HTMLButtonElement>('[data-test="oidc-device-cancel"]')!.click()
    );
    expect(onCancel).toHaveBeenCalledWith('s1');
    unmount();
  });

  it('should show neither a link nor a QR code for a verification page that is not http(s)', async () => {
    const clock = new Clock();
    const unsafe = device(clock, {
      verification_uri: 'javascript:alert(1)',
      verification_uri_complete: 'data:text/html,<script>alert(1)</script>'
    });
    const { node, unmount } = await mount(
      <DeviceCode
        model={modelOf(clock)}
        device={unsafe}
        trans={trans}
        onCancel={jest.fn()}
        copy={jest.fn()}
      />
    );
    expect(node.querySelector('a')).toBeNull();
    expect(node.querySelector('[data-test="oidc-device-qr"]')).toBeNull();
    expect(node.querySelector('[data-test="oidc-device-unsafe"]')).not.toBeNull();
    expect(node.querySelector('[data-test="oidc-device-code"]')?.textContent).toBe('WDJB-MJHT');
    unmount();
  });

  it('should encode the link as a QR code of the size the link needs', () => {
    const { size, d } = qrPath('https://idp.example/device?user_code=WDJB-MJHT');
    expect(size).toBeGreaterThanOrEqual(21);
    expect((size - 17) % 4).toBe(0); // a QR version: 21, 25, 29, ... modules
    expect(d.startsWith('M0 0h1v1h-1z')).toBe(true); // the finder pattern's corner is dark
  });
});

describe('PendingCard with a device sign-in', () => {
  it('should show the device view for a device sign-in started elsewhere (a cell, a terminal)', async () => {
    const { PanelHarness } = await import('./harness');
    const { pendingInfo, statusReply } = await import('../utils');
    const h = new PanelHarness();
    const deviceFields = {
      flow: 'device' as const,
      user_code: 'WDJB-MJHT',
      verification_uri: 'https://idp.example/device',
      verification_uri_complete: 'https://idp.example/device?user_code=WDJB-MJHT',
      client_id: 'jupyterlab-oidc',
      display_name: 'Production'
    };
    h.api.statusReply = statusReply({ pending: [{ ...pendingInfo(), ...deviceFields }] });
    await h.ready();
    expect(h.$('[data-test="oidc-device-code"]')?.textContent).toBe('WDJB-MJHT');
    expect(h.$('[data-test="oidc-device-qr"]')).not.toBeNull();
    expect(h.$('[data-test="oidc-pending"]')).toBeNull();
    h.dispose();
  });
});
