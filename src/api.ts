/**
 * The REST client of the jupyterlab-oidc server extension (`{baseUrl}oidc/...`).
 *
 * Every request goes through `ServerConnection.makeRequest`, which adds the Jupyter
 * token and the XSRF header. Failures are thrown as `OidcError` with the server's code.
 * The wire types mirror `jupyterlab_oidc/handlers.py`; no answer ever holds a refresh token.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { isRecord, OidcError } from './errors';

/** The URL path of the server extension, below the Jupyter base URL. */
export const API_NAMESPACE = 'oidc';

/** One configured environment (`GET environments`); never a secret. */
export interface IEnvironmentInfo {
  name: string;
  display_name: string;
  issuer: string;
  client_id: string;
  scopes: string[];
  /** Applications (Zitadel project ids) this environment can add as audience. */
  applications: string[];
  discovery_mode: string;
  /** `code` (the browser is redirected) or `device` (RFC 8628: a code to enter elsewhere). */
  flow?: SignInFlow;
}

/** How a sign-in reaches the provider: a browser redirect, or a device code (RFC 8628). */
export type SignInFlow = 'code' | 'device';

/** What a device sign-in (RFC 8628) shows the person: the code to enter and where. */
export interface IDeviceFields {
  flow?: SignInFlow;
  user_code?: string;
  verification_uri?: string;
  /** The verification page with the code filled in, when the provider sends one. */
  verification_uri_complete?: string | null;
  /** Seconds between the server's polls of the token endpoint. */
  interval?: number;
  /** The client the code is for, and the environment's name for people. */
  client_id?: string;
  display_name?: string;
}

/** `POST login`'s body: `prompt` / `max_age` switch account or re-authenticate (OIDC Core §3.1.2.1). */
export interface ILoginBody extends ITarget {
  login_hint: string;
  flow?: SignInFlow;
  prompt?: string;
  max_age?: number;
}

/** `GET environments`. */
export interface IEnvironmentsReply {
  default_environment: string;
  redirect_mode: string;
  /** Seconds a sign-in may take before the server abandons it. */
  callback_timeout: number;
  environments: IEnvironmentInfo[];
}

/** A signed-in session as the server describes it: identity and expiry, no tokens. */
export interface ISessionInfo {
  environment: string;
  application: string | null;
  issuer: string;
  client_id: string;
  email: string;
  name: string;
  sub: string;
  identity: Record<string, unknown>;
  scope: string;
  audience: string[];
  /** Expiry of the access token, epoch seconds. */
  expires_at: number;
  /** Seconds the access token is still valid when the server answered. */
  expires_in: number;
  signed_in_at: number;
  refreshed_at: number;
  has_refresh_token: boolean;
}

/** A sign-in waiting for the provider's callback (`GET status` → `pending`); a device one has its code. */
export interface IPendingInfo extends IDeviceFields {
  state: string;
  environment: string;
  application: string | null;
  login_hint: string;
  /** Seconds left before the server abandons this sign-in. */
  expires_in: number;
  callback_received: boolean;
  /**
   * `{base_url}oidc/start?state=`: the link that binds a browser to this sign-in and sends it
   * on to the provider; the one to open for a sign-in this page did not start.
   */
  start_url?: string | null;
  /** `{base_url}oidc/start?state=`: the start link without origin (when `start_url` is absent). */
  start_path?: string | null;
}

/** `GET status`. */
export interface IStatusReply {
  revision: number;
  default_environment: string;
  sessions: ISessionInfo[];
  pending: IPendingInfo[];
  store_error: { error: string; message: string } | null;
}

/** `POST login`; a device sign-in (`flow: "device"`) answers its code and no `url`. */
export interface ILoginReply extends IDeviceFields {
  /** The provider's authorization URL: for this browser only (its request got the binding cookie). */
  url?: string;
  state: string;
  expires_in: number;
  /** The start link (see `IPendingInfo.start_url`), for a browser that did not make this request. */
  start_url?: string;
}

/** `POST await`: the session once signed in, or `pending` when `wait_seconds` elapsed. */
export type IAwaitReply = { status: 'signed_in'; session: ISessionInfo } | { status: 'pending' };

/** `POST token`: the session plus its access and id token. */
export interface ITokenReply extends ISessionInfo {
  access_token: string;
  id_token: string | null;
  token_type: string;
}

/** `POST logout`. */
export interface ILogoutReply {
  signed_out: boolean;
  end_session_url: string | null;
}

/** `GET jwks?environment=`: what the token check needs to verify a signature. */
export interface IJwksReply {
  /** The issuer the environment is configured with. */
  issuer: string;
  /** Provider metadata (endpoints, `jwks_uri`, and `issuer` / algorithms when sent). */
  discovery: Record<string, unknown>;
  /** The provider's public keys. */
  jwks: { keys: Array<Record<string, unknown>> };
  environment?: string;
  client_id?: string;
  /** `auto`, `hybrid` or `manual`. */
  discovery_mode?: string;
  /** The clock leeway of the server's own id_token check, in seconds. */
  leeway_seconds?: number;
  /** The id_token signing algorithms the server accepts. */
  id_token_algorithms?: string[];
}

/** One line of a preflight report: what was checked, what was found, how to fix it. */
export interface IPreflightCheck {
  name: string;
  title: string;
  outcome: 'pass' | 'warn' | 'fail' | 'skip';
  message: string;
  hint: string;
}

/** `GET preflight?environment=`: the configuration check of an environment. */
export interface IPreflightReport {
  environment: string;
  issuer: string;
  client_id: string;
  discovery_mode: string;
  /** The redirect URI sign-ins will use (to register with the provider). */
  redirect_uri: string;
  /** No check failed (warnings allowed). */
  ok: boolean;
  counts: { pass: number; warn: number; fail: number; skip: number };
  checks: IPreflightCheck[];
}

/** Which session a request is about; the server's defaults apply when left out. */
export interface ITarget {
  environment?: string;
  application?: string | null;
}

/** The REST client as the session model uses it (a fake implements it in tests). */
export interface IOidcAPI {
  environments(): Promise<IEnvironmentsReply>;
  status(options?: OidcAPI.IStatusOptions): Promise<IStatusReply>;
  login(body: ILoginBody): Promise<ILoginReply>;
  awaitLogin(state: string, waitSeconds?: number, signal?: AbortSignal): Promise<IAwaitReply>;
  cancel(state: string): Promise<void>;
  token(body?: ITarget & { min_valid?: number }): Promise<ITokenReply>;
  refresh(body?: ITarget): Promise<ISessionInfo>;
  logout(body?: ITarget): Promise<ILogoutReply>;
  jwks(environment: string): Promise<IJwksReply>;
  /** The configuration check (engines without one leave it out). */
  preflight?(environment: string): Promise<IPreflightReport>;
  relay(
    method: 'GET' | 'POST',
    endPoint: string,
    body?: object,
    signal?: AbortSignal
  ): Promise<IRawReply>;
}

/** The REST client of the server extension. */
export class OidcAPI implements IOidcAPI {
  constructor(options: OidcAPI.IOptions = {}) {
    this.serverSettings = options.serverSettings ?? ServerConnection.makeSettings();
  }

  /** The settings of the Jupyter server connection. */
  readonly serverSettings: ServerConnection.ISettings;

  /** Configured environments and the server's defaults. */
  environments(): Promise<IEnvironmentsReply> {
    return this._get('environments');
  }

  /** Sessions and pending sign-ins; with `after`, waits until the revision changes. */
  status(options: OidcAPI.IStatusOptions = {}): Promise<IStatusReply> {
    const query: Record<string, string> = {};
    if (options.after !== undefined) {
      query.after = String(options.after);
      query.timeout = String(options.timeoutSeconds ?? 25);
    }
    return this._get(`status${URLExt.objectToQueryString(query)}`, options.signal);
  }

  /** Start a sign-in: the provider URL to open and the `state` to await. */
  login(body: ILoginBody): Promise<ILoginReply> {
    return this._post('login', body);
  }

  /** Wait up to `waitSeconds` (server default: until the sign-in expires) for its result. */
  awaitLogin(state: string, waitSeconds?: number, signal?: AbortSignal): Promise<IAwaitReply> {
    return this._post('await', { state, wait_seconds: waitSeconds }, signal);
  }

  /** Cancel a pending sign-in. */
  async cancel(state: string): Promise<void> {
    await this._post('cancel', { state });
  }

  /** A valid access token (refreshed by the server when needed) and the id token. */
  token(body: ITarget & { min_valid?: number } = {}): Promise<ITokenReply> {
    return this._post('token', body);
  }

  /** Refresh now, whatever the expiry. */
  refresh(body: ITarget = {}): Promise<ISessionInfo> {
    return this._post('refresh', body);
  }

  /** Sign out: the server revokes and forgets; answers the provider's end-session URL. */
  logout(body: ITarget = {}): Promise<ILogoutReply> {
    return this._post('logout', body);
  }

  /** Discovery document and JWKS of an environment, fetched by the server. */
  jwks(environment: string): Promise<IJwksReply> {
    return this._get(`jwks${URLExt.objectToQueryString({ environment })}`);
  }

  /** The configuration check of an environment (discovery, keys, PKCE, scopes, redirect URI). */
  preflight(environment: string): Promise<IPreflightReport> {
    return this._get(`preflight${URLExt.objectToQueryString({ environment })}`);
  }

  /**
   * Any route under `oidc/`, answered as it came (status and body, error or not): what the
   * kernel bridge relays for a kernel. A `GET` sends no body.
   */
  relay(
    method: 'GET' | 'POST',
    endPoint: string,
    body: object = {},
    signal?: AbortSignal
  ): Promise<IRawReply> {
    const init: RequestInit =
      method === 'GET'
        ? { method, signal }
        : {
            method,
            body: JSON.stringify(body),
            headers: { 'Content-Type': 'application/json' },
            signal
          };
    return sendAPI(endPoint, init, this.serverSettings);
  }

  private _get<T>(endPoint: string, signal?: AbortSignal): Promise<T> {
    return requestAPI<T>(endPoint, { method: 'GET', signal }, this.serverSettings);
  }

  private _post<T>(endPoint: string, body: object, signal?: AbortSignal): Promise<T> {
    const init: RequestInit = {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' },
      signal
    };
    return requestAPI<T>(endPoint, init, this.serverSettings);
  }
}

/** The option types of `OidcAPI`. */
export namespace OidcAPI {
  export interface IOptions {
    /** Defaults to `ServerConnection.makeSettings()`. */
    serverSettings?: ServerConnection.ISettings;
  }

  export interface IStatusOptions {
    /** Answer only once the revision is greater than this (long poll). */
    after?: number;
    /** How long the server may hold a long poll, in seconds (server cap: 60). */
    timeoutSeconds?: number;
    /** Aborts the request. */
    signal?: AbortSignal;
  }
}

/** An answer of the server extension as it came: HTTP status and parsed JSON body. */
export interface IRawReply {
  /** The HTTP status. */
  status: number;
  /** Whether the status is 2xx. */
  ok: boolean;
  /** The parsed JSON body; `undefined` when it was empty or not JSON. */
  body: unknown;
}

/**
 * Call `{baseUrl}oidc/{endPoint}` and answer its status and JSON body, whatever the status
 * (the kernel bridge relays both to a kernel).
 *
 * Throws `OidcError` only when there was no answer: `network_error`, or `aborted` when
 * `init.signal` aborted.
 */
export async function sendAPI(
  endPoint: string,
  init: RequestInit,
  settings: ServerConnection.ISettings
): Promise<IRawReply> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    if (init.signal?.aborted) {
      throw new OidcError('aborted', 'The request was aborted.', { cause: error });
    }
    throw new OidcError('network_error', 'The Jupyter server did not answer.', { cause: error });
  }
  const text = await response.text().catch(() => '');
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  return { status: response.status, ok: response.ok, body };
}

/**
 * Call `{baseUrl}oidc/{endPoint}` and answer its JSON body.
 *
 * Throws `OidcError`: the server's code for an OIDC error body, `http_error` for any other
 * failed answer, `network_error` when there was no answer, `aborted` when `init.signal`
 * aborted, `invalid_response` when a successful answer is not JSON.
 */
export async function requestAPI<T>(
  endPoint: string,
  init: RequestInit,
  settings: ServerConnection.ISettings
): Promise<T> {
  const { status, ok, body } = await sendAPI(endPoint, init, settings);
  if (!ok) {
    throw OidcError.fromResponse(status, body);
  }
  if (!isRecord(body)) {
    throw new OidcError('invalid_response', `The answer of ${endPoint} is not a JSON object.`, {
      status
    });
  }
  return body as T;
}
