package httpapi

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/contract/wire"
	"github.com/s3vend/s3vend/lambda/internal/vend"
)

// MaxBodyBytes is the largest accepted request body (16 KiB).
const MaxBodyBytes = wire.MaxBodyBytes

// The request bodies (package wire holds their shape for both sides).
type (
	LoginRequest  = wire.LoginRequest
	GuestRequest  = wire.GuestRequest
	UploadRequest = wire.UploadRequest
)

// readBody reads at most MaxBodyBytes from r.
func readBody(r io.Reader) ([]byte, *wire.Error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxBodyBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, wire.ErrBodyTooLarge
		}
		return nil, wire.ErrUnreadableBody
	}
	if len(body) > MaxBodyBytes {
		return nil, wire.ErrBodyTooLarge
	}
	return body, nil
}

// decodeJSON checks the media type and strictly decodes one JSON object
// into dst. An empty body is accepted only when allowEmpty is set.
func decodeJSON(contentType string, body []byte, dst any, allowEmpty bool) *wire.Error {
	if allowEmpty && len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return wire.ErrUnsupportedMedia
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return wire.ErrMalformedJSON
	}
	// Keys must match exactly and appear once: encoding/json alone would
	// read {"provider":"a","Provider":"b"} as provider "b".
	if err := contract.DecodeStrict(body, dst); err != nil {
		var ke *contract.KeyError
		switch {
		case errors.As(err, &ke) && ke.Duplicate:
			return wire.ErrDuplicateField
		case errors.As(err, &ke):
			return wire.ErrUnknownField
		}
		return wire.ErrMalformedJSON
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
		return LoginRequest{}, wire.ErrMissingLogin
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

// DecodeUpload decodes an upload request body strictly. Field values are
// checked by the core (vend.Service.CheckUpload), which knows the limits.
func DecodeUpload(contentType string, body []byte) (vend.UploadRequest, error) {
	var req UploadRequest
	if e := decodeJSON(contentType, body, &req, false); e != nil {
		return vend.UploadRequest{}, e
	}
	if req.Provider == "" || req.Credential == "" || req.Name == "" || req.Size == nil || req.ContentType == "" {
		return vend.UploadRequest{}, wire.ErrMissingUpload
	}
	return vend.UploadRequest{
		Provider: req.Provider, Credential: req.Credential, Name: req.Name,
		Size: int64(*req.Size), ContentType: req.ContentType, Visibility: req.Visibility, Rule: req.Rule,
	}, nil
}
