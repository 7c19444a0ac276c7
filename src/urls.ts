/**
 * The one guard for addresses the server hands the browser: the provider's authorization
 * URL, the start link of a sign-in begun elsewhere, the provider's end-session URL.
 *
 * Only absolute http(s) URLs are navigated to. A `javascript:` URL set as the location of
 * the (same-origin, still blank) sign-in window would run with JupyterLab's origin; `data:`,
 * `vbscript:`, `blob:`, `file:` and relative addresses are refused the same way.
 */

/** The schemes a server-provided address may use. */
const WEB_PROTOCOLS: ReadonlyArray<string> = ['http:', 'https:'];

/**
 * `value` parsed as an absolute http(s) URL, or null for anything else (other schemes,
 * relative or unparsable addresses, non-strings). Use the answer's `href`, never `value`.
 */
export function httpUrl(value: unknown): URL | null {
  if (typeof value !== 'string' || value === '') {
    return null;
  }
  let url: URL;
  try {
    url = new URL(value); // no base: a relative address throws
  } catch {
    return null;
  }
  return WEB_PROTOCOLS.includes(url.protocol) ? url : null;
}

/**
 * Navigate `win` (a window opened in a click handler) to `url` when it is an http(s) URL.
 * Answers `navigated` (the window now loads it), `blocked` (no window, or it was closed)
 * or `refused` (not an http(s) URL: the window is closed, nothing was loaded).
 */
export function openExternal(
  win: Window | null,
  url: unknown
): 'navigated' | 'blocked' | 'refused' {
  const safe = httpUrl(url);
  if (!safe) {
    closeWindow(win);
    return 'refused';
  }
  if (!win || win.closed) {
    return 'blocked';
  }
  try {
    win.location.href = safe.href;
    return 'navigated';
  } catch {
    return 'blocked';
  }
}

/** Close a window opened for the provider, if it is still open. */
export function closeWindow(win: Window | null): void {
  try {
    if (win && !win.closed) {
      win.close();
    }
  } catch {
    // the window is gone already
  }
}
