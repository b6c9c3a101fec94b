package httpapi_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/lambda/internal/httpapi"
	"github.com/s3vend/s3vend/lambda/internal/vend"
)

func TestUploadRouting(t *testing.T) {
	var got vend.UploadRequest
	on := fakeVendor{uploads: true, upload: func(r vend.UploadRequest) (vend.Upload, error) {
		got = r
		if r.Name == "bad" {
			return vend.Upload{}, &vend.InvalidUpload{Field: "name", Message: "fixed text"}
		}
		return vend.Upload{Key: "k"}, nil
	}}
	valid := `{"provider":"p","credential":"c","name":"a.png","size":3,"contentType":"image/png"}`
	for _, c := range []struct {
		v                fakeVendor
		method, ct, body string
		status           int
		want             string
	}{
		{fakeVendor{}, "POST", "application/json", valid, 404, `"code":"not_found"`},
		{on, "GET", "application/json", "", 405, `"code":"method_not_allowed"`},
		{on, "POST", "text/plain", valid, 415, `"code":"unsupported_media_type"`},
		{on, "POST", "application/json", valid, 200, `"key":"k"`},
		{on, "POST", "application/json", `{"provider":"p","credential":"c","name":"a","size":3}`, 400, `"code":"missing_field"`},
		{on, "POST", "application/json", `{"provider":"p","credential":"c","name":"a","size":null,"contentType":"x/y"}`, 400, `"code":"missing_field"`},
		{on, "POST", "application/json", `{"provider":"p","credential":"c","name":"a","size":"3","contentType":"x/y"}`, 400, `"code":"malformed_json"`},
		{on, "POST", "application/json", `{"provider":"p","credential":"c","name":"a","size":3,"contentType":"x/y","acl":"public-read"}`, 400, `"code":"unknown_field"`},
		{on, "POST", "application/json", `{"provider":"q","credential":"c","name":"a","size":3,"contentType":"x/y"}`, 400, `"code":"unknown_provider"`},
		{on, "POST", "application/json", `{"provider":"p","credential":"c","name":"bad","size":3,"contentType":"x/y"}`, 400, `{"error":{"code":"invalid_name","message":"fixed text"}}`},
		{on, "POST", "application/json", `{"provider":"p","credential":"c","name":"a","size":` + strings.Repeat("9", 5000) + `,"contentType":"x/y"}`, 200, `"key"`},
		{on, "POST", "application/json", `{"provider":"p","credential":"c","name":"a","size":` + strings.Repeat("9", 17000) + `}`, 413, `"code":"body_too_large"`},
	} {
		req := httptest.NewRequest(c.method, "/v1/upload", strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.ct)
		rec := httptest.NewRecorder()
		httpapi.New(c.v, httpapi.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}).ServeHTTP(rec, req)
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.want) {
			t.Errorf("%s %.80q: %d %s", c.method, c.body, rec.Code, rec.Body)
		}
	}
	if got.Size != -1 {
		t.Errorf("a size beyond int64 must reach the core as -1 (invalid_size), got %d", got.Size)
	}
}

func TestInvalidUploadCodes(t *testing.T) {
	for field, code := range map[string]string{"name": "invalid_name", "size": "invalid_size", "contentType": "invalid_content_type", "visibility": "invalid_visibility"} {
		v := fakeVendor{uploads: true, upload: func(vend.UploadRequest) (vend.Upload, error) {
			return vend.Upload{}, &vend.InvalidUpload{Field: field, Message: "m"}
		}}
		req := httptest.NewRequest("POST", "/v1/upload", strings.NewReader(`{"provider":"p","credential":"c","name":"a","size":1,"contentType":"x/y"}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		httpapi.New(v, httpapi.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}).ServeHTTP(rec, req)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"code":"`+code+`"`) {
			t.Errorf("%s: %d %s", field, rec.Code, rec.Body)
		}
	}
}

// FuzzDecodeUpload decodes arbitrary bodies and checks what the core accepts:
// an accepted name never escapes the caller's prefix and the key stays
// within S3's 1024 bytes.
func FuzzDecodeUpload(f *testing.F) {
	f.Add("application/json", []byte(`{"provider":"backend","credential":"jwt","name":"photos/cat.png","size":1024,"contentType":"image/png"}`))
	f.Add("application/json", []byte(`{"provider":"a","credential":"b","name":"../../etc/passwd","size":1,"contentType":"text/plain","visibility":"protected"}`))
	f.Add("application/json", []byte(`{"provider":"a","credential":"b","name":"a\u0000b","size":1.5,"contentType":"IMAGE/PNG; q=1"}`))
	f.Add("application/json", []byte(`{"provider":"a","credential":"b","name":"x","size":-1e400,"contentType":"image/png"}`))
	f.Add("application/json", []byte(`{"provider":"a","credential":"b","name":"\ud800","size":"1","contentType":"image/png"}`))
	f.Add("application/json", []byte(`{"provider":"a","credential":"b","name":"a//b\\c","size":1,"contentType":"image/png","visibility":"public"}`))
	limits, _ := contract.UploadLimits{}.Normalize()
	svc := vend.New(vend.Config{Region: "eu-west-1", Upload: vend.UploadConfig{Bucket: "b", Limits: limits}}, nil, nil, nil, nil)
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		req, err := httpapi.DecodeUpload(ct, body)
		if err != nil {
			if req != (vend.UploadRequest{}) {
				t.Fatal("partial result with error")
			}
			return
		}
		rule, contentType, err := svc.CheckUpload(req)
		if err != nil {
			var msg string
			if iu, ok := err.(*vend.InvalidUpload); ok {
				msg = iu.Message
			} else {
				t.Fatalf("CheckUpload error %T", err)
			}
			if len(req.Name) > 3 && strings.Contains(msg, req.Name) {
				t.Fatalf("message echoes the name: %q", msg)
			}
			return
		}
		key, kerr := rule.Key(contract.KeyValues{IdentityID: "eu-west-1:00000000-0000-0000-0000-000000000000"}, req.Name)
		if kerr != nil {
			t.Fatalf("accepted a request whose key cannot be built: %v", kerr)
		}
		if !utf8.ValidString(key) || len(key) > 1024 || strings.ContainsRune(key, '\\') ||
			strings.HasPrefix(req.Name, "/") || strings.Contains(key, "//") {
			t.Fatalf("accepted key %q", key)
		}
		for seg := range strings.SplitSeq(req.Name, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("accepted segment %q in %q", seg, req.Name)
			}
		}
		for _, r := range key {
			if unicode.IsControl(r) {
				t.Fatalf("accepted control character in %q", key)
			}
		}
		if req.Size < 1 || req.Size > limits.MaxBytes || contentType == "" {
			t.Fatalf("accepted size %d content type %q", req.Size, contentType)
		}
	})
}
