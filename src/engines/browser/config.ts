/**
 * The browser engine's configuration: the environments a JupyterLite site offers.
 *
 * A lite site sets it in `jupyter-lite.json` (`jupyter-config-data` → `jupyterlabOidc`):
 *
 * ```json
 * {"jupyter-config-data": {"jupyterlabOidc": {
 *   "default_environment": "dev",
 *   "environments": [{"name": "dev", "issuer": "https://id.example.org", "client_id": "lab",
 *                     "scopes": ["openid", "email", "profile", "offline_access"],
 *                     "applications": {"spatial": "123456"}}]}}}
 * ```
 *
 * Nothing here is a secret: a browser-only client is a public client (PKCE, no secret).
 */
import { PageConfig, URLExt } from '@jupyterlab/coreutils';

import { isRecord, OidcError } from '../../errors';

/** The page-config key of the lite site's settings. */
export const PAGE_CONFIG_KEY = 'jupyterlabOidc';

/** One environment of the browser engine. */
export interface IBrowserEnvironment {
  name: string;
  display_name: string;
  issuer: string;
  client_id: string;
  scopes: string[];
  /** Application name → Zitadel project id (adds the project audience scope). */
  applications: Record<string, string>;
  /** Only the JSON boolean `true` passes the login_hint check (default true). */
  require_verified_email: boolean;
}

/** The whole configuration. */
export interface IBrowserConfig {
  default_environment: string;
  environments: IBrowserEnvironment[];
  /** The static callback page of the site (default `{base_url}oidc-callback.html`). */
  redirect_uri: string;
  /** Seconds a sign-in may take (default 300). */
  callback_timeout: number;
}

const DEFAULT_SCOPES = ['openid', 'email', 'profile', 'offline_access'];

/** Parse a configuration object (as written in `jupyter-lite.json`); throws `config_error`. */
export function parseConfig(raw: unknown, baseUrl = ''): IBrowserConfig {
  const value = typeof raw === 'string' && raw ? Private.json(raw) : raw;
  if (!isRecord(value) || !Array.isArray(value.environments) || value.environments.length === 0) {
    throw new OidcError(
      'config_error',
      `The site configures no OpenID Connect environment (${PAGE_CONFIG_KEY}.environments).`
    );
  }
  const environments = value.environments.map((env, index) => Private.environment(env, index));
  const names = environments.map(env => env.name);
  const chosen = typeof value.default_environment === 'string' ? value.default_environment : '';
  const redirect =
    typeof value.redirect_uri === 'string' && value.redirect_uri
      ? value.redirect_uri
      : URLExt.join(baseUrl || PageConfig.getBaseUrl(), 'oidc-callback.html');
  return {
    default_environment: names.includes(chosen) ? chosen : names[0],
    environments,
    redirect_uri: new URL(redirect, globalThis.location?.href).href,
    callback_timeout:
      typeof value.callback_timeout === 'number' && value.callback_timeout > 0
        ? value.callback_timeout
        : 300
  };
}

/** The lite site's configuration from the page config, or null when it has none. */
export function pageConfig(): IBrowserConfig | null {
  const raw = PageConfig.getOption(PAGE_CONFIG_KEY);
  return raw ? parseConfig(raw) : null;
}

namespace Private {
  export function json(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      throw new OidcError('config_error', `${PAGE_CONFIG_KEY} is not JSON.`);
    }
  }

  export function environment(raw: unknown, index: number): IBrowserEnvironment {
    if (!isRecord(raw)) {
      throw new OidcError('config_error', `Environment ${index} is not an object.`);
    }
    const text = (key: string): string =>
      typeof raw[key] === 'string' ? (raw[key] as string).trim() : '';
    const name = text('name');
    const issuer = text('issuer');
    const clientId = text('client_id');
    if (!name || !issuer || !clientId) {
      throw new OidcError(
        'config_error',
        `Environment ${name || index} needs name, issuer and client_id.`
      );
    }
    const scopes = Array.isArray(raw.scopes)
      ? raw.scopes.filter((s): s is string => typeof s === 'string')
      : DEFAULT_SCOPES;
    if (!scopes.includes('openid')) {
      scopes.unshift('openid');
    }
    const applications: Record<string, string> = {};
    if (isRecord(raw.applications)) {
      for (const [app, project] of Object.entries(raw.applications)) {
        if (typeof project === 'string' || typeof project === 'number') {
          applications[app] = String(project);
        }
      }
    }
    return {
      name,
      display_name: text('display_name') || name,
      issuer,
      client_id: clientId,
      scopes,
      applications,
      require_verified_email: raw.require_verified_email !== false
    };
  }
}

/** The environment `name` of `config` (its default when none); `unknown_environment` otherwise. */
export function findEnvironment(config: IBrowserConfig, name?: string | null): IBrowserEnvironment {
  const wanted = name || config.default_environment;
  const env = config.environments.find(e => e.name === wanted);
  if (!env) {
    throw new OidcError(
      'unknown_environment',
      `Unknown environment ${wanted}; known: ${config.environments.map(e => e.name).join(', ')}.`,
      { status: 404 }
    );
  }
  return env;
}
