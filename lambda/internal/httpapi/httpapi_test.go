package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/httpapi"
	"github.com/s3vend/s3vend/lambda/internal/vend"
)

// fakeVendor is a function fake of the core.
type fakeVendor struct {
	err     error
	guests  bool
	noBasic bool // the pool does not allow the basic flow
	uploads bool // POST /v1/upload is served
	upload  func(vend.UploadRequest) (vend.Upload, error)
}

func (f fakeVendor) Token(context.Context, string, string) (vend.Token, error) {
	return vend.Token{Token: "t"}, f.err
}
func (f fakeVendor) Credentials(context.Context, string, string) (vend.Credentials, error) {
	return vend.Credentials{}, f.err
}
func (f fakeVendor) Session(context.Context, string, string) (vend.Credentials, error) {
	return vend.Credentials{AccessKeyID: "session"}, f.err
}
func (f fakeVendor) Guest(context.Context, string) (vend.Credentials, error) {
	return vend.Credentials{}, f.err
}
func (f fakeVendor) GuestToken(context.Context, string) (vend.GuestToken, error) {
	return vend.GuestToken{Token: "gt"}, f.err
}
func (f fakeVendor) Upload(_ context.Context, req vend.UploadRequest) (vend.Upload, error) {
	if f.upload != nil {
		return f.upload(req)
	}
	return vend.Upload{Key: "k"}, f.err
}
func (f fakeVendor) HasProvider(n string) bool { return n == "p" }
func (f fakeVendor) GuestsEnabled() bool       { return f.guests }
func (f fakeVendor) BasicFlow() bool           { return !f.noBasic }
func (f fakeVendor) UploadsEnabled() bool      { return f.uploads }

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{nil, 200, ""},
		{fault.New(fault.ErrInvalidCredential, "x", errors.New("secret detail")), 401, "invalid_credential"},
		{fault.New(fault.ErrUnknownProvider, "", nil), 400, "unknown_provider"},
		{fault.New(fault.ErrRateLimited, "", nil), 429, "rate_limited"},
		{fault.New(fault.ErrUnsupportedUserID, "too long", nil), 403, "unsupported_user_id"},
		{fault.New(fault.ErrThrottled, "", nil), 503, "upstream_throttled"},
		{fault.New(fault.ErrTimeout, "", nil), 503, "upstream_timeout"},
		{context.DeadlineExceeded, 503, "upstream_timeout"},
		{fault.New(fault.ErrUpstream, "", errors.New("secret detail")), 502, "upstream_error"},
		{fault.New(fault.ErrBasicFlowDisabled, "", nil), 404, "basic_flow_disabled"},
		{fault.New(fault.ErrVerifierUnavailable, "secret lacks wechatAppSecret", nil), 503, "verifier_unavailable"},
		{errors.New("secret detail"), 500, "internal_error"},
	}
	for _, c := range cases {
		var logs bytes.Buffer
		h := httpapi.New(fakeVendor{err: c.err}, httpapi.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		req := httptest.NewRequest("POST", "/v1/token", strings.NewReader(`{"provider":"p","credential":"c"}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.status || (c.code != "" && !strings.Contains(rec.Body.String(), `"code":"`+c.code+`"`)) {
			t.Errorf("%v: %d %s", c.err, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String()+logs.String(), "secret detail") {
			t.Errorf("%v: leaked cause", c.err)
		}
		if c.status >= 502 && rec.Header().Get("Retry-After") != "1" {
			t.Errorf("%v: Retry-After %q", c.err, rec.Header().Get("Retry-After"))
		}
	}
}

func TestGuestBodyAndRouting(t *testing.T) {
	h := httpapi.New(fakeVendor{guests: true}, httpapi.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	for _, c := range []struct {
		method, path, ct, body string
		status                 int
	}{
		{"POST", "/v1/guest", "", "", 200},
		{"POST", "/v1/guest", "application/json", `{}`, 200},
		{"POST", "/v1/guest", "application/json", `{"x":1}`, 400},
		{"POST", "/v1/guest", "text/plain", `{}`, 415},
		{"PUT", "/v1/guest", "", "", 405},
		{"HEAD", "/healthz", "", "", 200},
		{"GET", "/v1/token/", "", "", 404},
	} {
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		if c.ct != "" {
			req.Header.Set("Content-Type", c.ct)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.status {
			t.Errorf("%s %s %q: %d %s", c.method, c.path, c.body, rec.Code, rec.Body)
		}
	}
}

func TestBasicFlowOffRouting(t *testing.T) {
	h := httpapi.New(fakeVendor{guests: true, noBasic: true}, httpapi.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	for _, c := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/v1/credentials", `{"provider":"p","credential":"c"}`, 404, `"code":"basic_flow_disabled"`},
		{"POST", "/v1/credentials", `not json`, 404, `"code":"basic_flow_disabled"`},
		{"GET", "/v1/credentials", "", 404, `"code":"basic_flow_disabled"`},
		{"POST", "/v1/token", `{"provider":"p","credential":"c"}`, 200, `"token":"t"`},
		// Either flow: /v1/session answers credentials without the basic flow too.
		{"POST", "/v1/session", `{"provider":"p","credential":"c"}`, 200, `"accessKeyId":"session"`},
		{"GET", "/v1/session", "", 405, `"code":"method_not_allowed"`},
		{"POST", "/v1/session", `{"provider":"p"}`, 400, `"code":"missing_field"`},
		{"POST", "/v1/guest", "", 200, `"token":"gt"`},
	} {
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.want) {
			t.Errorf("%s %s %q: %d %s", c.method, c.path, c.body, rec.Code, rec.Body)
		}
	}
}

func FuzzDecodeLogin(f *testing.F) {
	f.Add("application/json", []byte(`{"provider":"google","credential":"eyJ..."}`))
	f.Add("application/json; charset=utf-8", []byte(`{"provider":"a","credential":"b","x":1}`))
	f.Add("text/plain", []byte(`{}`))
	f.Add("application/json", []byte(`{"provider":"a","credential":"b"} {}`))
	f.Add("application/json", []byte("\xff\xfe"))
	f.Add("", []byte(``))
	f.Add("application/json", []byte(`{"identityId":"eu-west-1:00000000-0000-0000-0000-000000000000"}`))
	// Strict keys (issue 9, item 4): duplicates and other cases are refused.
	f.Add("application/json", []byte(`{"provider":"hs","provider":"oidc","credential":"c"}`))
	f.Add("application/json", []byte(`{"Provider":"a","credential":"b"}`))
	f.Add("application/json", []byte(`{"provider":"a","credential":"b","credential":"c"}`))
	f.Add("application/json", []byte(`{"provider":"a","CREDENTIAL":"b","credential":"c"}`))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		_, _ = httpapi.DecodeGuest(ct, body) // must not panic
		req, err := httpapi.DecodeLogin(ct, body)
		if err != nil {
			if req != (httpapi.LoginRequest{}) {
				t.Fatal("partial result with error")
			}
			return
		}
		if req.Provider == "" || req.Credential == "" {
			t.Fatalf("accepted empty fields: %+v", req)
		}
		// An accepted body has each field exactly once, spelled exactly.
		if keys := topKeys(body); !slices.Equal(keys, []string{"credential", "provider"}) {
			t.Fatalf("accepted keys %q", keys)
		}
	})
}

// topKeys lists the keys of the top-level JSON object in body, sorted, with
// repetitions.
func topKeys(body []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(body))
	var keys []string
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return nil
		}
	}
	slices.Sort(keys)
	return keys
}

func TestStrictJSONKeys(t *testing.T) {
	h := httpapi.New(fakeVendor{guests: true}, httpapi.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	cases := []struct {
		path, body, code string
	}{
		{"/v1/token", `{"provider":"p","provider":"oidc","credential":"c"}`, "duplicate_field"},
		{"/v1/token", `{"provider":"p","credential":"c","credential":"d"}`, "duplicate_field"},
		{"/v1/token", `{"Provider":"p","credential":"c"}`, "unknown_field"},
		{"/v1/token", `{"provider":"p","Credential":"c"}`, "unknown_field"},
		{"/v1/guest", `{"identityId":"eu-west-1:a","identityId":"eu-west-1:b"}`, "duplicate_field"},
		{"/v1/guest", `{"IdentityId":"eu-west-1:a"}`, "unknown_field"},
	}
	for _, c := range cases {
		req := httptest.NewRequest(http.MethodPost, c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"code":"`+c.code+`"`) {
			t.Errorf("%s %s: %d %s, want 400 %s", c.path, c.body, rec.Code, rec.Body, c.code)
		}
	}
}

// TestAccessLogMethodIsBounded: only standard methods are logged as sent
// (issue 9, item 7).
func TestAccessLogMethodIsBounded(t *testing.T) {
	for method, logged := range map[string]string{
		strings.Repeat("X", 20000): "other",
		"post":                     "other",
		"PROPFIND":                 "other",
		http.MethodPost:            http.MethodPost,
		http.MethodDelete:          http.MethodDelete,
	} {
		var logs bytes.Buffer
		h := httpapi.New(fakeVendor{}, httpapi.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		req := httptest.NewRequest(http.MethodGet, "/v1/token", nil)
		req.Method = method
		h.ServeHTTP(httptest.NewRecorder(), req)
		var line map[string]any
		if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
			t.Fatalf("log: %v", err)
		}
		if line["method"] != logged || logs.Len() > 1024 {
			t.Errorf("method %.10q: logged %q in a %d-byte line", method, line["method"], logs.Len())
		}
	}
}

// panickingVendor's Token panics with a value that must not reach the caller.
type panickingVendor struct{ fakeVendor }

func (panickingVendor) Token(context.Context, string, string) (vend.Token, error) {
	panic("secret detail")
}

func TestPanicIsAFixedInternalError(t *testing.T) {
	var logs bytes.Buffer
	h := httpapi.New(panickingVendor{}, httpapi.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	req := httptest.NewRequest("POST", "/v1/token", strings.NewReader(`{"provider":"p","credential":"c"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), `"code":"internal_error"`) {
		t.Errorf("panic answered %d %s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String()+logs.String(), "secret detail") {
		t.Error("the panic value leaked")
	}
	if !strings.Contains(logs.String(), "panic recovered") {
		t.Errorf("the access log does not say a panic was recovered: %s", logs.String())
	}
}
