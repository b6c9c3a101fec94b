// s3vend browser example: sign in with the token vendor, then use S3 directly
// with AWS SDK for JavaScript v3 and the Cognito "enhanced flow" credentials.
//
//   POST {tokenEndpoint} {provider, credential}
//     -> {identityId, token, region, loginKey, ...}               (lambda/README.md, API)
//   GetCredentialsForIdentity(identityId, Logins {loginKey: token}) (fromCognitoIdentity)
//   PutObject / ListObjectsV2 under private/<identityId>/           (the authenticated role)
//   anonymous GET public/hello.txt                                  (the bucket policy)
//
// Runtime configuration is config.json next to index.html (see README.md).
import { S3Client, PutObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { fromCognitoIdentity } from "@aws-sdk/credential-providers";

const $ = (id) => document.getElementById(id);

/** @type {{tokenEndpoint: string, provider: string, region: string, bucket: string, s3Endpoint?: string, cognitoEndpoint?: string}} */
let config;
/** @type {S3Client | undefined} */
let s3;
/** @type {string | undefined} */
let identityId;

// Test hook: ?prefixOverride=<prefix> uploads under that prefix instead of
// private/<identityId>/, to show that IAM (not this page) confines a user to
// their own prefix: writing to another identity's prefix must fail with
// AccessDenied.
const prefixOverride = new URLSearchParams(location.search).get("prefixOverride");

function setStatus(state, text) {
  const el = $("status");
  el.dataset.state = state; // "busy" | "ok" | "error" (the e2e test waits on it)
  el.textContent = text;
}

// describeError turns any failure into "<name>: <message>" for the page.
// S3 service errors carry the S3 error code as name (e.g. AccessDenied) and the
// HTTP status in $metadata. A fetch() that the browser refuses (network down,
// TLS failure, or a response without the CORS headers this origin needs)
// rejects with a bare TypeError ("Failed to fetch"), whatever the cause: the
// browser deliberately hides which one from the page
// (https://fetch.spec.whatwg.org/#concept-network-error).
function describeError(err) {
  if (err instanceof TypeError && /fetch|network|load failed/i.test(err.message)) {
    err = new NetworkError(undefined, err);
  }
  const status = err?.$metadata?.httpStatusCode ?? err?.status;
  const name = err?.name || "Error";
  return `${name}: ${err?.message || String(err)}${status ? ` (HTTP ${status})` : ""}`;
}

class NetworkError extends Error {
  constructor(url, cause) {
    super(
      `request${url ? ` to ${url}` : ""} failed: network error, TLS error, or CORS refused origin ${location.origin} (${cause.message})`,
      { cause },
    );
    this.name = "NetworkError";
  }
}

// vendorError is the token vendor's JSON error {"error":{"code","message"}}.
class VendorError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = `VendorError ${code}`;
    this.status = status;
    this.code = code;
  }
}

async function postJSON(url, body) {
  let res;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new NetworkError(url, err);
  }
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new VendorError(res.status, "bad_response", `not JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    throw new VendorError(res.status, json?.error?.code ?? "unknown", json?.error?.message ?? text.slice(0, 200));
  }
  return json;
}

// publicObjectURL is the anonymous URL of key: path-style on a custom endpoint
// (local stand-ins), else virtual-hosted style, which in the China regions ends
// in .amazonaws.com.cn (https://docs.amazonaws.cn/en_us/aws/latest/userguide/endpoints-Beijing.html).
function publicObjectURL(key) {
  const path = key.split("/").map(encodeURIComponent).join("/");
  if (config.s3Endpoint) {
    return `${config.s3Endpoint.replace(/\/+$/, "")}/${encodeURIComponent(config.bucket)}/${path}`;
  }
  const suffix = config.region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return `https://${config.bucket}.s3.${config.region}.${suffix}/${path}`;
}

async function showPublicObject() {
  const el = $("public");
  const url = publicObjectURL("public/hello.txt");
  try {
    let res;
    try {
      res = await fetch(url, { cache: "no-store" });
    } catch (err) {
      throw new NetworkError(url, err);
    }
    const text = await res.text();
    if (!res.ok) {
      const err = new Error(`GET ${url}: ${/<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 200)}`);
      err.name = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? "HTTPError";
      err.status = res.status;
      throw err;
    }
    el.dataset.state = "ok";
    el.textContent = text;
  } catch (err) {
    el.dataset.state = "error";
    el.textContent = describeError(err);
  }
}

async function signIn(credential) {
  const tok = await postJSON(config.tokenEndpoint, { provider: config.provider, credential });
  // Enhanced flow: the SDK calls Cognito GetCredentialsForIdentity with the
  // developer-authenticated identity's OpenID token under the loginKey
  // (cognito-identity.amazonaws.com, .amazonaws.com.cn in China), refreshing
  // credentials as they expire.
  const credentials = fromCognitoIdentity({
    identityId: tok.identityId,
    logins: { [tok.loginKey]: tok.token },
    clientConfig: { region: tok.region || config.region, endpoint: config.cognitoEndpoint || undefined },
  });
  s3 = new S3Client({
    region: config.region,
    credentials,
    endpoint: config.s3Endpoint || undefined,
    // Stand-ins on https://127.0.0.1:PORT have no bucket subdomains.
    forcePathStyle: !!config.s3Endpoint,
  });
  identityId = tok.identityId;
  $("identity").textContent = identityId;
  $("identity").dataset.identityId = identityId;
  $("prefix").textContent = uploadPrefix();
  $("upload-button").disabled = false;
}

function uploadPrefix() {
  return prefixOverride || `private/${identityId}/`;
}

async function listMine() {
  const prefix = `private/${identityId}/`;
  const keys = [];
  let ContinuationToken;
  do {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: config.bucket, Prefix: prefix, ContinuationToken }));
    for (const o of out.Contents ?? []) keys.push(o);
    ContinuationToken = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (ContinuationToken);
  const ul = $("keys");
  ul.replaceChildren(
    ...keys.map((o) => {
      const li = document.createElement("li");
      li.dataset.key = o.Key;
      li.textContent = `${o.Key} (${o.Size} bytes)`;
      return li;
    }),
  );
  ul.dataset.count = String(keys.length);
  return keys;
}

async function upload(file) {
  const key = uploadPrefix() + file.name;
  // The whole file is read into memory: fine for an example. The SDK computes
  // a CRC32 checksum of every PutObject body by default since v3.729.0 and
  // sends it as x-amz-checksum-crc32 (aws/aws-sdk-js-v3#6810), so the bucket's
  // CORS AllowedHeaders must allow that header.
  const body = new Uint8Array(await file.arrayBuffer());
  await s3.send(
    new PutObjectCommand({
      Bucket: config.bucket,
      Key: key,
      Body: body,
      ContentType: file.type || "application/octet-stream",
    }),
  );
  return key;
}

function guard(fn) {
  return async (ev) => {
    ev.preventDefault();
    setStatus("busy", "Working…");
    try {
      setStatus("ok", await fn());
    } catch (err) {
      console.error(err);
      setStatus("error", describeError(err));
    }
  };
}

async function main() {
  try {
    const res = await fetch("config.json", { cache: "no-store" });
    if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
    config = await res.json();
    for (const k of ["tokenEndpoint", "provider", "region", "bucket"]) {
      if (!config[k]) throw new Error(`config.json: "${k}" is missing`);
    }
  } catch (err) {
    setStatus("error", `ConfigError: ${err.message}`);
    return;
  }
  $("provider").textContent = config.provider;
  $("signin").addEventListener(
    "submit",
    guard(async () => {
      await signIn($("login").value.trim());
      await listMine();
      return `Signed in as ${identityId}`;
    }),
  );
  $("upload").addEventListener(
    "submit",
    guard(async () => {
      const file = $("file").files?.[0];
      if (!file) throw new Error("choose a file first");
      const key = await upload(file);
      await listMine();
      return `Uploaded ${key}`;
    }),
  );
  $("signin-button").disabled = false;
  setStatus("idle", "Ready: sign in.");
  await showPublicObject();
}

main();
