/**
 * Answers to kernels' requests: `token_request` through `POST oidc/token` (after
 * `POST oidc/refresh` when forced), `call` by relaying the REST call. The server extension
 * does every refresh (one at a time per session); this module only reads.
 */
import type { IRawReply } from '../api';
import { isRecord, OidcError } from '../errors';
import * as Protocol from './protocol';

/** The part of the REST client the bridge uses (`OidcAPI` implements it). */
export interface IBridgeServer {
  /** `{method} {base_url}oidc/{path}`, answered as it came; throws only without an answer. */
  relay(method: 'GET' | 'POST', path: string, body?: object): Promise<IRawReply>;
}

/** Answers kernel requests; one `POST oidc/token` in flight per identical token request. */
export class KernelRequests {
  constructor(options: KernelRequests.IOptions) {
    this._server = options.server;
    this._tokenTimeoutMs = options.tokenTimeoutMs ?? KernelRequests.TOKEN_TIMEOUT_MS;
  }

  /**
   * The answer to `request` (never rejects). A token request the server has not answered
   * within `tokenTimeoutMs` is answered `unavailable`, so the kernel uses HTTP at once
   * instead of waiting out its own timeout and dropping the comm.
   */
  answer(request: Protocol.KernelRequest): Promise<Protocol.FrontendMessage> {
    if (request.type === 'call') {
      return this._call(request);
    }
    return new Promise(resolve => {
      const timer = setTimeout(
        () =>
          resolve(
            Protocol.error(
              request.id,
              'unavailable',
              `The Jupyter server did not answer within ${this._tokenTimeoutMs} ms.`
            )
          ),
        this._tokenTimeoutMs
      );
      void this._token(request).then(answer => {
        clearTimeout(timer);
        resolve(answer);
      });
    });
  }

  private async _token(request: Protocol.ITokenRequest): Promise<Protocol.FrontendMessage> {
    const body = {
      environment: request.environment ?? undefined,
      application: request.application ?? undefined,
      min_valid: request.min_valid ?? undefined
    };
    if (request.force) {
      const refreshed = await this._relay('POST', 'refresh', {
        environment: body.environment,
        application: body.application
      });
      if (refreshed instanceof OidcError || !refreshed.ok) {
        return Private.failure(request.id, refreshed);
      }
      return Private.tokenAnswer(request.id, await this._relay('POST', 'token', body));
    }
    const key = JSON.stringify([
      body.environment ?? null,
      body.application ?? null,
      body.min_valid ?? null
    ]);
    let pending = this._tokens.get(key);
    if (!pending) {
      pending = this._relay('POST', 'token', body);
      this._tokens.set(key, pending);
      void pending.then(() => this._tokens.delete(key));
    }
    return Private.tokenAnswer(request.id, await pending);
  }

  private async _call(request: Protocol.ICall): Promise<Protocol.FrontendMessage> {
    const reply = await this._relay(request.method, request.path, request.body);
    if (reply instanceof OidcError) {
      return Private.failure(request.id, reply);
    }
    return Protocol.callReply(request.id, reply.status, reply.body);
  }

  /** The server's answer, or the `OidcError` of a request that got none. */
  private async _relay(
    method: 'GET' | 'POST',
    path: string,
    body: object
  ): Promise<IRawReply | OidcError> {
    try {
      return await this._server.relay(method, path, Private.withoutNulls(body));
    } catch (error) {
      return OidcError.from(error);
    }
  }

  private _server: IBridgeServer;
  private _tokenTimeoutMs: number;
  private _tokens = new Map<string, Promise<IRawReply | OidcError>>();
}

/** The option types of `KernelRequests`. */
export namespace KernelRequests {
  /** Kernels give up on a comm request after 1.5 s; answer before that. */
  export const TOKEN_TIMEOUT_MS = 1200;

  export interface IOptions {
    server: IBridgeServer;
    /** Answer `unavailable` to a token request the server has not answered by then (ms). */
    tokenTimeoutMs?: number;
  }
}

namespace Private {
  /** `token_reply` for a `POST oidc/token` answer, else the `error` it amounts to. */
  export function tokenAnswer(id: string, reply: IRawReply | OidcError): Protocol.FrontendMessage {
    if (!(reply instanceof OidcError) && reply.ok && Protocol.isTokenBody(reply.body)) {
      return Protocol.tokenReply(id, reply.body);
    }
    return failure(id, reply);
  }

  /**
   * The `error` for a failed request: the server's `{error, message, ...}` as it came;
   * `server_unreachable` without an answer; `unavailable` for anything else (a Jupyter
   * login page, a proxy error: the kernel tries HTTP with its own credentials).
   */
  export function failure(id: string, reply: IRawReply | OidcError): Protocol.IErrorMessage {
    if (reply instanceof OidcError) {
      return reply.code === 'network_error'
        ? Protocol.error(
            id,
            'server_unreachable',
            'The Jupyter server did not answer the frontend.'
          )
        : Protocol.error(id, 'unavailable', reply.message);
    }
    const body = reply.body;
    if (!reply.ok && isRecord(body) && typeof body.error === 'string' && body.error) {
      const message = typeof body.message === 'string' ? body.message : body.error;
      return Protocol.error(id, body.error, message, body);
    }
    return Protocol.error(
      id,
      'unavailable',
      `The Jupyter server answered HTTP ${reply.status} without a token.`
    );
  }

  /** JSON bodies as the kernel's HTTP path sends them: no null fields. */
  export function withoutNulls(body: object): Record<string, unknown> {
    return Object.fromEntries(
      Object.entries(body).filter(([, value]) => value !== null && value !== undefined)
    );
  }
}
