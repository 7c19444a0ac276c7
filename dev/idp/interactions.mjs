// Our sign-in pages (oidc-provider's devInteractions are off). They work for a
// person, for Playwright, and for a plain HTTP client with a cookie jar:
//   GET  /interaction/:uid                 -> the form (email prefilled from login_hint)
//   POST /interaction/:uid/login  email=…  -> 303 back to the provider, which redirects
//   GET  /interaction/:uid/login?email=…      to the client's redirect_uri with code+state
//   POST /interaction/:uid/abort           -> ends with error=access_denied
// There is no password: choosing an email is the whole authentication.

import { errors } from 'oidc-provider';

import { findUserByEmail, listUsers } from './accounts.mjs';
import { readBody, routes } from './http.mjs';
import { errorPage, loginPage } from './pages.mjs';

const nowSeconds = () => Math.floor(Date.now() / 1000);

export function interactionRoutes(provider) {
  // Only the interaction's own cookie identifies it; the uid in the path must agree.
  async function load(ctx, uid) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) throw new errors.SessionNotFound('interaction uid does not match its cookie');
    return details;
  }

  function render(ctx, details, { email, error } = {}) {
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = loginPage({
      uid: details.uid,
      clientId: details.params.client_id,
      email: email ?? details.params.login_hint ?? '',
      error,
      users: listUsers(),
    });
  }

  async function finish(ctx, result) {
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: false,
    });
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  // Consent is normally granted in loadExistingGrant; this covers anything
  // that still reaches a consent prompt, so no request can get stuck here.
  async function grantConsent(ctx, details) {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope ?? 'openid');
    const missingClaims = details.prompt.details.missingOIDCClaims;
    if (missingClaims) grant.addOIDCClaims(missingClaims);
    await finish(ctx, { consent: { grantId: await grant.save() } });
  }

  // Signing in as someone else in a browser that holds another user's session
  // would make oidc-provider answer with an auto-submitting logout form, which
  // a plain HTTP client can't follow. Drop the old session here instead.
  async function forgetOtherUser(details, accountId) {
    if (!details.session?.accountId || details.session.accountId === accountId) return;
    const previous = await provider.Session.findByUid(details.session.uid);
    await previous?.destroy();
    delete details.session;
    await details.save(details.exp - nowSeconds());
  }

  async function show(ctx, uid) {
    const details = await load(ctx, uid);
    if (details.prompt.name === 'consent') return grantConsent(ctx, details);
    return render(ctx, details);
  }

  async function login(ctx, uid, email) {
    const details = await load(ctx, uid);
    if (details.prompt.name === 'consent') return grantConsent(ctx, details);
    const user = findUserByEmail(email);
    if (!user) {
      ctx.status = 400;
      return render(ctx, details, { email, error: `No user with the email "${email ?? ''}".` });
    }
    await forgetOtherUser(details, user.sub);
    return finish(ctx, { login: { accountId: user.sub, amr: ['pwd'] } });
  }

  async function abort(ctx, uid) {
    await load(ctx, uid);
    return finish(ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' });
  }

  // Errors here are ours to show: oidc-provider's renderError only covers its routes.
  const safely = (handler) => async (ctx, ...args) => {
    try {
      await handler(ctx, ...args);
    } catch (err) {
      if (!(err instanceof errors.OIDCProviderError)) throw err;
      ctx.status = err.statusCode ?? 400;
      ctx.type = 'html';
      ctx.body = errorPage({ error: err.error, error_description: err.error_description });
    }
  };

  return routes([
    ['GET', /^\/interaction\/([^/]+)$/, safely(show)],
    ['GET', /^\/interaction\/([^/]+)\/login$/, safely((ctx, uid) => login(ctx, uid, ctx.query.email))],
    ['POST', /^\/interaction\/([^/]+)\/login$/, safely(async (ctx, uid) => login(ctx, uid, (await readBody(ctx)).email))],
    ['POST', /^\/interaction\/([^/]+)\/abort$/, safely(abort)],
  ]);
}
