/**
 * End-to-end tests in Debian's Chromium (never a downloaded browser) against the demo
 * stack: the dev OpenID provider and a real JupyterLab with the extension (dev/demo.py).
 */
import * as path from 'path';

import { defineConfig } from '@playwright/test';

/**
 * JupyterLab's port; the provider listens on the next one. Set OIDC_UI_LAB_PORT to run
 * beside another run of this suite (each run keeps its files in its own output folder).
 */
const DEFAULT_LAB_PORT = 18890;
export const LAB_PORT = Number(process.env.OIDC_UI_LAB_PORT || DEFAULT_LAB_PORT);
export const IDP_PORT = LAB_PORT + 1;
export const TOKEN = 'e2e-test-token';
export const BASE_URL = `http://127.0.0.1:${LAB_PORT}/`;
export const ISSUER = `http://127.0.0.1:${IDP_PORT}`;

export default defineConfig({
  testDir: './tests',
  outputDir: `./test-results/port-${LAB_PORT}`,
  timeout: 120_000,
  expect: {
    timeout: 15_000,
    toHaveScreenshot: {
      // The README's pictures (screenshots.spec.ts), compared on every run on any port: they
      // show no port or URL. A tiny tolerance for anti-aliasing, none for a changed layout.
      pathTemplate: path.resolve(__dirname, '..', 'docs', 'screenshots', '{arg}{ext}'),
      maxDiffPixelRatio: 0.002,
      animations: 'disabled',
      caret: 'hide'
    }
  },
  // A visual change fails until the pictures are retaken on purpose: `make screenshots`
  // (this suite's screenshots.spec.ts with --update-snapshots).
  updateSnapshots: 'none',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: BASE_URL,
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
  webServer: {
    command: `python ../dev/demo.py --json --expose-app --lab-port ${LAB_PORT} --idp-port ${IDP_PORT} --token ${TOKEN} --access-ttl 30 --workdir ./test-results/port-${LAB_PORT}/lab`,
    url: `${BASE_URL}api/status`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe'
  }
});
