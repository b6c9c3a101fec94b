// Package httpapi is the HTTP adapter of the token vendor: a plain net/http
// handler that routes, decodes requests, calls the core and maps its errors
// to statuses and the {"error":{"code","message"}} shape.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/akrylysov/algnhsa"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/s3vend/s3vend/contract/wire"
	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/metrics"
	"github.com/s3vend/s3vend/lambda/internal/vend"
)

// Vendor is the core as seen by the adapter.
type Vendor interface {
	Token(ctx context.Context, provider, credential string) (vend.Token, error)
	Credentials(ctx context.Context, provider, credential string) (vend.Credentials, error)
	Session(ctx context.Context, provider, credential string) (vend.Credentials, error)
	Guest(ctx context.Context, identityID string) (vend.Credentials, error)
	GuestToken(ctx context.Context, identityID string) (vend.GuestToken, error)
	Upload(ctx context.Context, req vend.UploadRequest) (vend.Upload, error)
	HasProvider(name string) bool
	GuestsEnabled() bool
	BasicFlow() bool
	UploadsEnabled() bool
}

var _ Vendor = (*vend.Service)(nil)

// Options configure the handler.
type Options struct {
	// Timeout bounds each request's upstream work; keep it below the Lambda
	// timeout (default 6s).
	Timeout time.Duration
	// RetryAfter is the Retry-After advertised on 429/502/503 (default 1s).
	RetryAfter time.Duration
	Logger     *slog.Logger
	// Metrics records each request's outcome as EMF; nil records nothing.
	Metrics *metrics.Recorder
}

// Handler serves the token vendor API.
type Handler struct {
	v    Vendor
	opts Options
}

// New returns the API handler.
func New(v Vendor, opts Options) *Handler {
	if opts.Timeout <= 0 {
		opts.Timeout = 6 * time.Second
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Handler{v: v, opts: opts}
}

// route is the outcome of one request, for the access log.
type outcome struct {
	route    string
	status   int
	code     string
	detail   string
	provider string
	// cacheHit: the vend was served from the instance's reuse cache
	// (the Cached field of vend.Token, vend.Credentials, vend.Upload).
	cacheHit bool
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := requestID(r.Context())
	w.Header().Set("X-Request-Id", reqID)
	out := &outcome{route: "other"}
	defer h.finish(w, r, reqID, out, start)
	h.route(w, r, out)
}

// finish runs after every request: it answers a panic with the internal
// error (never echoing the panic value or a stack trace), then logs the
// outcome and records its metrics.
func (h *Handler) finish(w http.ResponseWriter, r *http.Request, reqID string, out *outcome, start time.Time) {
	if p := recover(); p != nil {
		h.writeError(w, wire.ErrInternal, out)
		out.detail = "panic recovered"
	}
	h.log(r.Context(), reqID, r.Method, out, time.Since(start))
	h.opts.Metrics.Request(metrics.Request{
		Route: out.route, Provider: out.provider, Status: out.status, Code: out.code, CacheHit: out.cacheHit,
	})
}

// route serves the request by path. A route switched off answers before
// anything else, with no upstream call: the basic-flow routes with their
// own code, guests and uploads as if the route were absent.
func (h *Handler) route(w http.ResponseWriter, r *http.Request, out *outcome) {
	switch r.URL.Path {
	case wire.RouteToken:
		out.route = "token"
		if h.allow(w, r, http.MethodPost, out) {
			vendLogin(h, w, r, out, h.v.Token)
		}
	case wire.RouteCredentials:
		out.route = "credentials"
		if !h.v.BasicFlow() {
			h.writeError(w, wire.ErrBasicFlowOff, out)
			return
		}
		if h.allow(w, r, http.MethodPost, out) {
			vendLogin(h, w, r, out, h.v.Credentials)
		}
	case wire.RouteSession:
		// Either flow: served whether or not the pool allows the basic flow.
		out.route = "session"
		if h.allow(w, r, http.MethodPost, out) {
			vendLogin(h, w, r, out, h.v.Session)
		}
	case wire.RouteGuest:
		if !h.v.GuestsEnabled() {
			h.writeError(w, wire.ErrNotFound, out)
			return
		}
		out.route = "guest"
		if h.allow(w, r, http.MethodPost, out) {
			h.guest(w, r, out)
		}
	case wire.RouteUpload:
		if !h.v.UploadsEnabled() {
			// No bucket configured (a stack from before the route): as if absent.
			h.writeError(w, wire.ErrNotFound, out)
			return
		}
		out.route = "upload"
		if h.allow(w, r, http.MethodPost, out) {
			h.upload(w, r, out)
		}
	case wire.RouteHealth:
		out.route = "healthz"
		if h.allow(w, r, http.MethodGet, out) {
			h.writeJSON(w, http.StatusOK, wire.HealthResponse{Status: "ok"}, out)
		}
	default:
		h.writeError(w, wire.ErrNotFound, out)
	}
}

// vendLogin serves a route whose body is a login (provider and credential)
// and whose answer is what call (a Vendor method) returns for it.
func vendLogin[T any](h *Handler, w http.ResponseWriter, r *http.Request, out *outcome, call func(ctx context.Context, provider, credential string) (T, error)) {
	h.login(w, r, out, func(ctx context.Context, req LoginRequest) (any, error) {
		return call(ctx, req.Provider, req.Credential)
	})
}

func (h *Handler) allow(w http.ResponseWriter, r *http.Request, method string, out *outcome) bool {
	if r.Method == method || (method == http.MethodGet && r.Method == http.MethodHead) {
		return true
	}
	w.Header().Set("Allow", method)
	h.writeError(w, wire.ErrMethodNotAllowed, out)
	return false
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request, out *outcome, call func(context.Context, LoginRequest) (any, error)) {
	withLogin(h, w, r, out, DecodeLogin, func(q LoginRequest) string { return q.Provider }, call)
}

// withLogin serves a route whose body carries a login: read and decode the
// body, check the provider, then call with the upstream deadline.
func withLogin[T any](h *Handler, w http.ResponseWriter, r *http.Request, out *outcome,
	decode func(contentType string, body []byte) (T, error), provider func(T) string,
	call func(context.Context, T) (any, error)) {
	body, aerr := readBody(r.Body)
	if aerr != nil {
		h.writeError(w, aerr, out)
		return
	}
	req, err := decode(r.Header.Get("Content-Type"), body)
	if err != nil {
		h.writeError(w, asAPIError(err), out)
		return
	}
	if !h.v.HasProvider(provider(req)) {
		h.writeError(w, wire.ErrUnknownProvider, out)
		return
	}
	out.provider = provider(req)
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	res, err := call(ctx, req)
	h.respond(w, res, err, out)
}

// asAPIError is the response for a decoding error: the decoders return
// *wire.Error, anything else is an internal error (never a panic).
func asAPIError(err error) *wire.Error {
	var ae *wire.Error
	if errors.As(err, &ae) {
		return ae
	}
	return wire.ErrInternal
}

func (h *Handler) guest(w http.ResponseWriter, r *http.Request, out *outcome) {
	body, aerr := readBody(r.Body)
	if aerr != nil {
		h.writeError(w, aerr, out)
		return
	}
	req, err := DecodeGuest(r.Header.Get("Content-Type"), body)
	if err != nil {
		h.writeError(w, asAPIError(err), out)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	var res any
	if h.v.BasicFlow() {
		var c vend.Credentials
		c, err = h.v.Guest(ctx, req.IdentityID)
		res = guestCredentials(c)
	} else {
		// Enhanced flow: the client calls GetCredentialsForIdentity itself.
		res, err = h.v.GuestToken(ctx, req.IdentityID)
	}
	h.respond(w, res, err, out)
}

func (h *Handler) upload(w http.ResponseWriter, r *http.Request, out *outcome) {
	withLogin(h, w, r, out, DecodeUpload, func(q vend.UploadRequest) string { return q.Provider },
		func(ctx context.Context, req vend.UploadRequest) (any, error) { return h.v.Upload(ctx, req) })
}

func (h *Handler) respond(w http.ResponseWriter, res any, err error, out *outcome) {
	if err != nil {
		if _, refused := errors.AsType[*vend.InvalidUpload](err); !refused { // a 400 needs no detail
			out.detail = fault.Describe(err)
		}
		h.writeError(w, errorFor(err), out)
		return
	}
	var body any
	switch r := res.(type) {
	case vend.Token:
		out.cacheHit = r.Cached
		body = wire.TokenResponse{IdentityID: r.IdentityID, Token: r.Token, ExpiresAt: r.ExpiresAt,
			IdentityPoolID: r.IdentityPoolID, Region: r.Region, LoginKey: r.LoginKey, UserID: r.UserID, Tenant: r.Tenant}
	case vend.Credentials:
		out.cacheHit = r.Cached
		body = credentialsResponse(r)
	case guestCredentials:
		out.cacheHit = r.Cached
		body = credentialsResponse(vend.Credentials(r)).Guest()
	case vend.GuestToken:
		body = wire.GuestResponse{IdentityID: r.IdentityID, Token: r.Token,
			IdentityPoolID: r.IdentityPoolID, Region: r.Region, LoginKey: r.LoginKey}
	case vend.Upload:
		out.cacheHit = r.Cached
		body = wire.UploadResponse{URL: r.URL, Fields: r.Fields, Key: r.Key, IdentityID: r.IdentityID, ExpiresAt: r.ExpiresAt}
	default:
		h.writeError(w, wire.ErrInternal, out)
		out.detail = fmt.Sprintf("no wire type for %T", res)
		return
	}
	h.writeJSON(w, http.StatusOK, body, out)
}

// guestCredentials are the basic-flow credentials of a guest, answered as
// a wire.GuestResponse.
type guestCredentials vend.Credentials

func credentialsResponse(c vend.Credentials) wire.CredentialsResponse {
	return wire.CredentialsResponse{IdentityID: c.IdentityID, AccessKeyID: c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Expiration: c.Expiration, UserID: c.UserID, Tenant: c.Tenant}
}

// errorFor maps the core's sentinel errors to the error table (package
// wire), whose messages are fixed text: an invalid upload field names its
// rule, a sentinel its code (faultCodes, first match), anything else is
// internal.
func errorFor(err error) *wire.Error {
	if iu, ok := errors.AsType[*vend.InvalidUpload](err); ok {
		// The core's fixed text names the rule and the limit, never the input.
		return wire.UploadFieldError(iu.Field, iu.Message)
	}
	for _, fc := range faultCodes {
		if errors.Is(err, fc.fault) {
			return fc.api
		}
	}
	return wire.ErrInternal
}

// faultCodes are the API errors of the core's sentinel errors, in the
// order they are tested.
var faultCodes = []struct {
	fault error
	api   *wire.Error
}{
	{fault.ErrUnknownProvider, wire.ErrUnknownProvider},
	{fault.ErrInvalidCredential, wire.ErrInvalidCredential},
	{fault.ErrNotFound, wire.ErrNotFound},
	{fault.ErrBasicFlowDisabled, wire.ErrBasicFlowOff},
	{fault.ErrRevoked, wire.ErrUserRevoked},
	{fault.ErrQuotaExceeded, wire.ErrQuotaExceeded},
	{fault.ErrRevocationUnavailable, wire.ErrRevocationUnavailable},
	{fault.ErrUnsupportedUserID, wire.ErrUnsupportedUserID},
	{fault.ErrVerifierUnavailable, wire.ErrVerifierUnavailable},
	{fault.ErrRateLimited, wire.ErrRateLimited},
	{fault.ErrThrottled, wire.ErrUpstreamThrottled},
	{fault.ErrTimeout, wire.ErrUpstreamTimeout},
	{context.DeadlineExceeded, wire.ErrUpstreamTimeout},
	{fault.ErrUpstream, wire.ErrUpstream},
}

func (h *Handler) writeError(w http.ResponseWriter, e *wire.Error, out *outcome) {
	if e.Retryable() {
		w.Header().Set("Retry-After", strconv.Itoa(int((h.opts.RetryAfter+time.Second-1)/time.Second)))
	}
	out.code = e.Code
	h.writeJSON(w, e.Status, e.Response(), out)
}

func (h *Handler) writeJSON(w http.ResponseWriter, status int, v any, out *outcome) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = wire.ErrInternal.Status, wire.ErrInternal.Body()
		out.code = wire.ErrInternal.Code
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	out.status = status
}

func (h *Handler) log(ctx context.Context, reqID, method string, out *outcome, d time.Duration) {
	level := slog.LevelInfo
	if out.status >= 500 {
		level = slog.LevelError
	} else if out.status >= 400 {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("request_id", reqID),
		slog.String("method", knownMethod(method)),
		slog.String("route", out.route),
		slog.Int("status", out.status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
	}
	if out.provider != "" {
		attrs = append(attrs, slog.String("provider", out.provider))
	}
	if out.code != "" {
		attrs = append(attrs, slog.String("error_code", out.code))
	}
	if out.detail != "" {
		attrs = append(attrs, slog.String("error", out.detail))
	}
	h.opts.Logger.LogAttrs(ctx, level, "request", attrs...)
}

// requestID prefers the Lambda request id, then API Gateway's, then a fresh one.
func requestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return lc.AwsRequestID
	}
	if ev, ok := algnhsa.APIGatewayV2RequestFromContext(ctx); ok && ev.RequestContext.RequestID != "" {
		return ev.RequestContext.RequestID
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
