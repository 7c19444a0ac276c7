/**
 * The key icon of the sidebar tab, the settings and the palette, and the sign-out icon
 * of the identity card. Filled with the `jp-icon3` class so they follow light and dark themes.
 */
import { LabIcon } from '@jupyterlab/ui-components';

// The "vpn_key" glyph of Material Design Icons (Apache-2.0), like JupyterLab's own icons.
const KEY_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <path class="jp-icon3" fill="#616161" d="M12.65 10A6 6 0 0 0 7 6c-3.31 0-6 2.69-6 6s2.69 6 6 6a6 6 0 0 0 5.65-4H17v4h4v-4h2v-4H12.65ZM7 14c-1.1 0-2-.9-2-2s.9-2 2-2 2 .9 2 2-.9 2-2 2Z"/>
</svg>`;

// The "logout" glyph of Material Design Icons (Apache-2.0).
const SIGN_OUT_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <path class="jp-icon3" fill="#616161" d="m17 7-1.41 1.41L18.17 11H8v2h10.17l-2.58 2.58L17 17l5-5-5-5ZM4 5h8V3H4c-1.1 0-2 .9-2 2v14c0 1.1.9 2 2 2h8v-2H4V5Z"/>
</svg>`;

/** The jupyterlab-oidc key icon. */
export const keyIcon = new LabIcon({ name: 'jupyterlab-oidc:key', svgstr: KEY_SVG });

/** Sign out. */
export const signOutIcon = new LabIcon({ name: 'jupyterlab-oidc:sign-out', svgstr: SIGN_OUT_SVG });
