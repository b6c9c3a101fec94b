// Bundles src/main.js, @s3vend/client and AWS SDK for JavaScript v3 into
// dist/main.js with the esbuild pinned in the repository's package.json (no
// CDN at run time).
//   node examples/web/build.mjs
// platform "browser" makes esbuild pick the packages' "browser" entries
// (fetch-based HTTP handler, WebCrypto hashing) instead of their Node ones
// (https://esbuild.github.io/api/#platform).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));

// esbuildAlias is what any esbuild build of @s3vend/client for browsers
// needs (js/client/README.md).
export const esbuildAlias = { "@aws-sdk/credential-providers": "@aws-sdk/credential-providers/dist-es/index.browser.js" };

/** @param {{quiet?: boolean, entryPoints?: Array<{in: string, out: string}>}} [o] */
export async function bundle({ quiet = false, entryPoints = [{ in: "src/main.js", out: "main" }] } = {}) {
  const result = await build({
    absWorkingDir: here,
    entryPoints,
    outdir: "dist",
    bundle: true,
    platform: "browser",
    format: "esm",
    target: ["es2022"],
    minify: true,
    sourcemap: true,
    legalComments: "linked",
    metafile: true,
    logLevel: quiet ? "warning" : "info",
    // @aws-sdk/credential-providers declares its browser entry as a "browser"
    // map key without extension ("./dist-es/index" -> "./dist-es/index.browser"),
    // which esbuild does not match against its "module" path
    // ("./dist-es/index.js"), so it would bundle the Node entry (fromIni,
    // fromProcess, ... importing node:fs). Point it at the browser entry.
    alias: esbuildAlias,
  });
  return result;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await bundle();
}
