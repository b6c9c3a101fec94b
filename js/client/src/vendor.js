// The token vendor's HTTP API (docs/api.md): POST a JSON body,
// get a JSON answer or {"error":{"code","message"}}; 429/502/503/504 and
// network failures are retried with bounded, jittered backoff that honours
// Retry-After, like the Go client (client/vendor.go).

import { RETRYABLE_STATUSES } from "./codes.js";

/** Routes of the vendor, relative to its API base. */
export const ROUTES = Object.freeze({
  token: "/v1/token",
  credentials: "/v1/credentials",
  guest: "/v1/guest",
});

const MAX_MESSAGE = 200;
const MAX_CODE = 64;
const MAX_RETRY_AFTER_S = 86400;
const BASE_BACKOFF_MS = 250;

/**
 * A failed call of the token vendor. `message` is the vendor's fixed text (or
 * ours), never the login credential, a token, or a response body.
 *
 * Codes are the vendor's snake_case codes (see `VENDOR_ERROR_CODES`), plus:
 * `http_<status>` when a non-200 answer is not the vendor's error JSON (e.g.
 * API Gateway's own 429 or 500), `bad_response` when a 200 answer is not the
 * documented JSON, and `network_error` (status 0) when no HTTP answer arrived
 * (offline, TLS failure, or CORS refused this origin: browsers do not tell
 * which, https://fetch.spec.whatwg.org/#concept-network-error).
 */
export class VendorError extends Error {
  /**
   * @param {{status: number, code: string, message: string, retryAfter?: number, requestId?: string, route?: string, cause?: unknown}} f
   */
  constructor(f) {
    super(f.message, f.cause === undefined ? undefined : { cause: f.cause });
    this.name = "VendorError";
    /** HTTP status; 0 when no HTTP answer arrived. */
    this.status = f.status;
    /** The vendor's error code, e.g. "invalid_credential". */
    this.code = f.code;
    /** Seconds the vendor asked to wait (Retry-After), when it sent one. @type {number | undefined} */
    this.retryAfter = f.retryAfter;
    /** X-Request-Id of the answer, when the browser may read it. @type {string | undefined} */
    this.requestId = f.requestId;
    /** The route called, e.g. "/v1/token". @type {string | undefined} */
    this.route = f.route;
  }

  /** Whether trying again later may succeed (429, 502, 503, 504, network). */
  get retryable() {
    return this.status === 0 || RETRYABLE_STATUSES.includes(this.status);
  }
}

/**
 * apiBase derives the API base URL from the stack's TokenEndpoint output by
 * removing a trailing /v1/token; a URL without it is taken as the base.
 * Returns undefined when endpoint is not an http(s) URL without credentials,
 * query or fragment.
 * @param {string} endpoint
 * @returns {string | undefined}
 */
export function apiBase(endpoint) {
  let u;
  try {
    u = new URL(endpoint);
  } catch {
    return undefined;
  }
  if ((u.protocol !== "https:" && u.protocol !== "http:") || u.username || u.password || u.search || u.hash) {
    return undefined;
  }
  let path = u.pathname.replace(/\/+$/, "");
  if (path.endsWith(ROUTES.token)) path = path.slice(0, -ROUTES.token.length);
  return u.origin + path;
}

/** oneLine keeps printable characters only and truncates to n. @param {unknown} s @param {number} n */
function oneLine(s, n) {
  // eslint-disable-next-line no-control-regex
  const t = String(s ?? "").replace(/[\u0000-\u001f\u007f]/g, " ");
  return t.length > n ? t.slice(0, n) + "…" : t;
}

/**
 * parseRetryAfter reads delta-seconds or an HTTP-date (RFC 9110 section
 * 10.2.3) into seconds; undefined when absent or unusable.
 * @param {string | null} v
 * @param {number} nowMs
 */
export function parseRetryAfter(v, nowMs) {
  if (v == null || v.trim() === "") return undefined;
  const s = v.trim();
  if (/^\d+$/.test(s)) return Math.min(Number(s), MAX_RETRY_AFTER_S);
  const t = Date.parse(s);
  if (Number.isFinite(t) && t > nowMs) return Math.min(Math.ceil((t - nowMs) / 1000), MAX_RETRY_AFTER_S);
  return undefined;
}

/**
 * @typedef {object} VendorClientOptions
 * @property {string} base API base URL (apiBase of the endpoint)
 * @property {typeof fetch} fetch
 * @property {() => number} now clock, milliseconds since the epoch
 * @property {(ms: number) => Promise<void>} sleep
 * @property {() => number} random uniform in [0, 1)
 * @property {number} maxAttempts attempts of one call, including the first
 * @property {number} maxBackoffMs cap of one wait, Retry-After included
 */

/**
 * A vendor HTTP client. post() returns the decoded 200 body or throws a
 * VendorError; it never puts the request body into an error.
 */
export class VendorClient {
  /** @param {VendorClientOptions} o */
  constructor(o) {
    this.o = o;
  }

  /** @param {string} route */
  url(route) {
    return this.o.base + route;
  }

  /**
   * @param {string} route
   * @param {object} body
   * @returns {Promise<Record<string, unknown>>}
   */
  async post(route, body) {
    const payload = JSON.stringify(body);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(route, payload);
      } catch (err) {
        if (!(err instanceof VendorError) || !err.retryable || attempt >= this.o.maxAttempts) throw err;
        await this.o.sleep(this.backoff(attempt, err.retryAfter));
      }
    }
  }

  /**
   * backoff is "full jitter" exponential backoff (a uniformly random delay
   * in [0, min(cap, base*2^(attempt-1))], AWS Architecture Blog, "Exponential
   * Backoff And Jitter") added to Retry-After, capped at maxBackoffMs.
   * @param {number} attempt
   * @param {number | undefined} retryAfterS
   */
  backoff(attempt, retryAfterS) {
    const ceiling = Math.min(this.o.maxBackoffMs, BASE_BACKOFF_MS * 2 ** Math.min(attempt - 1, 16));
    const d = (retryAfterS ?? 0) * 1000 + Math.floor(this.o.random() * (ceiling + 1));
    return Math.min(d, this.o.maxBackoffMs);
  }

  /**
   * @param {string} route
   * @param {string} payload
   * @returns {Promise<Record<string, unknown>>}
   */
  async once(route, payload) {
    let res;
    try {
      res = await this.o.fetch(this.url(route), {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: payload,
        credentials: "omit",
        cache: "no-store",
      });
    } catch (cause) {
      throw new VendorError({
        status: 0,
        code: "network_error",
        message: `POST ${route}: no answer from the token vendor (offline, TLS error, or CORS refused this origin)`,
        route,
        cause,
      });
    }
    let text;
    try {
      text = await res.text();
    } catch (cause) {
      throw new VendorError({ status: 0, code: "network_error", message: `POST ${route}: the answer broke off`, route, cause });
    }
    const requestId = oneLine(res.headers.get("x-request-id") ?? res.headers.get("apigw-requestid") ?? "", 128) || undefined;
    /** @type {unknown} */
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.status === 200) {
      if (json === null || typeof json !== "object" || Array.isArray(json)) {
        throw badResponse(route, "is not a JSON object", requestId);
      }
      return /** @type {Record<string, unknown>} */ (json);
    }
    const j = /** @type {any} */ (json);
    let code = typeof j?.error?.code === "string" ? j.error.code : "";
    let message = typeof j?.error?.message === "string" ? j.error.message : "";
    if (!code) {
      code = `http_${res.status}`;
      // API Gateway's own answers: {"message":"Too Many Requests"}.
      message = typeof j?.message === "string" ? j.message : `HTTP ${res.status}`;
    }
    throw new VendorError({
      status: res.status,
      code: oneLine(code, MAX_CODE),
      message: oneLine(message, MAX_MESSAGE),
      retryAfter: parseRetryAfter(res.headers.get("retry-after"), this.o.now()),
      requestId,
      route,
    });
  }
}

/**
 * badResponse is the error of a 200 answer that is not the documented JSON.
 * It names what is wrong, never the body (which may hold a token).
 * @param {string} route
 * @param {string} what
 * @param {string} [requestId]
 */
export function badResponse(route, what, requestId) {
  return new VendorError({
    status: 200,
    code: "bad_response",
    message: `POST ${route}: the token vendor's answer ${what}`,
    requestId,
    route,
  });
}
