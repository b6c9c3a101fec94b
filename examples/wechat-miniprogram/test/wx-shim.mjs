// A small Node implementation of the wx.* APIs s3vend-upload.js uses, close
// enough to WeChat's documented behaviour to exercise the helper against the
// real token vendor and the S3 stand-in:
//   wx.login         -> {code}: a one-time code minted by the WeChat stand-in
//                       (GET {codesUrl}?openid=<openid> -> {"code": "..."})
//   wx.request       -> fetch; success for every HTTP status, fail only when
//                       there is no response; JSON object bodies serialized,
//                       dataType "json" parses the answer when it can
//   wx.uploadFile    -> a real multipart/form-data POST: formData fields in
//                       order, then the file part (name, file name, bytes);
//                       success {statusCode, data: <body text>}
//   wx.getFileSystemManager().getFileInfo -> {size}
// Docs: https://developers.weixin.qq.com/miniprogram/en/dev/api/ (network/request,
// network/upload/wx.uploadFile, file/FileSystemManager.getFileInfo, open-api/login/wx.login).
import fs from "node:fs/promises";
import path from "node:path";

/**
 * @param {object} o
 * @param {string} o.codesUrl   the WeChat stand-in's code minting URL
 * @param {string} o.openid     the test user
 * @param {(args: object) => void} [o.beforeUpload] may change wx.uploadFile's arguments (tests: tampering)
 */
export function createWx({ codesUrl, openid, beforeUpload }) {
  const calls = { login: 0, request: [], uploadFile: [] };
  const settle = (p, opts, okMsg) =>
    p.then(
      (res) => opts.success?.({ errMsg: `${okMsg}:ok`, ...res }),
      (err) => opts.fail?.({ errMsg: `${okMsg}:fail ${err?.cause?.message ?? err?.message ?? err}` }),
    ).finally(() => opts.complete?.());

  const wx = {
    calls,
    login(opts = {}) {
      calls.login++;
      settle((async () => {
        const url = new URL(codesUrl);
        url.searchParams.set("openid", openid);
        const res = await fetch(url);
        if (!res.ok) throw new Error(`WeChat stand-in: GET ${url}: HTTP ${res.status} ${await res.text()}`);
        const { code } = await res.json();
        return { code };
      })(), opts, "login");
    },

    request(opts) {
      calls.request.push({ url: opts.url, method: opts.method ?? "GET", data: opts.data });
      settle((async () => {
        const header = { ...(opts.header ?? {}) };
        let body = opts.data;
        const ct = Object.entries(header).find(([k]) => k.toLowerCase() === "content-type")?.[1] ?? "application/json";
        if (body !== undefined && typeof body === "object" && !(body instanceof ArrayBuffer) && /json/i.test(ct)) {
          body = JSON.stringify(body);
        }
        const res = await fetch(opts.url, { method: opts.method ?? "GET", headers: header, body, signal: opts.timeout ? AbortSignal.timeout(opts.timeout) : undefined });
        const text = await res.text();
        let data = text;
        if ((opts.dataType ?? "json") === "json") {
          try { data = JSON.parse(text); } catch { /* WeChat leaves it as text */ }
        }
        return { statusCode: res.status, data, header: Object.fromEntries(res.headers) };
      })(), opts, "request");
    },

    uploadFile(opts) {
      const args = { ...opts, formData: { ...(opts.formData ?? {}) } };
      beforeUpload?.(args);
      calls.uploadFile.push({ url: args.url, name: args.name, formData: args.formData });
      const progress = [];
      settle((async () => {
        const bytes = await fs.readFile(args.filePath);
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
      };
    },
  };
  return wx;
}
