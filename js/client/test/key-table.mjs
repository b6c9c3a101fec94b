// Answers a table of access-rule cases with @s3vend/client's helpers, for
// client/jskey_test.go, which compares every answer with Go's client.Key.
// Reads JSON from stdin:
//   {"layouts": {"<name>": "<AccessRules output>"}, "cases": [{"layout", "rule", "identity", "name"}],
//    "malformed": ["<AccessRules value>"]}
// and writes JSON to stdout:
//   {"default": JSON of DEFAULT_ACCESS_RULES, "layouts": {"<name>": JSON of parseAccessRules(output)},
//    "answers": [{"key", "prefix"} | {"error", "code"}], "malformed": [{"error", "code"} | {"accepted": true}]}
// Run by the package entry, as apps import it.
import { parseAccessRules, key, keyPrefix, AccessRuleError, DEFAULT_ACCESS_RULES } from "../src/index.js";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const table = JSON.parse(input);

/** @param {() => object} f */
const answer = (f) => {
  try {
    return f();
  } catch (err) {
    if (!(err instanceof AccessRuleError)) throw err;
    return { error: err.message, code: err.code };
  }
};

/** @type {Record<string, ReturnType<typeof parseAccessRules>>} */
const parsed = {};
for (const [name, output] of Object.entries(table.layouts)) parsed[name] = parseAccessRules(output);

const out = {
  default: JSON.stringify(DEFAULT_ACCESS_RULES),
  layouts: Object.fromEntries(Object.entries(parsed).map(([n, r]) => [n, JSON.stringify(r)])),
  answers: table.cases.map((/** @type {any} */ c) =>
    answer(() => ({ key: key(parsed[c.layout], c.rule, c.identity, c.name), prefix: keyPrefix(parsed[c.layout], c.rule, c.identity) }))),
  malformed: table.malformed.map((/** @type {string} */ v) => answer(() => (parseAccessRules(v), { accepted: true }))),
};
process.stdout.write(JSON.stringify(out));
