package vend_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/vend"
	"github.com/s3vend/s3vend/lambda/internal/verify"
)

const testIdentity = "eu-west-1:11111111-2222-3333-4444-555555555555"

type fnSigner func(vend.AWSCredentials, vend.PostInput) (vend.PresignedPost, error)

func (f fnSigner) PresignPost(_ context.Context, c vend.AWSCredentials, in vend.PostInput) (vend.PresignedPost, error) {
	return f(c, in)
}

type uploadRig struct {
	svc    *vend.Service
	calls  []string
	logins map[string]string
	signed vend.PostInput
	creds  vend.AWSCredentials // what signed
	now    time.Time
	expiry time.Time // credentials' expiration
}

func newUploadRig(bucket string) *uploadRig { return newUploadRigWith(bucket, vend.AbuseConfig{}) }

func newUploadRigWith(bucket string, abuse vend.AbuseConfig) *uploadRig {
	r := &uploadRig{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	r.expiry = r.now.Add(time.Hour)
	limits, err := contract.UploadLimits{MaxBytes: 1000, ContentTypes: []string{"image/png", "text/plain"}, Expiry: 5 * time.Minute}.Normalize()
	if err != nil {
		panic(err)
	}
	r.svc = vend.New(vend.Config{
		IdentityPoolID: "eu-west-1:p", Region: "eu-west-1", LoginKey: "cognito-identity.amazonaws.com", TokenDuration: time.Minute,
		Upload: vend.UploadConfig{Bucket: bucket, Limits: limits},
		Now:    func() time.Time { return r.now },
		Abuse:  abuse,
	}, []verify.Verifier{fnVerifier{"a", func(c string) (string, error) {
		r.calls = append(r.calls, "verify")
		if c != "good" {
			return "", fault.New(fault.ErrInvalidCredential, "bad", nil)
		}
		return "u", nil
	}}}, fnCognito{
		dev: func(vend.DeveloperLogin) (vend.IdentityToken, error) {
			r.calls = append(r.calls, "dev")
			return vend.IdentityToken{IdentityID: testIdentity, Token: "tok"}, nil
		},
		creds: func(id string, logins map[string]string) (vend.AWSCredentials, error) {
			r.calls = append(r.calls, "creds:"+id)
			r.logins = logins
			return vend.AWSCredentials{AccessKeyID: "ASIA", SecretAccessKey: "s", SessionToken: "t", Expiration: r.expiry}, nil
		},
	}, nil, fnSigner(func(c vend.AWSCredentials, in vend.PostInput) (vend.PresignedPost, error) {
		r.calls = append(r.calls, "sign")
		r.signed, r.creds = in, c
		return vend.PresignedPost{URL: "https://b.example", Fields: map[string]string{"key": in.Key}}, nil
	}))
	return r
}

func validUpload() vend.UploadRequest {
	return vend.UploadRequest{Provider: "a", Credential: "good", Name: "photos/cat.png", Size: 500, ContentType: "image/png"}
}

func TestUploadSignsOneKeyWithTheCallersCredentials(t *testing.T) {
	r := newUploadRig("bucket-1")
	req := validUpload()
	req.Visibility = "protected"
	req.ContentType = "Text/Plain; Charset=UTF-8"
	up, err := r.svc.Upload(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	wantKey := "protected/" + testIdentity + "/photos/cat.png"
	if up.Key != wantKey || up.IdentityID != testIdentity || up.URL != "https://b.example" || up.Fields["key"] != wantKey {
		t.Errorf("upload = %+v", up)
	}
	want := vend.PostInput{Bucket: "bucket-1", Key: wantKey, ContentType: "text/plain; charset=utf-8", MaxBytes: 500, Expires: 5 * time.Minute}
	if r.signed != want {
		t.Errorf("signed %+v, want %+v", r.signed, want)
	}
	if r.creds.AccessKeyID != "ASIA" || len(r.logins) != 1 || r.logins["cognito-identity.amazonaws.com"] != "tok" {
		t.Errorf("creds %+v logins %v", r.creds, r.logins)
	}
	if !up.ExpiresAt.Equal(r.now.Add(5 * time.Minute)) {
		t.Errorf("expiresAt = %v", up.ExpiresAt)
	}
	if strings.Join(r.calls, ",") != "verify,dev,creds:"+testIdentity+",sign" {
		t.Errorf("calls = %v", r.calls)
	}
}

func TestUploadExpiryNeverOutlivesTheCredentials(t *testing.T) {
	r := newUploadRig("bucket-1")
	r.expiry = r.now.Add(90 * time.Second)
	up, err := r.svc.Upload(context.Background(), validUpload())
	if err != nil {
		t.Fatal(err)
	}
	if r.signed.Expires != 89*time.Second || !up.ExpiresAt.Equal(r.now.Add(89*time.Second)) {
		t.Errorf("expires %s at %v; credentials expire at %v", r.signed.Expires, up.ExpiresAt, r.expiry)
	}
	r.expiry = r.now.Add(time.Second)
	if _, err := r.svc.Upload(context.Background(), validUpload()); !errors.Is(err, fault.ErrUpstream) {
		t.Errorf("credentials about to expire: %v", err)
	}
}

func TestUploadRefusesBadInputBeforeAnyCall(t *testing.T) {
	r := newUploadRig("bucket-1")
	long := strings.Repeat("a", 1024-len("private/"+testIdentity+"/"))
	cases := []struct {
		mut   func(*vend.UploadRequest)
		field string
	}{
		{func(q *vend.UploadRequest) { q.Visibility = "public" }, "visibility"},
		{func(q *vend.UploadRequest) { q.Visibility = "Private" }, "visibility"},
		{func(q *vend.UploadRequest) { q.Name = "" }, "name"},
		{func(q *vend.UploadRequest) { q.Name = "../x" }, "name"},
		{func(q *vend.UploadRequest) { q.Name = "a/../../x" }, "name"},
		{func(q *vend.UploadRequest) { q.Name = "./x" }, "name"},
		{func(q *vend.UploadRequest) { q.Name = "/x" }, "name"},
		{func(q *vend.UploadRequest) { q.Name = "a//x" }, "name"},
		{func(q *vend.UploadRequest) { q.Name = "a/" }, "name"},
		{func(q *vend.UploadRequest) { q.Name = `a\x` }, "name"},
		{func(q *vend.UploadRequest) { q.Name = "a\x00b" }, "name"},
		{func(q *vend.UploadRequest) { q.Name = "a\nb" }, "name"},
		{func(q *vend.UploadRequest) { q.Name = "a\u0085b" }, "name"},
		{func(q *vend.UploadRequest) { q.Name = "a\x7fb" }, "name"},
		{func(q *vend.UploadRequest) { q.Name = "a\xffb" }, "name"},
		{func(q *vend.UploadRequest) { q.Name = "a${filename}" }, "name"},
		{func(q *vend.UploadRequest) { q.Name = long + "b" }, "name"},
		{func(q *vend.UploadRequest) { q.Name = strings.Repeat("é", 500) }, "name"}, // 1000 bytes
		{func(q *vend.UploadRequest) { q.Size = 0 }, "size"},
		{func(q *vend.UploadRequest) { q.Size = -1 }, "size"},
		{func(q *vend.UploadRequest) { q.Size = 1001 }, "size"},
		{func(q *vend.UploadRequest) { q.ContentType = "image/jpeg" }, "contentType"},
		{func(q *vend.UploadRequest) { q.ContentType = "image/png/x" }, "contentType"},
		{func(q *vend.UploadRequest) { q.ContentType = "" }, "contentType"},
		{func(q *vend.UploadRequest) { q.ContentType = "text/plain; charset=" + strings.Repeat("x", 300) }, "contentType"},
	}
	for _, c := range cases {
		req := validUpload()
		c.mut(&req)
		_, err := r.svc.Upload(context.Background(), req)
		var iu *vend.InvalidUpload
		if !errors.As(err, &iu) || iu.Field != c.field {
			t.Errorf("%+v: got %v, want an invalid %s", req, err, c.field)
			continue
		}
		if strings.Contains(iu.Message, req.Name) && req.Name != "" {
			t.Errorf("message %q echoes the name", iu.Message)
		}
	}
	if len(r.calls) != 0 {
		t.Errorf("calls on bad input: %v", r.calls)
	}
	for _, ok := range []string{long, "a", "a.b", "..a", "a..", "dir/.hidden", "照片/猫 (1).png", "emoji-👩‍💻.txt"} {
		req := validUpload()
		req.Name = ok
		if _, _, err := r.svc.CheckUpload(req); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
}

func TestUploadMessagesNameTheLimits(t *testing.T) {
	r := newUploadRig("bucket-1")
	req := validUpload()
	req.Size = 5000
	_, _, err := r.svc.CheckUpload(req)
	if err == nil || !strings.Contains(err.(*vend.InvalidUpload).Message, "from 1 to 1000") {
		t.Errorf("size message: %v", err)
	}
	req = validUpload()
	req.ContentType = "video/mp4"
	_, _, err = r.svc.CheckUpload(req)
	if err == nil || !strings.Contains(err.(*vend.InvalidUpload).Message, "image/png, text/plain") {
		t.Errorf("content type message: %v", err)
	}
}

func TestUploadOffWithoutBucketAndLoginErrorsPass(t *testing.T) {
	r := newUploadRig("")
	if r.svc.UploadsEnabled() {
		t.Error("enabled without a bucket")
	}
	if _, err := r.svc.Upload(context.Background(), validUpload()); !errors.Is(err, fault.ErrNotFound) || len(r.calls) != 0 {
		t.Errorf("no bucket: %v, calls %v", err, r.calls)
	}
	r = newUploadRig("bucket-1")
	req := validUpload()
	req.Credential = "forged"
	if _, err := r.svc.Upload(context.Background(), req); !errors.Is(err, fault.ErrInvalidCredential) || len(r.calls) != 1 {
		t.Errorf("bad login: %v, calls %v", err, r.calls)
	}
	req = validUpload()
	req.Provider = "nope"
	if _, err := r.svc.Upload(context.Background(), req); !errors.Is(err, fault.ErrUnknownProvider) {
		t.Errorf("unknown provider: %v", err)
	}
}

// Issue 16, item 5: names that display as something they are not, and
// Content-Type parameters a browser could act on, are refused before any
// AWS call; ordinary names in any script (and emoji ZWJ sequences) pass.
func TestUploadRefusesDisplaySpoofingAndFreeParameters(t *testing.T) {
	r := newUploadRig("bucket-1")
	names := map[string]string{
		"RTL override":           "invoice\u202Efdp.exe",
		"LTR override":           "a\u202Db",
		"RTL isolate":            "a\u2067b",
		"zero-width space":       "pay\u200Bpal.png",
		"zero-width non-joiner":  "a\u200Cb",
		"lone zero-width joiner": "a\u200Db",
		"word joiner":            "a\u2060b",
		"soft hyphen":            "a\u00ADb",
		"BOM":                    "\uFEFFphoto.png",
		"noncharacter FDD0":      "a\uFDD0b",
		"noncharacter FFFE":      "a\uFFFEb",
		"noncharacter 1FFFF":     "a\U0001FFFFb",
		"tag character":          "a\U000E0041b",
		"full-width solidus":     "a\uFF0Fb",
		"full-width backslash":   "a\uFF3Cb",
		"division slash":         "a\u2215b",
		"fraction slash":         "a\u2044b",
		"full-width dot-dot":     "a/\uFF0E\uFF0E/b",
		"two-dot leader":         "\u2025/b",
		"NFD":                    "cafe\u0301.png",
		"percent":                "a%2e%2e/b",
		"encoded slash":          "a%2Fb",
		"question mark":          "a?x=1",
		"hash":                   "a#b",
	}
	refused := func(field string, cases map[string]string, set func(*vend.UploadRequest, string)) {
		t.Helper()
		for what, v := range cases {
			req := validUpload()
			set(&req, v)
			_, _, err := r.svc.CheckUpload(req)
			var iu *vend.InvalidUpload
			if !errors.As(err, &iu) || iu.Field != field {
				t.Errorf("SECURITY: %s with %s (%q) accepted: %v", field, what, v, err)
			} else if strings.Contains(iu.Message, v) {
				t.Errorf("message %q echoes the input", iu.Message)
			}
		}
	}
	refused("name", names, func(q *vend.UploadRequest, v string) { q.Name = v })
	refused("contentType", map[string]string{
		"a name parameter":    "image/png; name=evil.html",
		"UTF-7":               "text/plain; charset=utf-7",
		"a boundary":          "text/plain; boundary=x",
		"two parameters":      "text/plain; charset=utf-8; format=flowed",
		"an unknown charset":  "text/plain; charset=x-evil",
		"charset on an image": "image/png; charset=utf-7",
	}, func(q *vend.UploadRequest, v string) { q.ContentType = v })
	for _, ok := range []string{"café.png", "照片/猫 (1).png", "사진.jpg", "写真ー１.png", "emoji-👩‍💻.txt", "❤️‍🔥.png", "a.b.c", "x"} {
		req := validUpload()
		req.Name = ok
		if _, _, err := r.svc.CheckUpload(req); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, ok := range []string{"text/plain", "text/plain; charset=UTF-8", "text/plain; charset=shift_jis", "text/plain;charset=gb18030"} {
		req := validUpload()
		req.ContentType = ok
		if _, ct, err := r.svc.CheckUpload(req); err != nil || strings.ToLower(ct) != ct {
			t.Errorf("%q: %q %v, want accepted and lower-cased", ok, ct, err)
		}
	}
	if len(r.calls) != 0 {
		t.Errorf("calls on bad input: %v", r.calls)
	}
}
