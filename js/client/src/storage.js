// Optional persistence of the caller's identity id and its still-valid
// Cognito token, so an app reopened within the token's lifetime needs no
// vendor call. One record per (API base, user): a record is only ever read
// back for the same endpoint and the same user it was written for.
//
// What is stored (JSON): {v, base, user, identityId, loginKey, region,
// identityPoolId, userId, tenant, token, expiresAt}. Never the login credential and never
// AWS credentials. A token in localStorage is readable by any script running
// on the origin (an XSS bug, a compromised dependency): it buys that script
// AWS credentials of this identity until the token expires. Memory only is
// the default; see README.md, "Persistence".

const VERSION = 1;
const PREFIX = "s3vend:v1:";

/**
 * @typedef {object} StorageLike
 * @property {(key: string) => string | null | Promise<string | null>} getItem
 * @property {(key: string, value: string) => void | Promise<void>} setItem
 * @property {(key: string) => void | Promise<void>} removeItem
 */

/**
 * @typedef {object} PersistedRecord
 * @property {string} identityId
 * @property {string} [loginKey]
 * @property {string} [region]
 * @property {string} [identityPoolId]
 * @property {string} [userId] the vendor's userId (access rules' {userId})
 * @property {string} [tenant] the vendor's tenant (access rules' {tenant})
 * @property {string} [token]
 * @property {number} [expiresAt] token expiry, ms since the epoch
 * @property {number} [obtainedAt] when the token was received, ms since the epoch
 */

/**
 * storageKey is the record's key: "s3vend:v1:<API base>:<scope>", where
 * scope is "user:<user>" or "guest".
 * @param {string} base
 * @param {string} scope
 */
export function storageKey(base, scope) {
  return PREFIX + encodeURIComponent(base) + ":" + scope;
}

/** @param {unknown} v */
const str = (v) => typeof v === "string" && v !== "";

export class Persistence {
  /**
   * @param {StorageLike} storage
   * @param {string} base
   * @param {string} scope
   */
  constructor(storage, base, scope) {
    this.storage = storage;
    this.base = base;
    this.scope = scope;
    this.key = storageKey(base, scope);
  }

  /**
   * read returns the record, or undefined when there is none, it is not
   * ours (another endpoint or user: never served), or it is damaged (then
   * it is removed). Storage failures (quota, private mode, SecurityError)
   * count as no record.
   * @returns {Promise<PersistedRecord | undefined>}
   */
  async read() {
    let raw;
    try {
      raw = await this.storage.getItem(this.key);
    } catch {
      return undefined;
    }
    if (raw == null) return undefined;
    /** @type {any} */
    let r;
    try {
      r = JSON.parse(raw);
    } catch {
      r = undefined;
    }
    const ok =
      r !== null &&
      typeof r === "object" &&
      r.v === VERSION &&
      r.base === this.base &&
      r.scope === this.scope &&
      str(r.identityId) &&
      (r.userId === undefined || str(r.userId)) &&
      (r.tenant === undefined || str(r.tenant)) &&
      (r.token === undefined ||
        (str(r.token) && str(r.loginKey) && str(r.region) && Number.isFinite(r.expiresAt) && Number.isFinite(r.obtainedAt)));
    if (!ok) {
      await this.clear();
      return undefined;
    }
    return {
      identityId: r.identityId,
      loginKey: r.loginKey,
      region: r.region,
      identityPoolId: r.identityPoolId,
      userId: r.userId,
      tenant: r.tenant,
      token: r.token,
      expiresAt: r.expiresAt,
      obtainedAt: r.obtainedAt,
    };
  }

  /** @param {PersistedRecord} rec */
  async write(rec) {
    try {
      await this.storage.setItem(this.key, JSON.stringify({ v: VERSION, base: this.base, scope: this.scope, ...rec }));
    } catch {
      // Quota or a storage that refuses writes: stay memory only.
    }
  }

  async clear() {
    try {
      await this.storage.removeItem(this.key);
    } catch {
      // Nothing more to do: the record could not be read either.
    }
  }
}
