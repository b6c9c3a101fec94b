// Unit tests of the access-rule helpers (src/rules.js): parsing the stack's
// AccessRules output, keys per rule, refusals. client/jskey_test.go checks
// the same functions against Go's client.Key on a generated table.
//   node --test js/client/test/*.test.js
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { parseAccessRules, key, keyPrefix, AccessRuleError, DEFAULT_ACCESS_RULES, privateKey, protectedKey, publicKey } from "../src/index.js";

// The AccessRules outputs of the synthesized S3Vend-rules and S3Vend-dev stacks (golden snapshots).
/** @param {string} stack */
const output = (stack) =>
  JSON.parse(fs.readFileSync(new URL(`../../../test/testdata/snapshots/${stack}.template.json`, import.meta.url), "utf8")).Outputs.AccessRules.Value;
const rules = parseAccessRules(output("S3Vend-rules"));
const alice = { identityId: "eu-west-1:0000-aaaa", userId: "backend:alice", tenant: "backend:acme" };

/** @param {string} code */
const refused = (code) => (/** @type {unknown} */ err) => err instanceof AccessRuleError && err.code === code;

test("the S3Vend-rules output: keys and prefixes per rule for the caller", () => {
  assert.deepEqual(rules.map((r) => r.name), ["avatars", "teams", "members", "inbox", "shared"]);
  assert.equal(key(rules, "avatars", alice, "me.jpg"), "avatars/backend:alice/me.jpg");
  assert.equal(key(rules, "teams", alice, "/plan.txt"), "teams/backend:acme/plan.txt", "leading slashes removed");
  assert.equal(key(rules, "members", alice, "a/b.txt"), "members/backend:acme/backend:alice/a/b.txt");
  assert.equal(key(rules, "inbox", alice, "x"), "inbox/eu-west-1:0000-aaaa/x");
  assert.equal(key(rules, "shared", {}, "x"), "shared/x", "a rule without placeholders needs no identity value");
  assert.equal(keyPrefix(rules, "members", alice), "members/backend:acme/backend:alice/");
});

test("the output parses to the same document, frozen", () => {
  assert.equal(JSON.stringify(rules), output("S3Vend-rules"));
  assert.equal(JSON.stringify(parseAccessRules(JSON.parse(output("S3Vend-rules")))), output("S3Vend-rules"), "a decoded array too");
  assert.ok(Object.isFrozen(rules) && Object.isFrozen(rules[0]) && Object.isFrozen(rules[0].owner));
});

test("the default layout is the dev stack's output, and its keys are the key helpers'", () => {
  assert.equal(JSON.stringify(DEFAULT_ACCESS_RULES), output("S3Vend-dev"));
  const id = { identityId: "eu-west-1:0000-aaaa" };
  assert.equal(key(DEFAULT_ACCESS_RULES, "private", id, "a.txt"), privateKey(id.identityId, "a.txt"));
  assert.equal(key(DEFAULT_ACCESS_RULES, "protected", id, "a.txt"), protectedKey(id.identityId, "a.txt"));
  assert.equal(key(DEFAULT_ACCESS_RULES, "public", id, "a.txt"), publicKey("a.txt"));
});

test("literals named like Object.prototype's properties are literals, not placeholders", () => {
  const odd = parseAccessRules([{ name: "odd", path: "constructor/__proto__/{userId}/toString/*", owner: ["get"] }]);
  assert.equal(key(odd, "odd", { userId: "u" }, "x"), "constructor/__proto__/u/toString/x");
  assert.throws(() => key(odd, "constructor", { userId: "u" }, "x"), { code: "unknown_rule" });
});

test("refusals are AccessRuleErrors with Go's client.Key messages", () => {
  assert.throws(() => key(rules, "nope", alice, "x"), { name: "AccessRuleError", code: "unknown_rule", rule: "nope", message: `no access rule "nope" (the stack's AccessRules output)` });
  assert.throws(() => key(rules, "teams", { identityId: alice.identityId, userId: alice.userId }, "x"), {
    code: "missing_value", rule: "teams",
    message: `access rule "teams": no value for {tenant} (the vendor's tenant: the login's verifier needs a tenantClaim)`,
  });
  assert.throws(() => key(rules, "avatars", { userId: "" }, "x"), refused("missing_value"));
  assert.throws(() => key(rules, "inbox", { userId: "u" }, "x"), { message: `access rule "inbox": no value for {identityId} (the identity id)` });
  for (const v of ["a/b", ".", ".."]) {
    assert.throws(() => key(rules, "avatars", { userId: v }, "x"), { code: "invalid_value", message: `access rule "avatars": the value for {userId} is not one key segment` });
  }
  for (const n of ["", "/", "///"]) assert.throws(() => key(rules, "avatars", alice, n), { code: "empty_name", message: `access rule "avatars": empty object name` });
  // Programming errors are TypeErrors.
  assert.throws(() => key(/** @type {any} */ ("[]"), "avatars", alice, "x"), TypeError);
  assert.throws(() => key(rules, /** @type {any} */ (1), alice, "x"), TypeError);
  assert.throws(() => key(rules, "avatars", /** @type {any} */ (null), "x"), TypeError);
  assert.throws(() => key(rules, "avatars", /** @type {any} */ ({ userId: 42 }), "x"), TypeError);
  assert.throws(() => key(rules, "avatars", alice, /** @type {any} */ (undefined)), TypeError);
});

test("a malformed AccessRules value is an AccessRuleError naming the rule and the problem", () => {
  const rule = (/** @type {object} */ extra) => JSON.stringify([{ name: "ok", path: "ok/*", owner: ["get"] }, { name: "bad", path: "bad/{userId}/*", ...extra }]);
  /** @type {Array<[string, RegExp]>} */
  const cases = [
    ["", /AccessRules: is not JSON/],
    ["{", /AccessRules: is not JSON/],
    ['{"name":"x"}', /AccessRules: must be a JSON array of rules/],
    ["[]", /AccessRules: lists no rule/],
    ["[1]", /AccessRules\[0\]: a rule must be an object/],
    [rule({ owners: ["get"] }), /AccessRules\[1\] \(bad\): unknown field "owners" \(known: name, path, anonymous, guest, authenticated, owner, tenant, acknowledgeUnconfinedWrites\)/],
    [rule({ owner: "get" }), /AccessRules\[1\] \(bad\): owner must list distinct actions \(get, list, put, delete\)/],
    [rule({ owner: ["read"] }), /owner must list distinct actions/],
    [rule({ owner: ["get", "get"] }), /owner must list distinct actions/],
    [rule({ acknowledgeUnconfinedWrites: "yes" }), /acknowledgeUnconfinedWrites must be a boolean/],
    [rule({ name: "ok" }), /AccessRules\[1\] \(ok\): name "ok" is used by an earlier rule/],
    [rule({ name: "Bad" }), /AccessRules\[1\] \(Bad\): name must be lower-case words joined by hyphens/],
    [rule({ name: 7 }), /AccessRules\[1\]: name must be/],
    [rule({ path: 7 }), /path must be a string/],
    [rule({ path: "bad/{userId}" }), /path "bad\/\{userId\}": must end in "\/\*"$/],
    [rule({ path: "{userId}/*" }), /must start with a literal segment/],
    [rule({ path: "a/{user}/*" }), /segment "\{user\}" is neither a placeholder \(\{identityId\}, \{userId\}, \{tenant\}\) nor a literal/],
    [rule({ path: "a/{userId}/{userId}/*" }), /\{userId\} appears twice/],
    [rule({ path: "a//*" }), /segment "" is neither/],
    [rule({ path: "a/../*" }), /segment "\.\." is neither/],
    [rule({ path: "a b/*" }), /segment "a b" is neither/],
    [rule({ path: `a/${"x".repeat(130)}/*` }), /must be at most 128 characters/],
  ];
  for (const [value, want] of cases) {
    assert.throws(() => parseAccessRules(value), (/** @type {any} */ err) => err instanceof AccessRuleError && err.code === "malformed_rules" && want.test(err.message), `${value}: want ${want}`);
  }
  assert.throws(() => parseAccessRules(/** @type {any} */ (undefined)), TypeError);
  assert.throws(() => parseAccessRules(/** @type {any} */ ({})), TypeError);
  // null and empty subjects are absent (Go omits them); only true is kept.
  assert.equal(JSON.stringify(parseAccessRules(rule({ guest: null, tenant: [], acknowledgeUnconfinedWrites: false }))), rule({}));
  assert.equal(JSON.stringify(parseAccessRules(rule({ acknowledgeUnconfinedWrites: true }))), rule({ acknowledgeUnconfinedWrites: true }));
});
