package httpapi

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/s3vend/s3vend/lambda/contract"
)

// MaxBodyBytes is the largest accepted request body (16 KiB).
const MaxBodyBytes = 16 << 10

// LoginRequest is the body of POST /v1/token and /v1/credentials.
type LoginRequest struct {
	Provider   string `json:"provider"`
	Credential string `json:"credential"`
}

// GuestRequest is the optional body of POST /v1/guest.
type GuestRequest struct {
	IdentityID string `json:"identityId,omitempty"`
}

// apiError is an error response: status, snake_case code and fixed message.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code }

var (
	errUnsupportedMedia = &apiError{http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type must be application/json."}
	errTooLarge         = &apiError{http.StatusRequestEntityTooLarge, "body_too_large", "The request body exceeds 16 KiB."}
	errMalformed        = &apiError{http.StatusBadRequest, "malformed_json", "The request body is not a single valid JSON object."}
	errUnknownField     = &apiError{http.StatusBadRequest, "unknown_field", "The request body has a field this endpoint does not accept."}
	errDuplicateField   = &apiError{http.StatusBadRequest, "duplicate_field", "The request body has a field more than once."}
	errMissingField     = &apiError{http.StatusBadRequest, "missing_field", "provider and credential are required strings."}
	errUnknownProvider  = &apiError{http.StatusBadRequest, "unknown_provider", "The provider is not configured."}
	errReadBody         = &apiError{http.StatusBadRequest, "invalid_request", "The request body could not be read."}
)

// readBody reads at most MaxBodyBytes from r.
func readBody(r io.Reader) ([]byte, *apiError) {
	body, err := io.ReadAll(io.LimitReader(r, MaxBodyBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge
		}
		return nil, errReadBody
	}
	if len(body) > MaxBodyBytes {
		return nil, errTooLarge
	}
	return body, nil
}

// decodeJSON checks the media type and strictly decodes one JSON object
// into dst. An empty body is accepted only when allowEmpty is set.
func decodeJSON(contentType string, body []byte, dst any, allowEmpty bool) *apiError {
	if allowEmpty && len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return errUnsupportedMedia
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return errMalformed
	}
	// Keys must match exactly and appear once: encoding/json alone would
	// read {"provider":"a","Provider":"b"} as provider "b".
	if err := contract.DecodeStrict(body, dst); err != nil {
		var ke *contract.KeyError
		switch {
		case errors.As(err, &ke) && ke.Duplicate:
			return errDuplicateField
		case errors.As(err, &ke):
			return errUnknownField
		}
		return errMalformed
	}
	return nil
}

// DecodeLogin decodes and validates a login request body.
func DecodeLogin(contentType string, body []byte) (LoginRequest, error) {
	var req LoginRequest
	if e := decodeJSON(contentType, body, &req, false); e != nil {
		return LoginRequest{}, e
	}
	if req.Provider == "" || req.Credential == "" {
		return LoginRequest{}, errMissingField
	}
	return req, nil
}

// DecodeGuest decodes an optional guest request body.
func DecodeGuest(contentType string, body []byte) (GuestRequest, error) {
	var req GuestRequest
	if e := decodeJSON(contentType, body, &req, true); e != nil {
		return GuestRequest{}, e
	}
	return req, nil
}
