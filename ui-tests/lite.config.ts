/**
 * Playwright against the JupyterLite site (`make lite`) and the dev provider, both on
 * 127.0.0.1, in Debian's Chromium. Own ports (18910 site, 18911 provider).
 */
import * as path from 'path';

import { defineConfig } from '@playwright/test';

export const LITE_PORT = Number(process.env.OIDC_LITE_PORT || 18910);
export const LITE_IDP_PORT = Number(process.env.OIDC_LITE_IDP_PORT || LITE_PORT + 1);
export const LITE_URL = `http://127.0.0.1:${LITE_PORT}/`;
export const LITE_ISSUER = `http://127.0.0.1:${LITE_IDP_PORT}`;
const SITE = process.env.OIDC_LITE_SITE || path.resolve(__dirname, '..', 'dev', 'lite', '_site');

export default defineConfig({
  testDir: './tests',
  testMatch: /lite.*\.spec\.ts/,
  // lite.spec.ts skips itself under any other config (the main suite has no lite site).
  metadata: { lite: true },
  outputDir: `./test-results/lite-${LITE_PORT}`,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: LITE_URL,
    viewport: { width: 1280, height: 800 },
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic'
      ]
    }
  },
  webServer: [
    {
      command: `python3 -m http.server ${LITE_PORT} --bind 127.0.0.1 --directory ${SITE}`,
      url: `${LITE_URL}oidc-callback.html`,
      timeout: 30_000,
      reuseExistingServer: false,
      stdout: 'ignore',
      stderr: 'ignore'
    },
    {
      command: `node ../dev/idp/server.mjs --host 127.0.0.1 --port ${LITE_IDP_PORT} --exit-with-parent`,
      url: `${LITE_ISSUER}/.well-known/openid-configuration`,
      timeout: 30_000,
      reuseExistingServer: false,
      stdout: 'ignore',
      stderr: 'pipe'
    }
  ]
});
