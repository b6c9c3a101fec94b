// Signed S3 REST requests over wx.request, with the user's own temporary
// credentials: SigV4 by @smithy/signature-v4 (the AWS SDK for JavaScript
// v3's signer) with the SHA-256 of @aws-crypto/sha256-js (pure JS: the
// mini-program has no WebCrypto). Retries: transient failures with
// backoff, an ExpiredToken answer once after a credential refresh, a
// request refused for its time once after the clock offset moved.
import { SignatureV4 } from '@smithy/signature-v4'
import { Sha256 } from '@aws-crypto/sha256-js'
import { S3VendError, LOCAL_CODES } from './errors.js'
import { request, headerValue } from './wx.js'
import { isClockError } from './clock.js'
import { tagText, rootName } from './xml.js'

/**
 * The host of a bucket in its region's partition: virtual-hosted style,
 * https://<bucket>.s3.<region>.amazonaws.com, and .amazonaws.com.cn in the
 * China regions (https://docs.amazonaws.cn/en_us/aws/latest/userguide/endpoints-Beijing.html,
 * "Amazon S3": s3.cn-north-1.amazonaws.com.cn).
 * @param {string} bucket
 * @param {string} region
 */
export function bucketHost (bucket, region) {
  return bucket + '.s3.' + region + '.amazonaws.com' + (region.indexOf('cn-') === 0 ? '.cn' : '')
}

/**
 * RFC 3986 percent-encoding as SigV4 wants it (every byte but
 * A-Z a-z 0-9 - _ . ~), for one path segment or query component.
 * @param {string} s
 */
export function uriEncode (s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, function (c) {
    return '%' + c.charCodeAt(0).toString(16).toUpperCase()
  })
}

/** @param {string} key */
export function encodeKey (key) {
  return key.split('/').map(uriEncode).join('/')
}

/** Codes worth another try after a pause (S3's ErrorResponses: 5xx, SlowDown, RequestTimeout). */
const TRANSIENT = /** @type {Record<string, boolean>} */ ({ InternalError: true, SlowDown: true, ServiceUnavailable: true, RequestTimeout: true, network_error: true })
const EXPIRED = /** @type {Record<string, boolean>} */ ({ ExpiredToken: true, TokenRefreshRequired: true })

/**
 * @typedef {object} Op
 * @property {string} method
 * @property {string} [key] object key ('' or absent: the bucket)
 * @property {Record<string, string>} [query]
 * @property {Record<string, string>} [headers] headers to sign and send (content-type, ...)
 * @property {ArrayBuffer | string} [body]
 * @property {number[]} [ok] successful statuses (default 200, 204, 206)
 * @property {import('./index.js').Cancel} [cancel]
 * @property {number} [retries] transient retries (default: the client's)
 */

export class S3 {
  /**
   * @param {{bucket: string, region: string, s3Endpoint?: string, retries: number, timeout?: number, sleep: (ms: number) => Promise<void>}} cfg
   * @param {import('./session.js').Session} session
   * @param {import('./clock.js').Clock} clock
   * @param {{requests: number, bytesSent: number}} stats
   */
  constructor (cfg, session, clock, stats) {
    this.cfg = cfg
    this.session = session
    this.clock = clock
    this.stats = stats
    if (cfg.s3Endpoint) {
      const m = /^(https?):\/\/([^/:]+)(?::(\d+))?(\/.*)?$/.exec(cfg.s3Endpoint)
      if (!m) throw new S3VendError(0, LOCAL_CODES.invalidArgument, 's3Endpoint must be a URL')
      this.protocol = m[1] + ':'
      this.hostname = m[2]
      this.port = m[3] ? Number(m[3]) : undefined
      this.basePath = (m[4] || '').replace(/\/+$/, '') + '/' + uriEncode(cfg.bucket)
    } else {
      this.protocol = 'https:'
      this.hostname = bucketHost(cfg.bucket, cfg.region)
      this.port = undefined
      this.basePath = ''
    }
  }

  /** The URL of key (or the bucket) without a query. @param {string} [key] */
  objectURL (key) {
    return this.protocol + '//' + this.hostHeader() + this.path(key)
  }

  hostHeader () {
    return this.hostname + (this.port ? ':' + this.port : '')
  }

  /** @param {string} [key] */
  path (key) {
    return this.basePath + '/' + (key ? encodeKey(key) : '')
  }

  /** @param {import('./session.js').Credentials} creds */
  signer (creds) {
    return new SignatureV4({
      service: 's3',
      region: this.cfg.region,
      sha256: Sha256,
      credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken },
      // S3 signs the path as sent, encoded once (SigV4 for S3: "Do not
      // normalize URI paths"); the path here is already encoded.
      uriEscapePath: false,
      applyChecksum: true
    })
  }

  /**
   * A presigned GET URL for key, valid for expiresIn seconds from the
   * corrected clock (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).
   * @param {string} key
   * @param {number} expiresIn
   * @param {import('./session.js').Credentials} [creds] default: credentials valid long enough
   */
  async presign (key, expiresIn, creds) {
    const c = creds || await this.session.credentials(expiresIn * 1000)
    const req = {
      method: 'GET',
      protocol: this.protocol,
      hostname: this.hostname,
      port: this.port,
      path: this.path(key),
      query: {},
      // UNSIGNED-PAYLOAD, as the AWS SDK's S3 presigner signs GETs.
      headers: { host: this.hostHeader(), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }
    }
    const signed = await this.signer(c).presign(req, { expiresIn: expiresIn, signingDate: this.clock.date() })
    return this.objectURL(key) + '?' + queryString(/** @type {Record<string, string>} */ (signed.query))
  }

  /**
   * Sends op, signed, with the retries described above.
   * @param {Op} op
   * @returns {Promise<import('./wx.js').WxResponse>}
   */
  send (op) {
    const ok = op.ok || [200, 204, 206]
    const self = this
    return this.retrying({ cancel: op.cancel, retries: op.retries }, async function (creds) {
      const res = await self.once(op, creds)
      if (ok.indexOf(res.statusCode) >= 0 && !errorIn200(op, res)) return res
      throw s3Error(res)
    })
  }

  /**
   * Runs attempt, with credentials valid for minValidMs (see
   * Session.credentials), until it succeeds, with the retries described
   * above. attempt rejects with S3's error (s3Error) or a network_error.
   * @template T
   * @param {{cancel?: import('./index.js').Cancel, retries?: number, minValidMs?: number}} o
   * @param {(creds: import('./session.js').Credentials) => Promise<T>} attempt
   * @returns {Promise<T>}
   */
  async retrying (o, attempt) {
    const retries = o.retries === undefined ? this.cfg.retries : o.retries
    let transient = 0
    let refreshed = false
    let reclocked = false
    for (;;) {
      checkCancel(o.cancel)
      const creds = await this.session.credentials(o.minValidMs)
      checkCancel(o.cancel)
      /** @type {S3VendError} */
      let err
      const offset = this.clock.offset
      try {
        return await attempt(creds)
      } catch (e) {
        if (!(e instanceof S3VendError) || (e.status === 0 && e.code !== LOCAL_CODES.networkError)) throw e
        err = e
      }
      checkCancel(o.cancel)
      if (EXPIRED[err.code] && !refreshed) {
        refreshed = true
        this.session.invalidate(creds)
        continue
      }
      // Retried once when this answer (or a concurrent one) moved the
      // offset since the request was signed.
      if (isClockError(err) && !reclocked && this.clock.offset !== offset) {
        reclocked = true
        continue
      }
      if ((TRANSIENT[err.code] || err.status >= 500) && transient < retries) {
        transient++
        await this.cfg.sleep(backoff(transient))
        continue
      }
      throw err
    }
  }

  /**
   * One signed request.
   * @param {Op} op
   * @param {import('./session.js').Credentials} creds
   * @returns {Promise<import('./wx.js').WxResponse>}
   */
  async once (op, creds) {
    const query = op.query || {}
    /** @type {Record<string, string>} */
    const headers = Object.assign({ host: this.hostHeader() }, op.headers || {})
    const req = {
      method: op.method,
      protocol: this.protocol,
      hostname: this.hostname,
      port: this.port,
      path: this.path(op.key),
      query: Object.assign({}, query),
      headers: headers,
      body: op.body
    }
    const signed = await this.signer(creds).sign(req, { signingDate: this.clock.date() })
    /** @type {Record<string, string>} */
    const header = {}
    for (const k in signed.headers) {
      if (k.toLowerCase() !== 'host') header[k] = signed.headers[k]
    }
    const qs = queryString(query)
    const sentAt = this.clock.sent()
    const pending = request({
      url: this.objectURL(op.key) + (qs ? '?' + qs : ''),
      method: op.method,
      header: header,
      data: op.body,
      dataType: 'text',
      responseType: 'text',
      timeout: this.cfg.timeout
    })
    if (op.cancel) op.cancel.tasks.push(pending.abort)
    this.stats.requests++
    this.stats.bytesSent += bodyLength(op.body)
    try {
      const res = await pending.promise
      this.clock.observe(headerValue(res.header, 'date'), headerValue(res.header, 'age'), sentAt)
      return res
    } finally {
      if (op.cancel) {
        const i = op.cancel.tasks.indexOf(pending.abort)
        if (i >= 0) op.cancel.tasks.splice(i, 1)
      }
    }
  }
}

/** @param {import('./index.js').Cancel | undefined} cancel */
export function checkCancel (cancel) {
  if (cancel && cancel.cancelled) throw new S3VendError(0, LOCAL_CODES.cancelled, 'cancelled')
}

/**
 * S3's error from a non-success answer.
 * @param {import('./wx.js').WxResponse} res
 */
export function s3Error (res) {
  const xml = typeof res.data === 'string' ? res.data : ''
  const reqId = headerValue(res.header, 'x-amz-request-id')
  const code = tagText(xml, 'Code')
  if (code) return new S3VendError(res.statusCode, code, tagText(xml, 'Message') || code, reqId)
  // HEAD and some proxies answer without a body.
  return new S3VendError(res.statusCode, STATUS_CODES[res.statusCode] || LOCAL_CODES.badResponse, 'HTTP ' + res.statusCode, reqId)
}

const STATUS_CODES = /** @type {Record<number, string>} */ ({ 403: 'AccessDenied', 404: 'NotFound', 400: 'BadRequest', 500: 'InternalError', 503: 'ServiceUnavailable' })

/**
 * CompleteMultipartUpload can answer 200 with an <Error> document
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html).
 * @param {Op} op
 * @param {import('./wx.js').WxResponse} res
 */
function errorIn200 (op, res) {
  return op.method === 'POST' && typeof res.data === 'string' && rootName(res.data) === 'Error'
}

/** Full jitter, 200 ms doubling to at most 5 s. @param {number} n */
function backoff (n) {
  return Math.random() * Math.min(5000, 200 * Math.pow(2, n))
}

/** @param {Record<string, string>} q */
export function queryString (q) {
  return Object.keys(q).sort().map(function (k) {
    return uriEncode(k) + (q[k] === '' && (k === 'uploads') ? '' : '=' + uriEncode(q[k]))
  }).join('&')
}

/** @param {ArrayBuffer | string | undefined} body */
function bodyLength (body) {
  if (!body) return 0
  if (typeof body === 'string') return body.length
  return body.byteLength
}
