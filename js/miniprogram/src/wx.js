// The wx.* calls the SDK makes, as Promises, with their tasks abortable.
// Only documented APIs and fields are used:
//   wx.request       https://developers.weixin.qq.com/miniprogram/dev/api/network/request/wx.request.html
//                    (success for every HTTP status with {statusCode, header, data}; fail only
//                    without an answer; RequestTask.abort)
//   wx.downloadFile  https://developers.weixin.qq.com/miniprogram/dev/api/network/download/wx.downloadFile.html
//                    ({statusCode, tempFilePath}; DownloadTask.onHeadersReceived, abort)
//   FileSystemManager.readFile  .../api/file/FileSystemManager.readFile.html
//                    (position and length, base library 2.10.0+: a slice of the file as an ArrayBuffer)
//   FileSystemManager.getFileInfo .../api/file/FileSystemManager.getFileInfo.html ({size})
//   wx.getStorageSync / setStorageSync / removeStorageSync (resumable upload state)
import { S3VendError, LOCAL_CODES, errMsg } from './errors.js'


/** @returns {any} the wx global, or throws a typed error */
export function wxApi () {
  if (typeof wx === 'undefined' || !wx) {
    throw new S3VendError(0, LOCAL_CODES.invalidArgument, 'wx is not defined: run inside a mini-program (or install a wx shim)')
  }
  return wx
}

/**
 * @typedef {{ statusCode: number, header: Record<string, string>, data: any }} WxResponse
 * @typedef {{ promise: Promise<WxResponse>, abort: () => void }} Pending
 */

/**
 * wx.request as a Promise that resolves for every HTTP status and rejects
 * (status 0, network_error) only without an answer.
 * @param {{url: string, method: string, header?: Record<string, string>, data?: any, dataType?: string, responseType?: string, timeout?: number}} opts
 * @returns {Pending}
 */
export function request (opts) {
  /** @type {any} */
  let task
  let aborted = false
  const promise = new Promise(function (resolve, reject) {
    /** @type {any} */
    const args = {
      url: opts.url,
      method: opts.method,
      header: opts.header || {},
      dataType: opts.dataType || 'text',
      responseType: opts.responseType || 'text',
      success: function (/** @type {any} */ res) {
        resolve({ statusCode: res.statusCode, header: res.header || {}, data: res.data })
      },
      fail: function (/** @type {any} */ res) {
        reject(aborted
          ? new S3VendError(0, LOCAL_CODES.cancelled, 'cancelled')
          : new S3VendError(0, LOCAL_CODES.networkError, opts.method + ' ' + stripQuery(opts.url) + ': ' + errMsg(res)))
      }
    }
    if (opts.data !== undefined) args.data = opts.data
    if (opts.timeout) args.timeout = opts.timeout
    task = wxApi().request(args)
  })
  return {
    promise: promise,
    abort: function () {
      aborted = true
      if (task && typeof task.abort === 'function') task.abort()
    }
  }
}

/**
 * wx.downloadFile as a Promise; the response headers come from
 * DownloadTask.onHeadersReceived when the base library offers it.
 * @param {{url: string, timeout?: number}} opts
 * @returns {{promise: Promise<{statusCode: number, tempFilePath: string, header: Record<string, string>}>, abort: () => void}}
 */
export function downloadFile (opts) {
  /** @type {any} */
  let task
  let aborted = false
  /** @type {Record<string, string>} */
  let header = {}
  const promise = new Promise(function (resolve, reject) {
    /** @type {any} */
    const args = {
      url: opts.url,
      success: function (/** @type {any} */ res) {
        resolve({ statusCode: res.statusCode, tempFilePath: res.tempFilePath, header: header })
      },
      fail: function (/** @type {any} */ res) {
        reject(aborted
          ? new S3VendError(0, LOCAL_CODES.cancelled, 'cancelled')
          : new S3VendError(0, LOCAL_CODES.networkError, 'GET ' + stripQuery(opts.url) + ': ' + errMsg(res)))
      }
    }
    if (opts.timeout) args.timeout = opts.timeout
    task = wxApi().downloadFile(args)
    if (task && typeof task.onHeadersReceived === 'function') {
      task.onHeadersReceived(function (/** @type {any} */ res) { header = (res && res.header) || {} })
    }
  })
  return {
    promise: promise,
    abort: function () {
      aborted = true
      if (task && typeof task.abort === 'function') task.abort()
    }
  }
}

/**
 * @param {string} method FileSystemManager method
 * @param {object} args
 * @returns {Promise<any>}
 */
function fsCall (method, args) {
  return new Promise(function (resolve, reject) {
    let fs
    try {
      fs = wxApi().getFileSystemManager()
    } catch (e) {
      reject(e)
      return
    }
    /** @type {any} */
    const opts = Object.assign({}, args, {
      success: resolve,
      fail: function (/** @type {any} */ res) {
        reject(new S3VendError(0, LOCAL_CODES.fileError, method + ' ' + (/** @type {any} */ (args).filePath) + ': ' + errMsg(res)))
      }
    })
    fs[method](opts)
  })
}

/**
 * The size of a local file.
 * @param {string} filePath
 * @returns {Promise<number>}
 */
export function fileSize (filePath) {
  return fsCall('getFileInfo', { filePath: filePath }).then(function (res) { return res.size })
}

/**
 * length bytes of a local file from position, as an ArrayBuffer: only that
 * slice is read into memory.
 * @param {string} filePath
 * @param {number} position
 * @param {number} length
 * @returns {Promise<ArrayBuffer>}
 */
export function readSlice (filePath, position, length) {
  return fsCall('readFile', { filePath: filePath, position: position, length: length }).then(function (res) {
    const data = res.data
    if (!data || typeof data.byteLength !== 'number' || data.byteLength !== length) {
      throw new S3VendError(0, LOCAL_CODES.fileError, 'readFile ' + filePath + ': got ' + (data && data.byteLength) + ' bytes at ' + position + ', want ' + length + ' (did the file change?)')
    }
    return data
  })
}

/**
 * A local file's text (S3's XML error bodies that wx.downloadFile saved).
 * @param {string} filePath
 * @returns {Promise<string>}
 */
export function readText (filePath) {
  return fsCall('readFile', { filePath: filePath, encoding: 'utf8' }).then(function (res) { return String(res.data) })
}

/** Synchronous storage, or null outside a mini-program's storage. */
export const storage = {
  /** @param {string} key */
  get (key) {
    try {
      const w = wxApi()
      return typeof w.getStorageSync === 'function' ? w.getStorageSync(key) || null : null
    } catch (e) {
      return null
    }
  },
  /** @param {string} key @param {any} value */
  set (key, value) {
    try {
      const w = wxApi()
      if (typeof w.setStorageSync === 'function') w.setStorageSync(key, value)
    } catch (e) { /* storage full or unavailable: the upload still works, it only cannot resume after a restart */ }
  },
  /** @param {string} key */
  remove (key) {
    try {
      const w = wxApi()
      if (typeof w.removeStorageSync === 'function') w.removeStorageSync(key)
    } catch (e) { /* as above */ }
  }
}

/**
 * A response header, case-insensitively (wx keeps the server's spelling).
 * @param {Record<string, string>} header
 * @param {string} name lower case
 * @returns {string}
 */
export function headerValue (header, name) {
  for (const k in header) {
    if (k.toLowerCase() === name) return String(header[k])
  }
  return ''
}

/**
 * A URL without its query string (never put signatures in error messages).
 * @param {string} url
 */
export function stripQuery (url) {
  const i = url.indexOf('?')
  return i < 0 ? url : url.slice(0, i)
}
