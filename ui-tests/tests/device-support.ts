/**
 * The person at the provider's device page (RFC 8628) for the browser tests: a plain HTTP
 * client with its own cookie jar plays the phone (dev/idp/README.md, "Device sign-in
 * without a person"; tests/device_support.py does the same for the Python tests).
 */
import { APIResponse, expect, request } from '@playwright/test';

import { ISSUER } from '../playwright.config';

const HIDDEN = /<input type="hidden" name="([^"]+)" value="([^"]*)"/g;

function hiddenInputs(html: string): Record<string, string> {
  return Object.fromEntries(Array.from(html.matchAll(HIDDEN), m => [m[1], m[2]]));
}

async function page(response: APIResponse): Promise<string> {
  expect(response.status(), `${response.url()} → ${response.status()}`).toBe(200);
  return response.text();
}

/** Open the link with the code filled in on another device, confirm the code, sign in as `email`. */
export async function approveDeviceCode(
  verificationUriComplete: string,
  email: string
): Promise<void> {
  const phone = await request.newContext();
  try {
    const first = await page(await phone.get(verificationUriComplete));
    const confirm = await page(await phone.post(`${ISSUER}/device`, { form: hiddenInputs(first) }));
    expect(confirm).toContain('id="user-code"');
    const login = await phone.post(`${ISSUER}/device`, { form: hiddenInputs(confirm) });
    const interaction = login.url();
    expect(new URL(interaction).pathname, interaction).toMatch(/^\/interaction\//);
    const done = await page(await phone.post(`${interaction}/login`, { form: { email } }));
    expect(done).toContain('device-success');
  } finally {
    await phone.dispose();
  }
}

/** Set the provider's device settings (`POST /_test/device`: interval, expires_in, slow_down). */
export async function deviceSettings(settings: {
  interval?: number;
  expires_in?: number;
  slow_down?: number;
}): Promise<void> {
  const context = await request.newContext();
  try {
    const response = await context.post(`${ISSUER}/_test/device`, { data: settings });
    expect(response.ok(), `/_test/device → ${response.status()}`).toBe(true);
  } finally {
    await context.dispose();
  }
}
