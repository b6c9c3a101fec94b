// Bundle size of @s3vend/client for browsers (esbuild, minified, gzipped):
// the provider alone, the provider with the upload helper, and the
// package's own code without the SDK. The provider alone must not pull in
// @aws-sdk/lib-storage or @aws-sdk/client-s3 (the upload helper is a
// separate entry point). Sizes are reported, not asserted.
import { test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
// esbuild does not apply @aws-sdk/credential-providers' extension-less
// "browser" map (js/client/README.md, "Bundling").
const alias = { "@aws-sdk/credential-providers": "@aws-sdk/credential-providers/dist-es/index.browser.js" };

/** @param {string} contents @param {boolean} [external] */
async function measure(contents, external = false) {
  const out = await build({
    stdin: { contents, resolveDir: here, loader: "js" },
    bundle: true, minify: true, format: "esm", platform: "browser", target: "es2022", write: false, metafile: true,
    logLevel: "silent", alias, ...(external && { external: ["@aws-sdk/*"] }),
  });
  const code = out.outputFiles[0].contents;
  // used: the files that put code into the output (tree-shaken ones are in inputs only).
  const used = Object.values(out.metafile.outputs).flatMap((o) => Object.entries(o.inputs).filter(([, v]) => v.bytesInOutput > 0).map(([k]) => k));
  return { min: code.length, gz: zlib.gzipSync(code, { level: 9 }).length, inputs: Object.keys(out.metafile.inputs), used };
}

const kib = (/** @type {number} */ n) => `${(n / 1024).toFixed(1)} KiB`;

test("bundle sizes (min+gz)", async (t) => {
  const provider = await measure(`export { fromS3Vend, privateKey } from "../src/index.js";`);
  const withUpload = await measure(`export { fromS3Vend, privateKey } from "../src/index.js"; export { upload } from "../src/upload.js";`);
  const s3 = await measure(`export { S3Client, ListObjectsV2Command } from "@aws-sdk/client-s3";`);
  const s3WithProvider = await measure(`export { S3Client, ListObjectsV2Command } from "@aws-sdk/client-s3"; export { fromS3Vend } from "../src/index.js";`);
  const own = await measure(`export * from "../src/index.js"; export * from "../src/upload.js";`, true);
  const rules = await measure(`export { parseAccessRules, key } from "../src/index.js";`);
  t.diagnostic(`provider alone, with the SDK's Cognito client: ${kib(provider.min)} min, ${kib(provider.gz)} min+gz`);
  t.diagnostic(`provider + upload helper (lib-storage, client-s3): ${kib(withUpload.min)} min, ${kib(withUpload.gz)} min+gz`);
  t.diagnostic(`S3Client alone ${kib(s3.gz)} min+gz; with the provider ${kib(s3WithProvider.gz)}: +${kib(s3WithProvider.gz - s3.gz)} for an app that has S3 already`);
  t.diagnostic(`the package's own code, SDK external: ${kib(own.min)} min, ${kib(own.gz)} min+gz`);
  t.diagnostic(`access-rule helpers alone (parseAccessRules, key): ${kib(rules.min)} min, ${kib(rules.gz)} min+gz`);
  assert.ok(!provider.inputs.some((i) => /lib-storage|client-s3/.test(i)), "the provider alone bundles lib-storage or client-s3");
  assert.ok(withUpload.inputs.some((i) => /lib-storage/.test(i)));
  assert.ok(provider.inputs.some((i) => /cognito-identity/.test(i)), "no Cognito client in the provider's bundle");
  // Tree-shaking: the rule helpers bundle no SDK, and the provider not them.
  assert.deepEqual(rules.used.map((i) => path.basename(i)), ["rules.js"], "the rule helpers bundle more than src/rules.js");
  assert.ok(!provider.used.some((i) => /rules\.js$/.test(i)), "fromS3Vend alone bundles the rule helpers");
});
