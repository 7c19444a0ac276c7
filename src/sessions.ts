/**
 * Pure helpers of the session model: how server answers become the model's sessions and
 * pending sign-ins. No state here; `model.ts` owns it.
 */
import { IPendingInfo, ISessionInfo, ITarget } from './api';
import { OidcError } from './errors';
import { IOidcSession } from './tokens';
import { httpUrl } from './urls';

/** A sign-in this page started (or started before a reload, see `resume.ts`). */
export interface IOwnSignIn {
  /** The page to open: the provider's URL, or the start link after a reload. */
  url: string;
  windowOpened: boolean;
  info: IPendingInfo;
  expiresAt: number;
}

/** A pending sign-in from `GET status`, with its expiry on the browser's clock. */
export interface IPendingEntry extends IPendingInfo {
  expiresAt: number;
}

/** `environment` or `environment/application`, like the server's session key. */
export function sessionKey(environment: string, application: string | null | undefined): string {
  return application ? `${environment}/${application}` : environment;
}

/** Only the fields of a session: a token reply's tokens are never kept. */
export function toSession(info: ISessionInfo, now: number): IOidcSession.ISession {
  return {
    key: sessionKey(info.environment, info.application),
    expiresAt: now + info.expires_in * 1000,
    environment: info.environment,
    application: info.application ?? null,
    issuer: info.issuer,
    client_id: info.client_id,
    email: info.email,
    name: info.name,
    sub: info.sub,
    identity: info.identity ?? {},
    scope: info.scope,
    audience: info.audience ?? [],
    expires_at: info.expires_at,
    expires_in: info.expires_in,
    signed_in_at: info.signed_in_at,
    refreshed_at: info.refreshed_at,
    has_refresh_token: info.has_refresh_token
  };
}

/**
 * The start link of a pending sign-in: `start_url`, else (when the server sent none)
 * `start_path` on this page's origin; http(s) only, else null.
 */
export function startLink(info: IPendingInfo, origin?: string): string | null {
  if (typeof info.start_url === 'string' && info.start_url !== '') {
    return httpUrl(info.start_url)?.href ?? null; // never a fallback for a refused one
  }
  if (
    typeof info.start_path === 'string' &&
    info.start_path.startsWith('/') &&
    !info.start_path.startsWith('//')
  ) {
    const base = origin ?? (typeof location !== 'undefined' ? location.origin : '');
    try {
      return httpUrl(new URL(info.start_path, base).href)?.href ?? null;
    } catch {
      return null;
    }
  }
  return null;
}

/** A pending sign-in as views see it. */
export function toPending(
  info: IPendingInfo & { expiresAt?: number },
  own: IOwnSignIn | null
): IOidcSession.IPending {
  const mine = own !== null && own.info.state === info.state;
  return {
    ...info,
    key: sessionKey(info.environment, info.application),
    expiresAt: info.expiresAt ?? own?.expiresAt ?? Date.now() + info.expires_in * 1000,
    own: mine,
    // Started elsewhere (a kernel cell, the CLI): its start link binds this browser.
    url: mine ? own.url : startLink(info),
    windowOpened: mine ? own.windowOpened : false
  };
}

/**
 * The session for `target`: with an environment, its session for that application (or,
 * with no application given, the environment's own, else any of it); without one, the
 * preferred environment's own session, else the first.
 */
export function findSession(
  sessions: ReadonlyArray<IOidcSession.ISession>,
  target: ITarget,
  preferred: string
): IOidcSession.ISession | null {
  if (target.environment) {
    const matches = sessions.filter(s => s.environment === target.environment);
    if (target.application !== undefined) {
      return matches.find(s => (s.application ?? null) === (target.application || null)) ?? null;
    }
    return matches.find(s => !s.application) ?? matches[0] ?? null;
  }
  return sessions.find(s => s.environment === preferred && !s.application) ?? sessions[0] ?? null;
}

/** What changed from `before` to `after`, by session key. */
export function diffSessions(
  before: ReadonlyArray<IOidcSession.ISession>,
  after: ReadonlyArray<IOidcSession.ISession>
): IOidcSession.ISessionsChange {
  const old = new Map(before.map(s => [s.key, s]));
  const now = new Map(after.map(s => [s.key, s]));
  return {
    added: after.filter(s => !old.has(s.key)),
    removed: before.filter(s => !now.has(s.key)),
    updated: after.filter(s => {
      const previous = old.get(s.key);
      return previous !== undefined && sessionDiffers(previous, s);
    })
  };
}

/** Whether a session changed in a way kernels must hear about. */
export function sessionDiffers(a: IOidcSession.ISession, b: IOidcSession.ISession): boolean {
  return (
    a.expires_at !== b.expires_at ||
    a.refreshed_at !== b.refreshed_at ||
    a.signed_in_at !== b.signed_in_at ||
    a.email !== b.email ||
    a.sub !== b.sub
  );
}

export function compareSessions(a: IOidcSession.ISession, b: IOidcSession.ISession): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** A server-provided address that is not http(s): refused, never navigated. */
export function unsafeUrl(kind: 'authorization' | 'start' | 'end_session'): OidcError {
  return new OidcError(
    'unsafe_url',
    `The ${kind} URL the server sent is not an http(s) URL; it was not opened.`,
    {
      details: { url_kind: kind }
    }
  );
}
