package standin

import (
	"net/http"
	"slices"
	"strings"

	"github.com/s3vend/s3vend/internal/accessmatrix"
)

// Subresources and parameters. Every object operation the stand-in serves
// is named by its method and the query parameters it may carry; any other
// parameter (?acl, ?tagging, ?retention, ?legal-hold, ?attributes,
// ?versionId...) is a subresource the stand-in does not implement, so it
// answers NotImplemented instead of serving the request as another
// operation (issue 16: PUT ?acl used to overwrite the object as a
// PutObject). Besides these, any request may carry x-id (aws-sdk-go-v2 adds
// the operation name) and X-Amz-* (a presigned request's signature and the
// headers its signer hoisted into the query).
var (
	objectParams = map[string][][]string{
		http.MethodPut:    {{}, {"uploadId", "partNumber"}},
		http.MethodGet:    {{}, {"uploadId", "max-parts", "part-number-marker"}, {"partNumber"}},
		http.MethodHead:   {{}, {"partNumber"}},
		http.MethodDelete: {{}, {"uploadId"}},
		http.MethodPost:   {{"uploads"}, {"uploadId"}},
	}
	bucketParams = map[string][][]string{
		http.MethodGet:  {{"list-type", "prefix", "delimiter", "max-keys", "continuation-token", "start-after", "encoding-type", "fetch-owner"}},
		http.MethodHead: {{}},
	}
	// responseOverrides are GetObject's and HeadObject's response header
	// overrides (GetObject API reference, "Overriding response header
	// values through the request").
	responseOverrides = map[string]string{
		"response-cache-control":       "Cache-Control",
		"response-content-disposition": "Content-Disposition",
		"response-content-encoding":    "Content-Encoding",
		"response-content-language":    "Content-Language",
		"response-content-type":        "Content-Type",
		"response-expires":             "Expires",
	}
)

// supportedQuery reports whether the request's query parameters are those
// of an operation the stand-in serves.
func supportedQuery(r *http.Request, isBucket bool) bool {
	table := objectParams
	if isBucket {
		table = bucketParams
	}
	var named []string
	for k := range r.URL.Query() {
		lower := strings.ToLower(k)
		_, override := responseOverrides[lower]
		switch {
		case lower == "x-id" || strings.HasPrefix(lower, "x-amz-"):
		case override && !isBucket && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		default:
			named = append(named, k)
		}
	}
	for _, allowed := range table[r.Method] {
		if !slices.ContainsFunc(named, func(k string) bool { return !slices.Contains(allowed, k) }) {
			return true
		}
	}
	return false
}

// presignAuthParams are the query parameters of SigV4 query authentication
// itself; other X-Amz-* parameters are headers the signer hoisted.
var presignAuthParams = []string{"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires", "x-amz-signedheaders", "x-amz-signature", "x-amz-security-token"}

// writeHeaders are the headers that describe an object write: the request's,
// plus x-amz-* headers a presigner hoisted into the query (S3 reads those as
// headers: the AWS SDK for JavaScript v3 hoists every x-amz-* header it may).
func writeHeaders(r *http.Request) http.Header {
	h := r.Header.Clone()
	for k, vs := range r.URL.Query() {
		lower := strings.ToLower(k)
		if strings.HasPrefix(lower, "x-amz-") && !slices.Contains(presignAuthParams, lower) && h.Get(k) == "" {
			for _, v := range vs {
				h.Add(k, v)
			}
		}
	}
	return h
}

// formHeaders are a POST form's fields as the headers of the equivalent
// PutObject: x-amz-* fields by their name, acl as x-amz-acl and tagging as
// x-amz-tagging (S3 User Guide, "Browser-based uploads using POST", form
// fields).
func formHeaders(fields map[string]string) http.Header {
	h := http.Header{}
	for k, v := range fields {
		switch {
		case k == "acl":
			h.Set("x-amz-acl", v)
		case k == "tagging":
			h.Set("x-amz-tagging", v)
		case strings.HasPrefix(k, "x-amz-") && !slices.Contains(presignAuthParams, k) && k != "x-amz-signature":
			h.Set(k, v)
		}
	}
	return h
}

// storageClasses are the x-amz-storage-class values S3 accepts
// (PutObject API reference, StorageClass).
var storageClasses = []string{"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
	"GLACIER", "DEEP_ARCHIVE", "OUTPOSTS", "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE", "FSX_OPENZFS", "FSX_ONTAP"}

// authorizeWrite authorizes an object write to key described by h as S3
// does: every action and condition key accessmatrix.ObjectWriteChecks
// derives from the headers must be allowed (403 AccessDenied otherwise),
// then the bucket's own settings apply (SSE-C blocked: 403), then what the
// stand-in does not implement is NotImplemented. It returns the storage
// class to keep ("" for STANDARD).
func (s *S3) authorizeWrite(q *s3Request, key string, h http.Header) (storageClass string, ok bool) {
	for _, c := range accessmatrix.ObjectWriteChecks(h) {
		allowed, err := s.allowedWith(q.r, q.sess, q.anon, c.Action, key, nil, c.Context)
		if err != nil {
			s.fail(q, internalError())
			return "", false
		}
		if !allowed {
			s.fail(q, accessDenied())
			return "", false
		}
	}
	if aerr := s.unsupportedWrite(h); aerr != nil {
		s.fail(q, aerr)
		return "", false
	}
	class := strings.ToUpper(h.Get("x-amz-storage-class"))
	if class == "STANDARD" {
		class = ""
	}
	return class, true
}

// unsupportedWrite answers what IAM allowed but S3 itself refuses (SSE-C on
// a bucket that blocks it; an unknown storage class) or the stand-in does
// not implement (other encryption, ACLs, tags, Object Lock). A copy's
// x-amz-copy-source is the route's concern (copyObject; UploadPartCopy is
// not implemented).
func (s *S3) unsupportedWrite(h http.Header) *AWSError {
	if h.Get("x-amz-server-side-encryption-customer-algorithm") != "" || h.Get("x-amz-server-side-encryption-customer-key") != "" {
		if s.model.BlocksSSEC() {
			// "When SSE-C is blocked for a bucket, any PutObject, CopyObject,
			// PostObject, or Multipart Upload ... requests that specify SSE-C
			// encryption will be rejected with an HTTP 403 AccessDenied error."
			return accessDenied()
		}
		return notImplementedHeader("x-amz-server-side-encryption-customer-algorithm")
	}
	if c := h.Get("x-amz-storage-class"); c != "" && !slices.Contains(storageClasses, c) {
		return &AWSError{http.StatusBadRequest, "InvalidStorageClass", "The storage class you specified is not valid"}
	}
	if v := h.Get("x-amz-server-side-encryption"); v != "" && v != "AES256" {
		return notImplementedHeader("x-amz-server-side-encryption: " + v)
	}
	for _, k := range []string{"x-amz-tagging", "x-amz-acl", "x-amz-grant-full-control", "x-amz-grant-read",
		"x-amz-grant-read-acp", "x-amz-grant-write", "x-amz-grant-write-acp", "x-amz-object-lock-mode",
		"x-amz-object-lock-retain-until-date", "x-amz-object-lock-legal-hold", "x-amz-website-redirect-location"} {
		if h.Get(k) != "" {
			return notImplementedHeader(k)
		}
	}
	return nil
}

func notImplementedHeader(h string) *AWSError {
	return &AWSError{http.StatusNotImplemented, "NotImplemented", "The stand-in does not implement " + h + "."}
}

func internalError() *AWSError {
	return &AWSError{http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again."}
}

// applyResponseOverrides sets the response-* overrides of a GET or HEAD. S3
// honours them only in signed requests: "These parameters can't be used with
// an unsigned (anonymous) request" (GetObject API reference); it answers an
// anonymous one with 400 InvalidRequest.
func applyResponseOverrides(q *s3Request, h http.Header) *AWSError {
	for k, vs := range q.r.URL.Query() {
		header, ok := responseOverrides[strings.ToLower(k)]
		if !ok {
			continue
		}
		if q.anon {
			return &AWSError{http.StatusBadRequest, "InvalidRequest", "Request specific response headers cannot be used for anonymous GET requests."}
		}
		h.Set(header, vs[0]) // the query is already decoded
	}
	return nil
}
