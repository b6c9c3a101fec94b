// Tests s3vend-upload.js in Node with a wx shim (wx-shim.mjs) whose
// uploadFile performs the real multipart/form-data POST, against a running
// stack: the local stand-ins (prod-cn template, WeChat verifier) or a deployed one.
//
//   NODE_EXTRA_CA_CERTS=<stand-ins CA> node examples/wechat-miniprogram/test/upload.test.mjs
//
// Environment: S3VEND_ENDPOINT (the API base URL), WECHAT_CODES_URL (the WeChat
// stand-in's code minting URL), S3VEND_PROVIDER (default wechat),
// NODE_EXTRA_CA_CERTS (the stand-ins' CA: S3 is https). Optional, to read the
// uploaded object back with the AWS SDK: S3VEND_BUCKET, AWS_ENDPOINT_URL_S3,
// AWS_ENDPOINT_URL_COGNITO_IDENTITY.
// node:test prints the summary; the exit code is non-zero when a case fails.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import { createRequire } from "node:module";
import { createWx } from "../../../js/miniprogram/test/wx-shim.mjs";

const require = createRequire(import.meta.url);
const { upload } = require("../s3vend-upload.js");

function env(name, fallback) {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === "") throw new Error(`environment variable ${name} is required (see examples/wechat-miniprogram/README.md)`);
  return v;
}

let endpoint, provider, codesUrl, dir;
const openid = `o-e2e-${crypto.randomBytes(6).toString("hex")}`;
// Cognito identity ids are <region>:<uuid>.
const IDENTITY = /^[a-z]{2}(-[a-z]+)+-\d:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

before(async () => {
  endpoint = env("S3VEND_ENDPOINT").replace(/\/+$/, "");
  codesUrl = env("WECHAT_CODES_URL");
  provider = env("S3VEND_PROVIDER", "wechat");
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "s3vend-wx-"));
});

after(async () => {
  delete globalThis.wx;
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

// install puts a fresh wx shim on globalThis, as the mini-program runtime does.
function install(opts = {}) {
  const codes = async (id) => {
    const url = new URL(codesUrl);
    url.searchParams.set("openid", id);
    const res = await fetch(url);
    if (!res.ok) throw new Error(`WeChat stand-in: GET ${url}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()).code;
  };
  const wx = createWx({ codes, openid, ...opts });
  globalThis.wx = wx;
  return wx;
}

async function tempFile(name, bytes) {
  const p = path.join(dir, `${crypto.randomBytes(4).toString("hex")}-${name}`);
  await fs.writeFile(p, bytes);
  return p;
}

// rejection runs upload and returns its error, failing when it resolves.
async function rejection(p) {
  try {
    const v = await p;
    assert.fail(`upload succeeded: ${JSON.stringify(v)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    return err;
  }
}

// readBack fetches key with the identity's own credentials (enhanced flow),
// when the bucket and endpoints are known; returns undefined otherwise.
async function readBack(wx, key) {
  const bucket = process.env.S3VEND_BUCKET;
  if (!bucket) return undefined;
  const { S3Client, GetObjectCommand } = await import("@aws-sdk/client-s3");
  const { fromCognitoIdentity } = await import("@aws-sdk/credential-providers");
  const code = await new Promise((resolve, reject) => wx.login({ success: (r) => resolve(r.code), fail: (r) => reject(new Error(r.errMsg)) }));
  const res = await fetch(`${endpoint}/v1/token`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ provider, credential: code }) });
  const tok = await res.json();
  assert.equal(res.status, 200, `/v1/token: ${JSON.stringify(tok)}`);
  const s3Endpoint = process.env.AWS_ENDPOINT_URL_S3 || undefined;
  const s3 = new S3Client({
    region: tok.region,
    endpoint: s3Endpoint,
    forcePathStyle: !!s3Endpoint,
    credentials: fromCognitoIdentity({
      identityId: tok.identityId,
      logins: { [tok.loginKey]: tok.token },
      clientConfig: { region: tok.region, endpoint: process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY || undefined },
    }),
  });
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { identityId: tok.identityId, contentType: out.ContentType, bytes: Buffer.from(await out.Body.transformToByteArray()) };
  } finally {
    s3.destroy();
  }
}

test("uploads to private/<identityId>/ with a presigned POST (204)", { timeout: 60_000 }, async (t) => {
  const wx = install();
  const bytes = Buffer.from(`hello from the mini-program test ${new Date().toISOString()}\n`);
  const filePath = await tempFile("note.txt", bytes);
  const name = `wx-${crypto.randomBytes(4).toString("hex")}.txt`;
  const progress = [];
  // No size: the helper asks wx.getFileSystemManager().getFileInfo; no
  // contentType: the helper derives text/plain from ".txt".
  const res = await upload({ endpoint, provider, filePath, name, onProgress: (p) => progress.push(p) });

  assert.match(res.identityId, IDENTITY);
  assert.equal(res.key, `private/${res.identityId}/${name}`);
  assert.equal(wx.calls.login, 1);
  assert.equal(wx.calls.request.length, 1);
  assert.equal(wx.calls.request[0].url, `${endpoint}/v1/upload`);
  assert.deepEqual(wx.calls.request[0].data, { provider, credential: wx.calls.request[0].data.credential, name, size: bytes.length, contentType: "text/plain", visibility: "private" });
  assert.equal(wx.calls.uploadFile.length, 1);
  const up = wx.calls.uploadFile[0];
  assert.equal(up.name, "file");
  assert.equal(up.formData.key, res.key);
  assert.ok(up.formData.policy, "no policy field in the presigned POST");
  assert.ok(new URL(up.url).protocol === "https:", `upload URL is not https: ${up.url}`);
  assert.equal(progress.length, 1);

  const back = await readBack(wx, res.key);
  if (!back) {
    t.diagnostic("S3VEND_BUCKET not set: the object was not read back");
    return;
  }
  assert.equal(back.identityId, res.identityId, "the same WeChat user got another identity");
  assert.deepEqual(back.bytes, bytes);
  assert.equal(back.contentType, "text/plain");
});

test("a form tampered to write another identity's prefix is refused (403 AccessDenied)", { timeout: 60_000 }, async () => {
  const other = "private/cn-north-1:bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb/";
  const wx = install({ beforeUpload: (args) => { args.formData.key = other + "stolen.txt"; } });
  const filePath = await tempFile("x.txt", Buffer.from("tampered\n"));
  const err = await rejection(upload({ endpoint, provider, filePath, name: "x.txt", size: 9, contentType: "text/plain" }));
  assert.equal(err.name, "S3VendUploadError");
  assert.equal(err.status, 403, err.message);
  assert.equal(err.code, "AccessDenied", err.message);
  // S3's text for a form that breaks its signed policy, decoded from the XML.
  assert.match(err.detail, /Invalid according to Policy: Policy Condition failed: \["eq", "\$key"/);
  assert.equal(wx.calls.uploadFile[0].formData.key, other + "stolen.txt");
});

test("a file larger than the declared size is refused (400 EntityTooLarge)", { timeout: 60_000 }, async () => {
  install();
  const filePath = await tempFile("big.png", crypto.randomBytes(64));
  const err = await rejection(upload({ endpoint, provider, filePath, name: "big.png", size: 16, contentType: "image/png" }));
  assert.equal(err.status, 400, err.message);
  assert.equal(err.code, "EntityTooLarge", err.message);
});

test("a bad object name is refused by the vendor (400 invalid_name) before any upload", { timeout: 60_000 }, async () => {
  const wx = install();
  const filePath = await tempFile("x.txt", Buffer.from("x"));
  const err = await rejection(upload({ endpoint, provider, filePath, name: "../x", size: 1, contentType: "text/plain" }));
  assert.equal(err.status, 400, err.message);
  assert.equal(err.code, "invalid_name", err.message);
  assert.equal(wx.calls.uploadFile.length, 0);
});

test("a media type the vendor does not sign is refused (400 invalid_content_type)", { timeout: 60_000 }, async () => {
  const wx = install();
  const filePath = await tempFile("x.bin", Buffer.from("x"));
  // No contentType: ".bin" is not guessed, so application/octet-stream is
  // sent, which is not in the vendor's default list.
  const err = await rejection(upload({ endpoint, provider, filePath, name: "x.bin", size: 1 }));
  assert.equal(err.status, 400, err.message);
  assert.equal(err.code, "invalid_content_type", err.message);
  assert.equal(wx.calls.request[0].data.contentType, "application/octet-stream");
  assert.equal(wx.calls.uploadFile.length, 0);
});

test("a missing file fails before signing in", async () => {
  const wx = install();
  const err = await rejection(upload({ endpoint, provider, filePath: path.join(dir, "missing.txt"), name: "m.txt" }));
  assert.equal(err.code, "invalid_argument");
  assert.match(err.message, /missing\.txt/);
  assert.equal(wx.calls.login, 0);
});
