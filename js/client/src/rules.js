// Access rules: the bucket's key layout as data (docs/access-rules.md). The
// stack's AccessRules output holds them as JSON; parseAccessRules reads it
// and key() builds the caller's key under a rule, as the Go client's
// client.Key does (contract/access.go, Rule.Key): the same placeholders, the
// same refusals with the same messages. client/jskey_test.go runs this file
// under Node 24 on a table of rules x identities x names and compares every
// answer with client.Key's.
//
// No import, no AWS SDK: also the "@s3vend/client/rules" entry point, which
// @s3vend/miniprogram bundles. Keep it to ES2015 built-ins (the mini-program
// realm); esbuild lowers the syntax.

/** The placeholders of rule paths and the identity field each takes its value from. */
const PLACEHOLDERS = /** @type {const} */ ({ "{identityId}": "identityId", "{userId}": "userId", "{tenant}": "tenant" });
/**
 * Whether a path segment is a placeholder: an own key of PLACEHOLDERS, not
 * "constructor" or "__proto__", which are valid literals.
 * @param {string} s
 */
const isPlaceholder = (s) => Object.prototype.hasOwnProperty.call(PLACEHOLDERS, s);
const SOURCES = {
  "{identityId}": "the identity id",
  "{userId}": "the vendor's userId",
  "{tenant}": "the vendor's tenant: the login's verifier needs a tenantClaim",
};
const ACTIONS = ["get", "list", "put", "delete"];
const SUBJECTS = /** @type {const} */ (["anonymous", "guest", "authenticated", "owner", "tenant"]);
/** A rule's fields in the order of the Go client's JSON (contract.Rule). */
const FIELDS = ["name", "path", ...SUBJECTS, "acknowledgeUnconfinedWrites"];
// contract/access.go: ruleNameRE, literalRE (S3's safe key characters without
// "*", IAM's wildcard), MaxPathLength.
const NAME = /^[a-z][a-z0-9]*(-[a-z][a-z0-9]*)*$/;
const LITERAL = /^[A-Za-z0-9!_.'()-]+$/;
const MAX_PATH = 128;

/** @typedef {"get" | "list" | "put" | "delete"} AccessAction */

/**
 * One access rule, as in the stack's AccessRules output: a path pattern
 * ("avatars/{userId}/*") and who may do what under it.
 * @typedef {object} AccessRule
 * @property {string} name
 * @property {string} path literal segments and the placeholders {identityId}, {userId}, {tenant}, ending in "/*"
 * @property {readonly AccessAction[]} [anonymous]
 * @property {readonly AccessAction[]} [guest]
 * @property {readonly AccessAction[]} [authenticated]
 * @property {readonly AccessAction[]} [owner]
 * @property {readonly AccessAction[]} [tenant]
 * @property {boolean} [acknowledgeUnconfinedWrites]
 */

/** @typedef {readonly AccessRule[]} AccessRules */

/**
 * The caller's placeholder values: what `identity()` of `fromS3Vend`
 * resolves (the vendor's identityId, userId and tenant).
 * @typedef {object} KeyIdentity
 * @property {string} [identityId]
 * @property {string} [userId]
 * @property {string} [tenant]
 */

/**
 * @typedef {"malformed_rules" | "unknown_rule" | "missing_value" | "invalid_value" | "empty_name"} AccessRuleErrorCode
 */

/**
 * A malformed AccessRules value, or a key a rule cannot give this caller.
 * `code`: "malformed_rules" (parseAccessRules), "unknown_rule", "missing_value"
 * (the identity lacks a placeholder's value, e.g. no tenant), "invalid_value"
 * (a value that is not one key segment), "empty_name".
 */
export class AccessRuleError extends Error {
  /**
   * @param {AccessRuleErrorCode} code
   * @param {string} message
   * @param {string} [rule]
   */
  constructor(code, message, rule) {
    super(message);
    this.name = "AccessRuleError";
    /** @type {AccessRuleErrorCode} */
    this.code = code;
    /** The rule's name, when the error concerns one. @type {string | undefined} */
    this.rule = rule;
  }
}

/** Go's %q for the printable names of the table. @param {string} s */
const q = (s) => JSON.stringify(s);

/**
 * @param {string} where
 * @param {string} msg
 * @param {string} [rule]
 */
const malformed = (where, msg, rule) => new AccessRuleError("malformed_rules", `AccessRules${where}: ${msg}`, rule);

/**
 * checkPath is contract/access.go's checkPath: "" when path is valid,
 * else what is wrong.
 * @param {string} path
 */
function checkPath(path) {
  if (path.length > MAX_PATH) return `must be at most ${MAX_PATH} characters`;
  if (path.length < 3 || path.slice(-2) !== "/*") return `must end in "/*"`;
  /** @type {string[]} */
  const seen = [];
  const segs = path.slice(0, -2).split("/");
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    if (isPlaceholder(s)) {
      if (i === 0) return "must start with a literal segment";
      if (seen.indexOf(s) >= 0) return `${s} appears twice`;
      seen.push(s);
    } else if (!LITERAL.test(s) || s === "." || s === "..") {
      // Also an unknown placeholder, "{user}": "{" and "}" are not literal characters.
      return `segment ${q(s)} is neither a placeholder (${Object.keys(PLACEHOLDERS).join(", ")}) nor a literal of letters, digits and !_.'()- other than "." and ".."`;
    }
  }
  return "";
}

/**
 * parseAccessRules reads the stack's AccessRules output (the JSON string,
 * or that string already decoded) into frozen rules for key(). A malformed
 * value is an AccessRuleError "malformed_rules" naming the rule and the
 * problem: not a JSON array of rules, an unknown field (as the Go client,
 * which decodes strictly), a bad name or path, an unknown action, a name
 * used twice.
 *
 *     const rules = parseAccessRules(outputs.AccessRules);
 *
 * @param {string | readonly unknown[]} value
 * @returns {AccessRules}
 */
export function parseAccessRules(value) {
  /** @type {unknown} */
  let doc = value;
  if (typeof value === "string") {
    try {
      doc = JSON.parse(value);
    } catch {
      throw malformed("", "is not JSON");
    }
  } else if (!Array.isArray(value)) {
    throw new TypeError("parseAccessRules: value must be the AccessRules output (a JSON string) or its decoded array");
  }
  if (!Array.isArray(doc)) throw malformed("", "must be a JSON array of rules");
  if (doc.length === 0) throw malformed("", "lists no rule");
  /** @type {AccessRule[]} */
  const out = [];
  doc.forEach((/** @type {any} */ item, /** @type {number} */ i) => {
    const named = item !== null && typeof item === "object" && typeof item.name === "string" ? item.name : "";
    const where = `[${i}]${named ? ` (${named})` : ""}`;
    if (item === null || typeof item !== "object" || Array.isArray(item)) throw malformed(where, "a rule must be an object");
    for (const k of Object.keys(item)) {
      if (FIELDS.indexOf(k) < 0) throw malformed(where, `unknown field ${q(k)} (known: ${FIELDS.join(", ")})`, named);
    }
    if (!NAME.test(named) || named.length > 32) throw malformed(where, "name must be lower-case words joined by hyphens, at most 32 characters", named);
    if (out.some((r) => r.name === named)) throw malformed(where, `name ${q(named)} is used by an earlier rule`, named);
    if (typeof item.path !== "string") throw malformed(where, "path must be a string", named);
    const bad = checkPath(item.path);
    if (bad) throw malformed(where, `path ${q(item.path)}: ${bad}`, named);
    /** @type {Record<string, unknown>} */
    const rule = { name: named, path: item.path };
    for (const s of SUBJECTS) {
      const acts = item[s];
      if (acts === undefined || acts === null) continue;
      if (!Array.isArray(acts) || acts.some((a, k) => ACTIONS.indexOf(a) < 0 || acts.indexOf(a) !== k)) {
        throw malformed(where, `${s} must list distinct actions (${ACTIONS.join(", ")})`, named);
      }
      if (acts.length > 0) rule[s] = Object.freeze(acts.slice());
    }
    const ack = item.acknowledgeUnconfinedWrites;
    if (ack !== undefined && ack !== null && typeof ack !== "boolean") throw malformed(where, "acknowledgeUnconfinedWrites must be a boolean", named);
    if (ack === true) rule.acknowledgeUnconfinedWrites = true;
    out.push(/** @type {AccessRule} */ (Object.freeze(rule)));
  });
  return Object.freeze(out);
}

/**
 * The layout of a stack without "access" in cdk.json, and of stacks from
 * before access rules (no AccessRules output): contract.DefaultRules.
 * @type {AccessRules}
 */
export const DEFAULT_ACCESS_RULES = /* @__PURE__ */ parseAccessRules([
  { name: "public", path: "public/*", anonymous: ["get"], guest: ["get"], authenticated: ["get", "list"] },
  { name: "protected", path: "protected/{identityId}/*", authenticated: ["get", "list"], owner: ["get", "put", "delete", "list"] },
  { name: "private", path: "private/{identityId}/*", owner: ["get", "put", "delete", "list"] },
]);

/**
 * @param {string} fn
 * @param {unknown} rules
 * @param {unknown} name
 */
function ruleNamed(fn, rules, name) {
  if (!Array.isArray(rules)) throw new TypeError(`${fn}: rules must be parseAccessRules' result`);
  if (typeof name !== "string") throw new TypeError(`${fn}: rule must be a string`);
  const r = /** @type {AccessRules} */ (rules).find((x) => x.name === name);
  if (!r) throw new AccessRuleError("unknown_rule", `no access rule ${q(name)} (the stack's AccessRules output)`, name);
  return r;
}

/**
 * keyPrefix is the rule's prefix for the caller: its path with every
 * placeholder replaced by the identity's value and without the final "*",
 * such as "avatars/google:42/" for "avatars/{userId}/*" (ListObjectsV2
 * Prefix). An AccessRuleError when the rule is unknown or the identity
 * lacks a value the path needs.
 *
 * @param {AccessRules} rules parseAccessRules(outputs.AccessRules)
 * @param {string} rule a rule's name
 * @param {KeyIdentity} identity await credentials.identity()
 * @returns {string}
 */
export function keyPrefix(rules, rule, identity) {
  const r = ruleNamed("keyPrefix", rules, rule);
  if (identity === null || typeof identity !== "object") throw new TypeError("keyPrefix: identity must be an object (credentials.identity())");
  let out = "";
  for (const seg of r.path.slice(0, -2).split("/")) {
    if (!isPlaceholder(seg)) {
      out += seg + "/";
      continue;
    }
    const p = /** @type {keyof typeof PLACEHOLDERS} */ (seg);
    const field = PLACEHOLDERS[p];
    const v = identity[field];
    if (v !== undefined && typeof v !== "string") throw new TypeError(`keyPrefix: identity.${field} must be a string`);
    if (!v) throw new AccessRuleError("missing_value", `access rule ${q(r.name)}: no value for ${p} (${SOURCES[p]})`, r.name);
    if (v.indexOf("/") >= 0 || v === "." || v === "..") {
      throw new AccessRuleError("invalid_value", `access rule ${q(r.name)}: the value for ${p} is not one key segment`, r.name);
    }
    out += v + "/";
  }
  return out;
}

/**
 * key is the key of name under the rule for the caller: keyPrefix followed
 * by name without leading slashes, such as "avatars/google:42/me.jpg".
 * Throws an AccessRuleError (unknown rule, a placeholder value the identity
 * lacks or that is not one segment, an empty name), like Go's client.Key.
 *
 *     const avatar = key(rules, "avatars", await credentials.identity(), "me.jpg");
 *
 * @param {AccessRules} rules parseAccessRules(outputs.AccessRules)
 * @param {string} rule a rule's name
 * @param {KeyIdentity} identity await credentials.identity()
 * @param {string} name the object's name under the rule's prefix
 * @returns {string}
 */
export function key(rules, rule, identity, name) {
  const prefix = keyPrefix(rules, rule, identity);
  if (typeof name !== "string") throw new TypeError("key: name must be a string");
  const n = name.replace(/^\/+/, "");
  if (n === "") throw new AccessRuleError("empty_name", `access rule ${q(rule)}: empty object name`, rule);
  return prefix + n;
}
