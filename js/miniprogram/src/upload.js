// upload(): one PUT up to the part size, else a multipart upload whose parts
// are read from disk one slice at a time (FileSystemManager.readFile with
// position and length), never the whole file. A part that fails is retried
// (S3.send); an upload that still fails keeps its uploaded parts, in memory
// and in wx storage, so calling upload() again for the same file and key
// sends only the missing parts; cancel() aborts the requests in flight and
// the multipart upload (AbortMultipartUpload), so S3 keeps no parts.
//
// S3's limits (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html):
// parts of 5 MiB to 5 GiB except the last, at most 10,000 parts, objects up
// to 5 TiB; the bucket's lifecycle rule aborts uploads left incomplete
// (abort-incomplete-multipart-uploads, 7 days).
import { S3VendError, LOCAL_CODES, invalidArgument } from './errors.js'
import { fileSize, readSlice, storage, headerValue } from './wx.js'
import { checkCancel } from './s3.js'
import { tagText, escapeText } from './xml.js'

export const MIN_PART_SIZE = 5 * 1024 * 1024
export const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024
export const MAX_PARTS = 10000

/**
 * @typedef {{progress: number, totalBytesSent: number, totalBytesExpectedToSend: number}} Progress
 * @typedef {{uploadId: string, parts: Record<string, string>}} UploadState
 */

/**
 * @param {import('./index.js').Internals} c
 * @param {{filePath: string, key: string, contentType: string, onProgress?: (p: Progress) => void}} o
 * @param {import('./index.js').Cancel} cancel
 * @returns {Promise<{key: string}>}
 */
export async function runUpload (c, o, cancel) {
  const size = await fileSize(o.filePath)
  checkCancel(cancel)
  let last = -1
  /** @param {number} sent */
  const progress = function (sent) {
    const pct = size === 0 ? 100 : Math.floor(sent * 100 / size)
    if (pct <= last || !o.onProgress) return
    last = pct
    o.onProgress({ progress: pct, totalBytesSent: sent, totalBytesExpectedToSend: size })
  }
  if (size <= c.partSize) {
    progress(0)
    const body = size === 0 ? new ArrayBuffer(0) : await readSlice(o.filePath, 0, size)
    await c.s3.send({ method: 'PUT', key: o.key, headers: { 'content-type': o.contentType }, body: body, cancel: cancel })
    progress(size)
    return { key: o.key }
  }
  if (Math.ceil(size / c.partSize) > MAX_PARTS) {
    throw invalidArgument('a file of ' + size + ' bytes needs more than ' + MAX_PARTS + ' parts of ' + c.partSize + ' bytes: raise partSize')
  }
  try {
    await multipart(c, o, size, cancel, progress)
  } catch (e) {
    if (e instanceof S3VendError && e.code === 'NoSuchUpload') {
      // The upload we resumed was aborted or expired: start over, once.
      forget(c, o, size)
      await multipart(c, o, size, cancel, progress)
    } else {
      throw e
    }
  }
  return { key: o.key }
}

/**
 * @param {import('./index.js').Internals} c
 * @param {{filePath: string, key: string, contentType: string}} o
 * @param {number} size
 * @param {import('./index.js').Cancel} cancel
 * @param {(sent: number) => void} progress
 */
async function multipart (c, o, size, cancel, progress) {
  const skey = stateKey(c, o, size)
  let state = loadState(c, skey)
  if (!state) {
    const res = await c.s3.send({ method: 'POST', key: o.key, query: { uploads: '' }, headers: { 'content-type': o.contentType }, cancel: cancel })
    const uploadId = tagText(String(res.data), 'UploadId')
    if (!uploadId) throw new S3VendError(res.statusCode, LOCAL_CODES.badResponse, 'CreateMultipartUpload answered no UploadId')
    state = { uploadId: uploadId, parts: {} }
    saveState(c, skey, state)
  }
  const st = state
  const count = Math.ceil(size / c.partSize)
  /** @param {number} n */
  const partLength = function (n) { return Math.min(c.partSize, size - (n - 1) * c.partSize) }
  let sent = 0
  /** @type {number[]} */
  const todo = []
  for (let n = 1; n <= count; n++) {
    if (st.parts[n]) sent += partLength(n)
    else todo.push(n)
  }
  progress(sent)
  /** @type {{error: S3VendError | null}} */
  const failed = { error: null }
  const worker = async function () {
    while (todo.length && !failed.error && !cancel.cancelled) {
      const n = /** @type {number} */ (todo.shift())
      try {
        const body = await readSlice(o.filePath, (n - 1) * c.partSize, partLength(n))
        checkCancel(cancel)
        const res = await c.s3.send({ method: 'PUT', key: o.key, query: { partNumber: String(n), uploadId: st.uploadId }, body: body, cancel: cancel })
        const etag = headerValue(res.header, 'etag')
        if (!etag) throw new S3VendError(res.statusCode, LOCAL_CODES.badResponse, 'UploadPart answered no ETag')
        st.parts[n] = etag
        saveState(c, skey, st)
        sent += partLength(n)
        progress(sent)
      } catch (e) {
        if (!failed.error) failed.error = e instanceof S3VendError ? e : new S3VendError(0, LOCAL_CODES.fileError, String(e))
      }
    }
  }
  /** @type {Promise<void>[]} */
  const workers = []
  for (let i = 0; i < Math.min(c.concurrency, todo.length); i++) workers.push(worker())
  await Promise.all(workers)
  const failure = failed.error
  if (cancel.cancelled || (failure && failure.code === LOCAL_CODES.cancelled)) {
    await abort(c, o, st.uploadId)
    forget(c, o, size)
    throw new S3VendError(0, LOCAL_CODES.cancelled, 'cancelled')
  }
  if (failure) {
    // The parts sent so far stay: upload() again resumes.
    failure.resumable = true
    throw failure
  }
  let xml = '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
  for (let n = 1; n <= count; n++) {
    xml += '<Part><PartNumber>' + n + '</PartNumber><ETag>' + escapeText(st.parts[n]) + '</ETag></Part>'
  }
  xml += '</CompleteMultipartUpload>'
  await c.s3.send({ method: 'POST', key: o.key, query: { uploadId: st.uploadId }, headers: { 'content-type': 'application/xml' }, body: xml, cancel: cancel })
  forget(c, o, size)
}

/**
 * AbortMultipartUpload; a failure here only leaves parts for the bucket's
 * lifecycle rule to remove.
 * @param {import('./index.js').Internals} c
 * @param {{key: string}} o
 * @param {string} uploadId
 */
async function abort (c, o, uploadId) {
  try {
    await c.s3.send({ method: 'DELETE', key: o.key, query: { uploadId: uploadId }, ok: [204, 200, 404] })
  } catch (e) { /* see above */ }
}

/**
 * @param {import('./index.js').Internals} c
 * @param {{filePath: string, key: string}} o
 * @param {number} size
 */
function stateKey (c, o, size) {
  return 's3vend:upload:' + c.bucket + '/' + o.key + '|' + o.filePath + '|' + size + '|' + c.partSize
}

/**
 * @param {import('./index.js').Internals} c
 * @param {string} skey
 * @returns {UploadState | null}
 */
function loadState (c, skey) {
  const s = c.uploads[skey] || storage.get(skey)
  if (s && typeof s === 'object' && typeof s.uploadId === 'string' && s.uploadId && s.parts && typeof s.parts === 'object') {
    c.uploads[skey] = s
    return s
  }
  return null
}

/**
 * @param {import('./index.js').Internals} c
 * @param {string} skey
 * @param {UploadState} s
 */
function saveState (c, skey, s) {
  c.uploads[skey] = s
  storage.set(skey, s)
}

/**
 * @param {import('./index.js').Internals} c
 * @param {{filePath: string, key: string}} o
 * @param {number} size
 */
function forget (c, o, size) {
  const skey = stateKey(c, o, size)
  delete c.uploads[skey]
  storage.remove(skey)
}
