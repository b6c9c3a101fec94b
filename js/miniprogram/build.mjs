// Bundles the SDK into one ES2015 CommonJS file, dist/s3vend-miniprogram.js,
// for mini-program npm support ("miniprogram": "dist" in package.json) or to
// copy into a project as is. The signer (@smithy/signature-v4) and SHA-256
// (@aws-crypto/sha256-js) are inlined, with their browser builds; the free
// TextEncoder/TextDecoder identifiers those use are bound to src/utf8.js
// (esbuild "inject"), as mini-program engines lack the Encoding API.
//
//   node js/miniprogram/build.mjs [--out file]     (npm run build -w @s3vend/miniprogram)
//
// The size budget (SIZE_BUDGET: the minified file, which counts against the
// mini-program's 2 MB main package, and the same gzipped, as it travels) is
// checked by test/unit.test.mjs.
import { build } from "esbuild";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fs from "node:fs/promises";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(await fs.readFile(path.join(here, "package.json"), "utf8"));

export const OUTFILE = path.join(here, "dist", "s3vend-miniprogram.js");

/** Bytes the bundle may take: 48 KiB minified (2.3 % of the 2 MB package), 20 KiB gzipped. */
export const SIZE_BUDGET = { minified: 48 * 1024, gzip: 20 * 1024 };

const banner = `/*! ${pkg.name} ${pkg.version} (Apache-2.0). Bundles @smithy/signature-v4, @smithy/core, @aws-crypto/sha256-js, @aws-crypto/util, tslib (Apache-2.0 / 0BSD; see their package LICENSE files). */`;

/**
 * Builds the bundle; returns its path and esbuild's metafile.
 * @param {{outfile?: string, minify?: boolean}} [o]
 */
export async function bundle(o = {}) {
  const outfile = o.outfile ?? OUTFILE;
  const res = await build({
    entryPoints: [path.join(here, "src", "index.js")],
    bundle: true,
    format: "cjs",
    platform: "browser",
    // WeChat's ES2015 baseline: no syntax after ES2015 in the output
    // (async functions become generators).
    target: "es2015",
    // No Node built-ins and no package "node" conditions.
    conditions: ["browser"],
    mainFields: ["browser", "module", "main"],
    inject: [path.join(here, "src", "utf8.js")],
    minify: o.minify ?? true,
    legalComments: "none",
    banner: { js: banner },
    outfile,
    metafile: true,
    absWorkingDir: here, // metafile paths relative to the package
    logLevel: "silent",
  });
  // The package's sources are ES modules ("type": "module"); the bundle
  // is CommonJS, as the mini-program runtime loads files.
  await fs.writeFile(path.join(path.dirname(outfile), "package.json"), '{"type": "commonjs"}\n');
  return { outfile, metafile: res.metafile, warnings: res.warnings };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--out");
  const { outfile, warnings } = await bundle({ outfile: i > 0 ? path.resolve(process.argv[i + 1]) : undefined });
  for (const w of warnings) console.error(`warning: ${w.text}`);
  const st = await fs.stat(outfile);
  console.log(`${path.relative(process.cwd(), outfile)}: ${st.size} bytes`);
}
