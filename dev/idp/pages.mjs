// HTML for every page a browser can land on at this provider. Self-contained
// (no web fonts or scripts from elsewhere) so browser tests run offline, with
// stable element ids so Playwright and plain HTTP clients can find things.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function layout(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}
label{display:block;margin:.5rem 0 .25rem}
input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}
button{margin:.75rem .5rem 0 0;padding:.5rem 1rem;font-size:1rem}
.error{color:#a00;font-weight:bold}
code{font-size:.9rem}
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

/**
 * The sign-in page. `email` is only a default (from login_hint): whoever uses
 * the page may type another address, which is how tests provoke an identity
 * mismatch.
 */
export function loginPage({ uid, clientId, email, error, users }) {
  const base = `/interaction/${encodeURIComponent(uid)}`;
  const errorBlock = error
    ? `<p class="error" id="error" role="alert">${escapeHtml(error)}</p>`
    : '';
  const userItems = users
    .map((u) => `<li><code>${escapeHtml(u.email)}</code> — ${escapeHtml(u.name)}${u.email_verified ? '' : ' (email not verified)'}</li>`)
    .join('\n');
  return layout('Sign in to the demo provider', `
<h1>Sign in to the demo provider</h1>
<p>Application: <code id="client-id">${escapeHtml(clientId)}</code></p>
${errorBlock}
<form method="post" action="${escapeHtml(`${base}/login`)}" id="login-form">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required autofocus value="${escapeHtml(email)}">
<button type="submit" id="sign-in">Sign in</button>
</form>
<form method="post" action="${escapeHtml(`${base}/abort`)}" id="deny-form">
<button type="submit" id="deny">Deny</button>
</form>
<h2>Known users</h2>
<ul id="known-users">
${userItems}
</ul>
<p>No password: this provider exists for tests and demos only.</p>`);
}

// Device authorization grant (RFC 8628). `form` is oidc-provider's form (hidden xsrf,
// user_code and, on the confirm page, confirm=yes); plain HTTP clients post its hidden
// inputs, adding abort=yes instead of confirm to deny.

/** Where a person types the code a device shows (GET /device without user_code). */
export function deviceInputPage({ form, error }) {
  const errorBlock = error ? `<p class="error" id="error" role="alert">${escapeHtml(error)}</p>` : '';
  return layout('Connect a device', `
<h1>Connect a device</h1>
${errorBlock}
<p>Enter the code your device shows.</p>
${form}
<button type="submit" form="op.deviceInputForm" id="continue">Continue</button>`);
}

/** Asked before a device sign-in goes on: which client, which code. */
export function deviceConfirmPage({ form, clientId, clientName, userCode }) {
  return layout('Confirm the device', `
<h1>Confirm the device</h1>
<p>Application: <code id="client-id">${escapeHtml(clientName || clientId)}</code></p>
<p>Code: <code id="user-code">${escapeHtml(userCode)}</code></p>
<p>Continue only if your device shows this code and you started the sign-in.</p>
${form}
<button type="submit" form="op.deviceConfirmForm" id="confirm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes" id="deny">Deny</button>`);
}

export function deviceSuccessPage({ clientId }) {
  const to = clientId ? ` to <code>${escapeHtml(clientId)}</code>` : '';
  return layout('Device connected', `
<h1 id="device-success">Device connected</h1>
<p>You are signed in${to}. You can close this page and go back to your device.</p>`);
}

/** Asked before RP-initiated logout; `form` is oidc-provider's hidden form. */
export function logoutPage({ host, form }) {
  return layout('Sign out of the demo provider', `
<h1>Sign out of the demo provider?</h1>
<p>You are signed in at <code>${escapeHtml(host)}</code>.</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" id="sign-out">Sign out</button>
<button type="submit" form="op.logoutForm" id="stay-signed-in">Stay signed in</button>`);
}

export function loggedOutPage({ clientId }) {
  const from = clientId ? ` from <code>${escapeHtml(clientId)}</code>` : '';
  return layout('Signed out', `
<h1 id="signed-out">Signed out</h1>
<p>You have been signed out${from}.</p>`);
}

/** `out` is the OAuth error object oidc-provider would otherwise show. */
export function errorPage(out) {
  const rows = Object.entries(out)
    .map(([key, value]) => `<dt>${escapeHtml(key)}</dt><dd>${escapeHtml(value)}</dd>`)
    .join('\n');
  return layout('Sign-in error', `
<h1>Something went wrong</h1>
<dl id="error">
${rows}
</dl>`);
}
