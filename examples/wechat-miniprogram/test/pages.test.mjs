// Drives the sample mini-program's pages (miniprogram/app.js,
// pages/signin, pages/gallery) as WeChat would: App(), Page() and getApp()
// in the SDK's realm (js/miniprogram/test/sandbox.mjs), the SDK bundle as
// utils/s3vend-miniprogram.js, and the wx shim doing real HTTPS against a
// stack (the prod-cn stand-ins from test/e2e: wx.login codes of the WeChat
// stand-in). Sign in, upload a photo with the progress bar, see it in the
// grid through its presigned URL, delete it.
//
// Environment: as js/miniprogram/test/e2e.test.mjs (S3VEND_ENDPOINT,
// S3VEND_BUCKET, AWS_REGION, AWS_ENDPOINT_URL_S3, S3VEND_PROVIDER,
// S3VEND_TEST_CONTROL, NODE_EXTRA_CA_CERTS).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import { fileURLToPath } from "node:url";
import { bundle } from "../../../js/miniprogram/build.mjs";
import { loadSDK } from "../../../js/miniprogram/test/sandbox.mjs";
import { createWx } from "../../../js/miniprogram/test/wx-shim.mjs";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "miniprogram");
let dir, sdkFile;

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "s3vend-sample-"));
  sdkFile = (await bundle({ outfile: path.join(dir, "s3vend-miniprogram.js") })).outfile;
});
after(() => fs.rm(dir, { recursive: true, force: true }));

/** Boots the sample: App() from app.js, a loader for its pages. */
function boot(openid, photo) {
  const sb = loadSDK(sdkFile);
  const wx = createWx({
    ArrayBuffer: sb.realm.ArrayBuffer, openid, dir,
    codes: async (id) => (await fetch(`${process.env.S3VEND_TEST_CONTROL}/login?user=${id}`)).text(),
  });
  const ui = { redirects: [], modals: 0 };
  Object.assign(wx, {
    chooseMedia: (o) => o.success({ tempFiles: [{ tempFilePath: photo, size: 0 }] }),
    showModal: (o) => { ui.modals++; o.success({ confirm: true, cancel: false }); },
    redirectTo: (o) => ui.redirects.push(o.url),
    stopPullDownRefresh() {},
  });
  sb.context.wx = wx;
  const config = {
    endpoint: process.env.S3VEND_ENDPOINT, provider: process.env.S3VEND_PROVIDER,
    bucket: process.env.S3VEND_BUCKET, region: process.env.AWS_REGION, s3Endpoint: process.env.AWS_ENDPOINT_URL_S3,
  };
  let app;
  const pages = {};
  Object.assign(sb.context, {
    App: (def) => { app = def; },
    Page: (def) => { pages.last = def; },
    getApp: () => app,
  });
  const req = (from) => (name) => {
    const p = path.resolve(path.dirname(from), name);
    if (p === path.join(root, "utils", "s3vend-miniprogram.js")) return sb.exports;
    if (p === path.join(root, "config.js")) return config;
    throw new Error(`unexpected require(${name}) from ${from}`);
  };
  const appFile = path.join(root, "app.js");
  sb.run(appFile, req(appFile));
  app.onLaunch();
  /** A page instance: its definition with data and setData, as WeChat makes it. */
  const page = (name) => {
    const f = path.join(root, "pages", name, `${name}.js`);
    sb.run(f, req(f));
    const p = Object.create(pages.last);
    p.data = JSON.parse(JSON.stringify(pages.last.data));
    p.history = [];
    // setData crosses to the view layer as JSON, as in WeChat.
    p.setData = function (d) { const j = JSON.parse(JSON.stringify(d)); Object.assign(this.data, j); this.history.push(j); };
    return p;
  };
  return { app, page, wx, ui };
}

test("the sample signs in, uploads with progress, shows the photo through url(), deletes it", { timeout: 60_000 }, async () => {
  const bytes = crypto.randomBytes(6 * 1024 * 1024 + 123); // multipart: 2 parts
  const photo = path.join(dir, "tmp_photo.jpg");
  await fs.writeFile(photo, bytes);
  const { page, ui, wx } = boot(`sample-${crypto.randomBytes(4).toString("hex")}`, photo);

  const signin = page("signin");
  await signin.onSignIn();
  assert.equal(signin.data.error, "");
  assert.deepEqual(ui.redirects, ["/pages/gallery/gallery"]);

  const gallery = page("gallery");
  await gallery.onLoad();
  assert.deepEqual(gallery.data.images, []);
  await gallery.onUpload();
  assert.equal(gallery.data.error, "");
  const bars = gallery.history.filter((d) => "progress" in d).map((d) => d.progress);
  assert.equal(bars[0], 0);
  assert.equal(bars.at(-1), 100);
  assert.ok(bars.length >= 3, `progress bar updates: ${bars}`);
  assert.equal(gallery.data.images.length, 1);
  const [img] = gallery.data.images;
  assert.match(img.key, /^private\/cn-north-1:[0-9a-f-]{36}\/photos\/\d+\.jpg$/);
  // What <image src> loads: the presigned URL answers the photo's bytes.
  const res = await fetch(img.url);
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);

  await gallery.onDelete({ currentTarget: { dataset: { key: img.key } } });
  assert.equal(ui.modals, 1);
  assert.equal(gallery.data.error, "");
  assert.deepEqual(gallery.data.images, []);
  assert.equal((await fetch(img.url)).status, 403, "the deleted photo is still served");
  assert.equal(wx.calls.login, 1, "one wx.login for the whole session");
});
