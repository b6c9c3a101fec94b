// fromS3Vend: an AWS SDK for JavaScript v3 credential provider backed by an
// s3vend token vendor.
//
// Enhanced flow (default): POST /v1/token gives {identityId, token,
// expiresAt, loginKey, region}; Cognito GetCredentialsForIdentity with
// Logins {loginKey: token} gives credentials (1 hour). Basic flow: POST
// /v1/credentials gives credentials. Guests: POST /v1/guest.
//
// Why not fromCognitoIdentity({logins: {[loginKey]: token}}) alone (the
// recipe this package replaces): the token expires after the stack's
// tokenDuration (15 minutes by default), the credentials after 1 hour, and
// when the SDK refreshes them it sends the same, now expired, token:
// Cognito answers NotAuthorizedException "Invalid login token. Token
// expired: <now> >= <exp>" and every call fails from then on. Here each
// refresh checks the token first and calls the vendor again when the token
// is expired or about to be.
//
// Refresh timing. The SDK wraps every credential provider of a client in
// memoizeIdentityProvider (@smithy/core, util-identity-and-auth/
// memoizeIdentityProvider.js; applied in @aws-sdk/core
// httpAuthSchemes/aws_sdk/resolveAwsSdkSigV4Config.js), which calls the
// provider again once the credentials are within EXPIRATION_MS = 300_000
// (5 minutes) of `expiration`, and coalesces concurrent calls of that one
// client. This provider keeps its own cache with the same 5-minute window
// (a quarter of the lifetime for credentials shorter than 20 minutes), and
// one refresh in flight for every client sharing it (single flight): 20
// S3Clients making 20 calls at a cold start cause one vendor call and one
// GetCredentialsForIdentity.

import { fromCognitoIdentity } from "@aws-sdk/credential-providers";
import { VendorClient, VendorError, ROUTES, apiBase, badResponse } from "./vendor.js";
import { Persistence } from "./storage.js";
import { IDENTITY_ID } from "./keys.js";

/** Credentials are refreshed this long before they expire (the SDK's window). */
export const DEFAULT_REFRESH_WINDOW_MS = 5 * 60_000;
/** A Cognito token is used only while it stays valid this much longer... */
const TOKEN_MARGIN_MS = 30_000;
/** ...or a fifth of its lifetime, when that is shorter. */
const TOKEN_MARGIN_FRACTION = 0.2;
/** Credentials shorter-lived than 4 windows are refreshed at 3/4 of their lifetime. */
const CREDENTIALS_WINDOW_FRACTION = 0.25;
const DEFAULT_MAX_ATTEMPTS = 4;
const DEFAULT_MAX_BACKOFF_MS = 20_000;

/**
 * @typedef {object} Login
 * @property {string} provider a verifier name of the vendor ("backend", "google", "wechat")
 * @property {string} credential what that verifier checks (the backend's JWT, an ID token, a wx.login code)
 */

/**
 * @typedef {object} S3VendOptions
 * @property {string} endpoint the stack's TokenEndpoint output (".../v1/token"), or the API base URL
 * @property {() => Promise<Login> | Login} [login] called whenever a vendor call is needed (not for every refresh: a still-valid token is reused); required unless `guest`
 * @property {"enhanced" | "basic"} [flow] "enhanced" (default): /v1/token then Cognito GetCredentialsForIdentity; "basic": /v1/credentials
 * @property {boolean} [guest] unauthenticated guest credentials from /v1/guest (no login)
 * @property {string} [region] the identity pool's region; default: the one in the vendor's answer
 * @property {string} [cognitoEndpoint] Cognito Identity endpoint URL (local stand-ins); default: the SDK's
 * @property {import("./storage.js").StorageLike} [storage] persist the identity id and still-valid token (e.g. localStorage); default: memory only
 * @property {string} [user] who signs in (a stable, non-secret id such as the login's `sub`): required with `storage` unless `guest`; records are scoped by it
 * @property {number} [refreshWindow] milliseconds before expiry to refresh credentials (default 300000, the SDK's)
 * @property {number} [maxAttempts] attempts of each vendor call, including the first (default 4)
 * @property {number} [maxBackoff] milliseconds, cap of each wait between vendor attempts, Retry-After included (default 20000)
 * @property {typeof fetch} [fetch] the fetch to call the vendor with (default: globalThis.fetch)
 * @property {() => number} [now] clock in milliseconds since the epoch, for every expiry decision (default Date.now)
 * @property {(ms: number) => Promise<void>} [sleep] waits between vendor attempts (default setTimeout)
 * @property {{send: (command: any) => Promise<any>}} [cognitoClient] a CognitoIdentityClient to use instead of one built per refresh
 */

/**
 * @typedef {object} S3VendCredentials
 * @property {string} accessKeyId
 * @property {string} secretAccessKey
 * @property {string} [sessionToken]
 * @property {Date} expiration
 * @property {string} identityId the caller's Cognito identity id
 */

/**
 * @typedef {object} Identity
 * @property {string} identityId "<region>:<uuid>"; the prefixes private/<identityId>/ and protected/<identityId>/ are the caller's
 * @property {string} [region] the identity pool's region (enhanced flow)
 * @property {string} [identityPoolId]
 * @property {string} [loginKey] the Logins key of the vendor's tokens
 * @property {string} [userId] the caller's {userId} in the stack's access rules (the vendor's userId: the verified user id as a session tag value); absent for guests and when no rule uses it
 * @property {string} [tenant] the caller's {tenant} (the vendor's tenant); absent when the login has none or no rule uses it
 */

/**
 * @typedef {((props?: {forceRefresh?: boolean}) => Promise<S3VendCredentials>) & {
 *   identityId: () => Promise<string>,
 *   identity: () => Promise<Identity>,
 *   signOut: () => Promise<void>,
 * }} S3VendProvider
 */

const KNOWN = new Set([
  "endpoint", "login", "flow", "guest", "region", "cognitoEndpoint", "storage", "user", "refreshWindow",
  "maxAttempts", "maxBackoff", "fetch", "now", "sleep", "cognitoClient",
]);

/**
 * @param {string} name
 * @param {string} want
 */
function optionError(name, want) {
  return new TypeError(`fromS3Vend: options.${name} ${want}`);
}

/** @param {unknown} v */
const isFn = (v) => typeof v === "function";

/**
 * validate checks every option at construction and returns them with
 * defaults; a wrong one is a TypeError naming it.
 * @param {S3VendOptions} o
 */
function validate(o) {
  if (o === null || typeof o !== "object") throw new TypeError("fromS3Vend: options must be an object");
  for (const k of Object.keys(o)) {
    if (!KNOWN.has(k)) throw optionError(k, `is not an option (known: ${[...KNOWN].join(", ")})`);
  }
  const base = typeof o.endpoint === "string" ? apiBase(o.endpoint) : undefined;
  if (!base) {
    throw optionError("endpoint", "must be the stack's TokenEndpoint output, an http(s) URL such as https://abc123.execute-api.eu-west-1.amazonaws.com/v1/token");
  }
  if (o.guest !== undefined && typeof o.guest !== "boolean") throw optionError("guest", "must be a boolean");
  const guest = o.guest === true;
  if (guest && o.login !== undefined) throw optionError("login", "must not be set with guest: true (guests have no login)");
  if (!guest && !isFn(o.login)) throw optionError("login", "must be a function returning {provider, credential} (or set guest: true)");
  const flow = o.flow ?? "enhanced";
  if (flow !== "enhanced" && flow !== "basic") throw optionError("flow", `must be "enhanced" or "basic"`);
  if (guest && o.flow !== undefined) throw optionError("flow", "must not be set with guest: true (the vendor's /v1/guest decides)");
  for (const k of /** @type {const} */ (["region", "user"])) {
    if (o[k] !== undefined && (typeof o[k] !== "string" || o[k] === "")) throw optionError(k, "must be a non-empty string");
  }
  if (o.cognitoEndpoint !== undefined && (typeof o.cognitoEndpoint !== "string" || !/^https?:\/\/[^/]/.test(o.cognitoEndpoint))) {
    throw optionError("cognitoEndpoint", "must be an http(s) URL");
  }
  if (o.storage !== undefined) {
    const s = /** @type {any} */ (o.storage);
    if (s === null || typeof s !== "object" || !isFn(s.getItem) || !isFn(s.setItem) || !isFn(s.removeItem)) {
      throw optionError("storage", "must have getItem, setItem and removeItem (e.g. localStorage)");
    }
    if (!guest && o.user === undefined) {
      throw optionError("user", "is required with storage: a stable id of who signs in, so one user's record is never served to another");
    }
  }
  if (guest && o.user !== undefined) throw optionError("user", "must not be set with guest: true");
  const num = (/** @type {"refreshWindow" | "maxAttempts" | "maxBackoff"} */ k, /** @type {number} */ min, /** @type {number} */ max, /** @type {number} */ dflt, int = false) => {
    const v = o[k];
    if (v === undefined) return dflt;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) {
      throw optionError(k, `must be a${int ? "n integer" : " number"} from ${min} to ${max}`);
    }
    return v;
  };
  const refreshWindow = num("refreshWindow", 0, 12 * 3600_000, DEFAULT_REFRESH_WINDOW_MS);
  const maxAttempts = num("maxAttempts", 1, 10, DEFAULT_MAX_ATTEMPTS, true);
  const maxBackoff = num("maxBackoff", 0, 300_000, DEFAULT_MAX_BACKOFF_MS);
  for (const k of /** @type {const} */ (["fetch", "now", "sleep"])) {
    if (o[k] !== undefined && !isFn(o[k])) throw optionError(k, "must be a function");
  }
  if (o.cognitoClient !== undefined && !isFn(/** @type {any} */ (o.cognitoClient)?.send)) {
    throw optionError("cognitoClient", "must be a client with send() (a CognitoIdentityClient)");
  }
  return {
    base, guest, flow, refreshWindow, maxAttempts, maxBackoff,
    login: o.login,
    region: o.region,
    cognitoEndpoint: o.cognitoEndpoint,
    storage: o.storage,
    user: o.user,
    cognitoClient: o.cognitoClient,
    // A bare window.fetch reference called as a method of another object
    // throws "Illegal invocation" in browsers: always call it on globalThis.
    fetch: o.fetch ?? ((/** @type {any} */ input, /** @type {any} */ init) => globalThis.fetch(input, init)),
    now: o.now ?? Date.now,
    sleep: o.sleep ?? ((/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms))),
  };
}

/**
 * @param {unknown} v
 * @param {string} route
 * @param {string} field
 */
function needString(v, route, field) {
  if (typeof v !== "string" || v === "") throw badResponse(route, `lacks ${field}`);
  return v;
}

/** @param {unknown} v @param {string} route */
function needIdentityId(v, route) {
  const id = needString(v, route, "identityId");
  if (!IDENTITY_ID.test(id)) throw badResponse(route, "has an identityId that is not <region>:<uuid>");
  return id;
}

/**
 * keyValues reads the optional userId and tenant of a token or credentials
 * answer (contract/wire: omitted when the stack's rules use none).
 * @param {Record<string, unknown>} r
 * @param {string} route
 * @returns {{userId?: string, tenant?: string}}
 */
function keyValues(r, route) {
  const userId = r.userId;
  const tenant = r.tenant;
  for (const [field, v] of /** @type {const} */ ([["userId", userId], ["tenant", tenant]])) {
    if (v !== undefined && (typeof v !== "string" || v === "")) throw badResponse(route, `has a ${field} that is not a non-empty string`);
  }
  return { ...(typeof userId === "string" && { userId }), ...(typeof tenant === "string" && { tenant }) };
}

/** @param {unknown} v @param {string} route @param {string} field */
function needTime(v, route, field) {
  const t = typeof v === "string" ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw badResponse(route, `lacks ${field} (an RFC 3339 time)`);
  return t;
}

/**
 * isTokenRefused reports whether Cognito refused the Logins token
 * (NotAuthorizedException: expired, revoked, or from another pool).
 * @param {any} err
 */
function isTokenRefused(err) {
  return err?.name === "NotAuthorizedException" || err?.Code === "NotAuthorizedException";
}

/**
 * fromS3Vend returns a credential provider for any AWS SDK for JavaScript v3
 * client, with identityId(), identity() and signOut().
 *
 *     const credentials = fromS3Vend({
 *       endpoint: outputs.TokenEndpoint,
 *       login: async () => ({ provider: "backend", credential: await myBackendJWT() }),
 *     });
 *     const s3 = new S3Client({ region: outputs.Region, credentials });
 *     const key = privateKey(await credentials.identityId(), "photo.jpg");
 *
 * @param {S3VendOptions} options
 * @returns {S3VendProvider}
 */
export function fromS3Vend(options) {
  const o = validate(options);
  const vendor = new VendorClient({
    base: o.base, fetch: o.fetch, now: o.now, sleep: o.sleep, random: Math.random,
    maxAttempts: o.maxAttempts, maxBackoffMs: o.maxBackoff,
  });
  const persistence = o.storage
    ? new Persistence(o.storage, o.base, o.guest ? "guest" : `user:${o.user}`)
    : undefined;

  /** @type {Identity | undefined} */
  let identity;
  /** @type {{value: string, expiresAt: number, obtainedAt: number} | undefined} */
  let token;
  /** @type {{value: S3VendCredentials, obtainedAt: number} | undefined} */
  let creds;
  /** @type {Promise<void> | undefined} */
  let loaded;
  /** @type {Promise<S3VendCredentials> | undefined} */
  let pending;
  // Bumped by signOut: a refresh begun before it neither keeps nor stores
  // what it gets, so a signed-out user's identity is never served again.
  let generation = 0;

  /** @param {number} gen */
  const current = (gen) => gen === generation;

  const persist = async () => {
    if (!persistence || !identity || o.flow === "basic" && !o.guest) return;
    await persistence.write({
      identityId: identity.identityId,
      loginKey: identity.loginKey,
      region: identity.region,
      identityPoolId: identity.identityPoolId,
      userId: identity.userId,
      tenant: identity.tenant,
      ...(token && { token: token.value, expiresAt: token.expiresAt, obtainedAt: token.obtainedAt }),
    });
  };

  /** @param {number} gen */
  const load = (gen) => {
    if (!persistence) return Promise.resolve();
    loaded ??= persistence.read().then((rec) => {
      if (!rec || !current(gen) || identity) return;
      identity = {
        identityId: rec.identityId, region: rec.region, identityPoolId: rec.identityPoolId, loginKey: rec.loginKey,
        ...(rec.userId && { userId: rec.userId }), ...(rec.tenant && { tenant: rec.tenant }),
      };
      if (rec.token !== undefined && rec.expiresAt !== undefined && rec.obtainedAt !== undefined) {
        token = { value: rec.token, expiresAt: rec.expiresAt, obtainedAt: rec.obtainedAt };
      }
    });
    return loaded;
  };

  /** usable reports whether the token stays valid long enough for one Cognito call. */
  const tokenUsable = () => {
    if (!token) return false;
    const lifetime = Math.max(0, token.expiresAt - token.obtainedAt);
    const margin = Math.min(TOKEN_MARGIN_MS, lifetime * TOKEN_MARGIN_FRACTION);
    return token.expiresAt - o.now() > margin;
  };

  /** needsRefresh: within the refresh window of expiry (or past it). */
  const needsRefresh = () => {
    if (!creds) return true;
    const exp = creds.value.expiration.getTime();
    const lifetime = Math.max(0, exp - creds.obtainedAt);
    const window = Math.min(o.refreshWindow, lifetime * CREDENTIALS_WINDOW_FRACTION);
    return exp - o.now() <= window;
  };

  const callLogin = async () => {
    const l = await /** @type {() => Promise<Login> | Login} */ (o.login)();
    if (l === null || typeof l !== "object" || typeof l.provider !== "string" || l.provider === "" ||
      typeof l.credential !== "string" || l.credential === "") {
      throw new TypeError("fromS3Vend: options.login() must resolve to {provider: string, credential: string}, both non-empty");
    }
    return { provider: l.provider, credential: l.credential };
  };

  /**
   * vendToken: POST /v1/token, keeping the answer (when still current).
   * @param {number} gen
   */
  const vendToken = async (gen) => {
    const route = ROUTES.token;
    const r = await vendor.post(route, await callLogin());
    const obtainedAt = o.now();
    const got = {
      identity: {
        identityId: needIdentityId(r.identityId, route),
        loginKey: needString(r.loginKey, route, "loginKey"),
        region: needString(r.region, route, "region"),
        identityPoolId: typeof r.identityPoolId === "string" ? r.identityPoolId : undefined,
        ...keyValues(r, route),
      },
      token: { value: needString(r.token, route, "token"), expiresAt: needTime(r.expiresAt, route, "expiresAt"), obtainedAt },
    };
    if (current(gen)) {
      identity = got.identity;
      token = got.token;
      await persist();
    }
    return got;
  };

  /**
   * exchange: Cognito GetCredentialsForIdentity(IdentityId, Logins
   * {loginKey: token}) through the SDK's fromCognitoIdentity (a public,
   * unsigned API). `logins` values may be strings or functions returning
   * promises (credential-provider-cognito-identity resolveLogins.js); the
   * string passed here is the token this refresh just checked or obtained.
   * @param {Identity} id
   * @param {string} tok
   * @returns {Promise<S3VendCredentials>}
   */
  const exchange = async (id, tok) => {
    const region = o.region ?? id.region;
    const c = await fromCognitoIdentity({
      identityId: id.identityId,
      logins: { [/** @type {string} */ (id.loginKey)]: tok },
      ...(o.cognitoClient
        ? { client: /** @type {any} */ (o.cognitoClient) }
        : { clientConfig: { region, ...(o.cognitoEndpoint && { endpoint: o.cognitoEndpoint }) } }),
    })();
    if (!(c.expiration instanceof Date)) {
      throw new Error("fromS3Vend: GetCredentialsForIdentity returned credentials without Expiration");
    }
    return {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      sessionToken: c.sessionToken,
      expiration: c.expiration,
      identityId: id.identityId,
    };
  };

  /** @param {number} gen */
  const enhanced = async (gen) => {
    if (identity && tokenUsable()) {
      const id = identity;
      const tok = /** @type {NonNullable<typeof token>} */ (token).value;
      try {
        return await exchange(id, tok);
      } catch (err) {
        if (!isTokenRefused(err)) throw err;
        // Cognito refused a token we thought valid (clock skew, a replaced
        // pool, a revoked identity): forget it and ask the vendor once.
        if (current(gen) && token?.value === tok) token = undefined;
      }
    }
    const got = await vendToken(gen);
    return exchange(got.identity, got.token.value);
  };

  /** @param {number} gen */
  const basic = async (gen) => {
    const route = ROUTES.credentials;
    const r = await vendor.post(route, await callLogin());
    const value = credentialsFrom(r, route);
    const values = keyValues(r, route);
    if (current(gen)) identity = { identityId: value.identityId, ...values };
    return value;
  };

  /** @param {number} gen */
  const guestFlow = async (gen) => {
    const route = ROUTES.guest;
    const prev = identity?.identityId;
    if (prev && tokenUsable() && identity?.loginKey) {
      try {
        return await exchange(identity, /** @type {NonNullable<typeof token>} */ (token).value);
      } catch (err) {
        if (!isTokenRefused(err)) throw err;
      }
    }
    let r;
    try {
      r = await vendor.post(route, prev ? { identityId: prev } : {});
    } catch (err) {
      // The remembered guest identity is no longer a guest of this pool
      // (e.g. the pool was replaced): start a new one.
      if (!(prev && err instanceof VendorError && err.status === 401)) throw err;
      r = await vendor.post(route, {});
    }
    const identityId = needIdentityId(r.identityId, route);
    if (typeof r.accessKeyId === "string") {
      const value = credentialsFrom(r, route);
      if (current(gen)) {
        identity = { identityId };
        token = undefined;
        await persist();
      }
      return value;
    }
    // Basic flow off: a GetOpenIdToken token (valid 10 minutes, docs/api.md).
    const id = {
      identityId,
      loginKey: needString(r.loginKey, route, "loginKey"),
      region: needString(r.region, route, "region"),
      identityPoolId: typeof r.identityPoolId === "string" ? r.identityPoolId : undefined,
    };
    const obtainedAt = o.now();
    const t = { value: needString(r.token, route, "token"), expiresAt: obtainedAt + 10 * 60_000, obtainedAt };
    if (current(gen)) {
      identity = id;
      token = t;
      await persist();
    }
    return exchange(id, t.value);
  };

  /** @param {number} gen */
  const refresh = async (gen) => {
    await load(gen);
    const value = await (o.guest ? guestFlow(gen) : o.flow === "basic" ? basic(gen) : enhanced(gen));
    if (current(gen)) {
      creds = { value, obtainedAt: o.now() };
      if (identity && identity.identityId !== value.identityId) identity = { identityId: value.identityId };
    }
    return value;
  };

  /** @type {S3VendProvider} */
  const provider = Object.assign(
    /** @param {{forceRefresh?: boolean}} [props] */
    async (props) => {
      if (creds && !props?.forceRefresh && !needsRefresh()) return creds.value;
      if (!pending) {
        const gen = generation;
        const p = refresh(gen).finally(() => {
          if (pending === p) pending = undefined;
        });
        pending = p;
      }
      return pending;
    },
    {
      /** identity resolves the caller's identity, from memory or storage when known, else after a refresh. */
      identity: async () => {
        await load(generation);
        if (!identity) await provider();
        return { .../** @type {Identity} */ (identity) };
      },
      /** identityId resolves the caller's Cognito identity id ("<region>:<uuid>"). */
      identityId: async () => (await provider.identity()).identityId,
      /**
       * signOut forgets the identity, token and credentials, in memory and in
       * storage. A refresh still in flight finishes for its callers but keeps
       * nothing. The next call logs in again.
       */
      signOut: async () => {
        generation++;
        identity = undefined;
        token = undefined;
        creds = undefined;
        pending = undefined;
        loaded = Promise.resolve();
        await persistence?.clear();
      },
    },
  );
  return provider;
}

/**
 * credentialsFrom reads the basic-flow answer {identityId, accessKeyId,
 * secretAccessKey, sessionToken, expiration}.
 * @param {Record<string, unknown>} r
 * @param {string} route
 * @returns {S3VendCredentials}
 */
function credentialsFrom(r, route) {
  return {
    identityId: needIdentityId(r.identityId, route),
    accessKeyId: needString(r.accessKeyId, route, "accessKeyId"),
    secretAccessKey: needString(r.secretAccessKey, route, "secretAccessKey"),
    sessionToken: needString(r.sessionToken, route, "sessionToken"),
    expiration: new Date(needTime(r.expiration, route, "expiration")),
  };
}
