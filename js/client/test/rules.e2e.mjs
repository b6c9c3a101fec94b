// End-to-end test of @s3vend/client's access-rule keys against the
// S3Vend-rules stand-ins (test/e2e/rules_test.go, TestAccessRulesJS): the
// package as apps import it, AWS SDK for JavaScript v3's S3Client, the real
// vendor, and an S3 stand-in that evaluates the synthesized policies with
// the session tags Cognito put on the credentials.
//
// Environment: S3VEND_ENDPOINT (API base), S3VEND_BUCKET, AWS_REGION,
// AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_COGNITO_IDENTITY,
// NODE_EXTRA_CA_CERTS (the stand-ins' CA), S3VEND_ACCESS_RULES (the stack's
// AccessRules output), S3VEND_PROVIDER (the hs256 verifier), and hs256
// logins S3VEND_LOGIN_A and S3VEND_LOGIN_B (one tenant), S3VEND_LOGIN_C
// (another tenant), users S3VEND_USER_A/B/C and their tenants
// S3VEND_TENANT_AB/C.
import { test } from "node:test";
import assert from "node:assert/strict";
import { S3Client, PutObjectCommand, GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { fromS3Vend, parseAccessRules, key, keyPrefix, AccessRuleError } from "@s3vend/client";

/** @param {string} name */
function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is required (see the header of ${import.meta.url})`);
  return v;
}

const bucket = env("S3VEND_BUCKET");
const s3Endpoint = env("AWS_ENDPOINT_URL_S3");
const provider = env("S3VEND_PROVIDER");
const rules = parseAccessRules(env("S3VEND_ACCESS_RULES"));

/**
 * A signed-in user: credentials from the vendor, an S3Client on them.
 * @param {string} login
 * @param {"enhanced" | "basic"} [flow]
 */
async function signIn(login, flow = "enhanced") {
  const credentials = fromS3Vend({
    endpoint: env("S3VEND_ENDPOINT"), flow, region: env("AWS_REGION"),
    cognitoEndpoint: env("AWS_ENDPOINT_URL_COGNITO_IDENTITY"),
    login: () => ({ provider, credential: login }),
  });
  const s3 = new S3Client({ region: env("AWS_REGION"), credentials, endpoint: s3Endpoint, forcePathStyle: true });
  return { who: await credentials.identity(), s3 };
}

/** @param {S3Client} s3 @param {string} Key */
const put = (s3, Key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: `hello ${Key}`, ContentType: "text/plain" }));
/** @param {S3Client} s3 @param {string} Key */
const get = async (s3, Key) => (await s3.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body?.transformToString();
/** @param {Promise<unknown>} p @param {string} what */
const denied = (p, what) => assert.rejects(p, (/** @type {any} */ e) => e.name === "AccessDenied" && e.$metadata?.httpStatusCode === 403, what);

test("keys by rule: own avatar written and read anonymously, a team shared within its tenant only", async () => {
  const [a, b, c] = await Promise.all(["A", "B", "C"].map((u) => signIn(env(`S3VEND_LOGIN_${u}`))));
  const [userA, tenantAB, tenantC] = [env("S3VEND_USER_A"), env("S3VEND_TENANT_AB"), env("S3VEND_TENANT_C")];
  assert.equal(a.who.userId, `${provider}:${userA}`, "identity() carries the vendor's userId");
  assert.equal(a.who.tenant, `${provider}:${tenantAB}`, "and its tenant");
  assert.equal(c.who.tenant, `${provider}:${tenantC}`);

  const avatar = key(rules, "avatars", a.who, "me.txt");
  assert.equal(avatar, `avatars/${provider}:${userA}/me.txt`);
  await put(a.s3, avatar);
  const anonymous = await fetch(`${s3Endpoint}/${bucket}/${avatar}`);
  assert.equal(anonymous.status, 200, "anyone reads avatars");
  assert.equal(await anonymous.text(), `hello ${avatar}`);
  await denied(put(b.s3, avatar), "B writes A's avatar");
  await put(b.s3, key(rules, "avatars", b.who, "me.txt"));

  const team = key(rules, "teams", a.who, "plan.txt");
  assert.equal(team, `teams/${provider}:${tenantAB}/plan.txt`);
  await put(a.s3, team);
  assert.equal(await get(b.s3, team), `hello ${team}`, "B (same tenant) reads A's team file");
  const listed = await b.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: keyPrefix(rules, "teams", b.who) }));
  assert.deepEqual(listed.Contents?.map((o) => o.Key), [team]);
  await denied(get(c.s3, team), "C (other tenant) reads it");
  await denied(put(c.s3, team), "C (other tenant) writes it");
  assert.notEqual(key(rules, "teams", c.who, "plan.txt"), team, "C's own team key is another prefix");
  await put(c.s3, key(rules, "teams", c.who, "plan.txt"));

  // The path under two placeholders, and the identity id.
  const member = key(rules, "members", a.who, "card.txt");
  assert.equal(member, `members/${provider}:${tenantAB}/${provider}:${userA}/card.txt`);
  await put(a.s3, member);
  assert.equal(await get(b.s3, member), `hello ${member}`);
  assert.equal(key(rules, "inbox", a.who, "x"), `inbox/${a.who.identityId}/x`);
  await denied(put(a.s3, key(rules, "inbox", a.who, "x")), "A writes its inbox (the backend's)");
});

test("the basic flow's identity carries the key values too", async () => {
  const a = await signIn(env("S3VEND_LOGIN_A"), "basic");
  assert.equal(a.who.userId, `${provider}:${env("S3VEND_USER_A")}`);
  await put(a.s3, key(rules, "avatars", a.who, "basic.txt"));
  assert.throws(() => key(rules, "teams", { identityId: a.who.identityId, userId: a.who.userId }, "x"), AccessRuleError, "no tenant, no teams key");
});
