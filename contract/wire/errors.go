package wire

import (
	"encoding/json"
	"net/http"
)

// Error is one error answer of the API: its HTTP status, a stable
// snake_case code clients switch on, and a fixed message that never echoes
// the request. It is the body {"error":{"code","message"}}.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code }

// Retryable reports whether the client should try again later; the vendor
// then sends Retry-After.
func (e *Error) Retryable() bool { return Retryable(e.Status) }

// Retryable reports whether an answer of this status asks the client to try
// again later (429, 502, 503, 504: the vendor's and API Gateway's own).
func Retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// ErrorResponse is the JSON body of every error answer.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is the "error" object of an ErrorResponse.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Response is e as its JSON body.
func (e *Error) Response() ErrorResponse {
	return ErrorResponse{Error: ErrorBody{Code: e.Code, Message: e.Message}}
}

// Body is e's JSON body as the vendor writes it (the WAF's 429 answer is
// built from ErrRateLimited.Body, so both say the same).
func (e *Error) Body() []byte {
	b, _ := json.Marshal(e.Response()) // strings only: cannot fail
	return b
}

// Error codes the alarms watch (contract.MetricNamespace's Errors metric),
// and the code of a request refused for no more specific reason.
const (
	CodeInvalidCredential = "invalid_credential" // 401: a login was rejected
	CodeUpstreamThrottled = "upstream_throttled" // 503: Cognito or STS throttled after retries
	CodeInvalidRequest    = "invalid_request"    // 400
)

// Error codes of abuse control: a revoked login or identity (403), an
// upload over the user quota (403), and the revocation table unreadable for
// longer than the vendor's grace (503: it fails closed).
const (
	CodeUserRevoked           = "user_revoked"
	CodeQuotaExceeded         = "quota_exceeded"
	CodeRevocationUnavailable = "revocation_unavailable"
)

// The error table: every error answer of the vendor but the upload field
// errors (UploadFieldError), whose message names the configured limit.
var (
	// Routing.
	ErrNotFound         = &Error{http.StatusNotFound, "not_found", "No such route."}
	ErrMethodNotAllowed = &Error{http.StatusMethodNotAllowed, "method_not_allowed", "The method is not allowed on this route."}
	ErrBasicFlowOff     = &Error{http.StatusNotFound, "basic_flow_disabled", "The identity pool does not allow the basic flow; use /v1/token and GetCredentialsForIdentity."}

	// The request body.
	ErrUnsupportedMedia = &Error{http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type must be application/json."}
	ErrBodyTooLarge     = &Error{http.StatusRequestEntityTooLarge, "body_too_large", "The request body exceeds 16 KiB."}
	ErrMalformedJSON    = &Error{http.StatusBadRequest, "malformed_json", "The request body is not a single valid JSON object."}
	ErrUnknownField     = &Error{http.StatusBadRequest, "unknown_field", "The request body has a field this endpoint does not accept."}
	ErrDuplicateField   = &Error{http.StatusBadRequest, "duplicate_field", "The request body has a field more than once."}
	ErrMissingLogin     = &Error{http.StatusBadRequest, "missing_field", "provider and credential are required strings."}
	ErrMissingUpload    = &Error{http.StatusBadRequest, "missing_field", "provider, credential, name, size and contentType are required; rule (or visibility) is optional."}
	ErrUnreadableBody   = &Error{http.StatusBadRequest, CodeInvalidRequest, "The request body could not be read."}

	// The login.
	ErrUnknownProvider   = &Error{http.StatusBadRequest, "unknown_provider", "The provider is not configured."}
	ErrInvalidCredential = &Error{http.StatusUnauthorized, CodeInvalidCredential, "The credential was rejected."}
	// ErrUnsupportedUserID: the verified user id or tenant cannot be a
	// session tag value even escaped (contract.UserTagValue), and the access
	// rules key objects by it; refused rather than truncated into another
	// user's prefix.
	ErrUnsupportedUserID = &Error{http.StatusForbidden, "unsupported_user_id", "The verified user id or tenant is longer than a session tag allows (256 characters once escaped); the access rules key objects by it, so this login cannot be served."}

	// Abuse control (docs/abuse-control.md).
	ErrUserRevoked           = &Error{http.StatusForbidden, CodeUserRevoked, "This account has been suspended by the app's operator."}
	ErrQuotaExceeded         = &Error{http.StatusForbidden, CodeQuotaExceeded, "The upload would exceed your storage quota; delete objects to free space."}
	ErrRevocationUnavailable = &Error{http.StatusServiceUnavailable, CodeRevocationUnavailable, "The account check is temporarily unavailable; retry later."}

	// Limits and upstream services (Retryable: the vendor sends Retry-After).
	ErrRateLimited         = &Error{http.StatusTooManyRequests, "rate_limited", "Too many requests; retry later."}
	ErrVerifierUnavailable = &Error{http.StatusServiceUnavailable, "verifier_unavailable", "This login provider is not set up yet; retry later."}
	ErrUpstreamThrottled   = &Error{http.StatusServiceUnavailable, CodeUpstreamThrottled, "An upstream service is throttling; retry later."}
	ErrUpstreamTimeout     = &Error{http.StatusServiceUnavailable, "upstream_timeout", "An upstream service did not answer in time; retry later."}
	ErrUpstream            = &Error{http.StatusBadGateway, "upstream_error", "An upstream service failed; retry later."}

	ErrInternal = &Error{http.StatusInternalServerError, "internal_error", "Internal error."}
)

// Errors is the table, for tests and documentation.
var Errors = []*Error{
	ErrNotFound, ErrMethodNotAllowed, ErrBasicFlowOff,
	ErrUnsupportedMedia, ErrBodyTooLarge, ErrMalformedJSON, ErrUnknownField, ErrDuplicateField,
	ErrMissingLogin, ErrMissingUpload, ErrUnreadableBody,
	ErrUnknownProvider, ErrInvalidCredential, ErrUnsupportedUserID,
	ErrUserRevoked, ErrQuotaExceeded, ErrRevocationUnavailable,
	ErrRateLimited, ErrVerifierUnavailable, ErrUpstreamThrottled, ErrUpstreamTimeout, ErrUpstream,
	ErrInternal,
}

// UploadFieldCodes are the 400 codes of a refused upload field (the field
// of UploadRequest at fault); the message is the vendor's fixed text for
// the rule and the configured limit.
var UploadFieldCodes = map[string]string{
	"name":        "invalid_name",
	"size":        "invalid_size",
	"contentType": "invalid_content_type",
	"visibility":  "invalid_visibility",
	"rule":        "invalid_rule",
}

// UploadFieldError is the answer to a refused upload field.
func UploadFieldError(field, message string) *Error {
	code, ok := UploadFieldCodes[field]
	if !ok {
		code = CodeInvalidRequest
	}
	return &Error{http.StatusBadRequest, code, message}
}
