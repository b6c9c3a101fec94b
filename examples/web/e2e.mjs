// End-to-end test of the app (and of @s3vend/client under it) in headless
// Chromium (Debian's /usr/bin/chromium driven by playwright-core), against a
// running s3vend stack: the local stand-ins (test/e2e TestBrowser starts
// them with a short token and credential lifetime) or a deployed dev stack.
//
//   node examples/web/e2e.mjs            (Node 24: node_modules/.bin/node)
//
// Environment (see README.md): S3VEND_ENDPOINT, AWS_REGION, S3VEND_BUCKET,
// S3VEND_LOGIN, S3VEND_LOGIN_B (required); AWS_ENDPOINT_URL_S3,
// AWS_ENDPOINT_URL_COGNITO_IDENTITY, S3VEND_PROVIDER (default backend),
// S3VEND_TOKEN_SECONDS and S3VEND_CREDENTIAL_SECONDS (the stack's lifetimes,
// default 900 and 3600: the session case runs long enough to outlive both
// twice, so keep them short), S3VEND_CONTROL_URL (the stand-ins' control
// endpoint: failure injection; without it that case is skipped), CHROMIUM.
//
// It bundles the app and a probe page, serves them on http://localhost:3000
// (an allowed origin of the dev stack's CORS rules) and http://127.0.0.1:3001
// (not allowed), and drives one shared Chromium. node:test prints the
// summary; the exit code is non-zero when a case fails.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import fs from "node:fs/promises";
import path from "node:path";
import zlib from "node:zlib";
import crypto from "node:crypto";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { bundle } from "./build.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const GOOD_PORT = 3000; // http://localhost:3000 is in the dev stack's CORS origins (cdk.json)
const BAD_PORT = 3001; // http://127.0.0.1:3001 is not
const TIMEOUT = 30_000;
const MiB = 1024 * 1024;

function env(name, fallback) {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === "") {
    throw new Error(`environment variable ${name} is required (see examples/web/README.md)`);
  }
  return v;
}

let cfg, servers = [], browser;

// The only files served; everything else is 404 (no directory traversal).
async function serveFile(urlPath) {
  const files = {
    "/": ["index.html", "text/html; charset=utf-8"],
    "/index.html": ["index.html", "text/html; charset=utf-8"],
    "/dist/main.js": ["dist/main.js", "text/javascript; charset=utf-8"],
    "/dist/main.js.map": ["dist/main.js.map", "application/json"],
    "/dist/probe.js": ["dist/probe.js", "text/javascript; charset=utf-8"],
  };
  if (urlPath === "/config.json") return [JSON.stringify(cfg.page), "application/json"];
  if (urlPath === "/probe.html") {
    return ['<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="dist/probe.js"></script>', "text/html; charset=utf-8"];
  }
  const f = files[urlPath];
  return f ? [await fs.readFile(path.join(here, f[0])), f[1]] : null;
}

function listen(port, host) {
  const server = http.createServer(async (req, res) => {
    try {
      const found = await serveFile(new URL(req.url, "http://x").pathname);
      if (!found) return res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      res.writeHead(200, { "content-type": found[1], "cache-control": "no-store" }).end(found[0]);
    } catch (err) {
      res.writeHead(500, { "content-type": "text/plain" }).end(String(err));
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", (err) => {
      if (err.code === "EADDRINUSE") {
        reject(new Error(`port ${host}:${port} is taken: the e2e test must serve the page on exactly this port ` +
          `(the origin http://localhost:${GOOD_PORT} is the one the dev stack's CORS rules allow); stop whatever listens there`));
      } else reject(err);
    });
    server.listen(port, host, () => resolve(server));
  });
}

before(async () => {
  const s3Endpoint = process.env.AWS_ENDPOINT_URL_S3 || undefined;
  cfg = {
    chromium: env("CHROMIUM", "/usr/bin/chromium"),
    loginA: env("S3VEND_LOGIN"),
    loginB: env("S3VEND_LOGIN_B"),
    tokenSeconds: Number(env("S3VEND_TOKEN_SECONDS", "900")),
    credentialSeconds: Number(env("S3VEND_CREDENTIAL_SECONDS", "3600")),
    control: process.env.S3VEND_CONTROL_URL || undefined,
    page: {
      tokenEndpoint: `${env("S3VEND_ENDPOINT").replace(/\/+$/, "")}/v1/token`,
      provider: env("S3VEND_PROVIDER", "backend"),
      region: env("AWS_REGION"),
      bucket: env("S3VEND_BUCKET"),
      ...(s3Endpoint && { s3Endpoint }),
      ...(process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY && { cognitoEndpoint: process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY }),
    },
  };
  await fs.access(cfg.chromium).catch(() => {
    throw new Error(`no Chromium at ${cfg.chromium}: install Debian's chromium package or set CHROMIUM`);
  });
  await bundle({ quiet: true, entryPoints: [{ in: "src/main.js", out: "main" }, { in: "e2e-probe.js", out: "probe" }] });
  // "localhost" in Chromium is loopback, IPv4 or IPv6: listen on both.
  servers.push(await listen(GOOD_PORT, "127.0.0.1"));
  try {
    servers.push(await listen(GOOD_PORT, "::1"));
  } catch (err) {
    if (/taken/.test(err.message)) throw err; // else no IPv6 loopback here: fine
  }
  servers.push(await listen(BAD_PORT, "127.0.0.1"));
  browser = await chromium.launch({
    executablePath: cfg.chromium,
    headless: true,
    // No sandbox (containers), and no background traffic to Google services:
    // this machine has no internet, and Chromium otherwise keeps retrying.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

// ---- helpers ---------------------------------------------------------------

// watch records what the page sends, as it sends it: vendor logins (POST
// .../v1/token), Cognito GetCredentialsForIdentity, and S3 requests. Each
// entry's status arrives with its answer: await settled(seen) first.
function watch(page) {
  const seen = { vendor: [], gcfi: [], s3: [], pending: new Set() };
  const cognito = cfg.page.cognitoEndpoint && new URL(cfg.page.cognitoEndpoint).origin;
  const s3 = cfg.page.s3Endpoint && new URL(cfg.page.s3Endpoint).origin;
  page.on("request", (r) => {
    const u = new URL(r.url());
    let list;
    if (u.pathname.endsWith("/v1/token") && r.method() === "POST") list = seen.vendor;
    else if (cognito && u.origin === cognito && r.headers()["x-amz-target"]?.endsWith("GetCredentialsForIdentity")) list = seen.gcfi;
    else if (s3 && u.origin === s3 && r.method() !== "OPTIONS") list = seen.s3;
    if (!list) return;
    const entry = { url: r.url(), method: r.method(), status: undefined, at: Date.now(), body: r.postData() };
    list.push(entry);
    const done = new Promise((resolve) => {
      const finish = async (req) => {
        if (req !== r) return;
        page.off("requestfinished", finish);
        page.off("requestfailed", finish);
        try {
          const res = await req.response().catch(() => null);
          entry.status = res?.status() ?? 0;
          // The vendor's Cognito token, for the checks that nothing shows or logs it.
          if (list === seen.vendor && entry.status === 200) entry.token = JSON.parse(await res.text()).token;
        } catch (err) {
          // The page or its context closed before the body could be read (a
          // case that ends while a refresh is in flight): the request still
          // counts, its token is unknown. Not rethrown: a listener's rejection
          // would outlive the test and fail the run as an unhandledRejection.
          entry.error = String(err?.message ?? err);
        } finally {
          resolve();
        }
      };
      page.on("requestfinished", finish);
      page.on("requestfailed", finish);
    });
    seen.pending.add(done);
    done.then(() => seen.pending.delete(done));
  });
  return seen;
}

// settled waits until every recorded request has its answer.
async function settled(seen) {
  while (seen.pending.size) await Promise.all([...seen.pending]);
  return seen;
}

// openPage opens url in a context (new unless given); the stand-ins' TLS
// certificates come from a local CA the browser does not know, hence
// ignoreHTTPSErrors.
async function openPage(url, context) {
  context ??= await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const consoleLines = [];
  page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => consoleLines.push(`pageerror: ${e.message}`));
  const seen = watch(page);
  await page.goto(url);
  // The page starts busy ("Loading…" in index.html) and leaves it once the
  // app has read config.json and restored or refused a stored session, which
  // is after the load event: waiting on "busy" alone must not see a state
  // from before the app ran (with an initial "idle" it once did, under load).
  if (!url.includes("probe")) await page.locator('#status:not([data-state="busy"])').waitFor();
  return { context, page, consoleLines, seen };
}

// withPage runs fn on a page of a fresh context, closing it afterwards.
async function withPage(url, fn) {
  const p = await openPage(url);
  try {
    return await fn(p);
  } finally {
    await p.context.close();
  }
}

// act runs a click (or any action) and waits until #status leaves "busy".
async function act(page, action) {
  await page.locator("#status").evaluate((el) => { el.dataset.state = "busy"; });
  await (typeof action === "string" ? page.click(action) : action());
  await page.locator('#status:not([data-state="busy"])').waitFor();
  return { state: await page.getAttribute("#status", "data-state"), text: await page.textContent("#status"), code: await page.getAttribute("#status", "data-code") };
}

async function signIn(page, login, { remember = false } = {}) {
  await page.fill("#login", login);
  await page.setChecked("#remember", remember);
  const r = await act(page, "#signin-button");
  return { ...r, identityId: await page.getAttribute("#identity", "data-identity-id") };
}

async function uploadFile(page, name, buffer, mimeType = "application/octet-stream") {
  await page.setInputFiles("#file", { name, mimeType, buffer });
  return act(page, "#upload-button");
}

function crc32Base64(buf) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(zlib.crc32(buf));
  return b.toString("base64");
}

// refreshPeriod: @s3vend/client refreshes credentials min(5 min, C/4) before they expire.
function refreshPeriod() {
  const C = cfg.credentialSeconds * 1000;
  return C - Math.min(300_000, C / 4);
}

const rand = () => crypto.randomBytes(4).toString("hex");
const ok = (r, what, lines = []) => assert.equal(r.state, "ok", `${what}: ${r.text}\n${lines.join("\n")}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- cases -----------------------------------------------------------------

describe("the app against the stack", { concurrency: true }, () => {
  test("a session outlives the Cognito token and then the credentials; the vendor is called only per refresh", { timeout: 180_000 }, async (t) => {
    const T = cfg.tokenSeconds * 1000;
    const C = cfg.credentialSeconds * 1000;
    const period = refreshPeriod();
    if (T >= period || C > 120_000) return t.skip(`needs a token shorter than ${period} ms and credentials of at most 2 min (got ${T}, ${C})`);
    await withPage(`http://localhost:${GOOD_PORT}/`, async ({ page, consoleLines, seen }) => {
      const started = Date.now();
      ok(await signIn(page, cfg.loginA), "sign-in", consoleLines);
      // Keep using S3, once a second, until the credentials were refreshed
      // twice (each time after the token had expired), and twice more.
      const deadline = started + 4 * period + 10_000;
      let clicks = 0;
      let after = 0;
      while (after < 2) {
        assert.ok(Date.now() < deadline, `only ${seen.vendor.length} vendor calls in ${Date.now() - started} ms`);
        const r = await act(page, "#refresh-button");
        ok(r, `S3 call ${clicks + 1} at ${Date.now() - started} ms`, consoleLines);
        clicks++;
        if (seen.vendor.length >= 3) after++;
        await sleep(1000);
      }
      const elapsed = Date.now() - started;
      await settled(seen);
      const vendor = seen.vendor.filter((e) => e.status === 200).length;
      const gcfi = seen.gcfi.filter((e) => e.status === 200).length;
      t.diagnostic(`session of ${elapsed} ms, token ${T} ms, credentials ${C} ms: ${clicks + 1} S3 list calls, ${vendor} vendor calls, ${gcfi} GetCredentialsForIdentity`);
      // Every GetCredentialsForIdentity was accepted: no expired token was ever sent.
      assert.deepEqual(seen.gcfi.filter((e) => e.status !== 200), [], "Cognito refused a token");
      // Each refresh needed a new token (the token is shorter than a
      // refresh period), and there was one refresh per period, not per S3 call.
      assert.equal(vendor, gcfi);
      assert.ok(vendor >= 3, `${vendor} vendor calls: the session did not outlive the credentials twice`);
      assert.ok(vendor <= 1 + Math.ceil(elapsed / period), `${vendor} vendor calls in ${elapsed} ms: more than one per ${period} ms refresh`);
      // Nothing logs or shows the login or a token (issue 14, "Bad input").
      const tokens = seen.vendor.map((e) => e.token).filter(Boolean);
      assert.equal(tokens.length, vendor);
      const html = await page.content();
      for (const secret of [cfg.loginA, ...tokens]) {
        assert.ok(!consoleLines.some((l) => l.includes(secret)), "a login or token on the console");
        assert.ok(!html.includes(secret), "a login or token in the page");
      }
    });
  });

  describe("one user at a time", () => {
    test("sign in, upload, list, download; the PutObject is signed with temporary credentials and CRC32", { timeout: 90_000 }, async (t) => {
      await withPage(`http://localhost:${GOOD_PORT}/`, async ({ page, consoleLines, seen }) => {
        const signedInAt = Date.now();
        const signin = await signIn(page, cfg.loginA);
        ok(signin, "sign-in", consoleLines);
        // Cognito identity ids are <region>:<uuid>.
        assert.match(signin.identityId, /^[a-z]{2}(-[a-z]+)+-\d:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        assert.ok(signin.identityId.startsWith(`${cfg.page.region}:`));
        const ms = await page.evaluate(() => performance.getEntriesByName("s3vend:sign-in-to-first-s3")[0]?.duration);
        t.diagnostic(`cold sign-in to first S3 call (vendor, Cognito, ListObjectsV2) in Chromium: ${Math.round(ms)} ms`);

        await page.locator('#public:not([data-state="loading"])').waitFor();
        assert.equal((await page.textContent("#public")).trim(), "hello from s3vend");

        const name = `e2e-${rand()}.txt`;
        const content = Buffer.from(`uploaded by examples/web/e2e.mjs at ${new Date().toISOString()}\n`);
        const puts = [];
        page.on("request", (r) => { if (r.method() === "PUT") puts.push(r); });
        const up = await uploadFile(page, name, content, "text/plain");
        ok(up, "upload", consoleLines);
        const key = `private/${signin.identityId}/${name}`;
        const row = page.locator(`#files tr[data-key="${key}"]`);
        assert.equal(await row.count(), 1, `listing lacks ${key}`);
        assert.equal(await row.locator("td.num").getAttribute("data-bytes"), String(content.length));
        assert.match(await row.locator("td").nth(2).textContent(), /\d/, "no modification date");

        // The PutObject the SDK sent: path-style on a custom endpoint, with the
        // default CRC32 checksum header (SDK >= 3.729.0, aws/aws-sdk-js-v3#6810),
        // which the bucket's CORS rules therefore had to allow.
        assert.equal(puts.length, 1, `PUT requests: ${puts.map((r) => r.url()).join(", ")}`);
        const put = puts[0];
        if (cfg.page.s3Endpoint) assert.equal(decodeURIComponent(new URL(put.url()).pathname), `/${cfg.page.bucket}/${key}`);
        const headers = await put.allHeaders();
        t.diagnostic(`PutObject request headers: ${Object.keys(headers).sort().join(" ")}`);
        if ("x-amz-checksum-crc32" in headers) assert.equal(headers["x-amz-checksum-crc32"], crc32Base64(content));
        else assert.ok("x-amz-sdk-checksum-algorithm" in headers, "no checksum header on PutObject");
        assert.match(headers.authorization ?? "", /^AWS4-HMAC-SHA256 Credential=ASIA/);
        assert.ok(headers["x-amz-security-token"], "PutObject without the session token");

        const [dl] = await Promise.all([page.waitForEvent("download"), row.locator('button[data-action="download"]').click()]);
        assert.equal(dl.suggestedFilename(), name);
        assert.deepEqual(await fs.readFile(await dl.path()), content);
        // One vendor call for the visit, plus one per credential refresh it lasted.
        assert.ok(seen.vendor.length <= 1 + Math.floor((Date.now() - signedInAt) / refreshPeriod()), `${seen.vendor.length} vendor calls`);

        const del = await act(page, () => row.locator('button[data-action="delete"]').click());
        ok(del, "delete", consoleLines);
        assert.equal(await page.locator(`#files tr[data-key="${key}"]`).count(), 0);

        await fs.mkdir(path.join(here, "dist"), { recursive: true });
        await page.screenshot({ path: path.join(here, "dist", "e2e.png"), fullPage: true });
      });
    });

    test("the list is paginated", { timeout: 60_000 }, async () => {
      await withPage(`http://localhost:${GOOD_PORT}/?pageSize=2`, async ({ page, consoleLines }) => {
        ok(await signIn(page, cfg.loginA), "sign-in", consoleLines);
        for (let i = 0; i < 3; i++) ok(await uploadFile(page, `page-${i}-${rand()}.txt`, Buffer.from(`${i}`), "text/plain"), "upload");
        assert.equal(await page.getAttribute("#files", "data-count"), "2", "the first page holds pageSize files");
        assert.ok(await page.isVisible("#more-button"), "no More button for the next page");
        const total = await countAll(page);
        assert.ok(total >= 3);
        assert.equal(await page.getAttribute("#files", "data-count"), String(total));
      });
    });

    test("user A signs out, user B signs in in the same tab: B's identity, B's list; A's private objects are denied, A's share is readable", { timeout: 90_000 }, async () => {
      await withPage(`http://localhost:${GOOD_PORT}/`, async ({ page, consoleLines, seen }) => {
        const a = await signIn(page, cfg.loginA);
        ok(a, "A signs in", consoleLines);
        const name = `from-a-${rand()}.txt`;
        ok(await uploadFile(page, name, Buffer.from("A's words\n"), "text/plain"), "A uploads");
        const privA = `private/${a.identityId}/${name}`;
        ok(await act(page, () => page.locator(`#files tr[data-key="${privA}"] button[data-action="share"]`).click()), "A shares");
        const shareKey = (await page.textContent("#share-key")).trim();
        assert.equal(shareKey, `protected/${a.identityId}/${name}`);

        ok(await act(page, "#signout-button"), "A signs out");
        assert.equal(await page.getAttribute("#identity", "data-identity-id"), null);
        const gcfiBefore = seen.gcfi.length;
        const b = await signIn(page, cfg.loginB);
        ok(b, "B signs in", consoleLines);
        assert.notEqual(b.identityId, a.identityId);
        // Every Cognito call since names B's identity.
        for (const e of seen.gcfi.slice(gcfiBefore)) assert.equal(JSON.parse(e.body).IdentityId, b.identityId);
        assert.equal(await page.locator(`#files tr[data-key^="private/${a.identityId}/"]`).count(), 0, "B's list shows A's files");
        assert.equal(await page.textContent("#prefix"), `private/${b.identityId}/`);

        await page.fill("#open-key", privA);
        const denied = await act(page, "#open-button");
        assert.equal(denied.state, "error");
        assert.equal(denied.code, "AccessDenied", denied.text);
        assert.match(denied.text, /^You do not have access to that file\. \(AccessDenied, HTTP 403\)$/);

        await page.fill("#open-key", shareKey);
        ok(await act(page, "#open-button"), "B opens A's share");
        assert.equal(await page.textContent("#opened"), "A's words\n");
      });
    });

    test("a 12 MiB upload goes up in parts with increasing progress; cancel aborts it and leaves nothing", { timeout: 120_000 }, async () => {
      await withPage(`http://localhost:${GOOD_PORT}/`, async ({ page, consoleLines, seen }) => {
        const a = await signIn(page, cfg.loginA);
        ok(a, "sign-in", consoleLines);
        const big = crypto.randomBytes(12 * MiB);
        const name = `big-${rand()}.bin`;
        const r = await uploadFile(page, name, big);
        ok(r, "12 MiB upload", consoleLines);
        assert.match(r.text, /\(in parts\)$/);
        const log = (await page.getAttribute("#progress", "data-log")).split(",").map(Number);
        assert.ok(log.length >= 3, `progress events ${log}`);
        for (let i = 1; i < log.length; i++) assert.ok(log[i] >= log[i - 1], `progress went back: ${log}`);
        assert.equal(log.at(-1), big.length);
        const key = `private/${a.identityId}/${name}`;
        await settled(seen);
        const mine = seen.s3.filter((e) => decodeURIComponent(new URL(e.url).pathname).endsWith(key));
        const q = (e) => new URL(e.url).searchParams;
        assert.equal(mine.filter((e) => e.method === "POST" && q(e).has("uploads")).length, 1, "CreateMultipartUpload");
        assert.equal(mine.filter((e) => e.method === "PUT" && q(e).has("partNumber") && e.status === 200).length, 3, "three 5 MiB parts");
        assert.equal(mine.filter((e) => e.method === "POST" && q(e).has("uploadId") && e.status === 200).length, 1, "CompleteMultipartUpload");
        assert.equal(await page.locator(`#files tr[data-key="${key}"] td.num`).getAttribute("data-bytes"), String(big.length));

        // Cancel: hold each part back a while, so the upload is still running.
        await page.route(/[?&]partNumber=/, async (route) => {
          await sleep(1500);
          await route.continue().catch(() => {});
        });
        const cname = `cancelled-${rand()}.bin`;
        const ckey = `private/${a.identityId}/${cname}`;
        await page.setInputFiles("#file", { name: cname, mimeType: "application/octet-stream", buffer: big });
        const partSent = page.waitForRequest((req) => /[?&]partNumber=/.test(req.url()));
        const aborted = page.waitForResponse((res) => res.request().method() === "DELETE" && /[?&]uploadId=/.test(res.url()) && decodeURIComponent(new URL(res.url()).pathname).endsWith(ckey));
        await page.locator("#status").evaluate((el) => { el.dataset.state = "busy"; });
        await page.click("#upload-button");
        await partSent;
        await page.click("#cancel-button");
        await page.locator('#status:not([data-state="busy"])').waitFor();
        assert.equal(await page.getAttribute("#status", "data-code"), "AbortError");
        assert.match(await page.textContent("#status"), /^Upload cancelled\./);
        assert.equal((await aborted).status(), 204, "AbortMultipartUpload");
        await page.unroute(/[?&]partNumber=/);
        ok(await act(page, "#refresh-button"), "refresh");
        assert.equal(await page.locator(`#files tr[data-key="${ckey}"]`).count(), 0, "a cancelled upload appeared");
      });
    });

    test("reopening within the token's lifetime: with persistence 0 vendor calls, without it 1", { timeout: 60_000 }, async (t) => {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      try {
        let { page, consoleLines, seen } = await openPage(`http://localhost:${GOOD_PORT}/`, context);
        const a = await signIn(page, cfg.loginA, { remember: true });
        ok(a, "sign-in with persistence", consoleLines);
        // The stored token's lifetime, as @s3vend/client judges it: usable
        // until expiresAt less min(30 s, a fifth of its lifetime).
        const rec = JSON.parse(await page.evaluate(() => Object.entries(localStorage).find(([k]) => k.startsWith("s3vend:v1:"))?.[1] ?? "null"));
        assert.ok(rec?.token && rec.identityId === a.identityId, `no stored record: ${JSON.stringify(rec)}`);
        const usableUntil = rec.expiresAt - Math.min(30_000, (rec.expiresAt - rec.obtainedAt) / 5);
        await page.close();

        ({ page, consoleLines, seen } = await openPage(`http://localhost:${GOOD_PORT}/`, context));
        const late = (seen.gcfi[0]?.at ?? Date.now()) - usableUntil;
        assert.ok(late < 0, `the reopened page asked Cognito ${late} ms after the stored token's usable life: too slow a machine for a ${cfg.tokenSeconds} s token`);
        assert.equal(await page.getAttribute("#status", "data-state"), "ok", `${await page.textContent("#status")}\n${consoleLines.join("\n")}`);
        assert.equal(await page.getAttribute("#identity", "data-identity-id"), a.identityId);
        assert.equal(seen.vendor.length, 0, "reopening with persistence called the vendor");
        assert.equal(seen.gcfi.length, 1, "one GetCredentialsForIdentity with the stored token");
        // What is stored: the identity id and the token, never the login.
        const stored = await page.evaluate(() => Object.entries(localStorage));
        t.diagnostic(`localStorage keys: ${stored.map(([k]) => k).join(", ")}`);
        assert.ok(stored.every(([, v]) => !v.includes(cfg.loginA)), "the login is in localStorage");
        ok(await act(page, "#signout-button"), "sign out");
        assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)), [], "sign-out left records");

        ok(await signIn(page, cfg.loginA), "sign-in without persistence");
        await page.close();
        ({ page, consoleLines, seen } = await openPage(`http://localhost:${GOOD_PORT}/`, context));
        assert.equal(await page.isVisible("#signin"), true, "without persistence the reopened app must sign in again");
        ok(await signIn(page, cfg.loginA), "sign-in again");
        assert.equal(seen.vendor.length, 1);
      } finally {
        await context.close();
      }
    });

    test("20 S3 clients making 20 calls at a cold start cause one vendor call and one GetCredentialsForIdentity", { timeout: 60_000 }, async () => {
      await withPage(`http://localhost:${GOOD_PORT}/probe.html`, async ({ page, seen }) => {
        await page.waitForFunction(() => document.title === "probe ready");
        const ids = await page.evaluate(async ({ page: c, login }) => {
          const { fromS3Vend, privatePrefix, S3Client, ListObjectsV2Command } = window.probe;
          const credentials = fromS3Vend({ endpoint: c.tokenEndpoint, login: async () => ({ provider: c.provider, credential: login }), ...(c.cognitoEndpoint && { cognitoEndpoint: c.cognitoEndpoint }) });
          const clients = Array.from({ length: 20 }, () => new S3Client({ region: c.region, credentials, ...(c.s3Endpoint && { endpoint: c.s3Endpoint, forcePathStyle: true }) }));
          const out = await Promise.all(clients.map(async (s3) => {
            const identityId = await credentials.identityId();
            await s3.send(new ListObjectsV2Command({ Bucket: c.bucket, Prefix: privatePrefix(identityId) }));
            return identityId;
          }));
          return out;
        }, { page: cfg.page, login: cfg.loginA });
        assert.equal(new Set(ids).size, 1);
        await settled(seen);
        assert.equal(seen.vendor.length, 1, "vendor calls");
        assert.equal(seen.gcfi.length, 1, "GetCredentialsForIdentity calls");
        assert.equal(seen.s3.filter((e) => e.status === 200).length, 20);
      });
    });

    test("writing under another identity's prefix is denied by IAM", { timeout: 60_000 }, async () => {
      await withPage(`http://localhost:${GOOD_PORT}/probe.html`, async ({ page }) => {
        await page.waitForFunction(() => document.title === "probe ready");
        const res = await page.evaluate(async ({ page: c, login }) => {
          const { fromS3Vend, S3Client, PutObjectCommand } = window.probe;
          const credentials = fromS3Vend({ endpoint: c.tokenEndpoint, login: async () => ({ provider: c.provider, credential: login }), ...(c.cognitoEndpoint && { cognitoEndpoint: c.cognitoEndpoint }) });
          const s3 = new S3Client({ region: c.region, credentials, ...(c.s3Endpoint && { endpoint: c.s3Endpoint, forcePathStyle: true }) });
          try {
            await s3.send(new PutObjectCommand({ Bucket: c.bucket, Key: `private/${c.region}:bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb/x`, Body: "must not land" }));
            return "stored";
          } catch (e) {
            return `${e.name} ${e.$metadata?.httpStatusCode}`;
          }
        }, { page: cfg.page, login: cfg.loginA });
        assert.equal(res, "AccessDenied 403");
      });
    });

    test("an origin outside the CORS rules cannot sign in or read the bucket", { timeout: 60_000 }, async () => {
      await withPage(`http://127.0.0.1:${BAD_PORT}/`, async ({ context, page, consoleLines }) => {
        const signin = await signIn(page, cfg.loginA);
        assert.equal(signin.state, "error");
        assert.equal(signin.code, "network_error", signin.text);
        assert.match(signin.text, /^Cannot reach the sign-in service: .*\(network_error\)$/);
        assert.equal(signin.identityId, null);
        await page.locator('#public:not([data-state="loading"])').waitFor();
        assert.equal(await page.getAttribute("#public", "data-code"), "NetworkError");
        // Chromium names the cause on the console; the page cannot see it.
        const cors = consoleLines.filter((l) => /blocked by CORS policy/.test(l));
        assert.ok(cors.some((l) => l.includes("/v1/token")), `no CORS console error for /v1/token:\n${consoleLines.join("\n")}`);
        assert.ok(cors.some((l) => l.includes("public/hello.txt")), `no CORS console error for public/hello.txt:\n${consoleLines.join("\n")}`);
        // Outside a browser (no CORS) the same object is readable: the failure
        // above is the CORS rule, not a missing object.
        const url = cfg.page.s3Endpoint
          ? `${cfg.page.s3Endpoint.replace(/\/+$/, "")}/${cfg.page.bucket}/public/hello.txt`
          : `https://${cfg.page.bucket}.s3.${cfg.page.region}.amazonaws.com${cfg.page.region.startsWith("cn-") ? ".cn" : ""}/public/hello.txt`;
        const direct = await context.request.get(url);
        assert.equal(direct.status(), 200);
      });
    });
  });
});

test("a throttled sign-in is retried after the vendor's Retry-After, which CORS lets the page read", { timeout: 60_000 }, async (t) => {
  if (!cfg.control) return t.skip("no S3VEND_CONTROL_URL: cannot make the stand-in throttle");
  await withPage(`http://localhost:${GOOD_PORT}/`, async ({ page, consoleLines, seen }) => {
    const res = await fetch(`${cfg.control}/fail?op=GetOpenIdTokenForDeveloperIdentity&code=TooManyRequestsException&n=1`, { method: "POST" });
    assert.equal(res.status, 204);
    const r = await signIn(page, cfg.loginA);
    ok(r, "sign-in after one throttle", consoleLines);
    const tries = (await settled(seen)).vendor;
    assert.deepEqual(tries.map((e) => e.status), [503, 200]);
    const gap = tries[1].at - tries[0].at;
    t.diagnostic(`retried ${gap} ms after the 503 (Retry-After: 1)`);
    assert.ok(gap >= 1000, `retried after ${gap} ms, before the vendor's Retry-After of 1 s`);
  });
});

// countAll clicks "More…" until the list is complete and returns its length.
async function countAll(page) {
  while (await page.isVisible("#more-button")) ok(await act(page, "#more-button"), "more");
  return Number(await page.getAttribute("#files", "data-count"));
}
