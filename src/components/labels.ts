/**
 * Small pure helpers the panel's components share: names, option labels, email shape,
 * which error codes carry a server sentence worth showing.
 */
import { OidcErrorCode } from '../errors';
import { IOidcSession } from '../tokens';

/** Codes whose server sentence adds facts to ours (provider error text, failed check…). */
const SERVER_DETAIL_CODES: ReadonlyArray<OidcErrorCode> = [
  'oidc_error',
  'config_error',
  'discovery_failed',
  'provider_unavailable',
  'provider_error',
  'invalid_id_token',
  'refresh_failed',
  'store_error',
  'http_error'
];

export function showsServerMessage(code: OidcErrorCode): boolean {
  return SERVER_DETAIL_CODES.includes(code);
}

/** "prod", or "prod · spatial_engine" for an application's session. */
export function label(environment: string, application: string | null | undefined): string {
  return application ? `${environment} · ${application}` : environment;
}

/** The display name of an environment, else its name. */
export function displayName(
  model: Pick<IOidcSession, 'environments'>,
  environment: string
): string {
  return model.environments.find(env => env.name === environment)?.display_name || environment;
}

/** "Development (dev)"; just the display name when it already names the environment. */
export function optionLabel(name: string, display: string): string {
  return !display || display.includes(name) ? display || name : `${display} (${name})`;
}

export function looksLikeEmail(value: string): boolean {
  return /^[^\s@]+@[^\s@]+$/.test(value);
}

/** A DOM id fragment for a session key. */
export function idFragment(key: string): string {
  return key.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * The environment the sign-in form selects first: the preferred one while it has no
 * session, else the first environment without one, else the preferred one.
 */
export function firstFreeEnvironment(
  model: Pick<IOidcSession, 'environments' | 'sessions' | 'preferredEnvironment'>
): string {
  const taken = new Set(model.sessions.filter(s => !s.application).map(s => s.environment));
  const preferred = model.preferredEnvironment;
  if (!taken.has(preferred)) {
    return preferred;
  }
  return model.environments.find(env => !taken.has(env.name))?.name ?? preferred;
}
