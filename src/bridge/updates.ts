/**
 * `token_update` pushes: when the session model sees a session appear, rotate or end
 * (its `GET status?after=` long poll, or an action in this page), every attached kernel is
 * told. For a sign-in or a rotation the token is fetched once (`POST oidc/token`,
 * `min_valid: 0`: never a refresh) and the same body goes to every kernel.
 */
import { IDisposable } from '@lumino/disposable';

import { OidcError } from '../errors';
import { IOidcSession } from '../tokens';
import * as Protocol from './protocol';
import type { IBridgeServer } from './requests';

/** Turns session changes into `token_update` messages. */
export class TokenUpdates implements IDisposable {
  constructor(options: TokenUpdates.IOptions) {
    this._session = options.session;
    this._server = options.server;
    this._send = options.send;
    this._hasListeners = options.hasListeners ?? (() => true);
    for (const session of this._session.sessions) {
      this._signedInAt.set(session.key, session.signed_in_at);
    }
    this._session.sessionsChanged.connect(this._onChanged, this);
  }

  /** Whether `dispose()` was called. */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Resolves once every push started so far is sent or dropped (for tests and shutdown). */
  flush(): Promise<void> {
    return Promise.all([...this._inFlight]).then(() => undefined);
  }

  /** Stop following the session model; pushes in flight are dropped. */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._session.sessionsChanged.disconnect(this._onChanged, this);
    this._generation.clear();
  }

  private _onChanged(_: IOidcSession, change: IOidcSession.ISessionsChange): void {
    for (const session of change.removed) {
      this._bump(session.key);
      this._signedInAt.delete(session.key);
      if (this._hasListeners()) {
        this._send(
          Protocol.tokenUpdate('sign_out', session.environment, session.application ?? null, null)
        );
      }
    }
    for (const session of [...change.added, ...change.updated]) {
      const before = this._signedInAt.get(session.key);
      this._signedInAt.set(session.key, session.signed_in_at);
      this._push(before === session.signed_in_at ? 'refresh' : 'sign_in', session);
    }
  }

  /** Fetch the session's token once and send it, unless something newer happened meanwhile. */
  private _push(reason: Protocol.UpdateReason, session: IOidcSession.ISession): void {
    const generation = this._bump(session.key);
    if (!this._hasListeners()) {
      return;
    }
    const application = session.application ?? null;
    const done = this._server
      .relay('POST', 'token', {
        environment: session.environment,
        ...(application ? { application } : {}),
        min_valid: 0
      })
      .then(
        reply => {
          if (this._isDisposed || this._generation.get(session.key) !== generation) {
            return; // a later change (or a sign-out) for this session wins
          }
          if (reply.ok && Protocol.isTokenBody(reply.body)) {
            this._send(Protocol.tokenUpdate(reason, session.environment, application, reply.body));
          }
        },
        (error: unknown) => {
          console.debug(
            `jupyterlab-oidc: no token to push for ${session.key}: ${OidcError.from(error).code}`
          );
        }
      );
    this._inFlight.add(done);
    void done.then(() => this._inFlight.delete(done));
  }

  private _bump(key: string): number {
    const next = (this._generation.get(key) ?? 0) + 1;
    this._generation.set(key, next);
    return next;
  }

  private _session: IOidcSession;
  private _server: IBridgeServer;
  private _send: (message: Protocol.FrontendMessage) => void;
  private _hasListeners: () => boolean;
  private _signedInAt = new Map<string, number>();
  private _generation = new Map<string, number>();
  private _inFlight = new Set<Promise<void>>();
  private _isDisposed = false;
}

/** The option types of `TokenUpdates`. */
export namespace TokenUpdates {
  export interface IOptions {
    /** The session model whose `sessionsChanged` drives the pushes. */
    session: IOidcSession;
    /** Where the token of a session is read (`POST oidc/token`). */
    server: IBridgeServer;
    /** Send one message to every attached kernel. */
    send(message: Protocol.FrontendMessage): void;
    /** Whether any kernel listens (no request to the server when none does). */
    hasListeners?(): boolean;
  }
}
