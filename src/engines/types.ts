/**
 * What the session model needs from whoever holds the sessions: the `SessionEngine`.
 *
 * Two engines implement it:
 * - the server engine: the REST API of the server extension (`OidcAPI`, `{base_url}oidc/...`),
 *   tokens held by the Jupyter server;
 * - the browser engine (`engines/browser`): the whole flow in the page for JupyterLite, where
 *   no server extension runs; tokens held in this page's memory only.
 *
 * The interface is the REST API's shape (the model already drives `IOidcAPI`), plus `relay`
 * (what the kernel bridge forwards for kernels) and `kind`. The panel, status bar, commands and
 * the kernel bridge never learn which engine runs.
 */
import type { IDisposable } from '@lumino/disposable';

import type { IOidcAPI, IRawReply } from '../api';

/** Which engine runs. */
export type SessionEngineKind = 'server' | 'browser';

/** The sessions' backend, as the session model and the kernel bridge use it. */
export interface ISessionEngine extends IOidcAPI {
  readonly kind: SessionEngineKind;
  /**
   * `{method} oidc/{path}` answered as the server extension would (status and JSON body,
   * error or not): the kernel bridge relays kernels' requests through this.
   */
  relay(
    method: 'GET' | 'POST',
    path: string,
    body?: object,
    signal?: AbortSignal
  ): Promise<IRawReply>;
}

/** An engine that owns timers, channels or listeners (the browser engine). */
export interface IDisposableSessionEngine extends ISessionEngine, IDisposable {}
