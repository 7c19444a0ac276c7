// In-memory storage for oidc-provider models. We keep our own instead of the
// bundled one so the test-control routes can enumerate grants and sessions
// (to revoke them "as an admin") — the bundled adapter has no way to list.
// Everything lives in this process and is gone on restart, which is what a
// test provider wants.

// Models whose records belong to a grant and die with it.
const GRANT_MEMBERS = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

const nowSeconds = () => Math.floor(Date.now() / 1000);

// An expired device code is kept this long, so a late poll is answered expired_token
// (RFC 8628 §3.5; oidc-provider finds it with ignoreExpiration) rather than invalid_grant.
const KEEP_EXPIRED_SECONDS = { DeviceCode: 600 };

/**
 * One store per Provider: returns the adapter factory to put in the provider
 * configuration plus the admin operations the control routes need.
 */
export function createStore() {
  const records = new Map(); // "Model:id" -> { model, id, payload, expiresAt }
  const grantMembers = new Map(); // grantId -> Set of "Model:id"
  const sessionIdByUid = new Map();
  const idByUserCode = new Map();

  function read(key) {
    const record = records.get(key);
    if (!record) return undefined;
    if (record.expiresAt !== undefined && record.expiresAt <= Date.now()) {
      drop(key);
      return undefined;
    }
    return record;
  }

  function drop(key) {
    const record = records.get(key);
    if (!record) return;
    records.delete(key);
    const { payload, model, id } = record;
    if (model === 'Session' && sessionIdByUid.get(payload.uid) === id) {
      sessionIdByUid.delete(payload.uid);
    }
    if (payload.userCode && idByUserCode.get(payload.userCode) === id) {
      idByUserCode.delete(payload.userCode);
    }
    if (payload.grantId) {
      const members = grantMembers.get(payload.grantId);
      members?.delete(key);
      if (members && members.size === 0) grantMembers.delete(payload.grantId);
    }
  }

  function dropGrant(grantId) {
    for (const key of [...(grantMembers.get(grantId) ?? [])]) drop(key);
    grantMembers.delete(grantId);
    drop(`Grant:${grantId}`);
  }

  function recordsOf(model) {
    return [...records.values()].filter((r) => r.model === model);
  }

  class Adapter {
    constructor(model) {
      this.model = model;
    }

    key(id) {
      return `${this.model}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      drop(key);
      const keep = KEEP_EXPIRED_SECONDS[this.model] ?? 0;
      const expiresAt = typeof expiresIn === 'number' ? Date.now() + (expiresIn + keep) * 1000 : undefined;
      records.set(key, { model: this.model, id, payload, expiresAt });
      if (this.model === 'Session') sessionIdByUid.set(payload.uid, id);
      if (payload.userCode) idByUserCode.set(payload.userCode, id);
      if (GRANT_MEMBERS.has(this.model) && payload.grantId) {
        if (!grantMembers.has(payload.grantId)) grantMembers.set(payload.grantId, new Set());
        grantMembers.get(payload.grantId).add(key);
      }
    }

    async find(id) {
      return read(this.key(id))?.payload;
    }

    async findByUid(uid) {
      const id = sessionIdByUid.get(uid);
      return id === undefined ? undefined : this.find(id);
    }

    async findByUserCode(userCode) {
      const id = idByUserCode.get(userCode);
      return id === undefined ? undefined : this.find(id);
    }

    async consume(id) {
      const record = read(this.key(id));
      if (record) record.payload.consumed = nowSeconds();
    }

    async destroy(id) {
      drop(this.key(id));
    }

    async revokeByGrantId(grantId) {
      for (const key of [...(grantMembers.get(grantId) ?? [])]) drop(key);
      grantMembers.delete(grantId);
    }
  }

  /**
   * Revoke like an administrator would: every grant (with its codes and
   * tokens) and every browser session of `accountId`, or of everyone when
   * `accountId` is undefined — then client_credentials tokens too.
   */
  function revokeAll(accountId) {
    const matches = (payload) => accountId === undefined || payload.accountId === accountId;
    const grants = recordsOf('Grant').filter((r) => matches(r.payload));
    grants.forEach((r) => dropGrant(r.id));
    const sessions = recordsOf('Session').filter((r) => matches(r.payload));
    sessions.forEach((r) => drop(`Session:${r.id}`));
    // Tokens can outlive a grant record only if it expired first; catch them too.
    const orphans = ['AccessToken', 'RefreshToken', 'AuthorizationCode']
      .flatMap(recordsOf)
      .filter((r) => matches(r.payload));
    orphans.forEach((r) => drop(`${r.model}:${r.id}`));
    let clientCredentials = 0;
    if (accountId === undefined) {
      const machineTokens = recordsOf('ClientCredentials');
      machineTokens.forEach((r) => drop(`ClientCredentials:${r.id}`));
      clientCredentials = machineTokens.length;
    }
    return {
      grants: grants.length,
      sessions: sessions.length,
      orphan_tokens: orphans.length,
      client_credentials: clientCredentials,
    };
  }

  // Expired records are dropped lazily on read; this keeps a long demo run small.
  const sweeper = setInterval(() => {
    for (const key of [...records.keys()]) read(key);
  }, 60_000);
  sweeper.unref();

  return { Adapter, revokeAll };
}
