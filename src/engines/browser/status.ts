/**
 * Status formatting of the browser engine: its configuration, sessions and pending sign-ins
 * as the server extension's REST API answers them (`GET environments`, `GET status`).
 */
import type { IEnvironmentsReply, IPendingInfo, ISessionInfo } from '../../api';
import type { IBrowserConfig } from './config';
import type { IPendingSignIn } from './signin';
import type { ISessionRecord } from './tabs';

/** The environments as `GET environments` lists them. */
export function environmentsReply(config: IBrowserConfig): IEnvironmentsReply {
  return {
    default_environment: config.default_environment,
    redirect_mode: 'browser',
    callback_timeout: config.callback_timeout,
    environments: config.environments.map(env => ({
      name: env.name,
      display_name: env.display_name,
      issuer: env.issuer,
      client_id: env.client_id,
      scopes: env.scopes,
      applications: Object.keys(env.applications),
      discovery_mode: 'auto'
    }))
  };
}

/** The pending sign-ins as `GET status` lists them, at `now` (ms). */
export function pendingInfo(pending: IPendingSignIn[], now: number): IPendingInfo[] {
  return pending.map(p => ({
    state: p.request.state,
    environment: p.environment,
    application: p.application,
    login_hint: p.loginHint,
    expires_in: Math.max(0, Math.round((p.expiresAt - now) / 1000)),
    callback_received: p.callbackReceived,
    start_url: p.request.url
  }));
}

/** A session as the REST API describes it (no tokens), at `now` (ms). */
export function sessionInfo(s: ISessionRecord, now: number): ISessionInfo {
  const seconds = (ms: number) => Math.floor(ms / 1000);
  return {
    environment: s.environment,
    application: s.application,
    issuer: s.issuer,
    client_id: s.client_id,
    email: s.email,
    name: s.name,
    sub: s.sub,
    identity: s.identity,
    scope: s.scope,
    audience: s.audience,
    expires_at: seconds(s.expires_at),
    expires_in: Math.max(0, seconds(s.expires_at - now)),
    signed_in_at: seconds(s.signed_in_at),
    refreshed_at: seconds(s.refreshed_at),
    has_refresh_token: Boolean(s.refresh_token)
  };
}
