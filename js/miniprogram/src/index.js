// @s3vend/miniprogram: a WeChat mini-program's access to its user's own S3
// objects through s3vend, with the user's own temporary credentials (so the
// bucket's IAM policies bound everything), wx.* APIs only.
//
//   const { createClient } = require('@s3vend/miniprogram')
//   const s3 = createClient({ endpoint: 'https://api.example.cn', provider: 'wechat',
//                             bucket: 'my-bucket', region: 'cn-north-1' })
//   const { identityId } = await s3.signIn()
//   const up = s3.upload({ filePath, name: 'photo.jpg', onProgress: p => ... })  // up.cancel()
//   const { key } = await up
//   const { items } = await s3.list()
//   const src = await s3.url({ key })     // for <image src>, <video src>
//   const { tempFilePath } = await s3.download({ key })
//   await s3.remove({ key })
//
// See js/miniprogram/README.md.
import { S3VendError, invalidArgument } from './errors.js'
import { Clock } from './clock.js'
import { Session, wxLoginCode, baseURL } from './session.js'
import { S3, s3Error, checkCancel } from './s3.js'
import { runUpload, MIN_PART_SIZE, MAX_PART_SIZE } from './upload.js'
import { downloadFile, readText, headerValue } from './wx.js'
import { elements, tagText } from './xml.js'
// Access rules (the stack's AccessRules output): @s3vend/client's parser
// and key builder, bundled; client/jskey_test.go holds them to Go's client.Key.
import { parseAccessRules, keyPrefix, AccessRuleError, DEFAULT_ACCESS_RULES } from '@s3vend/client/rules'

export { S3VendError }

/** @typedef {{cancelled: boolean, tasks: Array<() => void>}} Cancel */
/**
 * @typedef {object} Internals
 * @property {S3} s3
 * @property {Session} session
 * @property {string} bucket
 * @property {number} partSize
 * @property {number} concurrency
 * @property {Record<string, import('./upload.js').UploadState>} uploads
 */

/** The default layout's rules a visibility names (contract.DefaultRules). */
const VISIBILITIES = /** @type {Record<string, boolean>} */ ({ private: true, protected: true, public: true })

/**
 * An access rule as createClient's rules option takes it: parseAccessRules
 * of @s3vend/client/rules, or the decoded AccessRules output.
 * @typedef {{name: string, path: string}} AccessRule
 */

/**
 * The rules option checked: the default layout when absent.
 * @param {unknown} rules
 * @returns {ReadonlyArray<AccessRule>}
 */
function readRules (rules) {
  if (rules === undefined) return DEFAULT_ACCESS_RULES
  if (typeof rules !== 'string' && !Array.isArray(rules)) throw invalidArgument('rules must be the stack\'s AccessRules output (the JSON string) or its decoded array')
  return asArgument(function () { return parseAccessRules(/** @type {string | unknown[]} */ (rules)) }, 'rules: ')
}

/**
 * Runs f, turning an AccessRuleError into an invalid_argument S3VendError.
 * @template T
 * @param {() => T} f
 * @param {string} [context]
 * @returns {T}
 */
function asArgument (f, context) {
  try {
    return f()
  } catch (e) {
    if (e instanceof AccessRuleError) throw invalidArgument((context || '') + e.message)
    throw e
  }
}

/**
 * The leading literal segments of a rule's path ("teams/" for
 * "teams/{tenant}/*"): keys under it are full keys.
 * @param {AccessRule} r
 */
function ruleBase (r) {
  let b = ''
  const segs = r.path.split('/')
  for (let i = 0; i < segs.length - 1 && segs[i].charAt(0) !== '{'; i++) b += segs[i] + '/'
  return b
}

/** Default presigned URL lifetime: 15 minutes. */
export const DEFAULT_URL_EXPIRES = 900
/** SigV4 presigned URLs live at most a week (sigv4-query-string-auth.html). */
const MAX_URL_EXPIRES = 604800

/**
 * The media types s3vend's vendor signs by default (contract/upload.go),
 * and a few more; anything else is application/octet-stream.
 */
const TYPES = /** @type {Record<string, string>} */ ({
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', heic: 'image/heic',
  mp4: 'video/mp4', mov: 'video/quicktime', mp3: 'audio/mpeg', m4a: 'audio/mp4', aac: 'audio/aac',
  pdf: 'application/pdf', txt: 'text/plain', json: 'application/json'
})

/** @param {string} name */
export function guessType (name) {
  const m = /\.([A-Za-z0-9]+)$/.exec(name)
  return (m && TYPES[m[1].toLowerCase()]) || 'application/octet-stream'
}

/**
 * The same rules as the vendor's CheckObjectName (lambda/internal/vend):
 * UTF-8 text without control characters, a relative path of non-empty
 * segments other than "." and "..", no backslash; the whole key at most
 * 1,024 bytes (S3 User Guide, "Naming Amazon S3 objects").
 * @param {any} name
 */
export function checkName (name) {
  if (typeof name !== 'string' || name === '') throw invalidArgument('name must be a non-empty string')
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\ufffe\uffff]/.test(name)) throw invalidArgument('name must not contain control characters')
  if (name.indexOf('\\') >= 0 || name.split('/').some(function (s) { return s === '' || s === '.' || s === '..' })) {
    throw invalidArgument('name must be a relative path of non-empty segments: no leading or trailing "/", no "//", no "." or ".." segment, no "\\"')
  }
}

/**
 * @param {object} opts
 * @param {string} opts.endpoint the API base URL: the TokenEndpoint stack output without /v1/token
 * @param {string} opts.provider the vendor's verifier name (cdk.json verifiers), e.g. "wechat"
 * @param {string} opts.bucket the BucketName stack output
 * @param {string} opts.region the Region stack output, e.g. "cn-north-1"
 * @param {string | ReadonlyArray<AccessRule>} [opts.rules] the AccessRules stack output (as it is, or parsed), for upload({rule}) and list({rule}); default: the default layout (public/, protected/, private/)
 * @param {() => (string | Promise<string>)} [opts.login] the credential for provider (default: a wx.login code)
 * @param {string} [opts.s3Endpoint] base URL for path-style requests (<s3Endpoint>/<bucket>/<key>) instead of https://<bucket>.s3.<region>.amazonaws.com[.cn]
 * @param {number} [opts.partSize] multipart above this size, in parts of it (default and minimum 5 MiB)
 * @param {number} [opts.concurrency] parts in flight at once (default 3, at most 8: wx.request allows 10)
 * @param {number} [opts.retries] retries of a failed request (default 3)
 * @param {number} [opts.timeout] wx.request / wx.downloadFile timeout in ms
 * @param {() => number} [opts.now] the device clock in ms (default Date.now; tests)
 * @param {(ms: number) => Promise<void>} [opts.sleep] waits between retries (tests)
 */
export function createClient (opts) {
  const o = opts || /** @type {any} */ ({})
  const endpoint = baseURL(o.endpoint, 'endpoint')
  if (typeof o.provider !== 'string' || !/^[a-z0-9-]{1,32}$/.test(o.provider)) throw invalidArgument('provider must be the vendor\'s verifier name ([a-z0-9-]{1,32})')
  // Bucket names: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
  if (typeof o.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(o.bucket)) throw invalidArgument('bucket must be an S3 bucket name')
  if (typeof o.region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(o.region)) throw invalidArgument('region must be an AWS region such as cn-north-1')
  if (o.login !== undefined && typeof o.login !== 'function') throw invalidArgument('login must be a function returning the credential')
  const s3Endpoint = o.s3Endpoint === undefined ? '' : baseURL(o.s3Endpoint, 's3Endpoint')
  if (!s3Endpoint && o.bucket.indexOf('.') >= 0) {
    // A dotted bucket's virtual host does not match S3's wildcard certificate.
    throw invalidArgument('a bucket name with dots needs s3Endpoint (path-style): its virtual-hosted name fails TLS')
  }
  const partSize = o.partSize === undefined ? MIN_PART_SIZE : o.partSize
  if (!(partSize >= MIN_PART_SIZE && partSize <= MAX_PART_SIZE && Math.floor(partSize) === partSize)) {
    throw invalidArgument('partSize must be a whole number of bytes from 5 MiB to 5 GiB (S3\'s part limits)')
  }
  const concurrency = o.concurrency === undefined ? 3 : o.concurrency
  if (!(concurrency >= 1 && concurrency <= 8 && Math.floor(concurrency) === concurrency)) throw invalidArgument('concurrency must be 1 to 8')
  const retries = o.retries === undefined ? 3 : o.retries
  if (!(retries >= 0 && retries <= 10 && Math.floor(retries) === retries)) throw invalidArgument('retries must be 0 to 10')
  const rules = readRules(o.rules)
  const bases = rules.map(ruleBase)

  const clock = new Clock(o.now)
  const session = new Session({ endpoint: endpoint, provider: o.provider, login: o.login || wxLoginCode, timeout: o.timeout }, clock)
  const stats = { requests: 0, bytesSent: 0 }
  const sleep = o.sleep || function (/** @type {number} */ ms) { return new Promise(function (resolve) { setTimeout(resolve, ms) }) }
  const s3 = new S3({ bucket: o.bucket, region: o.region, s3Endpoint: s3Endpoint || undefined, retries: retries, timeout: o.timeout, sleep: sleep }, session, clock, stats)
  /** @type {Internals} */
  const c = { s3: s3, session: session, bucket: o.bucket, partSize: partSize, concurrency: concurrency, uploads: {} }

  /**
   * The rule an upload or list names: `rule`, else the default layout's
   * rule named by `visibility` ("private" when neither is given), checked
   * before any sign-in.
   * @param {{rule?: any, visibility?: any}} a
   */
  function ruleName (a) {
    if (a.rule !== undefined && a.visibility !== undefined) throw invalidArgument('rule and visibility are exclusive: a visibility names the rule of that name')
    if (a.rule === undefined) {
      const v = a.visibility === undefined ? 'private' : a.visibility
      if (!Object.prototype.hasOwnProperty.call(VISIBILITIES, v)) throw invalidArgument('visibility must be "private" (the default), "protected" or "public"; name other rules with rule')
      return /** @type {string} */ (v)
    }
    if (typeof a.rule !== 'string' || !rules.some(function (r) { return r.name === a.rule })) {
      throw invalidArgument('rule must name one of the access rules (' + rules.map(function (r) { return r.name }).join(', ') + ')')
    }
    return a.rule
  }

  /**
   * The rule's prefix for the signed-in user ("avatars/<userId>/"),
   * signing in first when needed.
   * @param {string} rule
   */
  async function prefix (rule) {
    await session.credentials()
    const who = { identityId: session.identityId, userId: session.userId, tenant: session.tenant }
    return asArgument(function () { return keyPrefix(rules, rule, who) })
  }

  /**
   * A full key: keys under a rule's literal base (private/, protected/,
   * public/ in the default layout) as they are, anything else a name under
   * private/<identityId>/.
   * @param {any} key
   */
  async function resolve (key) {
    if (typeof key !== 'string' || key === '') throw invalidArgument('key must be a non-empty string')
    checkName(key)
    if (bases.some(function (b) { return b !== '' && key.indexOf(b) === 0 })) return key
    return (await prefix(ruleName({}))) + key
  }

  return {
    /**
     * Signs in (login() → POST /v1/session) and returns the identity id,
     * and the user id and tenant the access rules key objects by (when the
     * stack's rules use them). Other methods sign in by themselves when needed.
     * @returns {Promise<{identityId: string, userId?: string, tenant?: string}>}
     */
    signIn: async function () {
      await session.refresh()
      /** @type {{identityId: string, userId?: string, tenant?: string}} */
      const who = { identityId: session.identityId }
      if (session.userId) who.userId = session.userId
      if (session.tenant) who.tenant = session.tenant
      return who
    },

    /** The identity id once signed in, else ''. */
    get identityId () { return session.identityId },

    /** Requests sent to S3, bytes of their bodies and vendor calls (diagnostics). */
    get stats () { return { requests: stats.requests, bytesSent: stats.bytesSent, vends: session.vends } },

    /**
     * Uploads a local file to <name> under the rule's prefix for the user
     * (rule "avatars" of "avatars/{userId}/*": avatars/<userId>/<name>), or
     * under <visibility>/<identityId>/ (default private). The promise has
     * cancel(), which aborts the upload.
     * @param {{filePath: string, name: string, rule?: string, visibility?: string, contentType?: string, onProgress?: (p: import('./upload.js').Progress) => void}} u
     * @returns {Promise<{key: string}> & {cancel: () => void}}
     */
    upload: function (u) {
      /** @type {Cancel} */
      const cancel = { cancelled: false, tasks: [] }
      const p = /** @type {Promise<{key: string}> & {cancel: () => void}} */ ((async function () {
        const a = u || /** @type {any} */ ({})
        if (typeof a.filePath !== 'string' || a.filePath === '') throw invalidArgument('filePath is required')
        if (a.onProgress !== undefined && typeof a.onProgress !== 'function') throw invalidArgument('onProgress must be a function')
        if (a.contentType !== undefined && (typeof a.contentType !== 'string' || !/^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/.test(a.contentType))) {
          throw invalidArgument('contentType must be a media type such as image/jpeg')
        }
        checkName(a.name)
        const key = (await prefix(ruleName(a))) + a.name
        checkCancel(cancel)
        return runUpload(c, { filePath: a.filePath, key: key, contentType: a.contentType || guessType(a.name), onProgress: a.onProgress }, cancel)
      })())
      p.cancel = function () {
        cancel.cancelled = true
        cancel.tasks.slice().forEach(function (abort) { abort() })
      }
      return p
    },

    /**
     * Lists the rule's prefix for the user (or <visibility>/<identityId>/,
     * default private) followed by <prefix> (ListObjectsV2).
     * @param {{rule?: string, visibility?: string, prefix?: string, continuationToken?: string, maxKeys?: number}} [l]
     * @returns {Promise<{items: Array<{key: string, size: number, lastModified: string, etag: string}>, nextToken: string | undefined}>}
     */
    list: async function (l) {
      const a = l || {}
      if (a.prefix !== undefined && typeof a.prefix !== 'string') throw invalidArgument('prefix must be a string')
      if (a.maxKeys !== undefined && !(a.maxKeys >= 1 && a.maxKeys <= 1000 && Math.floor(a.maxKeys) === a.maxKeys)) throw invalidArgument('maxKeys must be 1 to 1000')
      const full = (await prefix(ruleName(a))) + (a.prefix || '')
      /** @type {Record<string, string>} */
      const query = { 'list-type': '2', prefix: full, 'encoding-type': 'url' }
      if (a.maxKeys) query['max-keys'] = String(a.maxKeys)
      if (a.continuationToken) query['continuation-token'] = String(a.continuationToken)
      const res = await s3.send({ method: 'GET', query: query })
      const xml = String(res.data)
      const items = elements(xml, 'Contents').map(function (e) {
        return { key: urlDecode(tagText(e, 'Key')), size: Number(tagText(e, 'Size')), lastModified: tagText(e, 'LastModified'), etag: tagText(e, 'ETag') }
      })
      const next = tagText(xml, 'IsTruncated') === 'true' ? tagText(xml, 'NextContinuationToken') : ''
      return { items: items, nextToken: next || undefined }
    },

    /**
     * A presigned GET URL of key, for <image src>, <video src> or a plain GET.
     * @param {{key: string, expiresIn?: number}} u
     * @returns {Promise<string>}
     */
    url: async function (u) {
      const a = u || /** @type {any} */ ({})
      const expiresIn = a.expiresIn === undefined ? DEFAULT_URL_EXPIRES : a.expiresIn
      if (!(expiresIn >= 1 && expiresIn <= MAX_URL_EXPIRES && Math.floor(expiresIn) === expiresIn)) throw invalidArgument('expiresIn must be 1 to 604800 seconds')
      return s3.presign(await resolve(a.key), expiresIn)
    },

    /**
     * Downloads key to a temporary file (wx.downloadFile of a presigned URL).
     * @param {{key: string}} d
     * @returns {Promise<{tempFilePath: string}>}
     */
    download: async function (d) {
      const a = d || /** @type {any} */ ({})
      const key = await resolve(a.key)
      // S3.send's retries, for a presigned GET that wx.downloadFile sends.
      return s3.retrying({ minValidMs: DEFAULT_URL_EXPIRES * 1000 }, async function (creds) {
        const url = await s3.presign(key, DEFAULT_URL_EXPIRES, creds)
        const sentAt = clock.sent()
        const res = await downloadFile({ url: url, timeout: o.timeout }).promise
        stats.requests++
        clock.observe(headerValue(res.header, 'date'), headerValue(res.header, 'age'), sentAt)
        if (res.statusCode === 200) return { tempFilePath: res.tempFilePath }
        let text = ''
        try { text = await readText(res.tempFilePath) } catch (e) { /* no body */ }
        throw s3Error({ statusCode: res.statusCode, header: res.header, data: text })
      })
    },

    /**
     * Deletes key (DeleteObject).
     * @param {{key: string}} r
     * @returns {Promise<void>}
     */
    remove: async function (r) {
      const a = r || /** @type {any} */ ({})
      await s3.send({ method: 'DELETE', key: await resolve(a.key) })
    }
  }
}

/**
 * Keys of encoding-type=url listings (S3 encodes a space as "+").
 * @param {string} s
 */
function urlDecode (s) {
  try {
    return decodeURIComponent(s.replace(/\+/g, '%20'))
  } catch (e) {
    return s
  }
}
