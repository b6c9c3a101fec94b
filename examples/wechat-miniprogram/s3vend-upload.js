// s3vend upload helper for WeChat mini-programs: no AWS SDK, only wx.* APIs.
//
//   const { upload } = require('./s3vend-upload.js')
//   const { key, identityId } = await upload({ endpoint: 'https://api.example.com', filePath, name: 'photo.jpg', contentType: 'image/jpeg' })
//
// 1. wx.login() -> a one-time code (https://developers.weixin.qq.com/miniprogram/en/dev/api/open-api/login/wx.login.html)
// 2. wx.request POST {endpoint}/v1/upload {provider, credential: code, name, size, contentType, visibility}
//    -> {url, fields, key, identityId, expiresAt}: an S3 presigned POST the token vendor signed for
//    private/<identityId>/<name>, whose policy pins the key, the Content-Type and the size.
// 3. wx.uploadFile: a multipart/form-data POST of fields + the file (field name "file"), which is
//    exactly an S3 POST Object upload (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html):
//    S3 wants the form fields before the file, and wx.uploadFile sends formData first.
//    (https://developers.weixin.qq.com/miniprogram/en/dev/api/network/upload/wx.uploadFile.html)
//
// Written in ES2015 without async/await, optional chaining or object spread, so
// it runs as is on old base libraries and with the "ES6 to ES5" compile option.
'use strict'

/**
 * An upload failure: an Error with name "S3VendUploadError". status: the HTTP status (0 when the request never got an
 * answer); code: the vendor's error code (e.g. invalid_name), S3's error code
 * (e.g. AccessDenied, EntityTooLarge) or a local one (wx_login_failed,
 * network_error, bad_response, upload_failed, invalid_argument).
 */
function S3VendUploadError(status, code, message) {
  var err = new Error(code + ': ' + message + (status ? ' (HTTP ' + status + ')' : ''))
  err.name = 'S3VendUploadError'
  err.status = status
  err.code = code
  err.detail = message
  return err
}

// call turns a wx.* callback API into a Promise (not every API or base
// library supports wx's own Promise style, wx.uploadFile never does).
function call(api, args) {
  return new Promise(function (resolve, reject) {
    var opts = {}
    for (var k in args) opts[k] = args[k]
    opts.success = resolve
    opts.fail = reject
    api(opts)
  })
}

function errMsg(res) {
  return (res && res.errMsg) || String(res)
}

// xmlTag reads <Tag>...</Tag> from S3's XML error document
// (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
function xmlTag(xml, tag) {
  var m = new RegExp('<' + tag + '>([^<]*)</' + tag + '>').exec(xml)
  return m ? xmlText(m[1]) : ''
}

// xmlText decodes XML's predefined and numeric character references
// (S3 writes e.g. &#34; in policy condition messages).
function xmlText(s) {
  var named = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, function (all, ref) {
    if (ref.charAt(0) !== '#') return named[ref]
    var n = ref.charAt(1) === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10)
    return n > 0 && n <= 0xffff ? String.fromCharCode(n) : all
  })
}

function baseName(path) {
  var parts = String(path).split(/[\\/]/)
  return parts[parts.length - 1]
}

// The vendor only signs forms for the media types it is configured with
// (by default image/jpeg, image/png, image/webp, image/gif, video/mp4,
// application/pdf, text/plain: contract/upload.go); guess those from
// the extension of temp files like wxfile://tmp_1a2b.jpg.
var TYPES = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', mp4: 'video/mp4', pdf: 'application/pdf', txt: 'text/plain' }

function guessType(name) {
  var m = /\.([A-Za-z0-9]+)$/.exec(name)
  return (m && TYPES[m[1].toLowerCase()]) || 'application/octet-stream'
}

function fileSize(filePath) {
  var fs = wx.getFileSystemManager()
  return call(fs.getFileInfo.bind(fs), { filePath: filePath }).then(function (res) {
    return res.size
  }, function (res) {
    throw S3VendUploadError(0, 'invalid_argument', 'cannot read ' + filePath + ': ' + errMsg(res))
  })
}

/**
 * Uploads a local file (e.g. a temp path from wx.chooseMedia) to
 * private/<identityId>/<name> through the token vendor's presigned POST.
 *
 * @param {object} o
 * @param {string} o.endpoint     the API base URL (the stack output TokenEndpoint without /v1/token)
 * @param {string} [o.provider]   the vendor's WeChat verifier name (default "wechat")
 * @param {string} o.filePath     local file path
 * @param {string} [o.name]       object name under the prefix (default: the file name of filePath)
 * @param {number} [o.size]       bytes (default: wx.getFileSystemManager().getFileInfo)
 * @param {string} [o.contentType] default: from the extension of name (jpg, png, webp, gif, mp4, pdf, txt), else application/octet-stream
 * @param {string} [o.visibility] "private" (default)
 * @param {number} [o.timeout]    wx.request / wx.uploadFile timeout in ms
 * @param {function} [o.onProgress] receives UploadTask progress events ({progress, totalBytesSent, ...})
 * @returns {Promise<{key: string, identityId: string}>}
 */
function upload(o) {
  o = o || {}
  if (typeof wx === 'undefined') {
    return Promise.reject(S3VendUploadError(0, 'invalid_argument', 'wx is not defined: run inside a mini-program (or install a wx shim)'))
  }
  if (!o.endpoint || !o.filePath) {
    return Promise.reject(S3VendUploadError(0, 'invalid_argument', 'endpoint and filePath are required'))
  }
  var endpoint = String(o.endpoint).replace(/\/+$/, '')
  var name = o.name || baseName(o.filePath)
  var size = typeof o.size === 'number' ? Promise.resolve(o.size) : fileSize(o.filePath)

  return size.then(function (bytes) {
    return call(wx.login, o.timeout ? { timeout: o.timeout } : {}).then(function (res) {
      if (!res.code) throw S3VendUploadError(0, 'wx_login_failed', errMsg(res))
      return { bytes: bytes, code: res.code }
    }, function (res) {
      throw S3VendUploadError(0, 'wx_login_failed', errMsg(res))
    })
  }).then(function (s) {
    var req = {
      url: endpoint + '/v1/upload',
      method: 'POST',
      header: { 'content-type': 'application/json' },
      // wx.request serializes an object as JSON for content-type application/json.
      data: {
        provider: o.provider || 'wechat',
        credential: s.code,
        name: name,
        size: s.bytes,
        contentType: o.contentType || guessType(name),
        visibility: o.visibility || 'private'
      },
      dataType: 'json'
    }
    if (o.timeout) req.timeout = o.timeout
    return call(wx.request, req).catch(function (res) {
      throw S3VendUploadError(0, 'network_error', 'POST ' + req.url + ': ' + errMsg(res))
    })
  }).then(function (res) {
    // wx.request calls success for every HTTP status; only network failures call fail.
    var body = res.data
    if (typeof body === 'string') {
      try { body = JSON.parse(body) } catch (e) { /* left as text */ }
    }
    if (res.statusCode !== 200) {
      var e = body && typeof body === 'object' && body.error
      throw S3VendUploadError(res.statusCode, (e && e.code) || 'bad_response', (e && e.message) || String(res.data).slice(0, 200))
    }
    if (!body || typeof body !== 'object' || !body.url || !body.fields || !body.key) {
      throw S3VendUploadError(res.statusCode, 'bad_response', 'the upload response lacks url, fields or key')
    }
    return body
  }).then(function (grant) {
    return new Promise(function (resolve, reject) {
      var formData = {}
      for (var k in grant.fields) formData[k] = String(grant.fields[k])
      var args = {
        url: grant.url,
        filePath: o.filePath,
        name: 'file', // S3 reads the object from the form field named "file"
        formData: formData,
        success: function (res) {
          if (res.statusCode >= 200 && res.statusCode < 300) {
            // 204 by default, 201/200 with success_action_status.
            resolve({ key: grant.key, identityId: grant.identityId })
            return
          }
          var xml = typeof res.data === 'string' ? res.data : ''
          reject(S3VendUploadError(res.statusCode, xmlTag(xml, 'Code') || 'upload_failed', xmlTag(xml, 'Message') || xml.slice(0, 200)))
        },
        fail: function (res) {
          reject(S3VendUploadError(0, 'network_error', 'POST ' + grant.url + ': ' + errMsg(res)))
        }
      }
      if (o.timeout) args.timeout = o.timeout
      var task = wx.uploadFile(args)
      if (o.onProgress && task && typeof task.onProgressUpdate === 'function') task.onProgressUpdate(o.onProgress)
    })
  })
}

module.exports = { upload: upload }
