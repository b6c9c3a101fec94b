// Clock-skew correction. A phone whose clock is minutes off signs requests
// that S3 refuses: header-signed requests more than 15 minutes from S3's
// time get 403 RequestTimeTooSkewed, presigned URLs dated in the future
// "Request is not valid yet" and those past X-Amz-Date + X-Amz-Expires
// "Request has expired" (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html,
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).
//
// As the AWS SDK for JavaScript v3 does (@aws-sdk/core,
// httpAuthSchemes/utils/getUpdatedSystemClockOffset.js: the offset is the
// server's Date minus the local time at receipt, not taken from a cached
// answer (Age) or from an answer that took over 15 minutes), every answer
// of the vendor and of S3 updates an offset that is added to the device
// clock when signing and when judging credential expiry. As Tencent COS's
// mini-program SDK does (cos-wx-sdk-v5 src/base.js allowRetry), a request
// refused for its time is retried once when the answer moved the offset.

/** Offsets below this are noise of the Date header's one-second resolution. */
const MIN_CHANGE_MS = 1000
/** Answers that took longer say nothing about the clock (AWS SDK v3: 900 s). */
const MAX_ROUND_TRIP_MS = 900000

export class Clock {
  /** @param {() => number} [now] the device clock in ms (default Date.now) */
  constructor (now) {
    this.deviceNow = now || function () { return Date.now() }
    /** @type {number} server time minus device time, in ms */
    this.offset = 0
  }

  /** The corrected time in ms. */
  now () {
    return this.deviceNow() + this.offset
  }

  /** The corrected time as a Date. */
  date () {
    return new Date(this.now())
  }

  /** The device time, for measuring round trips. */
  sent () {
    return this.deviceNow()
  }

  /**
   * Learns the server's time from an answer's Date header.
   * @param {string} dateHeader RFC 7231 date ('' when absent)
   * @param {string} ageHeader '' unless a cache served the answer
   * @param {number} sentAt device time when the request was sent
   * @returns {boolean} whether the offset changed
   */
  observe (dateHeader, ageHeader, sentAt) {
    if (!dateHeader || ageHeader) return false
    const server = Date.parse(dateHeader)
    if (isNaN(server)) return false
    const received = this.deviceNow()
    if (received - sentAt > MAX_ROUND_TRIP_MS) return false
    const offset = server - received
    if (Math.abs(offset - this.offset) < MIN_CHANGE_MS) return false
    this.offset = offset
    return true
  }
}

/**
 * Whether an S3 error says the request's time was refused.
 * @param {{code: string, message: string}} err
 */
export function isClockError (err) {
  return err.code === 'RequestTimeTooSkewed' ||
    (err.code === 'AccessDenied' && (err.message === 'Request has expired' || err.message === 'Request is not valid yet'))
}
