/**
 * Opening the provider's sign-in page without being caught by popup blockers.
 *
 * Browsers only allow `window.open` during a user gesture, and the provider URL is only
 * known after `POST login` answers. So the click handler opens an empty window at once
 * (synchronously, before any `await`) and the model navigates it once the URL is known.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { OpenMode } from './preferences';

/** The name of the popup window, so a second sign-in reuses it. */
export const POPUP_NAME = 'jupyterlab-oidc-sign-in';

/**
 * Open an empty window for the provider's page; call it synchronously in a click handler.
 * Answers null when the browser blocked it (the panel then shows a link instead).
 */
export function openSignInWindow(mode: OpenMode, trans?: TranslationBundle): Window | null {
  let win: Window | null = null;
  try {
    win =
      mode === 'popup'
        ? window.open('', POPUP_NAME, Private.popupFeatures())
        : window.open('', '_blank');
  } catch {
    win = null;
  }
  if (!win) {
    return null;
  }
  try {
    // The provider must not script JupyterLab through window.opener (reverse tabnabbing).
    win.opener = null;
    win.document.title = trans ? trans.__('Signing in…') : 'Signing in…';
    win.document.body.textContent = trans
      ? trans.__('Opening the sign-in page of your provider…')
      : 'Opening the sign-in page of your provider…';
  } catch {
    // not same-origin any more (a reused popup): nothing to write
  }
  return win;
}

namespace Private {
  /** A window of 520 × 720 centred on the current one. */
  export function popupFeatures(): string {
    const width = 520;
    const height = 720;
    const left = Math.max(0, Math.round(window.screenX + (window.outerWidth - width) / 2));
    const top = Math.max(0, Math.round(window.screenY + (window.outerHeight - height) / 2));
    return `popup=yes,width=${width},height=${height},left=${left},top=${top}`;
  }
}
