// Fixed demo users. `sub` is an opaque id on purpose: clients must not treat
// the email as the subject, because real providers (Zitadel, Entra ID) don't.
// carol has an unverified email so tests can check `email_verified: false`.

const USERS = [
  { sub: 'user-alice', email: 'alice@example.com', emailVerified: true, given: 'Alice', family: 'Example' },
  { sub: 'user-bob', email: 'bob@example.com', emailVerified: true, given: 'Bob', family: 'Example' },
  { sub: 'user-carol', email: 'carol@example.com', emailVerified: false, given: 'Carol', family: 'Example' },
  { sub: 'user-demo', email: 'demo@example.com', emailVerified: true, given: 'Demo', family: 'User' },
];

function claimsOf(user) {
  return {
    sub: user.sub,
    email: user.email,
    email_verified: user.emailVerified,
    name: `${user.given} ${user.family}`,
    given_name: user.given,
    family_name: user.family,
    preferred_username: user.email.split('@')[0],
  };
}

/** All users as their claims, for the sign-in page and the README. */
export function listUsers() {
  return USERS.map(claimsOf);
}

/** The user with this email (case-insensitive), or undefined. */
export function findUserByEmail(email) {
  const wanted = String(email ?? '').trim().toLowerCase();
  const user = USERS.find((u) => u.email === wanted);
  return user && claimsOf(user);
}

/** The user with this `sub`, or undefined. */
export function findUserBySub(sub) {
  const user = USERS.find((u) => u.sub === sub);
  return user && claimsOf(user);
}

/**
 * oidc-provider's `findAccount` hook. We return every claim and let the
 * provider filter them by granted scopes and by the id_token/userinfo profile.
 */
export async function findAccount(_ctx, sub) {
  const claims = findUserBySub(sub);
  if (!claims) return undefined;
  return {
    accountId: sub,
    async claims() {
      return { ...claims };
    },
  };
}
