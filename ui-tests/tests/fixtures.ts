/**
 * Shared fixtures and helpers of the browser tests.
 *
 * - `oidc`: the extension's REST API with the Jupyter token, used to arrange and check
 *   server state and to sign in "from outside" the browser page. It resets the server
 *   (sessions, pending sign-ins, settings) before and after every test.
 * - `lab`: a JupyterLab page loaded with a fresh workspace, the app restored.
 * - `panel`: the sign-in panel opened in the left sidebar and done checking.
 * - helpers for the provider's sign-in page (dev/idp) and the in-page setting registry.
 */
import {
  APIRequestContext,
  APIResponse,
  expect,
  Locator,
  Page,
  request,
  test as base
} from '@playwright/test';

import { BASE_URL, ISSUER, TOKEN } from '../playwright.config';

export { expect } from '@playwright/test';

export const ALICE = { email: 'alice@example.com', name: 'Alice Example' };
export const BOB = { email: 'bob@example.com', name: 'Bob Example' };

/** The settings of jupyterlab-oidc (schema/plugin.json). */
export const SETTINGS_ID = 'jupyterlab-oidc:plugin';
/** Settings a test may change (all reset to their defaults around every test). */
const RESET_SETTINGS = [SETTINGS_ID, '@jupyterlab/apputils-extension:themes'];
const ENVIRONMENTS = ['prod', 'dev'];

/** A session as `GET oidc/status` describes it (no tokens). */
export interface ISessionInfo {
  environment: string;
  application: string | null;
  email: string;
  name: string;
  sub: string;
}

/** `GET oidc/status`. */
export interface IStatusReply {
  revision: number;
  sessions: ISessionInfo[];
  pending: {
    state: string;
    environment: string;
    login_hint: string;
    callback_received: boolean;
    /** The start link that binds a browser to this sign-in (`{base_url}oidc/start?state=`). */
    start_url?: string;
  }[];
}

/** `POST oidc/login`: `url` is for the browser that made the request, `start_url` for any other. */
export interface ILoginReply {
  url: string;
  state: string;
  expires_in: number;
  start_url: string;
}

/** The Jupyter callback of a sign-in: `oidc/callback`, or `oidc/callback/{environment}`. */
export const CALLBACK_URL = /\/oidc\/callback(\/[^/?#]+)?\?/;

/** The REST API of the server extension, authenticated with the Jupyter token. */
export class OidcRest {
  constructor(readonly request: APIRequestContext) {}

  async status(): Promise<IStatusReply> {
    return this._json(await this.request.get('oidc/status'));
  }

  /**
   * Start a sign-in as a notebook cell would; answers `{url, state, expires_in, start_url}`.
   * No browser made this request, so a browser has to open `start_url`, not `url`.
   */
  async login(loginHint: string, environment = 'prod'): Promise<ILoginReply> {
    return this._json(
      await this.request.post('oidc/login', { data: { environment, login_hint: loginHint } })
    );
  }

  async logout(
    environment = 'prod'
  ): Promise<{ signed_out: boolean; end_session_url: string | null }> {
    return this._json(await this.request.post('oidc/logout', { data: { environment } }));
  }

  /** Cancel a pending sign-in (one that ended meanwhile answers an error: fine here). */
  async cancel(state: string): Promise<void> {
    await this.request.post('oidc/cancel', { data: { state } });
  }

  /** Sign in entirely outside the browser page: login, provider, callback. */
  async signInFromOutside(email: string, environment = 'prod'): Promise<void> {
    const { start_url } = await this.login(email, environment);
    const provider = await ProviderAgent.create();
    try {
      const callback = await provider.authorize(await provider.start(start_url), email);
      const page = await provider.follow(callback);
      expect(page).toContain(`Signed in as ${email}`);
    } finally {
      await provider.dispose();
    }
    await expect
      .poll(async () => (await this.status()).sessions.map(s => s.email))
      .toContain(email);
  }

  /** Back to a clean server: no sessions, no pending sign-ins, default settings. */
  async reset(): Promise<void> {
    const status = await this.status();
    for (const pending of status.pending) {
      await this.cancel(pending.state);
    }
    for (const environment of ENVIRONMENTS) {
      await this.logout(environment);
    }
    for (const id of RESET_SETTINGS) {
      const response = await this.request.put(`lab/api/settings/${id}`, { data: { raw: '{}' } });
      expect(response.status(), `reset settings of ${id}`).toBe(204);
    }
  }

  private async _json<T>(response: APIResponse): Promise<T> {
    expect(response.ok(), `${response.url()} → ${response.status()} ${await response.text()}`).toBe(
      true
    );
    return (await response.json()) as T;
  }
}

/**
 * A browser-less user agent at the provider (its own cookie jar): what a person does on
 * the provider's sign-in page, done with plain HTTP (dev/idp/README.md, "Signing in
 * without a person").
 */
export class ProviderAgent {
  static async create(): Promise<ProviderAgent> {
    return new ProviderAgent(await request.newContext());
  }

  private constructor(readonly request: APIRequestContext) {}

  /**
   * Open a sign-in's start link as the server's owner (the Jupyter token): the agent's cookie
   * jar gets the binding cookie; answers the provider URL the server sends it on to.
   */
  async start(startUrl: string): Promise<string> {
    const response = await this.request.get(startUrl, {
      headers: { Authorization: `token ${TOKEN}` }, // this request only, not the provider's
      maxRedirects: 0
    });
    expect(response.status(), `the start link ${startUrl}`).toBe(303);
    return new URL(response.headers().location, startUrl).href;
  }

  /**
   * Open the authorization URL and sign in as `email`; answers the redirect to the
   * Jupyter callback (not followed, so the test chooses when the callback happens).
   */
  async authorize(url: string, email: string): Promise<string> {
    const page = await this.request.get(url);
    expect(page.status()).toBe(200);
    const uid = new URL(page.url()).pathname.match(/\/interaction\/([^/]+)/)?.[1];
    expect(uid, `the provider's sign-in page, got ${page.url()}`).toBeTruthy();
    const login = await this.request.post(`${ISSUER}/interaction/${uid}/login`, {
      form: { email },
      maxRedirects: 0
    });
    expect(login.status()).toBe(303);
    const resume = await this.request.get(new URL(login.headers().location, ISSUER).href, {
      maxRedirects: 0
    });
    expect(resume.status()).toBe(303);
    const callback = resume.headers().location;
    expect(
      callback.startsWith(`${BASE_URL}oidc/callback`) && CALLBACK_URL.test(callback),
      callback
    ).toBe(true);
    return callback;
  }

  /** GET the Jupyter callback as the browser would (no Jupyter login); answers its page. */
  async follow(callback: string): Promise<string> {
    const response = await this.request.get(callback);
    return response.text();
  }

  async dispose(): Promise<void> {
    await this.request.dispose();
  }
}

/** The provider's sign-in tab (dev/idp): sign in as `email`, or keep the prefilled one. */
export async function completeProviderPage(popup: Page, email?: string): Promise<Locator> {
  await popup.waitForURL(/\/interaction\//);
  const field = popup.locator('#email');
  await expect(field).toBeVisible();
  if (email !== undefined) {
    await field.fill(email);
  }
  await popup.locator('#sign-in').click();
  await popup.waitForURL(CALLBACK_URL);
  return popup.locator('#oidc-result');
}

/**
 * Fill the panel's form and click Sign in; answers the provider tab it opened
 * (opened synchronously in the click handler, then navigated to the provider).
 */
export async function signInThroughPanel(
  panel: Locator,
  email: string,
  environment = 'prod'
): Promise<Page> {
  const context = panel.page().context();
  await panel.locator('#jp-oidc-environment').selectOption(environment);
  await panel.locator('#jp-oidc-email').fill(email);
  const popup = context.waitForEvent('page');
  await panel.locator('#jp-oidc-sign-in').click();
  return popup;
}

/** Sign out from an identity card: Sign out, then confirm in the dialog it opens. */
export async function signOutThroughCard(card: Locator): Promise<void> {
  await card.locator('[data-test=oidc-sign-out]').click();
  const dialog = card.page().locator('.jp-Dialog');
  await expect(dialog).toContainText('Sign out of');
  await dialog.locator('.jp-mod-accept.jp-mod-warn').click();
  await expect(dialog).toHaveCount(0);
}

/** The panel's width in CSS pixels (JupyterLab's left sidebar starts at 250 px). */
export async function panelWidth(panel: Locator): Promise<number> {
  return Math.round((await panel.boundingBox())?.width ?? 0);
}

/** Set a jupyterlab-oidc setting through the page's own setting registry (applies live). */
export async function setSetting(page: Page, key: string, value: unknown): Promise<void> {
  await page.evaluate(
    async ({ id, key, value }) => {
      // The registry is the service of this core plugin; galata reaches it the same way.
      const app = (window as any).jupyterapp;
      const plugins = app.pluginRegistry?._plugins ?? app._plugins;
      const registry = plugins.get('@jupyterlab/apputils-extension:settings').service;
      await registry.set(id, key, value);
    },
    { id: SETTINGS_ID, key, value }
  );
}

/** Switch the JupyterLab theme and wait until it applies. */
export async function setTheme(
  page: Page,
  theme: 'JupyterLab Light' | 'JupyterLab Dark'
): Promise<void> {
  await page.evaluate(
    name => (window as any).jupyterapp.commands.execute('apputils:change-theme', { theme: name }),
    theme
  );
  await expect(page.locator('body')).toHaveAttribute('data-jp-theme-name', theme);
  await expect(page.locator('body')).toHaveAttribute(
    'data-jp-theme-light',
    String(theme === 'JupyterLab Light')
  );
}

interface IFixtures {
  oidc: OidcRest;
  lab: Page;
  panel: Locator;
}

export const test = base.extend<IFixtures>({
  oidc: async ({ playwright }, use) => {
    const request = await playwright.request.newContext({
      baseURL: BASE_URL,
      extraHTTPHeaders: { Authorization: `token ${TOKEN}` }
    });
    const oidc = new OidcRest(request);
    await oidc.reset();
    await use(oidc);
    await oidc.reset();
    await request.dispose();
  },

  lab: async ({ page, oidc }, use) => {
    void oidc; // the server is reset before the page loads
    // `reset` starts from an empty workspace, so no earlier layout is restored.
    await page.goto(`lab?reset&token=${TOKEN}`);
    await page.waitForFunction(
      () => (window as any).jupyterapp?.isPluginActivated?.('jupyterlab-oidc:sidebar'),
      null,
      {
        timeout: 60_000
      }
    );
    await page.evaluate(() => (window as any).jupyterapp.restored);
    await use(page);
  },

  panel: async ({ lab }, use) => {
    await lab.evaluate(() => (window as any).jupyterapp.commands.execute('oidc:open-panel'));
    const panel = lab.locator('#jp-oidc-panel');
    await expect(panel).toBeVisible();
    await expect(panel.locator('.jp-oidc-body')).toHaveAttribute('data-phase', 'ready');
    await use(panel);
  }
});
