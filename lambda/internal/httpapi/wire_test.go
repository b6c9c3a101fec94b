package httpapi_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/s3vend/s3vend/client"
	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/contract/wire"
	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/httpapi"
	"github.com/s3vend/s3vend/lambda/internal/vend"
)

// The vendor's handler and the Go client share package wire; these tests
// check the two really agree: every route's answer and every error of the
// table, as the handler writes it, is read by the real client.Vendor, and
// the raw body decodes strictly (no key the client does not know) into the
// client's type.

// wireVendor is a core whose answers fill every field.
type wireVendor struct {
	fakeVendor
	now time.Time
}

func (f wireVendor) Token(context.Context, string, string) (vend.Token, error) {
	return vend.Token{IdentityID: "eu-west-1:id", Token: "tok", ExpiresAt: f.now, IdentityPoolID: "eu-west-1:pool",
		Region: "eu-west-1", LoginKey: "cognito-identity.amazonaws.com"}, f.err
}

func (f wireVendor) creds() vend.Credentials {
	return vend.Credentials{IdentityID: "eu-west-1:id", AccessKeyID: "ASIA", SecretAccessKey: "secret",
		SessionToken: "session", Expiration: f.now}
}

func (f wireVendor) Credentials(context.Context, string, string) (vend.Credentials, error) {
	return f.creds(), f.err
}

func (f wireVendor) Session(context.Context, string, string) (vend.Credentials, error) {
	return f.creds(), f.err
}

func (f wireVendor) Guest(context.Context, string) (vend.Credentials, error) { return f.creds(), f.err }

func (f wireVendor) GuestToken(context.Context, string) (vend.GuestToken, error) {
	return vend.GuestToken{IdentityID: "eu-west-1:guest", Token: "gtok", IdentityPoolID: "eu-west-1:pool",
		Region: "eu-west-1", LoginKey: "cognito-identity.amazonaws.com"}, f.err
}

func (f wireVendor) Upload(_ context.Context, req vend.UploadRequest) (vend.Upload, error) {
	if f.upload != nil {
		return f.upload(req)
	}
	return vend.Upload{URL: "https://bucket.s3.amazonaws.com/", Fields: map[string]string{"key": "private/id/a.jpg"},
		Key: "private/id/a.jpg", IdentityID: "eu-west-1:id", ExpiresAt: f.now}, f.err
}

// inProcess is an http.RoundTripper that serves the client's request with
// the handler, after edit (nil: as sent), and keeps the last raw answer.
type inProcess struct {
	h    http.Handler
	edit func(*http.Request)
	last *httptest.ResponseRecorder
}

func (p *inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	r := httptest.NewRequest(req.Method, req.URL.String(), req.Body)
	r.Header = req.Header.Clone()
	if p.edit != nil {
		p.edit(r)
	}
	p.last = httptest.NewRecorder()
	p.h.ServeHTTP(p.last, r)
	return p.last.Result(), nil
}

func clientFor(t *testing.T, core httpapi.Vendor, edit func(*http.Request)) (*client.Vendor, *inProcess) {
	t.Helper()
	rt := &inProcess{h: httpapi.New(core, httpapi.Options{Logger: slog.New(slog.DiscardHandler)}), edit: edit}
	v, err := client.NewVendor("https://vendor.example"+wire.RouteToken, func(o *client.Options) {
		o.HTTPClient = &http.Client{Transport: rt}
		o.MaxAttempts = 1
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, rt
}

// strict decodes the last raw answer into a value of want's type with the
// contract's strict decoder and compares it with want.
func strict[T any](t *testing.T, rt *inProcess, want T) {
	t.Helper()
	var got T
	if err := contract.DecodeStrict(rt.last.Body.Bytes(), &got); err != nil {
		t.Fatalf("the client's %T does not read the handler's body %s: %v", got, rt.last.Body, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("strict decode = %+v, want %+v", got, want)
	}
}

func TestClientReadsEveryRoute(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	core := wireVendor{fakeVendor: fakeVendor{guests: true, uploads: true}, now: now}

	v, rt := clientFor(t, core, nil)
	tok, err := v.Token(ctx, "p", "c")
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	wantTok, _ := core.Token(ctx, "", "")
	if want := (client.TokenResponse{IdentityID: wantTok.IdentityID, Token: wantTok.Token, ExpiresAt: now,
		IdentityPoolID: wantTok.IdentityPoolID, Region: wantTok.Region, LoginKey: wantTok.LoginKey}); *tok != want {
		t.Errorf("token = %+v, want %+v", *tok, want)
	}
	strict(t, rt, *tok)

	creds, err := v.Credentials(ctx, "p", "c")
	if err != nil {
		t.Fatalf("credentials: %v", err)
	}
	c := core.creds()
	if want := (client.CredentialsResponse{IdentityID: c.IdentityID, AccessKeyID: c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Expiration: now}); *creds != want {
		t.Errorf("credentials = %+v, want %+v", *creds, want)
	}
	strict(t, rt, *creds)

	sess, err := v.Session(ctx, "p", "c")
	if err != nil || *sess != *creds {
		t.Fatalf("session = %+v, %v; want %+v", sess, err, *creds)
	}
	strict(t, rt, *sess)

	guest, err := v.Guest(ctx, "")
	if err != nil || !guest.HasCredentials() || guest.SecretAccessKey != c.SecretAccessKey || !guest.Expiration.Equal(now) || guest.Token != "" {
		t.Fatalf("basic-flow guest = %+v, %v", guest, err)
	}
	strict(t, rt, *guest)

	enhanced := core
	enhanced.noBasic = true
	v, rt = clientFor(t, enhanced, nil)
	guest, err = v.Guest(ctx, "eu-west-1:guest")
	if err != nil || guest.HasCredentials() || guest.Token != "gtok" || guest.LoginKey == "" || guest.Expiration != nil {
		t.Fatalf("enhanced-flow guest = %+v, %v", guest, err)
	}
	strict(t, rt, *guest)

	v, rt = clientFor(t, core, nil)
	up, err := v.RequestUpload(ctx, "p", "c", client.UploadRequest{Name: "a.jpg", Size: 3, ContentType: "image/jpeg"})
	if err != nil || up.Key != "private/id/a.jpg" || up.Fields["key"] != up.Key || !up.ExpiresAt.Equal(now) {
		t.Fatalf("upload = %+v, %v", up, err)
	}
	strict(t, rt, *up)

	// GET /healthz has no client method: the raw answer, strictly.
	rt.edit = func(r *http.Request) { r.Method, r.URL.Path = http.MethodGet, wire.RouteHealth }
	if _, err := v.Token(ctx, "p", "c"); err == nil {
		t.Fatal("the client read a health answer as a token")
	}
	strict(t, rt, wire.HealthResponse{Status: "ok"})
}

// TestClientReadsEveryError: each entry of the error table, produced by the
// real handler, reaches the client as a VendorError with the table's
// status, code and message, Retry-After exactly when it is retryable.
func TestClientReadsEveryError(t *testing.T) {
	body := func(s string) func(*http.Request) {
		return func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader(s)) }
	}
	upstream := func(err error) httpapi.Vendor { return wireVendor{fakeVendor: fakeVendor{err: err}} }
	login := func(ctx context.Context, v *client.Vendor) error { _, err := v.Token(ctx, "p", "c"); return err }
	cases := map[*wire.Error]struct {
		core httpapi.Vendor
		edit func(*http.Request)
		call func(context.Context, *client.Vendor) error
	}{
		wire.ErrNotFound:         {edit: func(r *http.Request) { r.URL.Path = "/v1/nope" }},
		wire.ErrMethodNotAllowed: {edit: func(r *http.Request) { r.Method = http.MethodPut }},
		wire.ErrBasicFlowOff: {core: wireVendor{fakeVendor: fakeVendor{noBasic: true}},
			call: func(ctx context.Context, v *client.Vendor) error { _, err := v.Credentials(ctx, "p", "c"); return err }},
		wire.ErrUnsupportedMedia: {edit: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }},
		wire.ErrBodyTooLarge:     {edit: body(`{"provider":"p","credential":"` + strings.Repeat("c", wire.MaxBodyBytes) + `"}`)},
		wire.ErrMalformedJSON:    {edit: body(`[]`)},
		wire.ErrUnknownField:     {edit: body(`{"provider":"p","credential":"c","extra":1}`)},
		wire.ErrDuplicateField:   {edit: body(`{"provider":"p","provider":"p","credential":"c"}`)},
		wire.ErrMissingLogin:     {edit: body(`{"provider":"p"}`)},
		wire.ErrMissingUpload: {core: wireVendor{fakeVendor: fakeVendor{uploads: true}},
			edit: body(`{"provider":"p","credential":"c","name":"a","contentType":"image/png"}`),
			call: func(ctx context.Context, v *client.Vendor) error {
				_, err := v.RequestUpload(ctx, "p", "c", client.UploadRequest{Name: "a", Size: 1, ContentType: "image/png"})
				return err
			}},
		wire.ErrUnreadableBody:        {edit: func(r *http.Request) { r.Body = io.NopCloser(failingReader{}) }},
		wire.ErrUnknownProvider:       {call: func(ctx context.Context, v *client.Vendor) error { _, err := v.Token(ctx, "nope", "c"); return err }},
		wire.ErrInvalidCredential:     {core: upstream(fault.New(fault.ErrInvalidCredential, "bad signature", nil))},
		wire.ErrUnsupportedUserID:     {core: upstream(fault.New(fault.ErrUnsupportedUserID, "too long", nil))},
		wire.ErrUserRevoked:           {core: upstream(fault.New(fault.ErrRevoked, "revoked", nil))},
		wire.ErrRevocationUnavailable: {core: upstream(fault.New(fault.ErrRevocationUnavailable, "", errors.New("unreachable")))},
		wire.ErrQuotaExceeded: {core: wireVendor{fakeVendor: fakeVendor{uploads: true, upload: func(vend.UploadRequest) (vend.Upload, error) {
			return vend.Upload{}, fault.New(fault.ErrQuotaExceeded, "over", nil)
		}}}, call: func(ctx context.Context, v *client.Vendor) error {
			_, err := v.RequestUpload(ctx, "p", "c", client.UploadRequest{Name: "a", Size: 1, ContentType: "image/png"})
			return err
		}},
		wire.ErrRateLimited:         {core: upstream(fault.New(fault.ErrRateLimited, "", nil))},
		wire.ErrVerifierUnavailable: {core: upstream(fault.New(fault.ErrVerifierUnavailable, "no secret", nil))},
		wire.ErrUpstreamThrottled:   {core: upstream(fault.New(fault.ErrThrottled, "", nil))},
		wire.ErrUpstreamTimeout:     {core: upstream(context.DeadlineExceeded)},
		wire.ErrUpstream:            {core: upstream(fault.New(fault.ErrUpstream, "", errors.New("detail")))},
		wire.ErrInternal:            {core: upstream(errors.New("detail"))},
	}
	for field, code := range wire.UploadFieldCodes {
		e := wire.UploadFieldError(field, "fixed text for "+field)
		if e.Code != code || e.Status != http.StatusBadRequest {
			t.Errorf("UploadFieldError(%s) = %+v", field, e)
		}
		refusal := &vend.InvalidUpload{Field: field, Message: e.Message}
		cases[e] = struct {
			core httpapi.Vendor
			edit func(*http.Request)
			call func(context.Context, *client.Vendor) error
		}{
			core: wireVendor{fakeVendor: fakeVendor{uploads: true, upload: func(vend.UploadRequest) (vend.Upload, error) { return vend.Upload{}, refusal }}},
			call: func(ctx context.Context, v *client.Vendor) error {
				_, err := v.RequestUpload(ctx, "p", "c", client.UploadRequest{Name: "a", Size: 1, ContentType: "image/png"})
				return err
			},
		}
	}
	for _, e := range wire.Errors {
		if _, ok := cases[e]; !ok {
			t.Errorf("the error table's %s has no case here", e.Code)
		}
	}
	for e, c := range cases {
		t.Run(e.Code+"/"+strings.ReplaceAll(e.Message, " ", "_")[:min(20, len(e.Message))], func(t *testing.T) {
			if c.core == nil {
				c.core = wireVendor{}
			}
			if c.call == nil {
				c.call = login
			}
			v, rt := clientFor(t, c.core, c.edit)
			err := c.call(context.Background(), v)
			var ve *client.VendorError
			if !errors.As(err, &ve) {
				t.Fatalf("want a VendorError for %s, got %v", e.Code, err)
			}
			if ve.Status != e.Status || ve.Code != e.Code || ve.Message != e.Message {
				t.Errorf("client read %d %s %q, the table says %d %s %q", ve.Status, ve.Code, ve.Message, e.Status, e.Code, e.Message)
			}
			if ve.Retryable() != e.Retryable() || (ve.RetryAfter > 0) != e.Retryable() {
				t.Errorf("%s: Retryable %v, Retry-After %s; the table says retryable=%v", e.Code, ve.Retryable(), ve.RetryAfter, e.Retryable())
			}
			strict(t, rt, e.Response())
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }
