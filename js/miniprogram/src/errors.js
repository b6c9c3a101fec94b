// Errors of the SDK: one class, S3VendError {status, code, message}.
//
// status is the HTTP status (0 when no HTTP answer was had: network
// failures, wx API failures, bad arguments, cancellation); code is S3's
// error code (AccessDenied, NoSuchKey, ... from the XML error body,
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html),
// the vendor's ({"error":{"code","message"}}: contract/wire/errors.go, docs/api.md "Errors"),
// or one of the SDK's own (LOCAL_CODES).

/** The SDK's own codes (status 0). */
export const LOCAL_CODES = {
  invalidArgument: 'invalid_argument',
  loginFailed: 'login_failed',
  networkError: 'network_error',
  badResponse: 'bad_response',
  fileError: 'file_error',
  cancelled: 'cancelled',
  notSignedIn: 'not_signed_in'
}

export class S3VendError extends Error {
  /**
   * @param {number} status HTTP status, 0 without an HTTP answer
   * @param {string} code
   * @param {string} message
   * @param {string} [requestId] S3's x-amz-request-id or the vendor's X-Request-Id
   */
  constructor (status, code, message, requestId) {
    super(message)
    this.name = 'S3VendError'
    /** @type {number} */
    this.status = status
    /** @type {string} */
    this.code = code
    /** @type {string | undefined} */
    this.requestId = requestId || undefined
    /** @type {boolean} a multipart upload that failed keeps its parts: upload() again resumes it */
    this.resumable = false
  }
}

/**
 * @param {string} message
 * @returns {S3VendError}
 */
export function invalidArgument (message) {
  return new S3VendError(0, LOCAL_CODES.invalidArgument, message)
}

/** @param {any} res a wx fail callback's argument */
export function errMsg (res) {
  return (res && res.errMsg) || String(res)
}
