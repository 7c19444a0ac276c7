/**
 * End-to-end tests in Debian's Chromium (never a downloaded browser) against the demo
 * stack: the dev OpenID provider and a real JupyterLab with the extension (dev/demo.py).
 */
import { defineConfig } from '@playwright/test';

export const LAB_PORT = 18890;
export const IDP_PORT = 18891;
export const TOKEN = 'e2e-test-token';
export const BASE_URL = `http://127.0.0.1:${LAB_PORT}/`;
export const ISSUER = `http://127.0.0.1:${IDP_PORT}`;

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  timeout: 120_000,
  expect: { timeout: 15_000 },
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
    command: `python ../dev/demo.py --json --expose-app --lab-port ${LAB_PORT} --idp-port ${IDP_PORT} --token ${TOKEN} --access-ttl 30 --workdir ./test-results/lab`,
    url: `${BASE_URL}api/status`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe'
  }
});
