// End-to-end test of @s3vend/miniprogram against a running s3vend stack (the
// local stand-ins, from test/e2e/miniprogram_test.go): the SDK bundled as
// users get it (build.mjs), run in a realm with only ECMAScript, wx and
// timers (sandbox.mjs), whose wx shim does real HTTPS (wx-shim.mjs).
//
// Environment: S3VEND_ENDPOINT (API base), S3VEND_BUCKET, AWS_REGION,
// AWS_ENDPOINT_URL_S3 (path-style S3 base: the stand-in), S3VEND_PROVIDER,
// S3VEND_LOGIN ("wx.login": the SDK's default login, codes from the control
// server's WeChat minter; "option": a login() option returning the control
// server's hs256 token), S3VEND_TEST_CONTROL (GET /login?user=, GET
// /object?key=, GET /uploads), NODE_EXTRA_CA_CERTS (the stand-ins' CA).
// Lines "# figure: ..." are the measurements the closing report quotes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import { bundle } from "../build.mjs";
import { loadSDK } from "./sandbox.mjs";
import { createWx } from "./wx-shim.mjs";

const MiB = 1024 * 1024;
const HOUR = 3600 * 1000;

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is required (see the header of ${import.meta.url})`);
  return v;
}

let dir, bundleFile, cfg;
const run = crypto.randomBytes(4).toString("hex");

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "s3vend-mp-e2e-"));
  bundleFile = (await bundle({ outfile: path.join(dir, "s3vend-miniprogram.js") })).outfile;
  cfg = {
    endpoint: env("S3VEND_ENDPOINT"),
    bucket: env("S3VEND_BUCKET"),
    region: env("AWS_REGION"),
    s3Endpoint: env("AWS_ENDPOINT_URL_S3"),
    provider: env("S3VEND_PROVIDER"),
    login: env("S3VEND_LOGIN"),
    control: env("S3VEND_TEST_CONTROL"),
  };
});

after(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

const control = {
  async login(user) {
    const res = await fetch(`${cfg.control}/login?user=${encodeURIComponent(user)}`);
    if (!res.ok) throw new Error(`control /login: ${res.status} ${await res.text()}`);
    return res.text();
  },
  async object(key) {
    const res = await fetch(`${cfg.control}/object?key=${encodeURIComponent(key)}`);
    return res.status === 404 ? null : res.json();
  },
  async uploads() {
    return (await fetch(`${cfg.control}/uploads`)).json();
  },
};

/**
 * A mini-program of user: the SDK in its own realm (device clock skewMs
 * off), its wx shim, and a client.
 */
function miniProgram(user, { skewMs = 0, fault, options = {} } = {}) {
  const sb = loadSDK(bundleFile, { skewMs });
  const wx = createWx({ ArrayBuffer: sb.realm.ArrayBuffer, codes: (openid) => control.login(openid), openid: user, fault, dir });
  sb.context.wx = wx;
  const client = sb.exports.createClient({
    endpoint: cfg.endpoint, provider: cfg.provider, bucket: cfg.bucket, region: cfg.region, s3Endpoint: cfg.s3Endpoint,
    // The default login is wx.login (the WeChat verifier); other verifiers pass their credential.
    login: cfg.login === "wx.login" ? undefined : () => control.login(user),
    sleep: () => Promise.resolve(), // retries without waiting
    ...options,
  });
  return { client, wx, sb, S3VendError: sb.exports.S3VendError };
}

const userName = (n) => `mp-${run}-${n}`;

async function tempFile(name, bytes) {
  const p = path.join(dir, `${crypto.randomBytes(4).toString("hex")}-${name}`);
  await fs.writeFile(p, bytes);
  return p;
}

const sha256 = (b) => crypto.createHash("sha256").update(b).digest("hex");

/** The error p rejects with (fails when it resolves). */
async function rejection(p) {
  try {
    const v = await p;
    assert.fail(`resolved: ${JSON.stringify(v)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    return err;
  }
}

/** Requests of the shim matching method and a URL pattern. */
const sent = (wx, method, re) => wx.calls.request.filter((r) => r.method === method && re.test(r.url));
const vendorCalls = (wx) => wx.calls.request.filter((r) => r.url.startsWith(cfg.endpoint)).length;

test("sign in, upload 1 KiB and 25 MiB (multipart), list, url, download, remove", { timeout: 180_000 }, async (t) => {
  const { client, wx, S3VendError } = miniProgram(userName("a"));
  const { identityId } = await client.signIn();
  assert.match(identityId, /^[a-z]{2}(-[a-z]+)+-\d:[0-9a-f-]{36}$/);
  assert.equal(client.identityId, identityId);
  assert.equal(vendorCalls(wx), 1, "one round trip to sign in");
  assert.ok(wx.calls.request[0].url.endsWith("/v1/session"));

  const small = crypto.randomBytes(1024);
  const big = crypto.randomBytes(25 * MiB);
  const smallPath = await tempFile("note.txt", small);
  const bigPath = await tempFile("video.mp4", big);

  const s = await client.upload({ filePath: smallPath, name: "note.txt" });
  assert.equal(s.key, `private/${identityId}/note.txt`);
  const stored = await control.object(s.key);
  assert.equal(stored.sha256, sha256(small));
  assert.equal(stored.contentType, "text/plain");

  const before = wx.traffic();
  const started = performance.now();
  const progress = [];
  const b = await client.upload({ filePath: bigPath, name: "clips/video.mp4", onProgress: (p) => progress.push(p) });
  const ms = performance.now() - started;
  const after = wx.traffic();
  assert.equal(b.key, `private/${identityId}/clips/video.mp4`);
  // Multipart: create, 5 parts of 5 MiB, complete.
  assert.equal(sent(wx, "POST", /\?uploads$/).length, 1);
  assert.equal(sent(wx, "PUT", /partNumber=/).length, 5);
  assert.equal(sent(wx, "POST", /uploadId=/).length, 1);
  // Parts read from disk by slices, never the whole file.
  const reads = wx.calls.readFile.filter((r) => r.filePath === bigPath);
  assert.equal(reads.length, 5);
  assert.ok(reads.every((r) => r.length === 5 * MiB && typeof r.position === "number"), JSON.stringify(reads));
  // Progress: monotonic, from 0 to 100.
  const pct = progress.map((p) => p.progress);
  assert.equal(pct[0], 0);
  assert.equal(pct.at(-1), 100);
  assert.ok(pct.every((v, i) => i === 0 || v > pct[i - 1]), `not monotonic: ${pct}`);
  assert.equal(progress.at(-1).totalBytesSent, big.length);
  assert.equal((await control.object(b.key)).sha256, sha256(big), "the stored object differs from the file");
  console.log(`# figure: 25 MiB upload: ${after.requests - before.requests} requests, ${after.bytes - before.bytes} body bytes (file ${big.length}), ${Math.round(ms)} ms`);

  const { items, nextToken } = await client.list();
  assert.equal(nextToken, undefined);
  const byKey = Object.fromEntries(items.map((i) => [i.key, i]));
  assert.equal(byKey[s.key]?.size, 1024);
  assert.equal(byKey[b.key]?.size, big.length);
  assert.ok(!Number.isNaN(Date.parse(byKey[s.key].lastModified)));
  const sub = await client.list({ prefix: "clips/" });
  assert.deepEqual(Array.from(sub.items, (i) => i.key), [b.key]);

  // url(): a presigned GET any HTTP client can fetch, as <image src> does.
  const url = await client.url({ key: s.key });
  assert.match(url, /X-Amz-Signature=/);
  const got = await fetch(url);
  assert.equal(got.status, 200);
  assert.deepEqual(Buffer.from(await got.arrayBuffer()), small);
  // A name resolves under private/<identityId>/ too.
  assert.equal((await fetch(await client.url({ key: "note.txt" }))).status, 200);

  const { tempFilePath } = await client.download({ key: s.key });
  assert.deepEqual(await fs.readFile(tempFilePath), small);

  await client.remove({ key: s.key });
  assert.equal(await control.object(s.key), null);
  const afterRemove = await client.list();
  assert.ok(!afterRemove.items.some((i) => i.key === s.key), "removed key still listed");
  assert.ok(afterRemove.items.some((i) => i.key === b.key));
  const gone = await rejection(client.download({ key: s.key }));
  assert.ok(gone instanceof S3VendError);
  // S3 answers 404 NoSuchKey only to callers allowed s3:ListBucket on the
  // bucket; the role's ListBucket is conditioned on s3:prefix, which a GET
  // does not carry, so a missing key is 403 AccessDenied (GetObject,
  // "Permissions").
  assert.deepEqual([gone.status, gone.code], [403, "AccessDenied"], gone.message);
  t.diagnostic(`identity ${identityId}`);
});

test("another user's private/ objects: AccessDenied on download, url and remove; protected/ readable", { timeout: 60_000 }, async () => {
  const owner = miniProgram(userName("owner"));
  const other = miniProgram(userName("other"));
  const secret = crypto.randomBytes(64);
  const shared = crypto.randomBytes(64);
  const { key: privateKey } = await owner.client.upload({ filePath: await tempFile("s.png", secret), name: "s.png" });
  const { key: protectedKey } = await owner.client.upload({ filePath: await tempFile("p.png", shared), name: "p.png", visibility: "protected" });
  assert.match(protectedKey, /^protected\/[^/]+\/p\.png$/);

  const denied = await rejection(other.client.download({ key: privateKey }));
  assert.ok(denied instanceof other.S3VendError);
  assert.equal(denied.status, 403);
  assert.equal(denied.code, "AccessDenied");
  const res = await fetch(await other.client.url({ key: privateKey }));
  assert.equal(res.status, 403);
  assert.match(await res.text(), /<Code>AccessDenied<\/Code>/);
  const rm = await rejection(other.client.remove({ key: privateKey }));
  assert.equal(rm.status, 403);
  assert.equal(rm.code, "AccessDenied");
  assert.equal((await control.object(privateKey)).sha256, sha256(secret), "the other user deleted it");

  // protected/<owner>/ is readable by any signed-in user.
  const { tempFilePath } = await other.client.download({ key: protectedKey });
  assert.deepEqual(await fs.readFile(tempFilePath), shared);
  assert.equal((await fetch(await other.client.url({ key: protectedKey }))).status, 200);
  // ... but not writable or deletable.
  assert.equal((await rejection(other.client.remove({ key: protectedKey }))).code, "AccessDenied");
});

for (const [what, skewMs] of [["an hour fast", HOUR], ["an hour slow", -HOUR]]) {
  test(`a device clock ${what} still signs valid requests`, { timeout: 60_000 }, async () => {
    const { client, wx } = miniProgram(userName(`skew${skewMs > 0 ? "f" : "s"}`), { skewMs });
    const bytes = crypto.randomBytes(2048);
    const { key } = await client.upload({ filePath: await tempFile("c.png", bytes), name: "c.png" });
    assert.ok((await client.list()).items.some((i) => i.key === key));
    // Presigned URLs are dated by the corrected clock: neither "not valid yet" nor expired.
    const res = await fetch(await client.url({ key, expiresIn: 60 }));
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual((await client.download({ key })).tempFilePath ? await fs.readFile((await client.download({ key })).tempFilePath) : null, bytes);
    await client.remove({ key });
    // Corrected from the vendor's Date at sign-in: S3 never refused a time.
    assert.ok(!wx.calls.request.some((r) => r.status === 403), "a request was refused");
  });
}

test("a clock that jumps after sign-in is corrected from S3's Date (RequestTimeTooSkewed, one retry)", { timeout: 60_000 }, async () => {
  const { client, wx, sb } = miniProgram(userName("jump"));
  await client.signIn();
  sb.setSkew(20 * 60 * 1000); // past S3's 15 minutes, short of the credentials' hour
  const { items } = await client.list();
  assert.ok(Array.isArray(items));
  const lists = sent(wx, "GET", /list-type=2/);
  assert.deepEqual(lists.map((r) => r.status), [403, 200], "want one RequestTimeTooSkewed, then success");
  assert.match(lists[0].response, /<Code>RequestTimeTooSkewed<\/Code>/);
  assert.equal(vendorCalls(wx), 1, "no new sign-in needed");
  await client.list();
  assert.equal(sent(wx, "GET", /list-type=2/).length, 3, "the next request is signed right the first time");
});

test("expired credentials are refreshed before use, once for concurrent calls", { timeout: 60_000 }, async () => {
  const { client, wx, sb } = miniProgram(userName("refresh"));
  await client.signIn();
  const first = wx.calls.request.at(-1).response;
  assert.equal(vendorCalls(wx), 1);
  // Two hours pass on the device: the credentials (1 h) have expired.
  sb.setSkew(2 * HOUR);
  const results = await Promise.all([client.list(), client.list(), client.list(), client.url({ key: "x.png" })]);
  assert.equal(results.length, 4);
  assert.equal(vendorCalls(wx), 2, "one refresh for four concurrent calls");
  if (cfg.login === "wx.login") assert.equal(wx.calls.login, 2, "one wx.login per sign-in");
  assert.ok(!wx.calls.request.some((r) => r.status >= 400), "an error reached S3 or the vendor");
  const second = wx.calls.request.filter((r) => r.url.endsWith("/v1/session")).at(-1).response;
  assert.equal(second.identityId, first.identityId, "the same user got another identity");
});

test("a part that fails mid-upload is retried; the object is complete and byte-identical", { timeout: 120_000 }, async () => {
  let dropped = 0;
  const fault = ({ method, url }) => (method === "PUT" && /partNumber=2&/.test(url) && dropped++ === 0 ? "drop" : undefined);
  const { client, wx } = miniProgram(userName("fault"), { fault });
  const bytes = crypto.randomBytes(11 * MiB); // 3 parts: 5, 5, 1 MiB
  const filePath = await tempFile("f.mp4", bytes);
  const { key } = await client.upload({ filePath, name: "f.mp4" });
  assert.equal(dropped, 2, "the fault hook saw the part twice");
  assert.equal(sent(wx, "PUT", /partNumber=2&/).length, 2, "part 2 sent twice");
  assert.equal(sent(wx, "PUT", /partNumber=/).length, 4);
  assert.equal((await control.object(key)).sha256, sha256(bytes));
});

test("an upload whose part keeps failing rejects resumable; upload() again sends only the missing parts", { timeout: 120_000 }, async () => {
  let broken = true;
  const fault = ({ method, url }) => (broken && method === "PUT" && /partNumber=3&/.test(url) ? "fail" : undefined);
  const { client, wx, S3VendError } = miniProgram(userName("resume"), { fault, options: { concurrency: 1, retries: 1 } });
  const bytes = crypto.randomBytes(11 * MiB);
  const filePath = await tempFile("r.mp4", bytes);
  const err = await rejection(client.upload({ filePath, name: "r.mp4" }));
  assert.ok(err instanceof S3VendError);
  assert.equal(err.code, "network_error");
  assert.equal(err.status, 0);
  assert.equal(err.resumable, true);
  assert.equal(sent(wx, "PUT", /partNumber=3&/).length, 2, "one try and one retry");
  broken = false;
  const progress = [];
  const { key } = await client.upload({ filePath, name: "r.mp4", onProgress: (p) => progress.push(p.progress) });
  assert.equal(sent(wx, "POST", /\?uploads$/).length, 1, "resumed, not restarted");
  assert.deepEqual(sent(wx, "PUT", /partNumber=/).map((r) => /partNumber=(\d+)/.exec(r.url)[1]), ["1", "2", "3", "3", "3"], "parts 1 and 2 were not sent again");
  assert.ok(progress[0] >= 90, `resumed progress starts at the parts already sent: ${progress}`);
  assert.equal((await control.object(key)).sha256, sha256(bytes));
  assert.deepEqual(wx.storageKeys(), [], "the resume state outlived the upload");
});

test("cancel() aborts the multipart upload: no parts stay", { timeout: 120_000 }, async () => {
  const { client, wx, S3VendError } = miniProgram(userName("cancel"), { options: { concurrency: 1 } });
  const filePath = await tempFile("x.mp4", crypto.randomBytes(11 * MiB));
  let up;
  up = client.upload({ filePath, name: "x.mp4", onProgress: (p) => { if (p.progress > 0) up.cancel(); } });
  const err = await rejection(up);
  assert.ok(err instanceof S3VendError);
  assert.equal(err.code, "cancelled");
  const key = `private/${client.identityId}/x.mp4`;
  assert.equal(sent(wx, "DELETE", /uploadId=/).length, 1, "AbortMultipartUpload sent");
  assert.ok(!(await control.uploads()).includes(key), "the multipart upload is still in progress");
  assert.equal(await control.object(key), null);
});

test("typed errors for bad arguments, before any request", async () => {
  const { client, wx, S3VendError } = miniProgram(userName("args"));
  for (const [p, code] of [
    [client.upload({ filePath: "", name: "a" }), "invalid_argument"],
    [client.upload({ filePath: "/nonexistent", name: "../a" }), "invalid_argument"],
    [client.url({ key: "a.png", expiresIn: 604801 }), "invalid_argument"],
    [client.list({ maxKeys: 0 }), "invalid_argument"],
  ]) {
    const err = await rejection(p);
    assert.ok(err instanceof S3VendError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.status, 0);
  }
  assert.equal(wx.calls.request.length, 0);
  const file = await rejection(client.upload({ filePath: path.join(dir, "missing.png"), name: "m.png" }));
  assert.equal(file.code, "file_error");
  assert.throws(() => miniProgram("x", { options: { endpoint: "ftp://x" } }), /endpoint/);
});

test("figure: sign in and list 50 objects", { timeout: 120_000 }, async () => {
  const user = userName("fifty");
  const writer = miniProgram(user);
  const file = await tempFile("o.txt", crypto.randomBytes(100));
  for (let i = 0; i < 50; i += 10) {
    await Promise.all(Array.from({ length: 10 }, (_, j) => writer.client.upload({ filePath: file, name: `fifty/${String(i + j).padStart(2, "0")}.txt` })));
  }
  const { client } = miniProgram(user);
  const started = performance.now();
  await client.signIn();
  const { items } = await client.list({ prefix: "fifty/" });
  const ms = performance.now() - started;
  assert.equal(items.length, 50);
  console.log(`# figure: sign in + list 50 objects: ${Math.round(ms)} ms`);
  // Pages of maxKeys, followed by nextToken: every object once, in key order.
  const pages = [];
  let token;
  do {
    const page = await client.list({ prefix: "fifty/", maxKeys: 20, continuationToken: token });
    pages.push(Array.from(page.items, (i) => i.key)); // arrays of this realm
    token = page.nextToken;
  } while (token && pages.length < 10);
  assert.deepEqual(pages.map((p) => p.length), [20, 20, 10]);
  assert.deepEqual(pages.flat(), Array.from(items, (i) => i.key));
});
