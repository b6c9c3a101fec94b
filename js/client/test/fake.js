// A fake token vendor and Cognito Identity endpoint on 127.0.0.1 for the
// provider's unit tests, driven by one injected clock. The Cognito side
// speaks AWS JSON 1.1 to the real SDK client (fromCognitoIdentity) and
// refuses an expired token exactly as Cognito does:
// NotAuthorizedException "Invalid login token. Token expired: <now> >= <exp>".
import http from "node:http";

export class Clock {
  constructor(t = Date.parse("2026-01-01T00:00:00Z")) {
    this.t = t;
  }
  now = () => this.t;
  /** @param {number} ms */
  advance(ms) {
    this.t += ms;
  }
}

const REGION = "eu-west-1";
const LOGIN_KEY = "cognito-identity.amazonaws.com";

/**
 * @param {{clock: Clock, tokenTTL?: number, credsTTL?: number, cognitoSkew?: number}} o
 */
export async function startFake(o) {
  const f = {
    clock: o.clock,
    tokenTTL: o.tokenTTL ?? 15 * 60_000,
    credsTTL: o.credsTTL ?? 60 * 60_000,
    cognitoSkew: o.cognitoSkew ?? 0, // Cognito's clock minus ours
    calls: { token: 0, credentials: 0, guest: 0, gcfi: 0, refused: 0 },
    /** @type {Record<string, Array<{status: number, body?: string, headers?: Record<string, string>}>>} */
    fail: { token: [], credentials: [], guest: [] },
    /** @type {Map<string, {identityId: string, exp: number}>} */
    tokens: new Map(),
    /** @type {Map<string, string>} */
    identities: new Map(),
    /** @type {Set<string>} */
    guests: new Set(),
    /** user -> tenant: the answers' tenant (userId is always "backend:<user>") */
    tenants: /** @type {Map<string, string>} */ (new Map()),
    /** delay (ms of real time) before answering /v1/token */
    tokenDelay: 0,
    /** every request body seen, for the no-leak checks */
    bodies: /** @type {string[]} */ ([]),
    n: 0,
    url: "",
    close: () => Promise.resolve(),
  };
  const idFor = (/** @type {string} */ user) => {
    if (!f.identities.has(user)) {
      f.n++;
      f.identities.set(user, `${REGION}:${String(f.n).padStart(8, "0")}-0000-4000-8000-000000000000`);
    }
    return /** @type {string} */ (f.identities.get(user));
  };
  const issue = (/** @type {string} */ identityId, /** @type {number} */ ttl) => {
    const tok = `tok-${++f.n}`;
    f.tokens.set(tok, { identityId, exp: f.clock.now() + ttl });
    return tok;
  };
  const server = http.createServer(async (req, res) => {
    let body = "";
    for await (const c of req) body += c;
    f.bodies.push(body);
    const send = (/** @type {number} */ status, /** @type {unknown} */ json, /** @type {Record<string, string>} */ headers = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(typeof json === "string" ? json : JSON.stringify(json));
    };
    const route = /** @type {"token" | "credentials" | "guest"} */ ((req.url ?? "").replace(/^\/v1\//, ""));
    if (req.url === "/") return cognito(req, body, send);
    if (!(route in f.fail)) return send(404, { error: { code: "not_found", message: "Not found." } });
    f.calls[route]++;
    const injected = f.fail[route].shift();
    if (injected) return send(injected.status, injected.body ?? "", injected.headers);
    const b = JSON.parse(body || "{}");
    if (route === "guest") {
      if (b.identityId && !f.guests.has(b.identityId)) return send(401, { error: { code: "invalid_credential", message: "The credential was rejected." } });
      const identityId = b.identityId ?? idFor(`guest-${f.n + 1}`);
      f.guests.add(identityId);
      return send(200, { identityId, token: issue(identityId, 10 * 60_000), identityPoolId: `${REGION}:pool`, region: REGION, loginKey: LOGIN_KEY });
    }
    const m = /^jwt-([a-z0-9-]+)$/.exec(b.credential ?? "");
    if (b.provider !== "backend" || !m) return send(401, { error: { code: "invalid_credential", message: "The credential was rejected." } });
    if (f.tokenDelay) await new Promise((r) => setTimeout(r, f.tokenDelay));
    const identityId = idFor(m[1]);
    // The access rules' key values (contract/wire): the session tag values.
    const tenant = f.tenants.get(m[1]);
    const values = { userId: `backend:${m[1]}`, ...(tenant && { tenant }) };
    if (route === "credentials") {
      return send(200, {
        identityId, accessKeyId: `ASIA${++f.n}`, secretAccessKey: "secret", sessionToken: "session",
        expiration: new Date(f.clock.now() + f.credsTTL).toISOString(), ...values,
      });
    }
    send(200, {
      identityId, token: issue(identityId, f.tokenTTL), expiresAt: new Date(f.clock.now() + f.tokenTTL).toISOString(),
      identityPoolId: `${REGION}:pool`, region: REGION, loginKey: LOGIN_KEY, ...values,
    });
  });
  /**
   * @param {http.IncomingMessage} req
   * @param {string} body
   * @param {(status: number, json: unknown, headers?: Record<string, string>) => void} send
   */
  function cognito(req, body, send) {
    const err = (/** @type {string} */ type, /** @type {string} */ message) => {
      f.calls.refused++;
      send(400, { __type: type, message }, { "x-amzn-errortype": type, "content-type": "application/x-amz-json-1.1" });
    };
    if (req.headers["x-amz-target"] !== "AWSCognitoIdentityService.GetCredentialsForIdentity") {
      return err("UnknownOperationException", "unknown operation");
    }
    f.calls.gcfi++;
    const b = JSON.parse(body);
    const tok = b.Logins?.[LOGIN_KEY];
    const t = f.tokens.get(tok);
    const now = Math.floor((f.clock.now() + f.cognitoSkew) / 1000);
    if (!t) return err("NotAuthorizedException", "Invalid login token. Not a valid OpenId Connect identity token.");
    if (now >= Math.floor(t.exp / 1000)) return err("NotAuthorizedException", `Invalid login token. Token expired: ${now} >= ${Math.floor(t.exp / 1000)}`);
    if (t.identityId !== b.IdentityId) return err("NotAuthorizedException", "Invalid login token. Token is not from a supported provider of this identity pool.");
    send(200, {
      IdentityId: b.IdentityId,
      Credentials: {
        AccessKeyId: `ASIA${++f.n}`, SecretKey: "secret", SessionToken: `session-${f.n}`,
        Expiration: Math.floor((f.clock.now() + f.credsTTL) / 1000),
      },
    }, { "content-type": "application/x-amz-json-1.1" });
  }
  await new Promise((/** @type {(v?: unknown) => void} */ r) => server.listen(0, "127.0.0.1", r));
  const addr = /** @type {import("node:net").AddressInfo} */ (server.address());
  f.url = `http://127.0.0.1:${addr.port}`;
  f.close = () => new Promise((r) => server.close(() => r(undefined)));
  return f;
}

/** A Storage in memory, like localStorage. */
export class MemoryStorage {
  /** @type {Map<string, string>} */
  map = new Map();
  /** @param {string} k */
  getItem(k) {
    return this.map.get(k) ?? null;
  }
  /** @param {string} k @param {string} v */
  setItem(k, v) {
    this.map.set(k, String(v));
  }
  /** @param {string} k */
  removeItem(k) {
    this.map.delete(k);
  }
}
