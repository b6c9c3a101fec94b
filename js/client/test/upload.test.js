// The upload helper's own checks (the multipart path itself runs in the
// browser suite, test/e2e TestBrowser, against the S3 stand-in).
import { test } from "node:test";
import assert from "node:assert/strict";
import { upload, MIN_PART_SIZE } from "../src/upload.js";

const client = { send: async () => { throw new Error("must not be called"); }, config: {} };
const ok = { client, bucket: "b", key: "private/eu-west-1:1-2/x", body: new Uint8Array(1) };

test("bad upload options are a TypeError naming the option, before any request", async () => {
  /** @type {Array<[Record<string, unknown>, RegExp]>} */
  const cases = [
    [{ ...ok, client: {} }, /options\.client/],
    [{ ...ok, bucket: "" }, /options\.bucket/],
    [{ ...ok, key: 5 }, /options\.key/],
    [{ ...ok, body: undefined }, /options\.body/],
    [{ ...ok, partSize: MIN_PART_SIZE - 1 }, /options\.partSize/],
    [{ ...ok, queueSize: 0 }, /options\.queueSize/],
    [{ ...ok, onProgress: "yes" }, /options\.onProgress/],
    [{ ...ok, signal: {} }, /options\.signal/],
  ];
  for (const [o, want] of cases) {
    await assert.rejects(upload(/** @type {any} */ (o)), (/** @type {unknown} */ e) => e instanceof TypeError && want.test(e.message), JSON.stringify(Object.keys(o)));
  }
});

test("an already aborted signal rejects with AbortError without a request", async () => {
  const c = new AbortController();
  c.abort();
  await assert.rejects(upload({ ...ok, signal: c.signal }), { name: "AbortError" });
});
