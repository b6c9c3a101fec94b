package client

import (
	"mime"
	"path"

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

// AttachmentDisposition is the Content-Disposition value "attachment" with
// name as its filename parameter, formatted by mime.FormatMediaType: a
// quoted string, or RFC 2231 percent-encoding (filename*=utf-8 and two
// apostrophes) for a name outside printable ASCII, so that no character of
// a user-chosen name can end the header value or add a parameter.
func AttachmentDisposition(name string) string {
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": name}); v != "" {
		return v
	}
	return "attachment"
}
