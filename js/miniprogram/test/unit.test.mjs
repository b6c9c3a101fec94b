// Unit tests of @s3vend/miniprogram that need no stack: the bundle (size
// budget, ES2015 syntax, no module or Node global), UTF-8 without the
// Encoding API, and the SDK's reaction to S3 answers a stand-in cannot
// provoke on demand (an ExpiredToken for credentials the SDK still thinks
// valid; a 200 CompleteMultipartUpload carrying an <Error>), against a
// small local HTTP server, through the same wx shim and sandbox as the e2e
// test. Run: node --test js/miniprogram/test/unit.test.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import http from "node:http";
import zlib from "node:zlib";
import crypto from "node:crypto";
import * as acorn from "acorn";
import { bundle, SIZE_BUDGET } from "../build.mjs";
import { loadSDK } from "./sandbox.mjs";
import { createWx } from "./wx-shim.mjs";
import { TextEncoder as PureEncoder, TextDecoder as PureDecoder } from "../src/utf8.js";

let dir, file, metafile;

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "s3vend-mp-unit-"));
  ({ outfile: file, metafile } = await bundle({ outfile: path.join(dir, "s3vend-miniprogram.js") }));
});
after(() => fs.rm(dir, { recursive: true, force: true }));

test("the bundle keeps to its size budget", async () => {
  const code = await fs.readFile(file);
  const gz = zlib.gzipSync(code, { level: 9 }).length;
  console.log(`# figure: bundle ${code.length} bytes minified, ${gz} bytes gzipped (budget ${SIZE_BUDGET.minified} / ${SIZE_BUDGET.gzip})`);
  assert.ok(code.length <= SIZE_BUDGET.minified, `${code.length} bytes minified, over the budget of ${SIZE_BUDGET.minified}`);
  assert.ok(gz <= SIZE_BUDGET.gzip, `${gz} bytes gzipped, over the budget of ${SIZE_BUDGET.gzip}`);
});

test("the bundle is ES2015 and needs no module", async () => {
  const code = await fs.readFile(file, "utf8");
  // Throws on any syntax after ES2015 (async functions, **, ?., ...).
  acorn.parse(code, { ecmaVersion: 2015, sourceType: "script" });
  assert.throws(() => acorn.parse("async function f() {}", { ecmaVersion: 2015 }), "the ES2015 check cannot fail");
  assert.throws(() => acorn.parse("a?.b", { ecmaVersion: 2015 }));
  // Nothing from Node, no file outside the package's sources, its two
  // libraries' trees and @s3vend/client's access-rule helpers.
  for (const input of Object.keys(metafile.inputs)) {
    assert.match(input, /^(src\/|\.\.\/client\/src\/rules\.js$|.*node_modules\/(@smithy|@aws-crypto|@aws-sdk\/types|tslib)\/)/, input);
  }
  assert.doesNotMatch(code, /\brequire\(/);
});

test("UTF-8 without TextEncoder matches the Encoding API", () => {
  const samples = ["", "ascii", "é", "中文名.jpg", "😀 emoji", "\ud800 lone", "a\u0000b", String.fromCodePoint(0x10ffff)];
  for (let i = 0; i < 200; i++) samples.push(String.fromCharCode(...Array.from({ length: 8 }, () => Math.floor(Math.random() * 0xffff))));
  for (const s of samples) {
    const want = new TextEncoder().encode(s);
    assert.deepEqual(new PureEncoder().encode(s), want, JSON.stringify(s));
    assert.equal(new PureDecoder().decode(want), new TextDecoder().decode(want), JSON.stringify(s));
  }
});

// A fake vendor + S3 for the cases below.
function fakeServer(handler) {
  return new Promise((resolve) => {
    const srv = http.createServer(async (req, res) => {
      let body = "";
      for await (const c of req) body += c;
      handler(req, res, body);
    });
    srv.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((r) => srv.close(r)) }));
  });
}

function client(base, extra = {}) {
  const sb = loadSDK(file);
  const wx = createWx({ ArrayBuffer: sb.realm.ArrayBuffer, dir });
  sb.context.wx = wx;
  const c = sb.exports.createClient({
    endpoint: base, provider: "backend", bucket: "my-bucket", region: "cn-north-1", s3Endpoint: base,
    login: () => "token", sleep: () => Promise.resolve(), ...extra,
  });
  return { c, wx, sb };
}

const xmlError = (code, msg) => `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${msg}</Message><RequestId>R</RequestId></Error>`;

/** The vendor's POST /v1/session answer with the n-th credentials, AK<n>, valid an hour. */
function sessionAnswer(res, n) {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ identityId: "cn-north-1:11111111-1111-4111-8111-111111111111", accessKeyId: `AK${n}`, secretAccessKey: "s", sessionToken: "t", expiration: new Date(Date.now() + 3600e3).toISOString() }));
}

test("S3's ExpiredToken: one refresh for concurrent calls, then the calls succeed", async () => {
  let vends = 0;
  const srv = await fakeServer((req, res) => {
    if (req.url === "/v1/session") {
      sessionAnswer(res, ++vends);
      return;
    }
    const auth = req.headers.authorization ?? "";
    if (auth.includes("Credential=AK1/")) {
      res.statusCode = 400;
      res.end(xmlError("ExpiredToken", "The provided token has expired."));
      return;
    }
    res.end(`<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>private/x/a%20b+c.txt</Key><Size>3</Size><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>&quot;e&quot;</ETag></Contents></ListBucketResult>`);
  });
  try {
    const { c } = client(srv.url);
    await c.signIn();
    const all = await Promise.all([c.list(), c.list(), c.list()]);
    assert.equal(vends, 2, "one refresh for three calls");
    // A URL longer-lived than any credentials does not refresh them each time.
    await c.url({ key: "a.png", expiresIn: 604800 });
    await c.url({ key: "a.png", expiresIn: 604800 });
    assert.equal(vends, 2, "url() refreshed credentials that were fresh");
    for (const r of all) {
      assert.equal(r.items[0].key, "private/x/a b c.txt", "encoding-type=url keys decoded");
      assert.equal(r.items[0].etag, '"e"');
    }
  } finally {
    await srv.close();
  }
});

test("download(): S3's ExpiredToken refreshes once, a 503 is retried, then the file arrives", async () => {
  let vends = 0;
  const gets = [];
  const srv = await fakeServer((req, res) => {
    if (req.url === "/v1/session") {
      sessionAnswer(res, ++vends);
      return;
    }
    const cred = new URL(req.url, "http://x").searchParams.get("X-Amz-Credential") ?? "";
    gets.push(cred.split("/")[0]);
    if (cred.startsWith("AK1/")) {
      res.statusCode = 400;
      res.end(xmlError("ExpiredToken", "The provided token has expired."));
    } else if (gets.length === 2) {
      res.statusCode = 503;
      res.end(xmlError("SlowDown", "Please reduce your request rate."));
    } else {
      res.end("hello");
    }
  });
  try {
    const { c } = client(srv.url);
    const { tempFilePath } = await c.download({ key: "a.txt" });
    assert.equal(await fs.readFile(tempFilePath, "utf8"), "hello");
    assert.deepEqual(gets, ["AK1", "AK2", "AK2"], "expired: one refresh; 503: the same credentials again");
    assert.equal(vends, 2);
  } finally {
    await srv.close();
  }
});

test("errors are S3VendError {status, code, message}: S3's XML, the vendor's JSON, a 200 with an <Error>", async () => {
  let complete = 0;
  const srv = await fakeServer((req, res, body) => {
    if (req.url === "/v1/session") {
      if (JSON.parse(body).credential === "bad") {
        res.statusCode = 401;
        res.end(JSON.stringify({ error: { code: "invalid_credential", message: "The credential was rejected." } }));
        return;
      }
      res.end(JSON.stringify({ identityId: "cn-north-1:1", accessKeyId: "AK", secretAccessKey: "s", sessionToken: "t", expiration: new Date(Date.now() + 3600e3).toISOString() }));
      return;
    }
    if (req.method === "POST" && /\?uploads/.test(req.url)) return res.end("<InitiateMultipartUploadResult><UploadId>U1</UploadId></InitiateMultipartUploadResult>");
    if (req.method === "PUT") { res.setHeader("ETag", `"${crypto.randomBytes(4).toString("hex")}"`); return res.end(); }
    if (req.method === "POST" && /uploadId=U1/.test(req.url)) {
      complete++;
      // S3 may answer 200 and an error document (API_CompleteMultipartUpload).
      return res.end(complete === 1 ? xmlError("InternalError", "We encountered an internal error. Please try again.") : "<CompleteMultipartUploadResult/>");
    }
    if (req.method === "DELETE") { res.statusCode = 403; return res.end(xmlError("AccessDenied", "Access Denied")); }
    res.statusCode = 500;
    res.end();
  });
  try {
    const bad = client(srv.url, { login: () => "bad" });
    const e1 = await bad.c.signIn().catch((e) => e);
    assert.ok(e1 instanceof bad.sb.exports.S3VendError);
    assert.deepEqual([e1.status, e1.code, e1.message], [401, "invalid_credential", "The credential was rejected."]);

    const { c, sb } = client(srv.url, { partSize: 5 * 1024 * 1024 });
    const e2 = await c.remove({ key: "a.txt" }).catch((e) => e);
    assert.ok(e2 instanceof sb.exports.S3VendError);
    assert.deepEqual([e2.status, e2.code, e2.message, e2.requestId], [403, "AccessDenied", "Access Denied", undefined]);

    const f = path.join(dir, "big.bin");
    await fs.writeFile(f, crypto.randomBytes(6 * 1024 * 1024));
    await c.upload({ filePath: f, name: "big.bin" });
    assert.equal(complete, 2, "the 200 carrying an <Error> was retried");
  } finally {
    await srv.close();
  }
});

test("createClient refuses bad options with invalid_argument", () => {
  const sb = loadSDK(file);
  const ok = { endpoint: "https://api.example.cn", provider: "wechat", bucket: "my-bucket", region: "cn-north-1" };
  for (const [opts, re] of [
    [{ ...ok, endpoint: "http://api.example.cn" }, /endpoint/],
    [{ ...ok, provider: "WeChat!" }, /provider/],
    [{ ...ok, bucket: "My_Bucket" }, /bucket/],
    [{ ...ok, bucket: "my.bucket" }, /dots/],
    [{ ...ok, region: "north" }, /region/],
    [{ ...ok, partSize: 1024 }, /partSize/],
    [{ ...ok, concurrency: 0 }, /concurrency/],
  ]) {
    try {
      sb.exports.createClient(opts);
      assert.fail(`accepted ${JSON.stringify(opts)}`);
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      assert.equal(e.code, "invalid_argument");
      assert.match(e.message, re);
    }
  }
  assert.doesNotThrow(() => sb.exports.createClient({ ...ok, bucket: "my.bucket", s3Endpoint: "https://s3.cn-north-1.amazonaws.com.cn" }));
});

test("access rules: upload and list under a rule's prefix for the signed-in user, from the AccessRules output", async () => {
  const rulesOutput = JSON.parse(await fs.readFile(new URL("../../../test/testdata/snapshots/S3Vend-rules.template.json", import.meta.url), "utf8")).Outputs.AccessRules.Value;
  const seen = [];
  let vends = 0;
  const srv = await fakeServer((req, res, body) => {
    if (req.url === "/v1/session") {
      vends++;
      const user = JSON.parse(body).credential;
      res.end(JSON.stringify({
        identityId: "cn-north-1:11111111-1111-4111-8111-111111111111", accessKeyId: "AK", secretAccessKey: "s", sessionToken: "t",
        expiration: new Date(Date.now() + 3600e3).toISOString(), userId: `backend:${user}`, ...(user === "alice" && { tenant: "backend:acme" }),
      }));
      return;
    }
    seen.push(`${req.method} ${decodeURIComponent(req.url)}`);
    if (req.method === "PUT") res.setHeader("ETag", '"e"');
    res.end(req.method === "GET" ? "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>" : "");
  });
  try {
    const f = path.join(dir, "me.jpg");
    await fs.writeFile(f, "jpeg");
    const { c } = client(srv.url, { login: () => "alice", rules: rulesOutput });
    assert.deepEqual({ ...(await c.signIn()) }, { identityId: "cn-north-1:11111111-1111-4111-8111-111111111111", userId: "backend:alice", tenant: "backend:acme" });
    assert.equal((await c.upload({ filePath: f, name: "me.jpg", rule: "avatars" })).key, "avatars/backend:alice/me.jpg");
    assert.equal((await c.upload({ filePath: f, name: "a/plan.txt", rule: "teams" })).key, "teams/backend:acme/a/plan.txt");
    await c.list({ rule: "members", prefix: "x/" });
    await c.url({ key: "avatars/backend:bob/me.jpg" }).then((u) => assert.match(decodeURIComponent(u), /\/my-bucket\/avatars\/backend:bob\/me\.jpg\?/, "a key under a rule's base is a full key"));
    assert.deepEqual(seen, [
      "PUT /my-bucket/avatars/backend:alice/me.jpg",
      "PUT /my-bucket/teams/backend:acme/a/plan.txt",
      "GET /my-bucket/?encoding-type=url&list-type=2&prefix=members/backend:acme/backend:alice/x/",
    ]);

    // Refusals are invalid_argument, before any request when the call itself is wrong.
    const before = vends;
    const { c: bob } = client(srv.url, { login: () => "bob", rules: JSON.parse(rulesOutput) });
    for (const [call, re] of [
      [() => bob.upload({ filePath: f, name: "x", rule: "nope" }), /rule must name one of the access rules \(avatars, teams, members, inbox, shared\)/],
      [() => bob.upload({ filePath: f, name: "x", rule: "avatars", visibility: "private" }), /rule and visibility are exclusive/],
      [() => bob.list({ rule: 7 }), /rule must name one of/],
    ]) {
      await assert.rejects(call(), (e) => e.code === "invalid_argument" && re.test(e.message));
    }
    assert.equal(vends, before, "refused before signing in");
    await assert.rejects(bob.upload({ filePath: f, name: "x", rule: "teams" }), (e) => e.code === "invalid_argument" && /no value for \{tenant\}/.test(e.message));
    await assert.rejects(bob.list(), (e) => e.code === "invalid_argument" && /no access rule "private"/.test(e.message), "no private rule in this layout");
    assert.equal(seen.length, 3, "nothing sent to S3 for a refused key");
  } finally {
    await srv.close();
  }
  const sb = loadSDK(file);
  const ok = { endpoint: "https://api.example.cn", provider: "wechat", bucket: "my-bucket", region: "cn-north-1" };
  for (const [rules, re] of [["{", /^rules: AccessRules: is not JSON$/], [[{ name: "x", path: "x" }], /rules: AccessRules\[0\] \(x\): path "x": must end in/], [{}, /rules must be the stack's AccessRules output/]]) {
    assert.throws(() => sb.exports.createClient({ ...ok, rules }), (e) => e.code === "invalid_argument" && re.test(e.message), String(rules));
  }
});
