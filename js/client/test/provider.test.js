// Unit tests of fromS3Vend with an injected clock, against a fake vendor and
// the real SDK Cognito client talking to a fake Cognito (test/fake.js).
//   node --test js/client/test/*.test.js
import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { fromS3Vend, VendorError, VENDOR_ERROR_CODES, parseAccessRules, key } from "../src/index.js";
import { Clock, startFake, MemoryStorage } from "./fake.js";

const MIN = 60_000;
/** @type {Clock} */
let clock;
/** @type {Awaited<ReturnType<typeof startFake>>} */
let fake;
/** @type {number[]} */
let sleeps;

beforeEach(async () => {
  clock = new Clock();
  fake = await startFake({ clock });
  sleeps = [];
});
afterEach(() => fake.close());

/** @param {Partial<import("../src/provider.js").S3VendOptions>} [extra] */
function provider(extra = {}, user = "alice") {
  return fromS3Vend({
    endpoint: `${fake.url}/v1/token`,
    login: async () => ({ provider: "backend", credential: `jwt-${user}` }),
    cognitoEndpoint: fake.url,
    region: "eu-west-1",
    now: clock.now,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    },
    ...extra,
  });
}

test("a cold start costs one vendor call and one GetCredentialsForIdentity", async () => {
  const p = provider();
  const c = await p();
  assert.match(c.accessKeyId, /^ASIA/);
  assert.equal(c.identityId, "eu-west-1:00000001-0000-4000-8000-000000000000");
  assert.ok(c.expiration instanceof Date);
  assert.equal(await p.identityId(), c.identityId);
  assert.equal(await p(), c, "cached while valid");
  assert.deepEqual([fake.calls.token, fake.calls.gcfi], [1, 1]);
});

test("20 concurrent callers at a cold start share one refresh", async () => {
  const p = provider();
  const all = await Promise.all(Array.from({ length: 20 }, () => p()));
  assert.equal(new Set(all).size, 1);
  assert.deepEqual([fake.calls.token, fake.calls.gcfi], [1, 1]);
  // And again when the credentials need a refresh.
  clock.advance(56 * MIN);
  const again = await Promise.all(Array.from({ length: 20 }, () => p()));
  assert.equal(new Set(again).size, 1);
  assert.notEqual(again[0], all[0]);
  assert.deepEqual([fake.calls.token, fake.calls.gcfi], [2, 2]);
});

test("a refresh after the token expired calls the vendor instead of sending the dead token", async () => {
  // 15-minute token, 1-hour credentials: the recipe with a fixed token
  // string fails here with NotAuthorizedException "Token expired".
  const p = provider();
  const first = await p();
  clock.advance(54 * MIN);
  assert.equal(await p(), first, "not yet inside the 5-minute window");
  assert.deepEqual([fake.calls.token, fake.calls.gcfi], [1, 1]);
  clock.advance(2 * MIN); // 56 min: inside the window
  const second = await p();
  assert.notEqual(second.accessKeyId, first.accessKeyId);
  assert.equal(second.identityId, first.identityId);
  assert.deepEqual([fake.calls.token, fake.calls.gcfi, fake.calls.refused], [2, 2, 0]);
});

test("a token still valid at refresh is reused: no vendor call", async () => {
  fake.tokenTTL = 24 * 60 * MIN;
  const p = provider();
  await p();
  for (let h = 1; h <= 5; h++) {
    clock.advance(56 * MIN);
    await p();
  }
  assert.deepEqual([fake.calls.token, fake.calls.gcfi], [1, 6]);
});

test("a token about to expire (inside its margin) is not used", async () => {
  fake.tokenTTL = 60 * MIN + 20_000; // 20 s left when the credentials refresh at 60 min
  fake.credsTTL = 60 * MIN;
  const p = provider({ refreshWindow: 1 });
  await p();
  clock.advance(60 * MIN);
  await p();
  assert.deepEqual([fake.calls.token, fake.calls.gcfi, fake.calls.refused], [2, 2, 0]);
});

test("a token Cognito refuses although it looks valid (clock skew) costs one vendor call", async () => {
  const p = provider();
  await p();
  clock.advance(10 * MIN); // by our clock the token has 5 minutes left
  fake.cognitoSkew = 6 * MIN; // Cognito's clock is ahead: there it expired
  await p({ forceRefresh: true });
  // The remembered token was tried once, refused, and the vendor asked again.
  assert.deepEqual([fake.calls.token, fake.calls.gcfi, fake.calls.refused], [2, 3, 1]);
});

test("short-lived credentials refresh at three quarters of their lifetime, tokens at four fifths", async () => {
  fake.tokenTTL = 5_000;
  fake.credsTTL = 15_000;
  const p = provider();
  const first = await p();
  clock.advance(11_000);
  assert.equal(await p(), first);
  clock.advance(500); // 11.5 s: inside a quarter (3.75 s) of 15 s
  const second = await p();
  assert.notEqual(second, first);
  assert.deepEqual([fake.calls.token, fake.calls.gcfi, fake.calls.refused], [2, 2, 0]);
});

test("a page open 3 hours: vendor calls follow credential refreshes, never S3 calls", async (t) => {
  for (const [tokenTTL, wantVendor] of [[15 * MIN, 4], [24 * 60 * MIN, 1]]) {
    fake.tokenTTL = tokenTTL;
    fake.calls.token = fake.calls.gcfi = 0;
    const p = provider({}, `u${tokenTTL}`);
    let s3Calls = 0;
    for (let at = 0; at < 3 * 60 * MIN; at += 5_000) {
      await p(); // one S3 call every 5 s
      s3Calls++;
      clock.advance(5_000);
    }
    t.diagnostic(`tokenDuration ${tokenTTL / MIN} min, 1 h credentials, 3 h open: ${s3Calls} S3 calls, ` +
      `${fake.calls.token} vendor calls (${(fake.calls.token / 3).toFixed(2)}/h), ${fake.calls.gcfi} GetCredentialsForIdentity`);
    // Credentials are refreshed at 0, 55, 110 and 165 minutes.
    assert.equal(fake.calls.gcfi, 4);
    assert.equal(fake.calls.token, wantVendor);
    assert.equal(fake.calls.refused, 0);
  }
});

test("429 and 503 are retried with jittered backoff honouring Retry-After", async () => {
  fake.fail.token.push(
    { status: 503, body: JSON.stringify({ error: { code: "upstream_throttled", message: "An upstream service is throttling; retry later." } }), headers: { "retry-after": "2" } },
    { status: 429, body: JSON.stringify({ error: { code: "rate_limited", message: "Too many requests; retry later." } }), headers: { "retry-after": "3" } },
  );
  const p = provider();
  await p();
  assert.equal(fake.calls.token, 3);
  assert.equal(sleeps.length, 2);
  assert.ok(sleeps[0] >= 2000 && sleeps[0] <= 2000 + 250, `first wait ${sleeps[0]} ms`);
  assert.ok(sleeps[1] >= 3000 && sleeps[1] <= 3000 + 500, `second wait ${sleeps[1]} ms`);
});

test("retries are bounded; the last error is a VendorError with retryAfter", async () => {
  for (let i = 0; i < 10; i++) {
    fake.fail.token.push({ status: 503, body: JSON.stringify({ error: { code: "upstream_throttled", message: "An upstream service is throttling; retry later." } }), headers: { "retry-after": "1" } });
  }
  const p = provider({ maxAttempts: 3, maxBackoff: 1500 });
  const err = await p().catch((e) => e);
  assert.ok(err instanceof VendorError, String(err));
  assert.deepEqual([err.status, err.code, err.retryAfter, err.retryable, err.route], [503, "upstream_throttled", 1, true, "/v1/token"]);
  assert.equal(fake.calls.token, 3);
  assert.ok(sleeps.every((ms) => ms <= 1500), `waits ${sleeps}`);
  assert.equal(VENDOR_ERROR_CODES[err.code], err.status);
});

test("a rejected login is not retried", async () => {
  const p = fromS3Vend({ endpoint: fake.url, login: () => ({ provider: "backend", credential: "forged" }), now: clock.now, sleep: async () => { sleeps.push(0); } });
  const err = await p().catch((e) => e);
  assert.ok(err instanceof VendorError);
  assert.deepEqual([err.status, err.code, err.message, err.retryable], [401, "invalid_credential", "The credential was rejected.", false]);
  assert.equal(fake.calls.token, 1);
  assert.equal(sleeps.length, 0);
});

test("an answer that is not the documented JSON is a VendorError bad_response without the body", async () => {
  const cases = [
    { status: 200, body: "<html>proxy login</html>" },
    { status: 200, body: JSON.stringify({ identityId: "eu-west-1:0-0", token: "eyJsecret-token", loginKey: "k", region: "eu-west-1" }) }, // no expiresAt
    { status: 200, body: JSON.stringify({ identityId: "not an id", token: "eyJsecret-token", expiresAt: new Date().toISOString(), loginKey: "k", region: "r" }) },
    { status: 200, body: "[]" },
    { status: 200, body: "null" },
  ];
  for (const c of cases) {
    fake.fail.token.push(c);
    const err = await provider().call(null).catch((/** @type {unknown} */ e) => e);
    assert.ok(err instanceof VendorError, String(err));
    assert.equal(err.code, "bad_response");
    assert.equal(err.status, 200);
    assert.doesNotMatch(`${err.message} ${err.stack} ${JSON.stringify(err)}`, /secret-token|proxy login/);
  }
});

test("a non-vendor error body keeps the status: http_<status>", async () => {
  fake.fail.token.push({ status: 500, body: JSON.stringify({ message: "Internal Server Error" }) });
  const err = await provider().call(null).catch((/** @type {unknown} */ e) => e);
  assert.ok(err instanceof VendorError);
  assert.deepEqual([err.status, err.code, err.message, err.retryable], [500, "http_500", "Internal Server Error", false]);
  assert.equal(fake.calls.token, 1);
});

test("no answer at all is a retried network_error", async () => {
  let calls = 0;
  const p = provider({
    fetch: async () => {
      calls++;
      throw new TypeError("Failed to fetch");
    },
  });
  const err = await p().catch((e) => e);
  assert.ok(err instanceof VendorError);
  assert.deepEqual([err.status, err.code, err.retryable], [0, "network_error", true]);
  assert.equal(calls, 4);
  assert.ok(err.cause instanceof TypeError);
});

test("bad options are a TypeError naming the option, at construction", () => {
  const login = () => ({ provider: "backend", credential: "x" });
  const ok = { endpoint: "https://api.example.com/v1/token", login };
  /** @type {Array<[Record<string, unknown>, RegExp]>} */
  const cases = [
    [{ ...ok, endpoint: undefined }, /options\.endpoint/],
    [{ ...ok, endpoint: "api.example.com" }, /options\.endpoint/],
    [{ ...ok, endpoint: "https://api.example.com/v1/token?x=1" }, /options\.endpoint/],
    [{ ...ok, endpoint: "ftp://api.example.com" }, /options\.endpoint/],
    [{ ...ok, login: undefined }, /options\.login/],
    [{ ...ok, login: "jwt" }, /options\.login/],
    [{ ...ok, guest: true }, /options\.login/],
    [{ ...ok, flow: "classic" }, /options\.flow/],
    [{ ...ok, guest: "yes" }, /options\.guest/],
    [{ ...ok, region: "" }, /options\.region/],
    [{ ...ok, storage: {} }, /options\.storage/],
    [{ ...ok, storage: new MemoryStorage() }, /options\.user/],
    [{ ...ok, user: 7 }, /options\.user/],
    [{ ...ok, refreshWindow: -1 }, /options\.refreshWindow/],
    [{ ...ok, maxAttempts: 0 }, /options\.maxAttempts/],
    [{ ...ok, maxAttempts: 2.5 }, /options\.maxAttempts/],
    [{ ...ok, maxBackoff: Infinity }, /options\.maxBackoff/],
    [{ ...ok, fetch: {} }, /options\.fetch/],
    [{ ...ok, now: 5 }, /options\.now/],
    [{ ...ok, cognitoEndpoint: "localhost:1" }, /options\.cognitoEndpoint/],
    [{ ...ok, cognitoClient: {} }, /options\.cognitoClient/],
    [{ ...ok, tokenEndpoint: "https://x" }, /options\.tokenEndpoint is not an option/],
  ];
  for (const [opts, want] of cases) {
    assert.throws(() => fromS3Vend(/** @type {any} */ (opts)), (/** @type {unknown} */ e) => e instanceof TypeError && want.test(e.message), JSON.stringify(opts));
  }
  assert.throws(() => fromS3Vend(/** @type {any} */ (undefined)), TypeError);
  fromS3Vend(ok);
  fromS3Vend({ endpoint: "http://127.0.0.1:8080", guest: true });
});

test("a login callback answering something else is a TypeError", async () => {
  for (const bad of [undefined, "jwt", { provider: "backend" }, { provider: "", credential: "x" }, { provider: "backend", credential: 5 }]) {
    const p = provider({ login: async () => /** @type {any} */ (bad) });
    await assert.rejects(p(), (/** @type {unknown} */ e) => e instanceof TypeError && /options\.login\(\)/.test(e.message));
  }
  assert.equal(fake.calls.token, 0);
});

test("persistence: reopening within the token's lifetime costs no vendor call; without storage, one", async () => {
  const storage = new MemoryStorage();
  fake.tenants.set("alice", "backend:acme");
  const first = await provider({ storage, user: "alice" })();
  assert.deepEqual([fake.calls.token, fake.calls.gcfi], [1, 1]);
  const [key, raw] = [...storage.map][0];
  assert.match(key, /^s3vend:v1:.*:user:alice$/);
  const rec = JSON.parse(raw);
  assert.deepEqual(Object.keys(rec).sort(), ["base", "expiresAt", "identityId", "identityPoolId", "loginKey", "obtainedAt", "region", "scope", "tenant", "token", "userId", "v"]);
  assert.doesNotMatch(raw, /jwt-alice|secret|session|ASIA/, "neither the login nor AWS credentials are stored");

  clock.advance(5 * MIN); // the app is reopened
  const reopened = provider({ storage, user: "alice" });
  assert.equal(await reopened.identityId(), first.identityId, "identity from storage, no call");
  const who = await reopened.identity();
  assert.deepEqual([who.userId, who.tenant], ["backend:alice", "backend:acme"], "the access rules' key values from storage too");
  assert.deepEqual([fake.calls.token, fake.calls.gcfi], [1, 1]);
  await reopened();
  assert.deepEqual([fake.calls.token, fake.calls.gcfi], [1, 2]);

  await provider()(); // no storage: a vendor call
  assert.equal(fake.calls.token, 2);

  clock.advance(15 * MIN); // past the token's lifetime
  await provider({ storage, user: "alice" })();
  assert.deepEqual([fake.calls.token, fake.calls.refused], [3, 0]);
});

test("persistence is per user and per endpoint; signOut clears it", async () => {
  const storage = new MemoryStorage();
  const alice = provider({ storage, user: "alice" }, "alice");
  const a = await alice();
  // Bob in the same tab, after Alice signed out.
  await alice.signOut();
  assert.equal(storage.map.size, 0);
  const bob = provider({ storage, user: "bob" }, "bob");
  const b = await bob();
  assert.notEqual(b.identityId, a.identityId);
  assert.equal(await bob.identityId(), b.identityId);
  // Alice again: her record is gone, so she logs in (and gets her identity).
  const alice2 = provider({ storage, user: "alice" }, "alice");
  assert.equal(await alice2.identityId(), a.identityId);
  assert.equal(fake.calls.token, 3);
  // The same user at another endpoint does not read this record.
  const other = await startFake({ clock });
  try {
    const elsewhere = fromS3Vend({
      endpoint: other.url, login: async () => ({ provider: "backend", credential: "jwt-alice" }), cognitoEndpoint: other.url,
      region: "eu-west-1", now: clock.now, storage, user: "alice",
    });
    await elsewhere();
    assert.equal(other.calls.token, 1, "another endpoint's vendor was called");
    assert.equal(fake.calls.gcfi, 3, "this endpoint's token was not sent elsewhere");
  } finally {
    await other.close();
  }
  // A damaged or foreign record is removed, not served.
  // Each check on its own: a record of another endpoint, of another user, or damaged.
  const foreign = { v: 1, base: fake.url, scope: "user:alice", identityId: "eu-west-1:1-2", token: "t", loginKey: "k", region: "r", expiresAt: clock.now() + MIN, obtainedAt: clock.now() };
  for (const raw of ["{", JSON.stringify({ ...foreign, base: "https://evil.example" }), JSON.stringify({ ...foreign, scope: "user:carol" })]) {
    const k = [...storage.map.keys()].find((x) => x.endsWith(":user:alice") && x.includes(encodeURIComponent(fake.url)));
    storage.setItem(/** @type {string} */ (k), raw);
    await provider({ storage, user: "alice" }, "alice")();
  }
  assert.equal(fake.calls.refused, 0);
  // The control: the same record with this endpoint and user is read (and its token tried).
  storage.setItem(/** @type {string} */ ([...storage.map.keys()].find((x) => x.endsWith(":user:alice") && x.includes(encodeURIComponent(fake.url)))), JSON.stringify(foreign));
  await provider({ storage, user: "alice" }, "alice")();
  assert.equal(fake.calls.refused, 1);
});

test("signOut during a refresh: the old refresh keeps nothing, the next user gets their own identity", async () => {
  let user = "alice";
  fake.tokenDelay = 100;
  const storage = new MemoryStorage();
  const p = fromS3Vend({
    endpoint: fake.url, login: async () => ({ provider: "backend", credential: `jwt-${user}` }),
    cognitoEndpoint: fake.url, region: "eu-west-1", now: clock.now, storage, user: "shared-device",
  });
  const inFlight = p();
  await new Promise((r) => setTimeout(r, 20));
  await p.signOut();
  user = "bob";
  const aliceCreds = await inFlight; // its caller still gets what it asked for
  assert.equal(storage.map.size, 0, "the signed-out refresh stored nothing");
  const bobId = await p.identityId();
  assert.notEqual(bobId, aliceCreds.identityId);
  assert.equal((await p()).identityId, bobId);
});

test("identity() carries the vendor's userId and tenant for access-rule keys, in both flows", async () => {
  fake.tenants.set("alice", "backend:acme");
  const rules = parseAccessRules(JSON.stringify([
    { name: "avatars", path: "avatars/{userId}/*", owner: ["put"] },
    { name: "teams", path: "teams/{tenant}/*", tenant: ["put"] },
  ]));
  for (const flow of /** @type {const} */ (["enhanced", "basic"])) {
    const p = provider({ flow });
    const who = await p.identity();
    assert.equal(who.identityId, await p.identityId());
    assert.deepEqual([who.userId, who.tenant], ["backend:alice", "backend:acme"], flow);
    assert.equal(key(rules, "teams", who, "plan.txt"), "teams/backend:acme/plan.txt");
  }
  // No tenant in the answer: a {tenant} key is refused, naming the fix.
  const bob = await provider({}, "bob").identity();
  assert.equal(bob.tenant, undefined);
  assert.equal(key(rules, "avatars", bob, "me.jpg"), "avatars/backend:bob/me.jpg");
  assert.throws(() => key(rules, "teams", bob, "x"), { name: "AccessRuleError", code: "missing_value" });
});

test("a userId or tenant that is not a non-empty string is a bad_response", async () => {
  for (const bad of [{ userId: 42 }, { tenant: "" }]) {
    fake.fail.token.push({ status: 200, body: JSON.stringify({
      identityId: "eu-west-1:00000001-0000-4000-8000-000000000000", token: "t", expiresAt: new Date(clock.now() + MIN).toISOString(),
      region: "eu-west-1", loginKey: "cognito-identity.amazonaws.com", ...bad,
    }) });
    await assert.rejects(provider()(), { name: "VendorError", code: "bad_response", message: new RegExp(`has a ${Object.keys(bad)[0]} that is not`) });
  }
});

test("basic flow: /v1/credentials, again at each refresh", async () => {
  const p = provider({ flow: "basic" });
  const c = await p();
  assert.equal(c.identityId, await p.identityId());
  clock.advance(56 * MIN);
  await p();
  assert.deepEqual([fake.calls.credentials, fake.calls.token, fake.calls.gcfi], [2, 0, 0]);
});

test("guests keep their identity across refreshes and persist it", async () => {
  const storage = new MemoryStorage();
  const g = fromS3Vend({ endpoint: fake.url, guest: true, cognitoEndpoint: fake.url, region: "eu-west-1", now: clock.now, storage });
  const first = await g();
  clock.advance(56 * MIN);
  const second = await g();
  assert.equal(second.identityId, first.identityId);
  assert.equal(fake.calls.guest, 2);
  assert.match(fake.bodies.filter((b) => b.includes("identityId")).join(), new RegExp(first.identityId));
  // Reopened: the stored guest identity is reused.
  const g2 = fromS3Vend({ endpoint: fake.url, guest: true, cognitoEndpoint: fake.url, region: "eu-west-1", now: clock.now, storage });
  assert.equal(await g2.identityId(), first.identityId);
  // A guest identity the vendor no longer knows: a new one.
  fake.guests.clear();
  clock.advance(56 * MIN);
  const third = await g();
  assert.notEqual(third.identityId, first.identityId);
});

test("nothing logs the login or tokens", async () => {
  const seen = [];
  const methods = /** @type {const} */ (["log", "info", "warn", "error", "debug", "trace"]);
  const saved = methods.map((m) => console[m]);
  for (const m of methods) console[m] = (...a) => void seen.push(a);
  try {
    const storage = new MemoryStorage();
    const p = provider({ storage, user: "alice" });
    await p();
    clock.advance(56 * MIN);
    await p();
    fake.fail.token.push({ status: 401, body: JSON.stringify({ error: { code: "invalid_credential", message: "The credential was rejected." } }) });
    await p.signOut();
    const err = await p().catch((e) => e);
    assert.ok(err instanceof VendorError);
    assert.doesNotMatch(`${err.message}\n${err.stack}\n${JSON.stringify(err)}`, /jwt-alice|tok-/);
  } finally {
    methods.forEach((m, i) => (console[m] = saved[i]));
  }
  assert.deepEqual(seen, []);
});
