package contract

import (
	"fmt"
	"strings"
)

// FieldError is one problem with one field of a document both sides read
// (the verifiers, the upload limits, the cache settings, cdk.json's keys):
// Field is the path of the field at fault in that document, like
// "oidc[0].issuer" or "maxBytes" ("" for the document as a whole), Message
// what is wrong and how to fix it. A caller that knows where the document
// sits (cdk.json's "s3vend.environments.prod.verifiers", the variable
// S3VEND_UPLOAD_MAX_BYTES) prefixes the field; it never parses Error().
type FieldError struct {
	Field   string
	Message string
}

func (e FieldError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// FieldErrors are every problem found in one document, in the order found.
// Error prints one "field: message" per line.
type FieldErrors []FieldError

// Add records a problem with field.
func (es *FieldErrors) Add(field, format string, args ...any) {
	*es = append(*es, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err is es as an error, or nil when there is no problem (never a typed nil).
func (es FieldErrors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

func (es FieldErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// JoinField is the path of field under prefix: "upload" and "maxBytes" is
// "upload.maxBytes", "verifiers" and "" is "verifiers", "" and "expiry" is
// "expiry".
func JoinField(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	}
	return prefix + "." + field
}
