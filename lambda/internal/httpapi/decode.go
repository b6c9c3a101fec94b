package httpapi

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/lambda/internal/vend"
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
	errMissingUpload    = &apiError{http.StatusBadRequest, "missing_field", "provider, credential, name, size and contentType are required; visibility is optional."}
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

// UploadRequest is the body of POST /v1/upload.
type UploadRequest struct {
	Provider    string      `json:"provider"`
	Credential  string      `json:"credential"`
	Name        string      `json:"name"`
	Size        *uploadSize `json:"size"`
	ContentType string      `json:"contentType"`
	Visibility  string      `json:"visibility,omitempty"`
}

// uploadSize is a JSON number of bytes. A number that is not a whole int64
// (1.5, 1e3, 1e30) decodes to -1, so that the core answers invalid_size
// rather than malformed_json; any other JSON type is malformed.
type uploadSize int64

func (s *uploadSize) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return errors.New("size must be a number")
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		n = -1
	}
	*s = uploadSize(n)
	return nil
}

// DecodeUpload decodes an upload request body strictly. Field values are
// checked by the core (vend.Service.CheckUpload), which knows the limits.
func DecodeUpload(contentType string, body []byte) (vend.UploadRequest, error) {
	var req UploadRequest
	if e := decodeJSON(contentType, body, &req, false); e != nil {
		return vend.UploadRequest{}, e
	}
	if req.Provider == "" || req.Credential == "" || req.Name == "" || req.Size == nil || req.ContentType == "" {
		return vend.UploadRequest{}, errMissingUpload
	}
	return vend.UploadRequest{
		Provider: req.Provider, Credential: req.Credential, Name: req.Name,
		Size: int64(*req.Size), ContentType: req.ContentType, Visibility: req.Visibility,
	}, nil
}
