// Package fault defines the sentinel errors shared by the token vendor's
// layers and an error type whose text is always safe to log.
//
// Verifiers and AWS adapters return *Error values: Error() is built only from
// the sentinel and a fixed, code-authored reason. The underlying cause (which
// may carry upstream error text, URLs with secrets, or token fragments) stays
// reachable through errors.Is/As but is never part of the message.
package fault

import "errors"

// Sentinels, mapped to HTTP statuses by the HTTP adapter.
var (
	// ErrUnknownProvider: the request names no configured verifier (400).
	ErrUnknownProvider = errors.New("unknown provider")
	// ErrInvalidCredential: the credential was rejected (401).
	ErrInvalidCredential = errors.New("invalid credential")
	// ErrRateLimited: the caller is being rate limited by an identity provider (429).
	ErrRateLimited = errors.New("rate limited")
	// ErrThrottled: an upstream service throttled us after bounded retries (503).
	ErrThrottled = errors.New("upstream throttled")
	// ErrTimeout: an upstream call did not finish in time (503).
	ErrTimeout = errors.New("upstream timeout")
	// ErrUpstream: any other upstream failure (502).
	ErrUpstream = errors.New("upstream failure")
	// ErrIdentityRejected: Cognito refused the identity or login (found in the
	// cause chain of an ErrUpstream; the core may turn it into a 401).
	ErrIdentityRejected = errors.New("identity rejected")
	// ErrNotFound: the feature is disabled or the resource does not exist (404).
	ErrNotFound = errors.New("not found")
	// ErrBasicFlowDisabled: the identity pool does not allow the basic
	// (classic) flow, so no credentials can be vended with
	// AssumeRoleWithWebIdentity (404).
	ErrBasicFlowDisabled = errors.New("basic flow disabled")
	// ErrVerifierUnavailable: the named verifier is configured but cannot
	// work yet because its secret field is still empty (503).
	ErrVerifierUnavailable = errors.New("verifier unavailable")
	// ErrRevoked: the operator revoked this login or identity
	// (s3vend admin revoke) (403).
	ErrRevoked = errors.New("revoked")
	// ErrQuotaExceeded: the upload would take the user over userQuota (403).
	ErrQuotaExceeded = errors.New("quota exceeded")
	// ErrRevocationUnavailable: the revocation table could not be read for
	// too long; the vendor refuses logins rather than risk serving a
	// revoked user (503).
	ErrRevocationUnavailable = errors.New("revocation check unavailable")
	// ErrUnsupportedUserID: the verified user id or tenant cannot be a
	// session tag value, even escaped (longer than 256 characters), so the
	// access rules that key objects by it could not work (403).
	ErrUnsupportedUserID = errors.New("unsupported user id")
)

// Error is an error with a log-safe message.
type Error struct {
	Kind   error  // one of the sentinels above
	Reason string // fixed text written in this code base; never user or upstream data
	Cause  error  // optional underlying error; never printed
}

// New returns an *Error of the given kind.
func New(kind error, reason string, cause error) error {
	return &Error{Kind: kind, Reason: reason, Cause: cause}
}

func (e *Error) Error() string {
	if e.Reason == "" {
		return e.Kind.Error()
	}
	return e.Kind.Error() + ": " + e.Reason
}

// Unwrap exposes both the sentinel and the cause to errors.Is/As.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Cause}
}

// Describe returns a log-safe description of err: the message of the
// outermost *Error in its chain, or a generic text when there is none.
func Describe(err error) string {
	if err == nil {
		return ""
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Error()
	}
	return "unclassified error"
}
