package verify

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/lambda/internal/config"
	"github.com/s3vend/s3vend/lambda/internal/fault"
)

// OIDCOptions tunes an OIDC verifier; zero values get defaults.
type OIDCOptions struct {
	HTTPClient *http.Client // default http.DefaultClient
	// FetchTimeout bounds discovery and JWKS fetches (default 3s).
	FetchTimeout time.Duration
	// RefreshInterval is the background JWKS refresh period (default 1h).
	RefreshInterval time.Duration
	// UnknownKIDInterval rate-limits JWKS refreshes caused by unknown key ids
	// (default 1 min; one refresh may happen at once).
	UnknownKIDInterval time.Duration
	// RetryAfterFailure is how long a failed first JWKS load is not retried
	// (default 2s), so an issuer outage does not stall every request.
	RetryAfterFailure time.Duration
	Now               func() time.Time
	Logger            *slog.Logger
	// AllowLoopbackHTTP accepts a discovered jwks_uri on a plain http
	// loopback host: local mode only, never inside Lambda (where
	// 127.0.0.1:9001 is the Runtime API).
	AllowLoopbackHTTP bool
}

// OIDC verifies ID tokens of one OpenID Connect issuer against its JWKS.
type OIDC struct {
	cfg    config.OIDC
	opts   OIDCOptions
	ctx    context.Context // lifetime of the background refresh goroutine
	parser *jwt.Parser

	mu          sync.Mutex
	keys        keyfunc.Keyfunc
	failedAt    time.Time
	stopRefresh context.CancelFunc // of the loaded JWKS's refresher
}

var _ Verifier = (*OIDC)(nil)

// NewOIDC returns a verifier for cfg. No network call happens until the first
// token arrives; the JWKS is then cached, refreshed hourly and on unknown
// key ids (rate limited), and kept across failed refreshes. ctx ends the
// background refresh.
func NewOIDC(ctx context.Context, cfg config.OIDC, opts OIDCOptions) *OIDC {
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = 3 * time.Second
	}
	if opts.RefreshInterval <= 0 {
		opts.RefreshInterval = time.Hour
	}
	if opts.UnknownKIDInterval <= 0 {
		opts.UnknownKIDInterval = time.Minute
	}
	if opts.RetryAfterFailure <= 0 {
		opts.RetryAfterFailure = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods(cfg.Algorithms),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audiences...),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(clockSkew),
		jwt.WithTimeFunc(opts.Now),
		jwt.WithStrictDecoding(),
	)
	return &OIDC{cfg: cfg, opts: opts, ctx: ctx, parser: parser}
}

// Name implements Verifier.
func (o *OIDC) Name() string { return o.cfg.Name }

// Verify implements Verifier.
func (o *OIDC) Verify(ctx context.Context, token string) (Identity, error) {
	if err := checkCompactJWS(token); err != nil {
		return Identity{}, err
	}
	var loadErr error
	claims := jwt.MapClaims{}
	_, err := o.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		kf, err := o.keyfunc(ctx)
		if err != nil {
			loadErr = err
			return nil, err
		}
		return kf.KeyfuncCtx(ctx)(t)
	})
	if loadErr != nil {
		return Identity{}, loadErr
	}
	if err != nil {
		return Identity{}, reject(jwtReason(err), err)
	}
	if !saneTimes(claims) {
		return Identity{}, reject("exp, nbf or iat out of range", nil)
	}
	if maxAge := o.cfg.MaxTokenAge(); maxAge > 0 {
		iat, _ := claims.GetIssuedAt()
		if iat == nil {
			return Identity{}, reject("iat required by maxTokenAgeSeconds", nil)
		}
		if o.opts.Now().Sub(iat.Time) > maxAge+clockSkew {
			return Identity{}, reject("token older than maxTokenAgeSeconds", nil)
		}
	}
	id, _ := claims[o.cfg.UserClaim].(string)
	if !validUserID(id) {
		return Identity{}, reject("user claim missing or invalid", nil)
	}
	if contract.UserClaimNeedsVerifiedEmail(o.cfg.UserClaim) {
		// Only the JSON boolean true: not "true", 1, or an absent claim.
		if verified, ok := claims["email_verified"].(bool); !ok || !verified {
			return Identity{}, reject("email not verified", nil)
		}
	}
	tenant, err := tenantOf(claims, o.cfg.TenantClaim)
	if err != nil {
		return Identity{}, err
	}
	return Identity{ID: id, Tenant: tenant}, nil
}

// keyfunc returns the cached JWKS-backed key function, loading it on first use.
func (o *OIDC) keyfunc(ctx context.Context) (keyfunc.Keyfunc, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.keys != nil {
		return o.keys, nil
	}
	if !o.failedAt.IsZero() && o.opts.Now().Sub(o.failedAt) < o.opts.RetryAfterFailure {
		return nil, fault.New(fault.ErrUpstream, "jwks unavailable", nil)
	}
	kf, err := o.load(ctx)
	if err != nil {
		o.failedAt = o.opts.Now()
		o.opts.Logger.WarnContext(ctx, "jwks load failed", "verifier", o.cfg.Name, "error", fault.Describe(err))
		return nil, err
	}
	o.keys = kf
	return kf, nil
}

func (o *OIDC) load(ctx context.Context) (keyfunc.Keyfunc, error) {
	ctx, cancel := context.WithTimeout(ctx, o.opts.FetchTimeout)
	defer cancel()
	jwksURL := o.cfg.JWKSURL
	if jwksURL == "" {
		var err error
		if jwksURL, err = o.discover(ctx); err != nil {
			return nil, err
		}
	}
	noErrorOnFirstFailure := false
	// The library starts its background refresher before the first fetch
	// and returns the fetch's error without stopping it: give it its own
	// context and cancel that on failure, or every retried load leaks one
	// goroutine polling forever.
	refreshCtx, stopRefresh := context.WithCancel(o.ctx)
	kf, err := keyfunc.NewDefaultOverrideCtx(refreshCtx, []string{jwksURL}, keyfunc.Override{
		Client:                    o.opts.HTTPClient,
		HTTPTimeout:               o.opts.FetchTimeout,
		NoErrorReturnFirstHTTPReq: &noErrorOnFirstFailure,
		RateLimitWaitMax:          o.opts.FetchTimeout,
		RefreshInterval:           o.opts.RefreshInterval,
		RefreshUnknownKID:         rate.NewLimiter(rate.Every(o.opts.UnknownKIDInterval), 1),
		RefreshErrorHandlerFunc: func(string) func(context.Context, error) {
			return func(ctx context.Context, _ error) {
				// The cached keys stay in use; the error text is not logged.
				o.opts.Logger.WarnContext(ctx, "jwks refresh failed; keeping cached keys", "verifier", o.cfg.Name)
			}
		},
	})
	if err != nil {
		stopRefresh()
		return nil, upstreamErr(ctx, "jwks fetch", err)
	}
	o.stopRefresh = stopRefresh // runs until o.ctx ends
	return kf, nil
}

// discover reads jwks_uri from the issuer's OpenID configuration.
func (o *OIDC) discover(ctx context.Context) (string, error) {
	body, err := get(ctx, o.opts.HTTPClient, strings.TrimRight(o.cfg.Issuer, "/")+"/.well-known/openid-configuration", "oidc discovery")
	if err != nil {
		return "", err
	}
	u, err := parseDiscovery(body, o.cfg.Issuer, o.opts.AllowLoopbackHTTP)
	if err != nil {
		return "", fault.New(fault.ErrUpstream, "oidc discovery document invalid", err)
	}
	return u, nil
}

// ParseDiscovery extracts jwks_uri from an OpenID configuration document,
// checking it belongs to issuer (local-mode rules: http allowed on loopback).
func ParseDiscovery(body []byte, issuer string) (string, error) {
	return parseDiscovery(body, issuer, true)
}

func parseDiscovery(body []byte, issuer string, allowLoopbackHTTP bool) (string, error) {
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", err
	}
	if doc.Issuer != issuer {
		return "", errors.New("issuer mismatch")
	}
	if err := contract.CheckURL(doc.JWKSURI, allowLoopbackHTTP); err != nil {
		return "", err
	}
	return doc.JWKSURI, nil
}
