// The token vendor's error codes and their HTTP statuses (docs/api.md,
// "Errors"): a copy of contract/wire's table, kept equal by
// contract/wire/jsclient_test.go.

/** @type {Readonly<Record<string, number>>} */
export const VENDOR_ERROR_CODES = Object.freeze({
  malformed_json: 400,
  unknown_field: 400,
  duplicate_field: 400,
  missing_field: 400,
  unknown_provider: 400,
  invalid_request: 400,
  invalid_name: 400,
  invalid_size: 400,
  invalid_content_type: 400,
  invalid_visibility: 400,
  invalid_rule: 400,
  invalid_credential: 401,
  unsupported_user_id: 403,
  user_revoked: 403,
  quota_exceeded: 403,
  not_found: 404,
  basic_flow_disabled: 404,
  method_not_allowed: 405,
  body_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  upstream_error: 502,
  upstream_throttled: 503,
  upstream_timeout: 503,
  verifier_unavailable: 503,
  revocation_unavailable: 503,
});

/** Statuses worth trying again later (the vendor sends Retry-After with them). */
export const RETRYABLE_STATUSES = Object.freeze([429, 502, 503, 504]);
