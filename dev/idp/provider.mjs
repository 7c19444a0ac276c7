// Builds the oidc-provider instance. This is a DEV/TEST provider: it accepts
// any loopback redirect URI and grants consent silently. Never expose it.

import { randomBytes } from 'node:crypto';

import Provider, { interactionPolicy } from 'oidc-provider';

import { findAccount, findUserBySub } from './accounts.mjs';
import { createStore } from './adapter.mjs';
import {
  deviceConfirmPage, deviceInputPage, deviceSuccessPage, errorPage, loggedOutPage, logoutPage,
} from './pages.mjs';

// Zitadel's "add this project to the token audiences" scope.
export const PROJECT_AUDIENCE_SCOPE = /^urn:zitadel:iam:org:project:id:([^:\s]+):aud$/;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
// `localhost` and every name under it are loopback (RFC 6761 section 6.3; browsers resolve
// them so): a JupyterHub with subdomain_host = http://hub.localhost:port puts each user's
// server and each service on a host of its own under it.
const LOOPBACK_NAME = /^(?:[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?\.)*localhost$/;

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * True for http URLs on a loopback host (127.0.0.1, [::1], localhost or a name under
 * .localhost), any port and any path. Tests run Jupyter on random ports and base URLs
 * such as /a%40b/, so exact registration is impossible here.
 */
export function isLoopbackUrl(value) {
  let url;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'http:' && (LOOPBACK_HOSTS.has(url.hostname) || LOOPBACK_NAME.test(url.hostname))
    && !url.username && !url.password && !url.hash;
}

function publicClient(clientId) {
  return {
    client_id: clientId,
    client_name: clientId,
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
    response_types: ['code'],
    // Placeholders: the redirect checks are widened to any loopback URL below.
    redirect_uris: ['http://127.0.0.1/oidc/callback', 'http://localhost/oidc/callback'],
    post_logout_redirect_uris: ['http://127.0.0.1/', 'http://localhost/'],
    id_token_signed_response_alg: 'RS256',
  };
}

function serviceClient(clientId, clientSecret) {
  return {
    client_id: clientId,
    client_secret: clientSecret,
    client_name: clientId,
    // client_secret_post is accepted as well: oidc-provider treats the two alike.
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'api:read api:write',
  };
}

function projectIdsIn(scope) {
  return String(scope ?? '').split(' ')
    .map((s) => PROJECT_AUDIENCE_SCOPE.exec(s)?.[1])
    .filter(Boolean);
}

// oidc-provider drops scopes it does not know before any hook sees them, so
// Zitadel's project scopes are copied from the raw request into this private
// parameter, which is stored with the request through the sign-in interaction.
const PROJECT_SCOPES_PARAM = 'x_dev_idp_project_scopes';

async function keepProjectScopes(ctx) {
  // POST is a pushed authorization request; GET /auth?request_uri= has no
  // scope of its own and keeps what the pushed request stored.
  const raw = ctx.method === 'POST' ? ctx.oidc.body?.scope : ctx.query.scope;
  if (typeof raw !== 'string') return;
  const kept = raw.split(' ').filter((s) => PROJECT_AUDIENCE_SCOPE.test(s));
  ctx.oidc.params[PROJECT_SCOPES_PARAM] = kept.join(' ') || undefined;
}

/**
 * Consent is never asked: the grant always covers what was requested. The
 * project scopes are replaced rather than accumulated, so the id_token
 * audience follows the latest authorization request.
 */
async function loadGrantWithEverything(ctx) {
  const { oidc } = ctx;
  const { accountId } = oidc.session;
  const clientId = oidc.client.clientId;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!grant || grant.accountId !== accountId || grant.clientId !== clientId) {
    grant = new oidc.provider.Grant({ accountId, clientId });
  }
  if (grant.openid?.scope) {
    grant.openid.scope = grant.openid.scope.split(' ')
      .filter((s) => !PROJECT_AUDIENCE_SCOPE.test(s)).join(' ');
  }
  const scopes = [...oidc.requestParamScopes, ...(oidc.params[PROJECT_SCOPES_PARAM]?.split(' ') ?? [])];
  grant.addOIDCScope(scopes.join(' ') || 'openid');
  const claims = [...oidc.requestParamClaims];
  if (claims.length) grant.addOIDCClaims(claims);
  await grant.save();
  return grant;
}

/**
 * When a grant holds project-audience scopes, issue id_tokens with
 * aud = [client_id, ...projectIds] and azp = client_id, as Zitadel does.
 * oidc-provider always signs `aud: client.clientId`, so for those tokens we
 * hand IdToken#issue a view of the client whose clientId is that array.
 */
function addProjectAudiences(provider) {
  const { prototype } = provider.IdToken;
  const issue = prototype.issue;
  prototype.issue = async function issueWithProjectAudiences(options = {}) {
    const projects = options.use === 'idtoken'
      ? projectIdsIn(this.ctx?.oidc?.entities?.Grant?.getOIDCScope())
      : [];
    if (!projects.length) return issue.call(this, options);
    const client = this.client;
    const audience = [client.clientId, ...projects];
    this.set('azp', client.clientId);
    this.client = new Proxy(client, {
      get(target, name) {
        if (name === 'clientId') return audience;
        const value = Reflect.get(target, name);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    try {
      return await issue.call(this, options);
    } finally {
      this.client = client;
    }
  };
}

/** Accept any loopback redirect / post-logout redirect URI for public clients (dev only). */
function allowLoopbackRedirects(provider) {
  const { prototype } = provider.Client;
  const { redirectUriAllowed, postLogoutRedirectUriAllowed } = prototype;
  prototype.redirectUriAllowed = function redirectUriAllowedOnLoopback(value) {
    return (this.clientAuthMethod === 'none' && isLoopbackUrl(value))
      || redirectUriAllowed.call(this, value);
  };
  prototype.postLogoutRedirectUriAllowed = function postLogoutAllowedOnLoopback(value) {
    return (this.clientAuthMethod === 'none' && isLoopbackUrl(value))
      || postLogoutRedirectUriAllowed.call(this, value);
  };
}

/**
 * A browser that holds alice's session must still show the sign-in page when
 * the client asks for bob (login_hint), as Zitadel does. The check is skipped
 * right after a login so a deliberate mismatch doesn't loop.
 */
function loginHintCheck() {
  const { Check } = interactionPolicy;
  return new Check('login_hint_other_user', 'login_hint names another user than the signed-in one', (ctx) => {
    const { oidc } = ctx;
    const hint = oidc.params.login_hint;
    if (!hint || !oidc.session.accountId || oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
    const current = findUserBySub(oidc.session.accountId);
    return current?.email === String(hint).trim().toLowerCase()
      ? Check.NO_NEED_TO_PROMPT
      : Check.REQUEST_PROMPT;
  });
}

/**
 * @param {object} options issuer, profile ('id_token'|'userinfo'), accessTtl,
 *   idTokenTtl, refreshTtl (seconds), par ('off'|'on'|'required'), clientId, otherClientId,
 *   serviceClientId, serviceClientSecret, signingKeys (private JWKs, see keys.mjs)
 * @returns {{provider: Provider, store: object, settings: object}} settings is
 *   mutable: the TTL functions read it on every issue, so tests can change it.
 */
export function createProvider(options) {
  const settings = {
    accessTtl: options.accessTtl,
    idTokenTtl: options.idTokenTtl,
    refreshTtl: options.refreshTtl,
    // Device authorization grant (RFC 8628): code lifetime, the polling interval the
    // provider asks for, and how many next polls to answer slow_down (see control.mjs).
    deviceCodeTtl: 600,
    deviceInterval: 5,
    deviceSlowDown: 0,
  };
  const par = options.par ?? 'off';
  const store = createStore();
  const policy = interactionPolicy.base();
  policy.get('login').checks.add(loginHintCheck());

  const provider = new Provider(options.issuer, {
    adapter: store.Adapter,
    findAccount,
    clients: [
      publicClient(options.clientId),
      publicClient(options.otherClientId),
      serviceClient(options.serviceClientId, options.serviceClientSecret),
    ],
    jwks: { keys: options.signingKeys },
    // Fresh per run; plain http on 127.0.0.1 works because nothing sets `secure`.
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    responseTypes: ['code'],
    scopes: ['openid', 'offline_access', 'api:read', 'api:write'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    },
    // 'userinfo' behaves like Zitadel's default: scope claims only at /me.
    conformIdTokenClaims: options.profile === 'userinfo',
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      // Off unless --par on|required: with it on, discovery advertises the endpoint and
      // every client that uses PAR when offered (jupyterlab-oidc's par: auto) would use it.
      pushedAuthorizationRequests: {
        enabled: par !== 'off',
        requirePushedAuthorizationRequests: par === 'required',
      },
      deviceFlow: {
        enabled: true,
        async userCodeInputSource(ctx, form, _out, err) {
          ctx.body = deviceInputPage({ form, error: err && (err.name === 'AbortedError' ? 'The sign-in was denied.' : 'That code is unknown, used or expired.') });
        },
        async userCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
          ctx.body = deviceConfirmPage({ form, clientId: client.clientId, clientName: client.clientName, userCode });
        },
        async successSource(ctx) {
          ctx.body = deviceSuccessPage({ clientId: ctx.oidc.client?.clientId });
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = logoutPage({ host: ctx.host, form });
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = loggedOutPage({ clientId: ctx.oidc.client?.clientId });
        },
      },
    },
    pkce: { required: () => true },
    interactions: {
      policy,
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    extraParams: { [PROJECT_SCOPES_PARAM]: keepProjectScopes },
    loadExistingGrant: loadGrantWithEverything,
    // A refresh token for every code exchange, without offline_access/prompt=consent.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    // Tokens outlive the provider's browser session, RP-initiated logout
    // included (it ends only the session); revocation and revoke-all end them.
    expiresWithSession: async () => false,
    ttl: {
      AccessToken: () => settings.accessTtl,
      ClientCredentials: () => settings.accessTtl,
      IdToken: () => settings.idTokenTtl,
      // refreshTtl bounds a whole rotation chain (as oidc-provider does for
      // public clients): a rotated token inherits what its parent had left.
      RefreshToken: (ctx) => {
        const rotated = ctx?.oidc?.entities?.RotatedRefreshToken;
        return rotated ? Math.max(1, rotated.remainingTTL) : settings.refreshTtl;
      },
      AuthorizationCode: 60,
      DeviceCode: () => settings.deviceCodeTtl,
      Grant: () => settings.refreshTtl + 3600,
      Interaction: 3600,
      Session: 24 * 3600,
    },
    clientBasedCORS: (_ctx, origin) => isLoopbackUrl(origin),
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = errorPage(out);
    },
  });

  allowLoopbackRedirects(provider);
  addProjectAudiences(provider);
  provider.on('server_error', (_ctx, err) => console.error('idp server_error:', err));
  return { provider, store, settings };
}
