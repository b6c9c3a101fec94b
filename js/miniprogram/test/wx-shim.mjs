// A Node implementation of the wx.* APIs that s3vend's mini-program code
// uses, close to WeChat's documented behaviour and doing real HTTP(S), so
// the SDK and the sample run against the local stand-ins (or a deployed
// stack) as they would on a phone:
//
//   wx.login            {code}: from codes(openid) (the WeChat stand-in mints one-time codes)
//   wx.request          fetch; success for every HTTP status ({statusCode, header, data}),
//                       fail only without an answer; JSON object bodies serialized; dataType
//                       "json" parses when it can; responseType "arraybuffer"; content-type
//                       application/json when none is given (as WeChat sends); RequestTask.abort
//   wx.downloadFile     a GET saved to a temp file, success for every status
//                       ({statusCode, tempFilePath}); DownloadTask.onHeadersReceived, abort
//   wx.uploadFile       a multipart/form-data POST: formData fields in order, then the file
//   FileSystemManager   getFileInfo {size}; readFile with position/length (a slice as an
//                       ArrayBuffer), encoding "utf8" (a string)
//   wx.*StorageSync     an in-memory store of JSON copies
// Response header names are title-cased ("Etag", "X-Amz-Request-Id"): WeChat keeps the
// server's spelling, so callers must look them up case-insensitively.
// Docs: https://developers.weixin.qq.com/miniprogram/dev/api/ (network/request/wx.request,
// network/download/wx.downloadFile, network/upload/wx.uploadFile, file/FileSystemManager,
// storage/wx.setStorageSync, open-api/login/wx.login).
//
// Buffers handed to the code under test are made with opts.ArrayBuffer (the
// sandbox realm's, see sandbox.mjs), as a mini-program's own engine makes them.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import http from "node:http";
import https from "node:https";

/**
 * Sends the headers (with the full Content-Length) and half the body, then
 * breaks the connection, as a phone losing its network mid-upload does;
 * rejects as wx.request's fail.
 */
function dropMidBody(url, method, headers, body) {
  return new Promise((_, reject) => {
    const mod = url.startsWith("https:") ? https : http;
    const req = mod.request(url, { method, headers: { ...headers, "content-length": String(body.length) } });
    req.on("error", () => {});
    req.write(body.subarray(0, body.length >> 1), () => {
      setTimeout(() => {
        req.destroy(new Error("injected connection reset"));
        reject(new Error("injected connection reset mid-body"));
      }, 20);
    });
  });
}

/**
 * @param {object} o
 * @param {(openid: string) => Promise<string>} [o.codes] mints a wx.login code for openid
 * @param {string} [o.openid] the WeChat user of wx.login
 * @param {ArrayBufferConstructor} [o.ArrayBuffer] the realm of returned buffers
 * @param {(req: {url: string, method: string, bytes: number}) => (string | undefined)} [o.fault]
 *   "drop": the connection breaks after half the body (fail, nothing stored); "fail": no request at all
 * @param {(args: object) => void} [o.beforeUpload] may change wx.uploadFile's arguments (tampering tests)
 * @param {string} [o.dir] where downloads go (default: a temp directory)
 */
export function createWx(o = {}) {
  const AB = o.ArrayBuffer ?? ArrayBuffer;
  const calls = { login: 0, request: [], downloadFile: [], uploadFile: [], readFile: [] };
  const store = new Map();
  let dir = o.dir;
  const tempDir = async () => (dir ??= await fs.mkdtemp(path.join(os.tmpdir(), "s3vend-wx-")));
  const toAB = (buf) => {
    const out = new AB(buf.byteLength);
    new Uint8Array(out).set(buf);
    return out;
  };
  const settle = (p, opts, api) =>
    p.then(
      (res) => opts.success?.({ errMsg: `${api}:ok`, ...res }),
      (err) => opts.fail?.({ errMsg: `${api}:fail ${err?.name === "AbortError" ? "abort" : (err?.cause?.message ?? err?.message ?? err)}` }),
    ).finally(() => opts.complete?.());
  const titleCase = (h) => Object.fromEntries([...h].map(([k, v]) => [k.replace(/(^|-)([a-z])/g, (_, d, c) => d + c.toUpperCase()), v]));
  const isBuffer = (v) => v != null && typeof v === "object" && typeof v.byteLength === "number" && Object.prototype.toString.call(v) === "[object ArrayBuffer]";

  const wx = {
    calls,
    /** The requests sent, for figures: count and bytes of bodies. */
    traffic() {
      const all = [...calls.request, ...calls.downloadFile, ...calls.uploadFile];
      return { requests: all.length, bytes: all.reduce((n, c) => n + (c.bytes ?? 0), 0) };
    },

    login(opts = {}) {
      calls.login++;
      settle((async () => {
        if (!o.codes || !o.openid) throw new Error("no WeChat code minter configured");
        return { code: await o.codes(o.openid) };
      })(), opts, "login");
    },

    request(opts) {
      const ac = new AbortController();
      const method = (opts.method ?? "GET").toUpperCase();
      const header = { ...(opts.header ?? {}) };
      if (!Object.keys(header).some((k) => k.toLowerCase() === "content-type")) header["content-type"] = "application/json";
      let body = opts.data;
      if (body !== undefined && !isBuffer(body) && typeof body === "object") body = JSON.stringify(body);
      if (isBuffer(body)) body = Buffer.from(new Uint8Array(body));
      if (method === "GET" || method === "HEAD") body = undefined;
      const bytes = body === undefined ? 0 : Buffer.byteLength(body);
      const rec = { url: opts.url, method, bytes, status: 0, data: opts.data, started: performance.now() };
      calls.request.push(rec);
      const fault = o.fault?.({ url: opts.url, method, bytes });
      settle((async () => {
        if (fault === "fail") throw new Error("injected network failure");
        if (fault === "drop" && body !== undefined) await dropMidBody(opts.url, method, header, Buffer.from(body));
        const init = { method, headers: header, body, signal: opts.timeout ? AbortSignal.any([ac.signal, AbortSignal.timeout(opts.timeout)]) : ac.signal };
        const res = await fetch(opts.url, init);
        const raw = Buffer.from(await res.arrayBuffer());
        rec.status = res.status;
        rec.ms = performance.now() - rec.started;
        let data;
        if (opts.responseType === "arraybuffer") {
          data = toAB(raw);
        } else {
          data = raw.toString("utf8");
          if ((opts.dataType ?? "json") === "json") {
            try { data = JSON.parse(data); } catch { /* WeChat leaves it as text */ }
          }
        }
        rec.response = data;
        return { statusCode: res.status, data, header: titleCase(res.headers) };
      })(), opts, "request");
      return { abort: () => ac.abort(), onHeadersReceived() {}, offHeadersReceived() {} };
    },

    downloadFile(opts) {
      const ac = new AbortController();
      const headersCbs = [];
      const rec = { url: opts.url, method: "GET", bytes: 0, status: 0 };
      calls.downloadFile.push(rec);
      settle((async () => {
        const res = await fetch(opts.url, { headers: opts.header, signal: ac.signal });
        for (const cb of headersCbs) cb({ header: titleCase(res.headers) });
        const raw = Buffer.from(await res.arrayBuffer());
        rec.status = res.status;
        const tempFilePath = path.join(await tempDir(), `tmp_${crypto.randomBytes(6).toString("hex")}`);
        await fs.writeFile(tempFilePath, raw);
        return { statusCode: res.status, tempFilePath };
      })(), opts, "downloadFile");
      return { abort: () => ac.abort(), onHeadersReceived: (cb) => headersCbs.push(cb), onProgressUpdate() {} };
    },

    uploadFile(opts) {
      const args = { ...opts, formData: { ...(opts.formData ?? {}) } };
      o.beforeUpload?.(args);
      const rec = { url: args.url, name: args.name, formData: args.formData, bytes: 0 };
      calls.uploadFile.push(rec);
      const progress = [];
      settle((async () => {
        const bytes = await fs.readFile(args.filePath);
        rec.bytes = bytes.length;
        const form = new FormData();
        for (const [k, v] of Object.entries(args.formData)) form.append(k, String(v));
        form.append(args.name, new Blob([bytes]), path.basename(args.filePath));
        const res = await fetch(args.url, { method: "POST", body: form, headers: args.header, signal: args.timeout ? AbortSignal.timeout(args.timeout) : undefined });
        const data = await res.text();
        for (const cb of progress) cb({ progress: 100, totalBytesSent: bytes.length, totalBytesExpectedToSend: bytes.length });
        return { statusCode: res.status, data };
      })(), args, "uploadFile");
      return { onProgressUpdate: (cb) => progress.push(cb), abort() {} };
    },

    getFileSystemManager() {
      return {
        getFileInfo(opts) {
          settle(fs.stat(opts.filePath).then((st) => ({ size: st.size })), opts, "getFileInfo");
        },
        readFile(opts) {
          calls.readFile.push({ filePath: opts.filePath, position: opts.position, length: opts.length });
          settle((async () => {
            const fh = await fs.open(opts.filePath, "r");
            try {
              const size = (await fh.stat()).size;
              const position = opts.position ?? 0;
              const length = opts.length ?? size - position;
              if (position < 0 || length < 0 || position + length > size) throw new Error(`the position ${position} and length ${length} are out of the file's ${size} bytes`);
              const buf = Buffer.alloc(length);
              await fh.read(buf, 0, length, position);
              return { data: opts.encoding ? buf.toString(opts.encoding === "utf-8" ? "utf8" : opts.encoding) : toAB(buf) };
            } finally {
              await fh.close();
            }
          })(), opts, "readFile");
        },
      };
    },

    getStorageSync: (key) => (store.has(key) ? JSON.parse(store.get(key)) : ""),
    setStorageSync: (key, value) => { store.set(key, JSON.stringify(value)); },
    removeStorageSync: (key) => { store.delete(key); },
    /** The storage's keys (tests). */
    storageKeys: () => [...store.keys()],
  };
  return wx;
}
