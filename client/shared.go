package client

import (
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Download is the content type a shared object is served with: bytes to
// save, never a document to render.
const Download = "application/octet-stream"

// SharedObjectInput is a GetObject of an object another user wrote (their
// protected/<identityId>/ prefix), to presign for a browser
// (s3.NewPresignClient(c).PresignGetObject(ctx, client.SharedObjectInput(bucket, key))).
//
// IAM cannot bound the content type a user declares (docs/security.md), so
// a protected/ object may be an HTML page or an SVG with script, and a
// presigned URL to it would run that script on the bucket's origin when
// another user opens it. S3 cannot be told to add headers itself, but a
// signed GetObject may override the response headers ("You can override
// values for a set of response headers ... response-content-disposition,
// response-content-type", GetObject API reference): this input asks for
// Content-Disposition: attachment (with the key's last segment as file
// name) and Content-Type: application/octet-stream, which the uploader
// cannot change, so the browser downloads the object instead of rendering
// it. Use it for every URL a browser navigates to or frames.
func SharedObjectInput(bucket, key string) *s3.GetObjectInput {
	return &s3.GetObjectInput{
		Bucket:                     aws.String(bucket),
		Key:                        aws.String(key),
		ResponseContentDisposition: aws.String(AttachmentDisposition(path.Base(key))),
		ResponseContentType:        aws.String(Download),
	}
}

// AttachmentDisposition is the Content-Disposition value
//
//	attachment; filename*=UTF-8''<name>
//
// with name percent-encoded as RFC 8187 (ext-value) requires, so that no
// character of a user-chosen name can end the header value or add a
// parameter.
func AttachmentDisposition(name string) string {
	var b strings.Builder
	b.WriteString("attachment; filename*=UTF-8''")
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(name); i++ {
		c := name[i]
		// RFC 8187 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
