/**
 * Test helpers: fixtures shaped like the server's answers, a fake REST client whose
 * long polls the test resolves, a fake settings object, and React rendering under act().
 */
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { PromiseDelegate } from '@lumino/coreutils';
import { MessageLoop } from '@lumino/messaging';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import { act } from 'react';

import {
  IAwaitReply,
  IEnvironmentsReply,
  IJwksReply,
  ILoginReply,
  ILogoutReply,
  IOidcAPI,
  IPendingInfo,
  IPreflightReport,
  IRawReply,
  ISessionInfo,
  IStatusReply,
  ITokenReply
} from '../src/api';
import { OidcError } from '../src/errors';

export const NOW_S = 1_800_000_000;

export function environmentsReply(overrides: Partial<IEnvironmentsReply> = {}): IEnvironmentsReply {
  return {
    default_environment: 'prod',
    redirect_mode: 'server',
    callback_timeout: 300,
    environments: [
      {
        name: 'prod',
        display_name: 'prod',
        issuer: 'https://id.corp.example',
        client_id: 'notebooks',
        scopes: ['openid', 'profile', 'email', 'offline_access'],
        applications: [],
        discovery_mode: 'auto'
      },
      {
        name: 'dev',
        display_name: 'Development',
        issuer: 'https://id.dev.example',
        client_id: 'notebooks-dev',
        scopes: ['openid', 'email'],
        applications: ['spatial_engine'],
        discovery_mode: 'auto'
      }
    ],
    ...overrides
  };
}

export function sessionInfo(overrides: Partial<ISessionInfo> = {}): ISessionInfo {
  return {
    environment: 'prod',
    application: null,
    issuer: 'https://id.corp.example',
    client_id: 'notebooks',
    email: 'alice@corp.com',
    name: 'Alice Example',
    sub: 'user-alice',
    identity: { sub: 'user-alice', email: 'alice@corp.com' },
    scope: 'openid profile email offline_access',
    audience: ['notebooks'],
    expires_at: NOW_S + 3270,
    expires_in: 3270,
    signed_in_at: NOW_S - 60,
    refreshed_at: NOW_S - 60,
    has_refresh_token: true,
    ...overrides
  };
}

export function pendingInfo(overrides: Partial<IPendingInfo> = {}): IPendingInfo {
  return {
    state: 'state-elsewhere',
    environment: 'prod',
    application: null,
    login_hint: 'alice@corp.com',
    expires_in: 300,
    callback_received: false,
    ...overrides
  };
}

export function statusReply(overrides: Partial<IStatusReply> = {}): IStatusReply {
  return {
    revision: 1,
    default_environment: 'prod',
    sessions: [],
    pending: [],
    store_error: null,
    ...overrides
  };
}

/**
 * A fake REST client. Plain requests answer from fields the test sets; long polls
 * (`status` with `after`, `awaitLogin`) wait until the test resolves them.
 */
export class FakeAPI implements IOidcAPI {
  environmentsReply: IEnvironmentsReply = environmentsReply();
  statusReply: IStatusReply = statusReply();
  loginReply: ILoginReply = {
    url: 'https://id.corp.example/authorize?state=s1',
    state: 's1',
    expires_in: 300
  };
  logoutReply: ILogoutReply = {
    signed_out: true,
    end_session_url: 'https://id.corp.example/logout?client_id=notebooks'
  };
  tokenReply: ITokenReply = {
    ...sessionInfo(),
    access_token: 'at-secret',
    id_token: 'id.token.here',
    token_type: 'Bearer'
  };
  refreshReply: ISessionInfo = sessionInfo({ refreshed_at: NOW_S + 5, expires_in: 3600 });
  /** Set to make the next call of that name fail. */
  failures: Partial<Record<keyof IOidcAPI, unknown>> = {};
  polls: Array<{ after: number; answer: PromiseDelegate<IStatusReply> }> = [];
  awaits: Array<{ state: string; answer: PromiseDelegate<IAwaitReply> }> = [];

  environments = jest.fn(async () => this._answer('environments', this.environmentsReply));
  status = jest.fn(async (options: { after?: number; signal?: AbortSignal } = {}) => {
    if (options.after === undefined) {
      return this._answer('status', this.statusReply);
    }
    const answer = new PromiseDelegate<IStatusReply>();
    this.polls.push({ after: options.after, answer });
    options.signal?.addEventListener('abort', () => answer.reject(abortError()));
    return answer.promise;
  });
  login = jest.fn(async (_body: { login_hint: string }) => this._answer('login', this.loginReply));
  awaitLogin = jest.fn(async (state: string, _wait?: number, signal?: AbortSignal) => {
    const answer = new PromiseDelegate<IAwaitReply>();
    this.awaits.push({ state, answer });
    signal?.addEventListener('abort', () => answer.reject(abortError()));
    return answer.promise;
  });
  cancel = jest.fn(async (_state: string) => {
    this._answer('cancel', undefined);
  });
  token = jest.fn(async (_body?: object) => this._answer('token', this.tokenReply));
  refresh = jest.fn(async (_body?: object) => this._answer('refresh', this.refreshReply));
  logout = jest.fn(async (_body?: object) => this._answer('logout', this.logoutReply));
  jwks = jest.fn(async (_environment: string): Promise<IJwksReply> => {
    throw this.failures.jwks ?? new Error('no jwks in this test');
  });
  preflightReply: IPreflightReport | null = null;
  preflight = jest.fn(async (_environment: string): Promise<IPreflightReport> => {
    const reply = this._answer('preflight', this.preflightReply);
    if (!reply) {
      throw new Error('no preflight in this test');
    }
    return reply;
  });
  relayReply: IRawReply = { status: 200, ok: true, body: {} };
  relay = jest.fn(
    async (_method: 'GET' | 'POST', _path: string, _body?: object, _signal?: AbortSignal) =>
      this._answer('relay', this.relayReply)
  );

  /** Answer the oldest open status long poll. */
  resolvePoll(reply: IStatusReply): void {
    const poll = this.polls.shift();
    if (!poll) {
      throw new Error('no open long poll');
    }
    poll.answer.resolve(reply);
  }

  private _answer<T>(name: keyof IOidcAPI, value: T): T {
    const failure = this.failures[name];
    if (failure !== undefined) {
      delete this.failures[name];
      throw failure;
    }
    return value;
  }
}

function abortError(): Error {
  const { OidcError } = jest.requireActual('../src/errors');
  return new OidcError('aborted', 'The request was aborted.');
}

/** A settings object for `OidcPreferences.attach`. */
export class FakeSettings {
  constructor(values: Record<string, unknown> = {}) {
    this.composite = { ...values };
  }

  composite: Record<string, unknown>;
  changed = new Signal<FakeSettings, void>(this);
  set = jest.fn(async (key: string, value: unknown) => {
    this.composite = { ...this.composite, [key]: value };
    this.changed.emit();
  });

  /** Change values as the Settings Editor would. */
  update(values: Record<string, unknown>): void {
    this.composite = { ...this.composite, ...values };
    this.changed.emit();
  }

  asSettings(): ISettingRegistry.ISettings {
    return this as unknown as ISettingRegistry.ISettings;
  }
}

/** Let pending promise callbacks run. */
export async function flushPromises(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) {
    await Promise.resolve();
  }
}

/** Attach `widget` and render it (and its React tree) synchronously. */
export async function attachAndRender(widget: Widget): Promise<void> {
  await act(async () => {
    Widget.attach(widget, document.body);
    MessageLoop.flush();
  });
}

/** Re-render after model changes (posted update requests), under act(). */
export async function rerender(widget: Widget): Promise<void> {
  await act(async () => {
    MessageLoop.flush();
    MessageLoop.sendMessage(widget, Widget.Msg.UpdateRequest);
    await flushPromises();
  });
}

/** The error `promise` rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<OidcError> {
  try {
    await promise;
  } catch (error) {
    return error as OidcError;
  }
  throw new Error('expected the promise to reject');
}

/** Addresses a server (or whoever controls its answer) may send that must never be navigated. */
export const UNSAFE_URLS: ReadonlyArray<[string, string]> = [
  ['javascript:', "javascript:localStorage.setItem('pwned','1')"],
  ['mixed-case javascript:', 'JaVaScRiPt:alert(document.domain)'],
  ['whitespace-prefixed javascript:', ' \t\n javascript:alert(1)'],
  ['control-character-prefixed javascript:', '\u0000\u001fjavascript:alert(1)'],
  ['javascript: split by a tab and a newline', 'java\tscr\nipt:alert(1)'],
  ['data:', 'data:text/html,<script>alert(1)</script>'],
  ['vbscript:', 'vbscript:msgbox(1)'],
  ['blob:', 'blob:http://127.0.0.1:8888/0d3c1e2a'],
  ['file:', 'file:///etc/passwd'],
  ['relative path', '/oidc/start?state=abc'],
  ['protocol-relative', '//evil.example/authorize'],
  ['relative without slash', 'authorize?state=abc'],
  ['empty', ''],
  ['not a URL', 'http://']
];
