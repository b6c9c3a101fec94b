package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/contract/wire"
)

// Routes of the token vendor, relative to the API base (docs/api.md#routes).
const (
	RouteToken       = wire.RouteToken
	RouteCredentials = wire.RouteCredentials
	RouteSession     = wire.RouteSession
	RouteGuest       = wire.RouteGuest
	RouteUpload      = wire.RouteUpload
)

// Vendor defaults.
const (
	DefaultMaxAttempts = 4
	DefaultMaxBackoff  = 20 * time.Second
	baseBackoff        = 250 * time.Millisecond
	maxResponseBytes   = 1 << 20
	maxMessageChars    = 200
)

// The vendor's answers, as package wire defines them for both sides.
type (
	// TokenResponse is the body of a 200 from POST /v1/token (enhanced flow).
	TokenResponse = wire.TokenResponse
	// CredentialsResponse is the body of a 200 from POST /v1/credentials
	// (basic flow) and POST /v1/session (either flow).
	CredentialsResponse = wire.CredentialsResponse
	// GuestResponse is the body of a 200 from POST /v1/guest: credentials
	// with the basic flow on, else a token (HasCredentials tells which).
	GuestResponse = wire.GuestResponse
	// UploadResponse is a presigned S3 POST: send Fields, then the file as
	// the last form field "file", to URL.
	UploadResponse = wire.UploadResponse
)

// UploadRequest is one upload RequestUpload asks the vendor to sign: the
// fields of wire.UploadRequest besides the login.
type UploadRequest struct {
	Name        string // object name below the rule's prefix for the caller
	Size        int64  // bytes
	ContentType string
	// Rule names the access rule the key is built with (the stack's
	// AccessRules output); without it Visibility ("private" by default, or
	// "protected") names one of the default layout's rules.
	Rule       string
	Visibility string
}

// VendorError is a non-200 answer of the token vendor. Error() is built from
// the status and the API's fixed-text code and message only: it never contains
// the login credential or a token.
type VendorError struct {
	Status     int           // HTTP status
	Code       string        // the API's error code, e.g. "invalid_credential"; "http_<status>" when the body was not the API's error JSON (e.g. an API Gateway throttle)
	Message    string        // the API's fixed-text message (truncated)
	RequestID  string        // X-Request-Id (or API Gateway's apigw-requestid)
	RetryAfter time.Duration // Retry-After, 0 when absent
}

func (e *VendorError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "token vendor: %d %s", e.Status, e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// Retryable reports whether the vendor asked to try again later (429, 502,
// 503, 504).
func (e *VendorError) Retryable() bool { return wire.Retryable(e.Status) }

// Rejected reports whether the vendor refused the request itself (a 4xx other
// than 429): the login, the provider name or the request is wrong, and trying
// again with the same input will not help.
func (e *VendorError) Rejected() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusTooManyRequests
}

// Vendor calls the token vendor's HTTP API, retrying 429/502/503/504 and
// network errors with bounded, jittered backoff that honours Retry-After. It
// is safe for concurrent use.
type Vendor struct {
	base        *url.URL
	hc          *http.Client
	maxAttempts int
	maxBackoff  time.Duration
}

// NewVendor returns a Vendor for the API behind tokenEndpoint, the stack's
// TokenEndpoint output ("<api base>/v1/token"); the API base itself is
// accepted too. Only HTTPClient, MaxAttempts and MaxBackoff of Options apply.
func NewVendor(tokenEndpoint string, optFns ...func(*Options)) (*Vendor, error) {
	o := Options{}
	for _, fn := range optFns {
		fn(&o)
	}
	o.setDefaults()
	return newVendor(tokenEndpoint, &o)
}

func newVendor(tokenEndpoint string, o *Options) (*Vendor, error) {
	base, err := APIBase(tokenEndpoint)
	if err != nil {
		return nil, err
	}
	return &Vendor{base: base, hc: noRedirects(o.HTTPClient), maxAttempts: o.MaxAttempts, maxBackoff: o.MaxBackoff}, nil
}

// noRedirects returns a copy of hc that never follows a redirect: a 307 or
// 308 would re-send the login in the POST body to wherever Location points,
// another host or plain http included (net/http's Client follows them by
// default, "307 and 308 preserve the method and body"). The vendor never
// redirects, so a 3xx surfaces as a *VendorError with its status. The
// caller's client is not modified.
func noRedirects(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// APIBase derives the API base URL from the stack's TokenEndpoint output by
// removing the trailing /v1/token (a URL without it is taken as the base).
func APIBase(tokenEndpoint string) (*url.URL, error) {
	if strings.TrimSpace(tokenEndpoint) == "" {
		return nil, errors.New("token endpoint is empty (the stack's TokenEndpoint output)")
	}
	u, err := url.Parse(tokenEndpoint)
	if err != nil {
		return nil, fmt.Errorf("token endpoint: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("token endpoint %q: want an http(s) URL such as https://api.example.com/v1/token", tokenEndpoint)
	}
	// The login travels in the body: plain http only on this machine.
	if u.Scheme == "http" && !contract.IsLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("token endpoint %q: use https (plain http is accepted only for a loopback host such as 127.0.0.1 or localhost)", u.Redacted())
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("token endpoint %q: must not carry user info, a query or a fragment", u.Redacted())
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), RouteToken)
	u.RawPath = ""
	return u, nil
}

// Endpoint returns the URL of route (e.g. RouteGuest) on this vendor.
func (v *Vendor) Endpoint(route string) string {
	u := *v.base
	u.Path = strings.TrimSuffix(u.Path, "/") + route
	return u.String()
}

func checkLogin(provider, credential string) error {
	if provider == "" {
		return errors.New("login: provider is empty")
	}
	if credential == "" {
		return errors.New("login: credential is empty")
	}
	return nil
}

// Token exchanges a login for a Cognito identity id and OpenID token (POST /v1/token).
func (v *Vendor) Token(ctx context.Context, provider, credential string) (*TokenResponse, error) {
	if err := checkLogin(provider, credential); err != nil {
		return nil, err
	}
	var out TokenResponse
	if err := v.post(ctx, RouteToken, wire.LoginRequest{Provider: provider, Credential: credential}, &out); err != nil {
		return nil, err
	}
	if out.IdentityID == "" || out.Token == "" || out.LoginKey == "" || out.Region == "" {
		return nil, errors.New("token vendor: /v1/token response lacks identityId, token, loginKey or region")
	}
	return &out, nil
}

// Credentials exchanges a login for AWS credentials (POST /v1/credentials, basic flow).
func (v *Vendor) Credentials(ctx context.Context, provider, credential string) (*CredentialsResponse, error) {
	return v.credentials(ctx, RouteCredentials, provider, credential)
}

// Session exchanges a login for the identity id and AWS credentials in one
// round trip through whichever flow the pool allows (POST /v1/session).
func (v *Vendor) Session(ctx context.Context, provider, credential string) (*CredentialsResponse, error) {
	return v.credentials(ctx, RouteSession, provider, credential)
}

func (v *Vendor) credentials(ctx context.Context, route, provider, credential string) (*CredentialsResponse, error) {
	if err := checkLogin(provider, credential); err != nil {
		return nil, err
	}
	var out CredentialsResponse
	if err := v.post(ctx, route, wire.LoginRequest{Provider: provider, Credential: credential}, &out); err != nil {
		return nil, err
	}
	if out.IdentityID == "" || out.AccessKeyID == "" || out.SecretAccessKey == "" || out.Expiration.IsZero() {
		return nil, errors.New("token vendor: " + route + " response lacks identityId, accessKeyId, secretAccessKey or expiration")
	}
	return &out, nil
}

// Guest gets a guest identity (POST /v1/guest); identityID, when not empty,
// reuses a guest identity obtained earlier.
func (v *Vendor) Guest(ctx context.Context, identityID string) (*GuestResponse, error) {
	body := wire.GuestRequest{IdentityID: identityID} // {} without one
	var out GuestResponse
	if err := v.post(ctx, RouteGuest, body, &out); err != nil {
		return nil, err
	}
	switch {
	case out.IdentityID == "":
		return nil, errors.New("token vendor: /v1/guest response lacks identityId")
	case out.HasCredentials() && (out.SecretAccessKey == "" || out.Expiration == nil):
		return nil, errors.New("token vendor: /v1/guest response lacks secretAccessKey or expiration")
	case !out.HasCredentials() && (out.Token == "" || out.LoginKey == "" || out.Region == ""):
		return nil, errors.New("token vendor: /v1/guest response has neither credentials nor token, loginKey and region")
	}
	return &out, nil
}

// RequestUpload asks the vendor for a presigned POST for one upload
// (POST /v1/upload) under the caller's own prefix.
func (v *Vendor) RequestUpload(ctx context.Context, provider, credential string, req UploadRequest) (*UploadResponse, error) {
	if err := checkLogin(provider, credential); err != nil {
		return nil, err
	}
	if req.Name == "" || req.Size < 0 {
		return nil, errors.New("upload: name is required and size must not be negative")
	}
	size := wire.UploadSize(req.Size)
	body := wire.UploadRequest{
		Provider: provider, Credential: credential,
		Name: req.Name, Size: &size, ContentType: req.ContentType, Visibility: req.Visibility, Rule: req.Rule,
	}
	var out UploadResponse
	if err := v.post(ctx, RouteUpload, body, &out); err != nil {
		return nil, err
	}
	if out.URL == "" || out.Key == "" {
		return nil, errors.New("token vendor: /v1/upload response lacks url or key")
	}
	return &out, nil
}

// post sends body to route and decodes a 200 into out, retrying as described
// on Vendor. Errors never include the request body.
func (v *Vendor) post(ctx context.Context, route string, body, out any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("token vendor: encode request: %w", err)
	}
	endpoint := v.Endpoint(route)
	for attempt := 1; ; attempt++ {
		err := v.once(ctx, endpoint, payload, out)
		if err == nil {
			return nil
		}
		var retryAfter time.Duration
		var ve *VendorError
		switch {
		case ctx.Err() != nil:
			return err
		case errors.As(err, &ve):
			if !ve.Retryable() {
				return err
			}
			retryAfter = ve.RetryAfter
		case errors.Is(err, ErrUnreachable):
		default:
			return err
		}
		if attempt >= v.maxAttempts {
			return err
		}
		t := time.NewTimer(v.backoff(attempt, retryAfter))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// ErrUnreachable wraps the error of a vendor request that got no HTTP
// response (connection refused or reset, TLS failure, timeout); such requests
// are retried like a 503.
var ErrUnreachable = errors.New("token vendor unreachable")

func (v *Vendor) once(ctx context.Context, endpoint string, payload []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("token vendor: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := v.hc.Do(req)
	if err != nil {
		// *url.Error names the URL and the cause; the body is never part of it.
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("%w: reading the response: %w", ErrUnreachable, err)
	}
	if resp.StatusCode != http.StatusOK {
		return newVendorError(resp, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("token vendor: %s answered 200 with a body that is not the expected JSON: %w", req.URL.Path, err)
	}
	return nil
}

func newVendorError(resp *http.Response, body []byte) *VendorError {
	e := &VendorError{
		Status:     resp.StatusCode,
		RequestID:  resp.Header.Get("X-Request-Id"),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	if e.RequestID == "" {
		e.RequestID = resp.Header.Get("Apigw-Requestid")
	}
	var apiErr struct {
		wire.ErrorResponse
		Message string `json:"message"` // API Gateway's own answers: {"message":"Too Many Requests"}
	}
	if json.Unmarshal(body, &apiErr) == nil {
		e.Code, e.Message = apiErr.Error.Code, apiErr.Error.Message
		if e.Message == "" {
			e.Message = apiErr.Message
		}
	}
	if e.Code == "" {
		e.Code = "http_" + strconv.Itoa(resp.StatusCode)
	}
	e.Code = oneLine(e.Code, 64)
	e.Message = oneLine(e.Message, maxMessageChars)
	e.RequestID = oneLine(e.RequestID, 128)
	return e
}

// oneLine keeps printable characters only, so that a hostile or broken
// server cannot inject lines into logs, and truncates to n runes.
func oneLine(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return s
}

// parseRetryAfter reads delta-seconds or an HTTP-date (RFC 9110 section 10.2.3).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// backoff is "full jitter" exponential backoff (a uniformly random delay in
// [0, min(maxBackoff, base*2^(attempt-1))), see the AWS Architecture Blog,
// "Exponential Backoff And Jitter"), added to Retry-After when the vendor
// sent one, and capped at maxBackoff.
func (v *Vendor) backoff(attempt int, retryAfter time.Duration) time.Duration {
	ceiling := baseBackoff << min(attempt-1, 16)
	if ceiling > v.maxBackoff || ceiling <= 0 {
		ceiling = v.maxBackoff
	}
	d := retryAfter + rand.N(ceiling+1)
	return min(d, v.maxBackoff)
}
