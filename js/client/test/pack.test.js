// `npm pack` of @s3vend/client makes a tarball an app can install and use,
// as js/client/README.md ("Install") tells users to: the tarball is
// installed (offline, without its peer dependencies: --legacy-peer-deps)
// into a scratch app under the repository's .build/, whose parent
// node_modules holds the SDK packages the peers resolve to. The installed
// copy (not the workspace link) is then imported through each entry point
// of the exports map, and a TypeScript consumer is type-checked against
// the shipped .d.ts files (and one with a type error must fail, so the
// check cannot pass on `any`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const root = path.resolve(pkgDir, "..", "..");
const tsc = path.join(root, "node_modules", ".bin", "tsc");
/** @type {string} */
let dir;

before(async () => {
  await fs.mkdir(path.join(root, ".build"), { recursive: true });
  dir = await fs.mkdtemp(path.join(root, ".build", "pack-test-"));
});
after(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

/** @param {string} cwd @param {string[]} args */
const npm = (cwd, args) => execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

test("npm pack makes a tarball that installs and works in an app, with its types", { timeout: 180_000 }, async () => {
  const [packed] = JSON.parse(npm(pkgDir, ["pack", "--json", "--pack-destination", dir]));
  const files = packed.files.map((/** @type {{path: string}} */ f) => f.path).sort();
  for (const f of ["package.json", "README.md", "src/index.js", "src/upload.js", "src/rules.js", "types/index.d.ts", "types/upload.d.ts", "types/rules.d.ts"]) {
    assert.ok(files.includes(f), `the tarball lacks ${f}: ${files.join(" ")}`);
  }
  assert.ok(!files.some((/** @type {string} */ f) => f.startsWith("test/")), "the tarball ships the tests");

  const app = path.join(dir, "app");
  await fs.mkdir(app);
  await fs.writeFile(path.join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  npm(app, ["install", "--offline", "--ignore-scripts", "--no-audit", "--no-fund", "--legacy-peer-deps", "--no-package-lock",
    path.join(dir, packed.filename)]);
  const installed = path.join(app, "node_modules", "@s3vend", "client");
  assert.ok(!(await fs.lstat(installed)).isSymbolicLink(), "installed as a link, not from the tarball");

  const probe = `
    import { fromS3Vend, VendorError, privateKey } from "@s3vend/client";
    import { upload } from "@s3vend/client/upload";
    import { DEFAULT_ACCESS_RULES, keyPrefix } from "@s3vend/client/rules";
    const p = fromS3Vend({ endpoint: "https://api.example.com/v1/token", login: async () => ({ provider: "backend", credential: "x" }) });
    let typeError = "";
    try { fromS3Vend({ endpoint: "https://api.example.com", login: () => ({}), tokenEndpoint: "x" }); } catch (e) { typeError = e.constructor.name + ": " + e.message; }
    console.log(JSON.stringify({
      resolved: fileURLToPath(import.meta.resolve("@s3vend/client")),
      provider: typeof p, identityId: typeof p.identityId, upload: typeof upload, rules: keyPrefix(DEFAULT_ACCESS_RULES, "private", { identityId: "eu-west-1:1" }),
      key: privateKey("eu-west-1:00000000-0000-4000-8000-000000000000", "a.txt"), vendorError: typeof VendorError, typeError,
    }));`;
  const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", `import { fileURLToPath } from "node:url";${probe}`], { cwd: app, encoding: "utf8" }));
  assert.ok(out.resolved.startsWith(installed + path.sep), `@s3vend/client resolved to ${out.resolved}, not the installed tarball`);
  assert.deepEqual(
    [out.provider, out.identityId, out.upload, out.rules, out.key, out.vendorError],
    ["function", "function", "function", "private/eu-west-1:1/", "private/eu-west-1:00000000-0000-4000-8000-000000000000/a.txt", "function"],
  );
  assert.match(out.typeError, /^TypeError: fromS3Vend: options\.tokenEndpoint is not an option/);

  // A TypeScript app type-checks against the shipped declarations.
  await fs.writeFile(path.join(app, "good.ts"), `
    import { fromS3Vend, privateKey, VendorError } from "@s3vend/client";
    import { upload, type UploadProgress } from "@s3vend/client/upload";
    import type { AccessRules } from "@s3vend/client/rules";
    const credentials = fromS3Vend({ endpoint: "https://x/v1/token", login: async () => ({ provider: "backend", credential: "t" }) });
    export const id: Promise<string> = credentials.identityId();
    export const k: string = privateKey("eu-west-1:1", "a");
    export const onProgress = (p: UploadProgress): number => p.loaded;
    export const code = (e: unknown): string | undefined => (e instanceof VendorError ? e.code : undefined);
    export type R = AccessRules;
    export const u: typeof upload = upload;
  `);
  await fs.writeFile(path.join(app, "bad.ts"), `
    import { fromS3Vend } from "@s3vend/client";
    export const n: number = fromS3Vend({ endpoint: "https://x/v1/token", login: async () => ({ provider: "backend", credential: "t" }) });
  `);
  const check = (/** @type {string} */ file) => execFileSync(tsc, ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext",
    "--target", "es2022", "--lib", "es2022,dom", "--types", "", "--skipLibCheck", file], { cwd: app, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  check("good.ts");
  assert.throws(() => check("bad.ts"), (/** @type {any} */ e) => /TS2322/.test(String(e.stdout)), "a type error in the consumer passed: the types are not checked");
});
