package standin

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// idD is the identity of these tests, so that their objects stay out of the
// other tests' listings of the shared stand-in.
const idD = ":dddddddd-dddd-4ddd-8ddd-dddddddddddd"

// Issue 16, item 6: subresources the stand-in does not implement are
// answered NotImplemented, never served as another operation: PUT ?acl and
// ?tagging used to be authorized as PutObject and overwrote the object with
// the request body.
func TestS3UnsupportedSubresourcesAreNotImplemented(t *testing.T) {
	f := s3Setup(t)
	ctx := context.Background()
	a := f.client(f.srv, f.user(idD))
	bucket := aws.String(f.model.BucketName())
	key := "private/" + f.model.Region() + idD + "/sub/keep.txt"
	if err := put(ctx, a, f, key, "keep me"); err != nil {
		t.Fatal(err)
	}
	k := aws.String(key)
	calls := map[string]func() error{
		"PutObjectAcl": func() error {
			_, err := a.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: bucket, Key: k, ACL: s3types.ObjectCannedACLPrivate})
			return err
		},
		"PutObjectTagging": func() error {
			_, err := a.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: bucket, Key: k,
				Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}})
			return err
		},
		"PutObjectRetention": func() error {
			_, err := a.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: bucket, Key: k,
				Retention: &s3types.ObjectLockRetention{Mode: s3types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(time.Now().Add(time.Hour))}})
			return err
		},
		"PutObjectLegalHold": func() error {
			_, err := a.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{Bucket: bucket, Key: k,
				LegalHold: &s3types.ObjectLockLegalHold{Status: s3types.ObjectLockLegalHoldStatusOn}})
			return err
		},
		"GetObjectAcl": func() error {
			_, err := a.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: bucket, Key: k})
			return err
		},
		"GetObjectTagging": func() error {
			_, err := a.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: bucket, Key: k})
			return err
		},
		"DeleteObjectTagging": func() error {
			_, err := a.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: bucket, Key: k})
			return err
		},
		"RestoreObject": func() error {
			_, err := a.RestoreObject(ctx, &s3.RestoreObjectInput{Bucket: bucket, Key: k, RestoreRequest: &s3types.RestoreRequest{Days: aws.Int32(1)}})
			return err
		},
		"GetObjectAttributes": func() error {
			_, err := a.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: bucket, Key: k, ObjectAttributes: []s3types.ObjectAttributes{s3types.ObjectAttributesEtag}})
			return err
		},
		"GetBucketAcl": func() error {
			_, err := a.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: bucket})
			return err
		},
	}
	for name, call := range calls {
		wantCode(t, name, call(), "NotImplemented")
	}
	if b, _, ok := f.s3.Object(key); !ok || string(b) != "keep me" {
		t.Errorf("SECURITY: the object was overwritten: %q %v", b, ok)
	}
}

// Issue 16, items 2 and 6: a write is authorized with the header-driven
// actions and condition keys S3 evaluates (accessmatrix.ObjectWriteChecks),
// so the template's guardrails and the roles' missing grants refuse what a
// hostile user sends, and an accepted storage class is kept.
func TestS3WriteHeadersAreAuthorizedAsS3Does(t *testing.T) {
	f := s3Setup(t)
	ctx := context.Background()
	a := f.client(f.srv, f.user(idD))
	bucket := aws.String(f.model.BucketName())
	own := "private/" + f.model.Region() + idD + "/hdr/"
	key := func(n string) *string { return aws.String(own + n) }
	sseKey := strings.Repeat("k", 32)
	sum := md5.Sum([]byte(sseKey))
	body := func() io.Reader { return strings.NewReader("x") }
	denied := map[string]*s3.PutObjectInput{
		"GLACIER":        {StorageClass: s3types.StorageClassGlacier},
		"DEEP_ARCHIVE":   {StorageClass: s3types.StorageClassDeepArchive},
		"STANDARD_IA":    {StorageClass: s3types.StorageClassStandardIa},
		"tagging":        {Tagging: aws.String("team=a")},
		"canned ACL":     {ACL: s3types.ObjectCannedACLBucketOwnerFullControl},
		"grant":          {GrantRead: aws.String(`uri="http://acs.amazonaws.com/groups/global/AllUsers"`)},
		"legal hold":     {ObjectLockLegalHoldStatus: s3types.ObjectLockLegalHoldStatusOn},
		"retention":      {ObjectLockMode: s3types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: aws.Time(time.Now().Add(time.Hour))},
		"SSE-C":          {SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(base64.StdEncoding.EncodeToString([]byte(sseKey))), SSECustomerKeyMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:]))},
		"website target": {WebsiteRedirectLocation: aws.String("/x")},
	}
	delete(denied, "website target") // not a guardrail: allowed by IAM, not implemented
	for name, in := range denied {
		in.Bucket, in.Key, in.Body = bucket, key(strings.ReplaceAll(name, " ", "-")), body()
		_, err := a.PutObject(ctx, in)
		wantCode(t, "PutObject with "+name, err, "AccessDenied")
		if _, _, ok := f.s3.Object(*in.Key); ok {
			t.Errorf("SECURITY: PutObject with %s stored the object", name)
		}
		cin := &s3.CreateMultipartUploadInput{Bucket: bucket, Key: in.Key, StorageClass: in.StorageClass, Tagging: in.Tagging, ACL: in.ACL,
			GrantRead: in.GrantRead, ObjectLockLegalHoldStatus: in.ObjectLockLegalHoldStatus, ObjectLockMode: in.ObjectLockMode,
			ObjectLockRetainUntilDate: in.ObjectLockRetainUntilDate, SSECustomerAlgorithm: in.SSECustomerAlgorithm,
			SSECustomerKey: in.SSECustomerKey, SSECustomerKeyMD5: in.SSECustomerKeyMD5}
		_, err = a.CreateMultipartUpload(ctx, cin)
		wantCode(t, "CreateMultipartUpload with "+name, err, "AccessDenied")
	}
	// Server-side copies: refused by the guardrail, not merely unimplemented.
	src := own + "src.txt"
	if err := put(ctx, a, f, src, "source"); err != nil {
		t.Fatal(err)
	}
	_, err := a.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: key("copy.txt"), CopySource: aws.String(*bucket + "/" + src)})
	wantCode(t, "CopyObject", err, "AccessDenied")
	up, err := a.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key("partcopy.bin")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: bucket, Key: key("partcopy.bin"), UploadId: up.UploadId, PartNumber: aws.Int32(1),
		CopySource: aws.String(*bucket + "/" + src)})
	wantCode(t, "UploadPartCopy", err, "AccessDenied")

	// STANDARD (explicit) and SSE-S3 pass and are kept.
	if _, err := a.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: key("std.txt"), Body: body(), StorageClass: s3types.StorageClassStandard,
		ServerSideEncryption: s3types.ServerSideEncryptionAes256}); err != nil {
		t.Fatalf("STANDARD put: %v", err)
	}
	list, err := a.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: key("std.txt")})
	if err != nil || len(list.Contents) != 1 || list.Contents[0].StorageClass != s3types.ObjectStorageClassStandard {
		t.Fatalf("list: %+v %v", list, err)
	}
	// An unknown storage class is S3's InvalidStorageClass, not a stored object.
	_, err = a.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: key("bad-class.txt"), Body: body(), StorageClass: "FLOPPY"})
	if c := errCode(err); c != "InvalidStorageClass" && c != "AccessDenied" {
		t.Errorf("unknown storage class: %v", err)
	}
}

// A form upload (POST) is authorized from its fields like a PutObject from
// its headers: a signed form whose policy allows x-amz-storage-class GLACIER
// is still refused by the role's guardrail.
func TestS3PostObjectFieldsAreAuthorized(t *testing.T) {
	f := s3Setup(t)
	sess := f.user(idD)
	own := "private/" + f.model.Region() + idD + "/form-glacier.txt"
	for field, value := range map[string]string{"x-amz-storage-class": "GLACIER", "tagging": "<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>", "acl": "bucket-owner-full-control"} {
		p := presignPost(t, sess, own, time.Minute, map[string]string{field: value})
		r := p.request(t, map[string]string{field: value}, "f.txt", []byte("x"))
		w := httptest.NewRecorder()
		f.s3.ServeHTTP(w, r)
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "<Code>AccessDenied</Code>") {
			t.Errorf("SECURITY: POST with %s=%s: %d %s", field, value, w.Code, w.Body)
		}
	}
	if _, _, ok := f.s3.Object(own); ok {
		t.Error("SECURITY: a refused form was stored")
	}
}

// The hostile review's form-tampering attempts (issue 16), kept: a form
// signed as /v1/upload signs it (exact key, exact Content-Type, a size
// range) is refused by the stand-in's S3 whatever a user changes in it.
func TestHostileFormTampering(t *testing.T) {
	f := s3Setup(t)
	sess := f.user(idD)
	key := "protected/" + f.model.Region() + idD + "/tamper/cat.png"
	form := presignPost(t, sess, key, time.Minute,
		[]any{"eq", "$Content-Type", "image/png"}, []any{"content-length-range", 1, 8})
	ok := map[string]string{"Content-Type": "image/png"}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{"Content-Type": "image/png"}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	attempts := []struct {
		what   string
		form   presignedPost
		fields map[string]string
		file   []byte
	}{
		{"another user's key", form, with(map[string]string{"key": "protected/" + f.model.Region() + idB + "/cat.png"}), []byte("png")},
		{"another key of one's own", form, with(map[string]string{"key": "protected/" + f.model.Region() + idD + "/tamper/evil.html"}), []byte("png")},
		{"text/html instead", form, with(map[string]string{"Content-Type": "text/html"}), []byte("<p>")},
		{"a larger file", form, ok, []byte("0123456789")},
		{"a storage class field", form, with(map[string]string{"x-amz-storage-class": "GLACIER"}), []byte("png")},
		{"an acl field", form, with(map[string]string{"acl": "public-read"}), []byte("png")},
		{"a rewritten policy", form.withPolicy(t, func(doc map[string]any) {
			doc["conditions"] = append(doc["conditions"].([]any), []any{"starts-with", "$key", ""})
		}), ok, []byte("png")},
	}
	for _, a := range attempts {
		w := httptest.NewRecorder()
		f.s3.ServeHTTP(w, a.form.request(t, a.fields, "cat.png", a.file))
		if w.Code < 400 || w.Code >= 500 {
			t.Errorf("SECURITY: %s: %d %s", a.what, w.Code, w.Body)
		}
	}
	for _, k := range f.s3.Keys() {
		if strings.Contains(k, "/tamper/") || strings.HasSuffix(k, idB+"/cat.png") {
			t.Errorf("SECURITY: a tampered form stored %s", k)
		}
	}
	// The control: the form as signed is accepted.
	w := httptest.NewRecorder()
	f.s3.ServeHTTP(w, form.request(t, ok, "cat.png", []byte("png")))
	if w.Code != http.StatusNoContent {
		t.Errorf("the untampered form: %d %s", w.Code, w.Body)
	}
}
