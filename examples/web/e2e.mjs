// End-to-end test of the browser example in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core), against a running s3vend stack:
// the local stand-ins (go run ./cmd/s3vend-local) or a deployed dev stack.
//
//   node examples/web/e2e.mjs            (Node 24: node_modules/.bin/node)
//
// Environment (see README.md): S3VEND_ENDPOINT, AWS_REGION, S3VEND_BUCKET,
// S3VEND_LOGIN (required); AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_COGNITO_IDENTITY,
// S3VEND_PROVIDER (default backend), CHROMIUM (default /usr/bin/chromium).
//
// It bundles the page, serves it on http://localhost:3000 (an allowed origin
// of the dev stack's bucket and API CORS rules) and on http://127.0.0.1:3001
// (not allowed), and checks: sign-in + upload + list + public object; the
// refused origin; and an upload to another identity's prefix (AccessDenied).
// node:test prints the summary; the exit code is non-zero when a case fails.
import { test, before, after } from "node:test";
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
const OTHER_PREFIX = "private/us-east-1:bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb/";
const TIMEOUT = 20_000;

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
  };
  if (urlPath === "/config.json") {
    return [JSON.stringify(cfg.page), "application/json"];
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
    login: env("S3VEND_LOGIN"),
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
  await bundle({ quiet: true });
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

// openPage opens url in a fresh context; the stand-ins' TLS certificates come
// from a local CA the browser does not know, hence ignoreHTTPSErrors.
async function openPage(url) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const consoleLines = [];
  page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => consoleLines.push(`pageerror: ${e.message}`));
  await page.goto(url);
  await page.locator("#signin-button:enabled").waitFor();
  return { context, page, consoleLines };
}

// act clicks a submit button and waits until #status leaves "busy".
async function act(page, button) {
  await page.locator("#status").evaluate((el) => { el.dataset.state = "busy"; });
  await page.click(button);
  await page.locator('#status:not([data-state="busy"])').waitFor();
  return { state: await page.getAttribute("#status", "data-state"), text: await page.textContent("#status") };
}

async function signIn(page) {
  await page.fill("#login", cfg.login);
  return act(page, "#signin-button");
}

function crc32Base64(buf) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(zlib.crc32(buf));
  return b.toString("base64");
}

test("sign in, upload to private/<identityId>/, list it, read public/hello.txt", { timeout: 90_000 }, async (t) => {
  const { context, page, consoleLines } = await openPage(`http://localhost:${GOOD_PORT}/`);
  try {
    const puts = [];
    page.on("request", (r) => { if (r.method() === "PUT") puts.push(r); });

    const signin = await signIn(page);
    assert.equal(signin.state, "ok", `sign-in failed: ${signin.text}\n${consoleLines.join("\n")}`);
    const identityId = await page.getAttribute("#identity", "data-identity-id");
    // Cognito identity ids are <region>:<uuid>.
    assert.match(identityId, /^[a-z]{2}(-[a-z]+)+-\d:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.ok(identityId.startsWith(`${cfg.page.region}:`), `identity ${identityId} is not in ${cfg.page.region}`);

    await page.locator('#public:not([data-state="loading"])').waitFor();
    assert.equal(await page.getAttribute("#public", "data-state"), "ok", await page.textContent("#public"));
    assert.equal((await page.textContent("#public")).trim(), "hello from s3vend");

    const name = `e2e-${crypto.randomBytes(4).toString("hex")}.txt`;
    const content = Buffer.from(`uploaded by examples/web/e2e.mjs at ${new Date().toISOString()}\n`);
    await page.setInputFiles("#file", { name, mimeType: "text/plain", buffer: content });
    const up = await act(page, "#upload-button");
    assert.equal(up.state, "ok", `upload failed: ${up.text}\n${consoleLines.join("\n")}`);
    const key = `private/${identityId}/${name}`;
    assert.equal(up.text, `Uploaded ${key}`);
    const li = page.locator(`#keys li[data-key="${key}"]`);
    assert.equal(await li.count(), 1, `listing lacks ${key}: ${await page.textContent("#keys")}`);
    assert.match(await li.textContent(), new RegExp(`\\(${content.length} bytes\\)`));

    // The PutObject the SDK sent: path-style on a custom endpoint, with the
    // default CRC32 checksum header (SDK >= 3.729.0, aws/aws-sdk-js-v3#6810),
    // which the bucket's CORS rules therefore had to allow (else the browser
    // blocks the request at the preflight and the upload above fails).
    assert.equal(puts.length, 1, `PUT requests: ${puts.map((r) => r.url()).join(", ")}`);
    const put = puts[0];
    const putURL = new URL(put.url());
    if (cfg.page.s3Endpoint) {
      assert.equal(putURL.origin, new URL(cfg.page.s3Endpoint).origin);
      assert.equal(decodeURIComponent(putURL.pathname), `/${cfg.page.bucket}/${key}`);
    }
    const headers = await put.allHeaders();
    t.diagnostic(`PutObject request headers: ${Object.keys(headers).sort().join(" ")}`);
    assert.ok("x-amz-checksum-crc32" in headers || "x-amz-sdk-checksum-algorithm" in headers,
      `no checksum header on PutObject: ${Object.keys(headers).sort().join(", ")}`);
    if ("x-amz-checksum-crc32" in headers) {
      assert.equal(headers["x-amz-checksum-crc32"], crc32Base64(content), "x-amz-checksum-crc32 is not the CRC32 of the file");
    }
    assert.match(headers.authorization ?? "", /^AWS4-HMAC-SHA256 Credential=ASIA/, "PutObject not signed with temporary credentials");
    assert.ok(headers["x-amz-security-token"], "PutObject without the session token");
    const resp = await put.response();
    assert.equal(resp?.status(), 200);

    await fs.mkdir(path.join(here, "dist"), { recursive: true });
    await page.screenshot({ path: path.join(here, "dist", "e2e.png"), fullPage: true });
  } finally {
    await context.close();
  }
});

test("an origin outside the CORS rules cannot sign in or read the bucket", { timeout: 60_000 }, async () => {
  const { context, page, consoleLines } = await openPage(`http://127.0.0.1:${BAD_PORT}/`);
  try {
    const signin = await signIn(page);
    assert.equal(signin.state, "error");
    assert.match(signin.text, /^NetworkError: request to .*\/v1\/token failed: .*CORS refused origin http:\/\/127\.0\.0\.1:3001/);
    assert.equal(await page.getAttribute("#identity", "data-identity-id"), null);
    assert.ok(await page.locator("#upload-button").isDisabled());

    // The anonymous GET of public/hello.txt is refused by the bucket's CORS
    // rules too (the object is public: only the origin is wrong).
    await page.locator('#public:not([data-state="loading"])').waitFor();
    assert.equal(await page.getAttribute("#public", "data-state"), "error");
    assert.match(await page.textContent("#public"), /^NetworkError: request to .*public\/hello\.txt failed/);

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
    assert.equal((await direct.text()).trim(), "hello from s3vend");
  } finally {
    await context.close();
  }
});

test("writing to another identity's prefix is denied by IAM", { timeout: 60_000 }, async () => {
  const { context, page, consoleLines } = await openPage(
    `http://localhost:${GOOD_PORT}/?prefixOverride=${encodeURIComponent(OTHER_PREFIX)}`,
  );
  try {
    const signin = await signIn(page);
    assert.equal(signin.state, "ok", `sign-in failed: ${signin.text}\n${consoleLines.join("\n")}`);
    assert.equal(await page.textContent("#prefix"), OTHER_PREFIX);
    const identityId = await page.getAttribute("#identity", "data-identity-id");
    assert.ok(!OTHER_PREFIX.includes(identityId));

    const name = `denied-${crypto.randomBytes(4).toString("hex")}.txt`;
    await page.setInputFiles("#file", { name, mimeType: "text/plain", buffer: Buffer.from("must not land\n") });
    const up = await act(page, "#upload-button");
    assert.equal(up.state, "error", `upload to ${OTHER_PREFIX} succeeded: ${up.text}`);
    // S3's error code for an IAM deny is AccessDenied (HTTP 403); the SDK
    // makes it the error's name. Its CORS headers must be on the error
    // response too, or the page would only see a NetworkError.
    assert.match(up.text, /^AccessDenied: .*\(HTTP 403\)$/);
    assert.equal(await page.locator(`#keys li[data-key$="/${name}"]`).count(), 0);
  } finally {
    await context.close();
  }
});
