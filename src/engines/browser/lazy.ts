/**
 * The browser engine behind a dynamic import: a page with the server extension (JupyterLab,
 * Notebook 7) never downloads the engine, jose and pkce-challenge; a JupyterLite page loads
 * them as a separate chunk when the session plugin starts, before anyone can click.
 */
import type {
  IAwaitReply,
  IEnvironmentsReply,
  IJwksReply,
  ILoginReply,
  ILogoutReply,
  IPreflightReport,
  IRawReply,
  ISessionInfo,
  IStatusReply,
  ITarget,
  ITokenReply,
  OidcAPI
} from '../../api';
import type { IDisposableSessionEngine } from '../types';
import type { BrowserEngine } from './engine';

export class LazyBrowserEngine implements IDisposableSessionEngine {
  readonly kind = 'browser' as const;

  constructor(options: BrowserEngine.IOptions) {
    this._engine = import('./engine').then(({ BrowserEngine }) => new BrowserEngine(options));
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  environments(): Promise<IEnvironmentsReply> {
    return this._engine.then(e => e.environments());
  }

  status(options?: OidcAPI.IStatusOptions): Promise<IStatusReply> {
    return this._engine.then(e => e.status(options));
  }

  login(body: ITarget & { login_hint: string }): Promise<ILoginReply> {
    return this._engine.then(e => e.login(body));
  }

  awaitLogin(state: string, waitSeconds?: number, signal?: AbortSignal): Promise<IAwaitReply> {
    return this._engine.then(e => e.awaitLogin(state, waitSeconds, signal));
  }

  cancel(state: string): Promise<void> {
    return this._engine.then(e => e.cancel(state));
  }

  token(body?: ITarget & { min_valid?: number }): Promise<ITokenReply> {
    return this._engine.then(e => e.token(body));
  }

  refresh(body?: ITarget): Promise<ISessionInfo> {
    return this._engine.then(e => e.refresh(body));
  }

  logout(body?: ITarget): Promise<ILogoutReply> {
    return this._engine.then(e => e.logout(body));
  }

  jwks(environment: string): Promise<IJwksReply> {
    return this._engine.then(e => e.jwks(environment));
  }

  preflight(environment: string): Promise<IPreflightReport> {
    return this._engine.then(e => e.preflight(environment));
  }

  relay(
    method: 'GET' | 'POST',
    path: string,
    body?: object,
    signal?: AbortSignal
  ): Promise<IRawReply> {
    return this._engine.then(e => e.relay(method, path, body, signal));
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    // Also when the chunk is still on its way: the engine is disposed as soon as it exists.
    void this._engine.then(e => e.dispose());
  }

  private readonly _engine: Promise<BrowserEngine>;
  private _isDisposed = false;
}
