/**
 * User actions shared by the panel and the commands. Each keeps the rule that matters
 * for it: sign-in opens its window synchronously; copying a token warns it is a secret.
 */
import { Clipboard, Notification } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

import { formatRemaining } from './format';
import { openSignInWindow } from './signin';
import { IOidcSession, ITarget } from './tokens';

/** What the panel's forms ask for: where, as whom, and how (device code, `prompt`). */
export type ISignInRequest = ITarget &
  Pick<IOidcSession.ISignInOptions, 'loginHint' | 'flow' | 'prompt'>;

/**
 * Start a sign-in. Call it synchronously in a click handler: the provider's window is
 * opened before anything is awaited. Failures are shown by the model (the panel's error).
 */
export function startSignIn(
  model: IOidcSession,
  options: ISignInRequest,
  trans: TranslationBundle
): Promise<IOidcSession.ISession | null> {
  // A device sign-in (the user's choice or the environment's flow) opens no provider window.
  const device =
    (options.flow ?? model.environments.find(env => env.name === options.environment)?.flow) ===
    'device';
  const win = device ? null : openSignInWindow(model.preferences.openMode, trans);
  return model.signIn({ ...options, window: win }).catch(() => null);
}

/**
 * Copy a fresh access token to the clipboard and warn that it is a secret.
 * Answers whether it was copied; failures are shown by the model.
 */
export async function copyAccessToken(
  model: IOidcSession,
  target: ITarget,
  trans: TranslationBundle
): Promise<boolean> {
  let token;
  try {
    token = await model.getToken({ ...target, minValid: 60 });
  } catch (error) {
    model.reportError(error);
    return false;
  }
  await copyText(token.access_token);
  Notification.warning(copiedMessage(token, trans), { autoClose: 10000 });
  return true;
}

/** JupyterLab's toasts cut messages past this many characters. */
export const TOAST_MAX_LENGTH = 140;

/**
 * The warning after a copy, short enough to be read in full in the toast and in the
 * notification center: who the token acts as only when it still fits.
 */
export function copiedMessage(
  token: {
    environment: string;
    application?: string | null;
    email: string;
    sub: string;
    expires_in: number;
  },
  trans: TranslationBundle
): string {
  const where = token.application ? `${token.environment}/${token.application}` : token.environment;
  const valid = formatRemaining(token.expires_in, trans);
  const full = trans.__(
    'Access token for %1 copied (valid %2). A secret: anyone who has it acts as %3. Never paste it where others read.',
    where,
    valid,
    token.email || token.sub
  );
  return full.length <= TOAST_MAX_LENGTH
    ? full
    : trans.__(
        'Access token for %1 copied (valid %2). A secret: anyone who has it acts as you.',
        where,
        valid
      );
}

/** Copy `text` to the system clipboard (the async Clipboard API, else a copy event). */
export async function copyText(text: string): Promise<void> {
  if (typeof navigator !== 'undefined' && navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // no permission or no focus: fall back to the copy event
    }
  }
  Clipboard.copyToSystem(text);
}
