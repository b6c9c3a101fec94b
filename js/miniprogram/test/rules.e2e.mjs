// End-to-end test of @s3vend/miniprogram's access rules against the
// S3Vend-rules stand-ins (test/e2e/rules_test.go, TestAccessRulesJS): the
// bundle in a realm with only ECMAScript, wx and timers, createClient({rules})
// with the stack's AccessRules output, upload and list by rule name.
//
// Environment: as e2e.test.mjs (S3VEND_ENDPOINT, S3VEND_BUCKET, AWS_REGION,
// AWS_ENDPOINT_URL_S3, S3VEND_TEST_CONTROL: GET /login?user=&tenant= an
// hs256 login naming the tenant, GET /login?user= a wx.login code),
// S3VEND_PROVIDER (the hs256 verifier, whose tenantClaim the stack uses),
// S3VEND_WECHAT_PROVIDER (a verifier without tenants) and
// S3VEND_ACCESS_RULES.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import { bundle } from "../build.mjs";
import { loadSDK } from "./sandbox.mjs";
import { createWx } from "./wx-shim.mjs";

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is required (see the header of ${import.meta.url})`);
  return v;
}

const run = crypto.randomBytes(4).toString("hex");
let dir, bundleFile;

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "s3vend-mp-rules-"));
  bundleFile = (await bundle({ outfile: path.join(dir, "s3vend-miniprogram.js") })).outfile;
});
after(() => dir && fs.rm(dir, { recursive: true, force: true }));

async function login(user, tenant) {
  const res = await fetch(`${env("S3VEND_TEST_CONTROL")}/login?user=${user}${tenant ? `&tenant=${tenant}` : ""}`);
  if (!res.ok) throw new Error(`control /login: ${res.status} ${await res.text()}`);
  return res.text();
}

/** The keys of a listing (an array of the SDK's realm, copied into ours). */
const keys = (listing) => Array.from(listing.items, (i) => i.key);

async function stored(key) {
  const res = await fetch(`${env("S3VEND_TEST_CONTROL")}/object?key=${encodeURIComponent(key)}`);
  return res.status === 404 ? null : res.json();
}

/**
 * A mini-program of user: of tenant through the hs256 verifier, or
 * without a tenant through WeChat (wx.login, the SDK's default login).
 */
function miniProgram(user, tenant) {
  const sb = loadSDK(bundleFile);
  sb.context.wx = createWx({ ArrayBuffer: sb.realm.ArrayBuffer, dir, codes: (openid) => login(openid), openid: user });
  return sb.exports.createClient({
    endpoint: env("S3VEND_ENDPOINT"), bucket: env("S3VEND_BUCKET"), region: env("AWS_REGION"),
    s3Endpoint: env("AWS_ENDPOINT_URL_S3"), rules: env("S3VEND_ACCESS_RULES"), sleep: () => Promise.resolve(),
    ...(tenant ? { provider: env("S3VEND_PROVIDER"), login: () => login(user, tenant) } : { provider: env("S3VEND_WECHAT_PROVIDER") }),
  });
}

test("upload and list by rule: own avatar, a team shared within its tenant, refused across tenants", async () => {
  const provider = env("S3VEND_PROVIDER");
  const [userA, userB, userC, tenant, other] = ["a", "b", "c", "t", "u"].map((s) => `mp-${run}-${s}`);
  const a = miniProgram(userA, tenant);
  const b = miniProgram(userB, tenant);
  const c = miniProgram(userC, other);
  const file = path.join(dir, "note.txt");
  await fs.writeFile(file, "hello");

  assert.equal((await a.signIn()).userId, `${provider}:${userA}`);
  const { key: avatar } = await a.upload({ filePath: file, name: "me.txt", rule: "avatars" });
  assert.equal(avatar, `avatars/${provider}:${userA}/me.txt`);
  assert.equal((await stored(avatar)).size, 5);
  assert.deepEqual(keys(await a.list({ rule: "avatars" })), [avatar]);

  const { key: team } = await b.upload({ filePath: file, name: "plan.txt", rule: "teams" });
  assert.equal(team, `teams/${provider}:${tenant}/plan.txt`);
  assert.deepEqual(keys(await a.list({ rule: "teams" })), [team], "A lists B's team file");
  assert.ok((await a.download({ key: team })).tempFilePath, "A downloads it: a key under a rule's base is a full key");
  await assert.rejects(c.download({ key: team }), (e) => e.status === 403 && e.code === "AccessDenied", "C (other tenant) cannot read it");
  assert.deepEqual(keys(await c.list({ rule: "teams" })), [], "C's teams prefix is its own tenant's");

  // A WeChat user has no tenant, so no teams key; the default layout's private/ is not in this layout.
  const d = miniProgram(`mp-${run}-d`);
  const { key: own } = await d.upload({ filePath: file, name: "me.txt", rule: "avatars" });
  assert.equal(own, `avatars/${env("S3VEND_WECHAT_PROVIDER")}:mp-${run}-d/me.txt`);
  await assert.rejects(d.upload({ filePath: file, name: "x.txt", rule: "teams" }), (e) => e.code === "invalid_argument" && /no value for \{tenant\}/.test(e.message));
  await assert.rejects(d.upload({ filePath: file, name: "x.txt" }), (e) => e.code === "invalid_argument" && /no access rule "private"/.test(e.message));
});
