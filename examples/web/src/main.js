// s3vend files: a small app on @s3vend/client. Sign in through the token
// vendor, then use S3 directly with the caller's own temporary credentials:
// upload (multipart above 5 MiB, with progress and cancel), list own files
// page by page, download, delete, share a protected/ copy, open a file
// someone shared, read a public/ file.
//
// Runtime configuration is config.json next to index.html (README.md).
import {
  S3Client, ListObjectsV2Command, GetObjectCommand, DeleteObjectCommand, PutObjectCommand,
} from "@aws-sdk/client-s3";
import { fromS3Vend, VendorError, privateKey, privatePrefix, protectedKey } from "@s3vend/client";
import { upload } from "@s3vend/client/upload";

/** @typedef {{tokenEndpoint: string, provider: string, region: string, bucket: string, s3Endpoint?: string, cognitoEndpoint?: string}} Config */

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const input = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ (document.getElementById(id));
const button = (/** @type {string} */ id) => /** @type {HTMLButtonElement} */ (document.getElementById(id));

// The only thing this app keeps in localStorage itself: who signed in with
// "Keep me signed in" (a non-secret id), so that a reopened page knows whose
// record to ask @s3vend/client for. The login is kept in memory only.
const REMEMBERED = "s3vend-example:user";
const PAGE_SIZE = Number(new URLSearchParams(location.search).get("pageSize")) || 20;

/** @type {Config} */
let config;
/**
 * The signed-in session.
 * @type {{credentials: ReturnType<typeof fromS3Vend>, s3: S3Client, identityId: string} | undefined}
 */
let session;
/** @type {string | undefined} */
let login; // the credential typed in, for the vendor calls a refresh needs
/** @type {string | undefined} */
let nextPage;
/** @type {AbortController | undefined} */
let uploading;

// ---- errors in words a user understands, with the code underneath -------

/** @type {Record<string, string>} */
const WORDS = {
  invalid_credential: "Your sign-in was not accepted. Check the login and sign in again.",
  unknown_provider: "This app is set up for a login provider the server does not know.",
  rate_limited: "Too many sign-ins right now.",
  upstream_throttled: "The sign-in service is busy.",
  upstream_timeout: "The sign-in service did not answer in time.",
  upstream_error: "The sign-in service had a problem.",
  verifier_unavailable: "This login provider is not ready yet.",
  network_error: "Cannot reach the sign-in service: you may be offline, or this site is not allowed to use it.",
  bad_response: "The sign-in service answered something this app does not understand.",
  NotAuthorizedException: "Your session has expired. Sign in again.",
  ExpiredToken: "Your session has expired. Sign in again.",
  SignInAgain: "Your session has expired. Sign in again.",
  AccessDenied: "You do not have access to that file.",
  Forbidden: "You do not have access to that file.",
  NoSuchKey: "That file does not exist (any more).",
  NotFound: "That file does not exist (any more).",
  AbortError: "Upload cancelled.",
  NetworkError: "Cannot reach storage: you may be offline, or this site is not allowed to use it.",
};

/** explain turns any failure into words, a code and the detail underneath. @param {any} err */
function explain(err) {
  let code = err?.code ?? err?.name ?? "Error";
  if (err instanceof TypeError && /fetch|network|load failed/i.test(err.message)) code = "NetworkError";
  const status = err instanceof VendorError ? err.status : err?.$metadata?.httpStatusCode;
  let text = WORDS[code] ?? "Something went wrong.";
  if (err instanceof VendorError && err.retryable) {
    text += err.retryAfter ? ` Try again in ${err.retryAfter} s.` : " Try again in a moment.";
  }
  return { text, code, detail: `${code}${status ? `, HTTP ${status}` : ""}` };
}

/**
 * @param {"busy" | "ok" | "error" | "idle"} state
 * @param {string} text
 * @param {string} [code]
 */
function setStatus(state, text, code = "") {
  const el = $("status");
  el.dataset.state = state; // the e2e test waits on it
  el.dataset.code = code;
  el.textContent = text;
}

/** @param {unknown} err */
function showError(err) {
  const e = explain(err);
  setStatus("error", `${e.text} (${e.detail})`, e.code);
}

/** guard runs an action, showing "Working…" and then its result or error. */
function guard(/** @type {(ev: Event) => Promise<string | void>} */ fn) {
  return async (/** @type {Event} */ ev) => {
    ev.preventDefault();
    setStatus("busy", "Working…");
    try {
      setStatus("ok", (await fn(ev)) ?? "Done.");
    } catch (err) {
      showError(err);
    }
  };
}

// ---- session ------------------------------------------------------------

/**
 * jwtSubject is the `sub` of a JWT, unverified: only a name for the stored
 * record (the vendor verifies the login itself). Other logins: undefined.
 * @param {string} jwt
 */
function jwtSubject(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const sub = JSON.parse(atob(part)).sub;
    return typeof sub === "string" && sub !== "" ? sub : undefined;
  } catch {
    return undefined;
  }
}

/** @param {string | undefined} user persist for this user (localStorage), or memory only */
function startSession(user) {
  const credentials = fromS3Vend({
    endpoint: config.tokenEndpoint,
    login: async () => {
      if (!login) throw Object.assign(new Error("sign in again"), { code: "SignInAgain" });
      return { provider: config.provider, credential: login };
    },
    ...(config.cognitoEndpoint && { cognitoEndpoint: config.cognitoEndpoint }),
    ...(user && { storage: localStorage, user }),
  });
  const s3 = new S3Client({
    region: config.region,
    credentials,
    ...(config.s3Endpoint && { endpoint: config.s3Endpoint, forcePathStyle: true }), // stand-ins: no bucket subdomains
  });
  return { credentials, s3 };
}

async function signIn() {
  const value = input("login").value.trim();
  const user = input("remember").checked ? jwtSubject(value) : undefined;
  if (session) await signOut();
  login = value;
  performance.mark("s3vend:sign-in");
  const s = startSession(user);
  const identityId = await s.credentials.identityId();
  session = { ...s, identityId };
  if (user) localStorage.setItem(REMEMBERED, user);
  showSignedIn();
  await listFiles();
  performance.measure("s3vend:sign-in-to-first-s3", "s3vend:sign-in");
  return `Signed in as ${identityId}`;
}

/** restore reopens a remembered session; within the token's lifetime it costs no vendor call. */
async function restore() {
  const user = localStorage.getItem(REMEMBERED);
  if (!user) return false;
  const s = startSession(user);
  try {
    const identityId = await s.credentials.identityId();
    session = { ...s, identityId };
    showSignedIn();
    await listFiles();
  } catch (err) {
    await signOut();
    throw err;
  }
  return true;
}

async function signOut() {
  uploading?.abort();
  await session?.credentials.signOut();
  session = undefined;
  login = undefined;
  localStorage.removeItem(REMEMBERED);
  $("signin").hidden = false;
  $("signed-in").hidden = true;
  $("app").hidden = true;
  $("files").replaceChildren();
  $("shared").hidden = true;
  $("opened").hidden = true;
  $("identity").textContent = "–";
  delete $("identity").dataset.identityId;
}

function showSignedIn() {
  const s = /** @type {NonNullable<typeof session>} */ (session);
  $("identity").textContent = s.identityId;
  $("identity").dataset.identityId = s.identityId;
  $("prefix").textContent = privatePrefix(s.identityId);
  $("signin").hidden = true;
  $("signed-in").hidden = false;
  $("app").hidden = false;
  input("login").value = "";
}

// ---- files --------------------------------------------------------------

/** @param {number} n */
function size(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** listFiles shows the first page of the caller's files, or appends the next one. */
async function listFiles(more = false) {
  const s = /** @type {NonNullable<typeof session>} */ (session);
  const prefix = privatePrefix(s.identityId);
  const out = await s.s3.send(new ListObjectsV2Command({
    Bucket: config.bucket, Prefix: prefix, MaxKeys: PAGE_SIZE, ...(more && nextPage && { ContinuationToken: nextPage }),
  }));
  nextPage = out.IsTruncated ? out.NextContinuationToken : undefined;
  const rows = (out.Contents ?? []).map((o) => {
    const tr = document.createElement("tr");
    tr.dataset.key = o.Key;
    const name = (o.Key ?? "").slice(prefix.length);
    const cells = [name, size(o.Size ?? 0), o.LastModified?.toLocaleString() ?? ""].map((text, i) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (i === 1) {
        td.className = "num";
        td.dataset.bytes = String(o.Size ?? 0);
      }
      return td;
    });
    const actions = document.createElement("td");
    for (const [label, action] of [["Download", "download"], ["Share", "share"], ["Delete", "delete"]]) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.dataset.action = action;
      actions.append(b, " ");
    }
    tr.append(...cells, actions);
    return tr;
  });
  if (more) $("files").append(...rows);
  else $("files").replaceChildren(...rows);
  $("files").dataset.count = String($("files").children.length);
  $("more-button").hidden = !nextPage;
}

/** @param {string} key */
async function download(key) {
  const s = /** @type {NonNullable<typeof session>} */ (session);
  const out = await s.s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: key }));
  const blob = new Blob([await /** @type {any} */ (out.Body).transformToByteArray()], { type: out.ContentType });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = key.slice(key.lastIndexOf("/") + 1);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  return `Downloaded ${a.download}`;
}

/**
 * share makes a protected/ copy that every signed-in user may read. It reads
 * the object and writes it again: the users' role refuses server-side copies
 * (CopyObject, x-amz-copy-source), which would copy 5 GB per request without
 * the bytes crossing the connection (docs/security.md, "Storage guardrails").
 * @param {string} key
 */
async function share(key) {
  const s = /** @type {NonNullable<typeof session>} */ (session);
  const name = key.slice(privatePrefix(s.identityId).length);
  const target = protectedKey(s.identityId, name);
  const src = await s.s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: key }));
  await s.s3.send(new PutObjectCommand({
    Bucket: config.bucket, Key: target, ContentType: src.ContentType,
    Body: await /** @type {any} */ (src.Body).transformToByteArray(),
  }));
  $("share-key").textContent = target;
  $("shared").hidden = false;
  return `Shared ${name}: give the share code to someone signed in`;
}

/** @param {string} key */
async function remove(key) {
  const s = /** @type {NonNullable<typeof session>} */ (session);
  await s.s3.send(new DeleteObjectCommand({ Bucket: config.bucket, Key: key }));
  await listFiles();
  return `Deleted ${key.slice(key.lastIndexOf("/") + 1)}`;
}

/** openShared reads any key the caller may read (someone's protected/ copy). */
async function openShared() {
  const s = /** @type {NonNullable<typeof session>} */ (session);
  const key = input("open-key").value.trim();
  $("opened").hidden = true;
  const out = await s.s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: key }));
  const text = await /** @type {any} */ (out.Body).transformToString();
  $("opened").textContent = /^text\//.test(out.ContentType ?? "") ? text : `${size(out.ContentLength ?? 0)} of ${out.ContentType}`;
  $("opened").hidden = false;
  return `Opened ${key}`;
}

async function uploadFile() {
  const s = /** @type {NonNullable<typeof session>} */ (session);
  const file = input("file").files?.[0];
  if (!file) throw new Error("choose a file first");
  const key = privateKey(s.identityId, file.name);
  uploading = new AbortController();
  const bar = /** @type {HTMLProgressElement} */ ($("progress"));
  const log = /** @type {number[]} */ ([]);
  bar.hidden = false;
  bar.max = file.size || 1;
  bar.value = 0;
  bar.dataset.log = "";
  delete bar.dataset.multipart;
  button("cancel-button").disabled = false;
  button("upload-button").disabled = true;
  try {
    const res = await upload({
      client: s.s3, bucket: config.bucket, key, body: file, signal: uploading.signal,
      onProgress: (p) => {
        bar.value = p.loaded;
        log.push(p.loaded);
        bar.dataset.log = log.join(",");
        $("progress-text").textContent = `${size(p.loaded)} of ${size(file.size)}`;
      },
    });
    bar.dataset.multipart = String(res.multipart);
    await listFiles();
    return `Uploaded ${file.name}${res.multipart ? " (in parts)" : ""}`;
  } finally {
    uploading = undefined;
    button("cancel-button").disabled = true;
    button("upload-button").disabled = false;
  }
}

// ---- public file -----------------------------------------------------------

/**
 * publicURL is the anonymous URL of key: path-style on a custom endpoint
 * (local stand-ins), else virtual-hosted style, which in the China regions
 * ends in .amazonaws.com.cn
 * (https://docs.amazonaws.cn/en_us/aws/latest/userguide/endpoints-Beijing.html).
 * @param {string} key
 */
function publicURL(key) {
  const path = key.split("/").map(encodeURIComponent).join("/");
  if (config.s3Endpoint) return `${config.s3Endpoint.replace(/\/+$/, "")}/${encodeURIComponent(config.bucket)}/${path}`;
  const suffix = config.region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return `https://${config.bucket}.s3.${config.region}.${suffix}/${path}`;
}

async function showPublic() {
  const el = $("public");
  try {
    const res = await fetch(publicURL("public/hello.txt"), { cache: "no-store" });
    const text = await res.text();
    if (!res.ok) {
      throw Object.assign(new Error(text.slice(0, 200)), {
        name: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? "HTTPError", $metadata: { httpStatusCode: res.status },
      });
    }
    el.dataset.state = "ok";
    el.textContent = text;
  } catch (err) {
    const e = explain(err);
    el.dataset.state = "error";
    el.dataset.code = e.code;
    el.textContent = `${e.text} (${e.detail})`;
  }
}

// ---- wiring -------------------------------------------------------------

async function main() {
  try {
    const res = await fetch("config.json", { cache: "no-store" });
    if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
    config = await res.json();
    for (const k of /** @type {const} */ (["tokenEndpoint", "provider", "region", "bucket"])) {
      if (!config[k]) throw new Error(`config.json: "${k}" is missing`);
    }
  } catch (err) {
    setStatus("error", `This app is not configured: ${/** @type {Error} */ (err).message}`, "ConfigError");
    return;
  }
  $("provider").textContent = config.provider;
  $("signin").addEventListener("submit", guard(signIn));
  $("signout-button").addEventListener("click", guard(async () => {
    await signOut();
    return "Signed out";
  }));
  $("upload").addEventListener("submit", guard(uploadFile));
  $("cancel-button").addEventListener("click", () => uploading?.abort());
  $("refresh-button").addEventListener("click", guard(async () => {
    await listFiles();
    return `${$("files").children.length} files`;
  }));
  $("more-button").addEventListener("click", guard(async () => {
    await listFiles(true);
    return `${$("files").children.length} files`;
  }));
  $("open").addEventListener("submit", guard(openShared));
  $("files").addEventListener("click", (ev) => {
    const b = /** @type {HTMLElement} */ (ev.target).closest("button");
    const key = b?.closest("tr")?.dataset.key;
    const actions = { download, share, delete: remove };
    const action = actions[/** @type {keyof typeof actions} */ (b?.dataset.action)];
    if (key && action) void guard(() => action(key))(ev);
  });
  void showPublic();
  setStatus("busy", "Restoring your session…");
  try {
    const restored = await restore();
    if (restored) setStatus("ok", `Welcome back, ${session?.identityId}`);
    else setStatus("idle", "Sign in to see your files.");
  } catch (err) {
    showError(err);
  }
  $("signin").hidden = !!session;
  button("signin-button").disabled = false;
}

main();
