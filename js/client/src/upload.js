// A thin helper over @aws-sdk/lib-storage's Upload, the SDK's maintained
// multipart uploader: bodies above partSize go up in parts (queueSize at a
// time), a File or Blob is read part by part through Blob.stream() (lib-
// storage chunker.js, getChunkStream), so a large file is never read into
// memory whole; progress events; cancel with an AbortSignal, which makes
// lib-storage send AbortMultipartUpload (leavePartsOnError false,
// Upload.js markUploadAsAborted) so no parts are left behind.

import { Upload } from "@aws-sdk/lib-storage";

/** S3's minimum part size, and lib-storage's default (Upload.MIN_PART_SIZE). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

/**
 * @typedef {object} UploadProgress
 * @property {number} loaded bytes sent so far (never decreases)
 * @property {number | undefined} total the body's size, when known
 * @property {number | undefined} part the part just sent (1 for a single PUT)
 */

/**
 * @typedef {object} UploadOptions
 * @property {{send: (command: any, options?: any) => Promise<any>, config: any}} client an S3Client
 * @property {string} bucket
 * @property {string} key e.g. privateKey(await credentials.identityId(), file.name)
 * @property {Blob | Uint8Array | string | ReadableStream} body a File or Blob in browsers
 * @property {string} [contentType] default: the Blob's type, else application/octet-stream
 * @property {number} [partSize] bytes per part, at least 5 MiB (default 5 MiB); bodies up to it go up in one PutObject
 * @property {number} [queueSize] parts in flight at once (default 4)
 * @property {(p: UploadProgress) => void} [onProgress]
 * @property {AbortSignal} [signal] aborts the upload; the promise then rejects with an Error named "AbortError"
 * @property {Record<string, unknown>} [params] further PutObject/CreateMultipartUpload parameters (Metadata, CacheControl, ...)
 */

/**
 * @typedef {object} UploadResult
 * @property {string} bucket
 * @property {string} key
 * @property {string | undefined} etag
 * @property {string | undefined} versionId
 * @property {boolean} multipart whether it went up in parts
 */

/** @param {string} name @param {string} want */
const optionError = (name, want) => new TypeError(`upload: options.${name} ${want}`);

/**
 * upload sends body to s3://bucket/key.
 * @param {UploadOptions} o
 * @returns {Promise<UploadResult>}
 */
export async function upload(o) {
  if (o === null || typeof o !== "object") throw new TypeError("upload: options must be an object");
  if (typeof o.client?.send !== "function") throw optionError("client", "must be an S3Client");
  for (const k of /** @type {const} */ (["bucket", "key"])) {
    if (typeof o[k] !== "string" || o[k] === "") throw optionError(k, "must be a non-empty string");
  }
  if (o.body === undefined || o.body === null) throw optionError("body", "is required (a File, Blob, Uint8Array, string or ReadableStream)");
  const partSize = o.partSize ?? MIN_PART_SIZE;
  if (!Number.isInteger(partSize) || partSize < MIN_PART_SIZE) throw optionError("partSize", `must be an integer of at least ${MIN_PART_SIZE} bytes (S3's minimum part size)`);
  const queueSize = o.queueSize ?? 4;
  if (!Number.isInteger(queueSize) || queueSize < 1 || queueSize > 32) throw optionError("queueSize", "must be an integer from 1 to 32");
  if (o.onProgress !== undefined && typeof o.onProgress !== "function") throw optionError("onProgress", "must be a function");
  if (o.signal !== undefined && typeof o.signal?.aborted !== "boolean") throw optionError("signal", "must be an AbortSignal");
  if (o.signal?.aborted) throw abortError();

  const blobType = typeof Blob !== "undefined" && o.body instanceof Blob ? o.body.type : "";
  const up = new Upload({
    client: /** @type {any} */ (o.client),
    params: {
      ...o.params,
      Bucket: o.bucket,
      Key: o.key,
      Body: /** @type {any} */ (o.body),
      ContentType: o.contentType || blobType || "application/octet-stream",
    },
    partSize,
    queueSize,
    leavePartsOnError: false,
  });
  let loaded = 0;
  let multipart = false;
  up.on("httpUploadProgress", (p) => {
    if ((p.part ?? 1) > 1) multipart = true;
    // Parts finish out of order; report a running maximum.
    loaded = Math.max(loaded, p.loaded ?? 0);
    o.onProgress?.({ loaded, total: p.total, part: p.part });
  });
  const onAbort = () => void up.abort();
  o.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const out = /** @type {any} */ (await up.done());
    multipart ||= typeof out?.UploadId === "string" || /-\d+"?$/.test(out?.ETag ?? "");
    return { bucket: o.bucket, key: o.key, etag: out?.ETag, versionId: out?.VersionId, multipart };
  } catch (err) {
    if (o.signal?.aborted) throw abortError(err);
    throw err;
  } finally {
    o.signal?.removeEventListener("abort", onAbort);
  }
}

/** @param {unknown} [cause] */
function abortError(cause) {
  const e = new Error("upload: aborted", cause === undefined ? undefined : { cause });
  e.name = "AbortError";
  return e;
}
