// The signed-in user's identity and temporary credentials, from the
// vendor's POST /v1/session: one round trip answers the identity id and the
// identity's own AWS credentials, through whichever flow the identity pool
// allows (docs/api.md). Only the API's domain and the bucket's
// need whitelisting, not Cognito's.
//
// Credentials are refreshed before they expire (REFRESH_WINDOW_MS, judged
// on the skew-corrected clock) and when S3 answers ExpiredToken; concurrent
// callers share one refresh (one login() and one vendor call).
import { S3VendError, LOCAL_CODES, errMsg, invalidArgument } from './errors.js'
import { request, headerValue, wxApi } from './wx.js'

/**
 * Refresh this long before expiry: the AWS SDK for JavaScript v3 treats
 * credentials within 5 minutes of expiry as expired (@smithy/core,
 * memoizeIdentity / EXPIRATION_MS = 300_000).
 */
export const REFRESH_WINDOW_MS = 5 * 60 * 1000

/** The vendor route (docs/api.md; client.RouteSession in Go). */
export const SESSION_ROUTE = '/v1/session'

/**
 * @typedef {{accessKeyId: string, secretAccessKey: string, sessionToken: string, expiration: number, lifetime: number}} Credentials
 */

/** The default login: a wx.login code for the WeChat verifier. */
export function wxLoginCode () {
  return new Promise(function (resolve, reject) {
    wxApi().login({
      success: function (/** @type {any} */ res) {
        if (res && res.code) resolve(res.code)
        else reject(new S3VendError(0, LOCAL_CODES.loginFailed, 'wx.login: ' + errMsg(res)))
      },
      fail: function (/** @type {any} */ res) {
        reject(new S3VendError(0, LOCAL_CODES.loginFailed, 'wx.login: ' + errMsg(res)))
      }
    })
  })
}

export class Session {
  /**
   * @param {{endpoint: string, provider: string, login: () => (string | Promise<string>), timeout?: number}} cfg
   * @param {import('./clock.js').Clock} clock
   */
  constructor (cfg, clock) {
    this.cfg = cfg
    this.clock = clock
    /** @type {string} */
    this.identityId = ''
    /** The access rules' {userId} and {tenant} (the vendor's userId, tenant), '' when it sent none. */
    this.userId = ''
    this.tenant = ''
    /** @type {Credentials | null} */
    this.creds = null
    /** @type {Promise<Credentials> | null} */
    this.pending = null
    /** vendor calls made (figures, tests) */
    this.vends = 0
  }

  /**
   * Credentials valid for at least minValidMs more (at least the refresh
   * window), refreshed once for all concurrent callers when needed.
   * @param {number} [minValidMs]
   * @returns {Promise<Credentials>}
   */
  credentials (minValidMs) {
    const c = this.creds
    if (c) {
      // A caller may want more than credentials can give (a presigned URL
      // for a week; credentials last an hour): ask at most half the
      // lifetime, so fresh credentials always satisfy the need.
      const need = Math.max(REFRESH_WINDOW_MS, Math.min(minValidMs || 0, c.lifetime / 2))
      if (c.expiration - this.clock.now() > need) return Promise.resolve(c)
    }
    return this.refresh()
  }

  /** Signs in again (one flight for all callers). @returns {Promise<Credentials>} */
  refresh () {
    if (!this.pending) {
      const self = this
      this.pending = this.vend().then(function (c) {
        self.pending = null
        return c
      }, function (e) {
        self.pending = null
        throw e
      })
    }
    return this.pending
  }

  /**
   * Forgets creds if they are still the current ones (S3 said they expired).
   * @param {Credentials} creds
   */
  invalidate (creds) {
    if (this.creds === creds) this.creds = null
  }

  /** @returns {Promise<Credentials>} */
  async vend () {
    let credential
    try {
      credential = await this.cfg.login()
    } catch (e) {
      if (e instanceof S3VendError) throw e
      throw new S3VendError(0, LOCAL_CODES.loginFailed, 'login(): ' + ((e && /** @type {any} */ (e).message) || String(e)))
    }
    if (typeof credential !== 'string' || credential === '') {
      throw new S3VendError(0, LOCAL_CODES.loginFailed, 'login() must return a non-empty string (a wx.login code, an ID token, ...)')
    }
    const url = this.cfg.endpoint + SESSION_ROUTE
    const sentAt = this.clock.sent()
    this.vends++
    const res = await request({
      url: url,
      method: 'POST',
      header: { 'content-type': 'application/json' },
      data: JSON.stringify({ provider: this.cfg.provider, credential: credential }),
      dataType: 'text',
      timeout: this.cfg.timeout
    }).promise
    this.clock.observe(headerValue(res.header, 'date'), headerValue(res.header, 'age'), sentAt)
    const body = parseJSON(res.data)
    const reqId = headerValue(res.header, 'x-request-id')
    if (res.statusCode !== 200) {
      const e = body && typeof body === 'object' && body.error
      throw new S3VendError(res.statusCode, (e && e.code) || LOCAL_CODES.badResponse,
        (e && e.message) || ('POST ' + url + ': HTTP ' + res.statusCode), reqId)
    }
    const expiration = body && Date.parse(body.expiration)
    if (!body || !body.identityId || !body.accessKeyId || !body.secretAccessKey || !body.sessionToken || isNaN(expiration)) {
      throw new S3VendError(res.statusCode, LOCAL_CODES.badResponse, 'POST ' + url + ': the answer lacks identityId, accessKeyId, secretAccessKey, sessionToken or expiration', reqId)
    }
    this.identityId = body.identityId
    this.userId = typeof body.userId === 'string' ? body.userId : ''
    this.tenant = typeof body.tenant === 'string' ? body.tenant : ''
    this.creds = {
      accessKeyId: body.accessKeyId,
      secretAccessKey: body.secretAccessKey,
      sessionToken: body.sessionToken,
      expiration: expiration,
      lifetime: Math.max(0, expiration - this.clock.now())
    }
    return this.creds
  }
}

/** @param {any} data */
function parseJSON (data) {
  if (typeof data !== 'string') return data
  try {
    return JSON.parse(data)
  } catch (e) {
    return null
  }
}

/**
 * Checks and normalizes the endpoint: an https (or loopback http) URL
 * without a trailing slash.
 * @param {any} endpoint
 * @param {string} name
 */
export function baseURL (endpoint, name) {
  const s = String(endpoint || '').replace(/\/+$/, '')
  if (!/^https:\/\/[^/?#]+(\/[^?#]*)?$/.test(s) && !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/[^?#]*)?$/.test(s)) {
    throw invalidArgument(name + ' must be an https URL without query or fragment (got ' + JSON.stringify(String(endpoint || '')) + ')')
  }
  return s
}
