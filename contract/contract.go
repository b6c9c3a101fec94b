// Package contract is the interface between the CDK stack and the token
// vendor: the environment variables the stack sets and the S3VEND_VERIFIERS
// document, with its validation and defaults. Both sides import this package
// (it depends on the standard library only), so they cannot drift apart, and
// cdk.json is checked at synth by the same code the service runs at start-up.
package contract

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Environment variable names: the CDK stack (infra.NewTokenVendor) sets
// them, the service (internal/config) reads them; see docs/vendor.md.
const (
	EnvRegion             = "AWS_REGION"
	EnvIdentityPoolID     = "S3VEND_IDENTITY_POOL_ID"
	EnvDeveloperProvider  = "S3VEND_DEVELOPER_PROVIDER"
	EnvAuthRoleARN        = "S3VEND_AUTH_ROLE_ARN"
	EnvUnauthRoleARN      = "S3VEND_UNAUTH_ROLE_ARN"
	EnvGuestsEnabled      = "S3VEND_GUESTS_ENABLED"
	EnvBasicFlow          = "S3VEND_BASIC_FLOW"
	EnvTokenDuration      = "S3VEND_TOKEN_DURATION_SECONDS"
	EnvCredentialLifetime = "S3VEND_CREDENTIAL_DURATION_SECONDS"
	EnvSessionPolicy      = "S3VEND_SESSION_POLICY"
	EnvVerifiers          = "S3VEND_VERIFIERS"
	EnvSecretARN          = "S3VEND_SECRET_ARN"
	EnvSecretsFile        = "S3VEND_SECRETS_FILE"
	EnvUpstreamTimeout    = "S3VEND_UPSTREAM_TIMEOUT"
	EnvMaxAttempts        = "S3VEND_MAX_ATTEMPTS"
	EnvListen             = "S3VEND_LISTEN"
	EnvLambdaRuntimeAPI   = "AWS_LAMBDA_RUNTIME_API"

	// POST /v1/upload (presigned POST); see upload.go. Without EnvBucket
	// the route answers 404.
	EnvBucket             = "S3VEND_BUCKET"
	EnvUploadMaxBytes     = "S3VEND_UPLOAD_MAX_BYTES"
	EnvUploadContentTypes = "S3VEND_UPLOAD_CONTENT_TYPES"
	EnvUploadExpiry       = "S3VEND_UPLOAD_EXPIRY_SECONDS"
)

// Defaults of the verifier document.
const (
	DefaultHS256MaxTTL   = 300 * time.Second
	DefaultWeChatBaseURL = "https://api.weixin.qq.com"
)

var developerProviderRE = newLazyRegexp(`^[\w._-]{1,100}$`)

// ValidDeveloperProvider reports whether name is a developer provider name
// Cognito accepts: 1-100 characters of letters, digits, '_', '.' and '-'.
func ValidDeveloperProvider(name string) bool { return developerProviderRE.MatchString(name) }

var (
	nameRE  = newLazyRegexp(`^[a-z0-9-]{1,32}$`)
	appIDRE = newLazyRegexp(`^[A-Za-z0-9_]{1,64}$`)
)

// Verifiers is the S3VEND_VERIFIERS document.
type Verifiers struct {
	OIDC   []OIDC  `json:"oidc,omitempty"`
	WeChat *WeChat `json:"wechat,omitempty"`
	HS256  *HS256  `json:"hs256,omitempty"`
}

// OIDC configures one OpenID Connect issuer.
type OIDC struct {
	Name       string   `json:"name"`
	Issuer     string   `json:"issuer"`
	Audiences  []string `json:"audiences"`
	JWKSURL    string   `json:"jwksUrl,omitempty"`
	UserClaim  string   `json:"userClaim,omitempty"`
	Algorithms []string `json:"algorithms,omitempty"`
	// MaxTokenAgeSeconds, if set, refuses tokens whose iat is older (plus
	// the clock skew); 0 means no limit beyond exp.
	MaxTokenAgeSeconds int `json:"maxTokenAgeSeconds,omitempty"`
	// TenantClaim names the claim the tenant is taken from ({tenant} in
	// access rules); "" for none (userclaim.go, CheckTenantClaim).
	TenantClaim string `json:"tenantClaim,omitempty"`
}

// MaxTokenAge is the oldest accepted iat age; 0 means no limit.
func (o OIDC) MaxTokenAge() time.Duration { return time.Duration(o.MaxTokenAgeSeconds) * time.Second }

// Bounds of oidc[].maxTokenAgeSeconds.
const (
	MinOIDCMaxTokenAge = 60 * time.Second
	MaxOIDCMaxTokenAge = 24 * time.Hour
)

// WeChat configures the mini-program login verifier.
type WeChat struct {
	Name    string `json:"name"`
	AppID   string `json:"appId"`
	BaseURL string `json:"baseUrl,omitempty"`
	IDField string `json:"idField,omitempty"`
}

// HS256 configures the team-backend token verifier.
type HS256 struct {
	Name          string `json:"name"`
	Issuer        string `json:"issuer"`
	Audience      string `json:"audience"`
	MaxTTLSeconds int    `json:"maxTtlSeconds,omitempty"`
	// TenantClaim: as OIDC.TenantClaim, a claim the backend's tokens carry.
	TenantClaim string `json:"tenantClaim,omitempty"`
}

// MaxTTL is the longest accepted exp-iat span.
func (h HS256) MaxTTL() time.Duration { return time.Duration(h.MaxTTLSeconds) * time.Second }

// AllowedAlgorithms are the asymmetric JWS algorithms an OIDC verifier may accept.
var AllowedAlgorithms = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true,
	"EdDSA": true,
}

// Tenants reports whether some verifier takes a tenant from a claim (the
// {tenant} placeholder needs one).
func (v Verifiers) Tenants() bool {
	if v.HS256 != nil && v.HS256.TenantClaim != "" {
		return true
	}
	return slices.ContainsFunc(v.OIDC, func(o OIDC) bool { return o.TenantClaim != "" })
}

// NeedsSecret reports whether a configured verifier needs the secret
// (the WeChat app secret or the HS256 key).
func (v Verifiers) NeedsSecret() bool { return v.WeChat != nil || v.HS256 != nil }

// Count is the number of configured verifiers.
func (v Verifiers) Count() int {
	n := len(v.OIDC)
	if v.WeChat != nil {
		n++
	}
	if v.HS256 != nil {
		n++
	}
	return n
}

// ParseVerifiers decodes S3VEND_VERIFIERS strictly (DecodeStrict: unknown,
// wrongly cased and duplicate keys are errors), then validates it and applies defaults with Normalize.
func ParseVerifiers(raw []byte, allowLoopbackHTTP bool) (Verifiers, error) {
	var v Verifiers
	if err := DecodeStrict(raw, &v); err != nil {
		return Verifiers{}, fmt.Errorf("invalid JSON: %w", err)
	}
	return v.Normalize(allowLoopbackHTTP)
}

// Normalize validates the verifiers and returns a copy with defaults applied.
// The error is a FieldErrors, one per problem, each naming the field at
// fault (e.g. "oidc[0].issuer"). allowLoopbackHTTP admits http://localhost URLs
// (local mode and tests); a deployed stack passes false.
func (v Verifiers) Normalize(allowLoopbackHTTP bool) (Verifiers, error) {
	v = v.clone()
	var errs FieldErrors
	names := verifierNames{}
	for i := range v.OIDC {
		field := fmt.Sprintf("oidc[%d]", i)
		names.check(&errs, field, v.OIDC[i].Name)
		v.OIDC[i].normalize(&errs, field, allowLoopbackHTTP)
	}
	if w := v.WeChat; w != nil {
		names.check(&errs, "wechat", w.Name)
		w.normalize(&errs, allowLoopbackHTTP)
	}
	if h := v.HS256; h != nil {
		names.check(&errs, "hs256", h.Name)
		h.normalize(&errs)
	}
	if len(errs) > 0 {
		return Verifiers{}, errs
	}
	return v, nil
}

// clone returns v with its own copies of the OIDC slice and the WeChat and
// HS256 structs, so that Normalize's defaults never write into the caller's value.
func (v Verifiers) clone() Verifiers {
	v.OIDC = append([]OIDC(nil), v.OIDC...)
	if v.WeChat != nil {
		w := *v.WeChat
		v.WeChat = &w
	}
	if v.HS256 != nil {
		h := *v.HS256
		v.HS256 = &h
	}
	return v
}

// verifierNames holds the names seen so far: a verifier's name is what
// clients send as "provider", so it must be well formed and unique.
type verifierNames map[string]bool

// check records a problem with field's name n: malformed, or already used.
func (names verifierNames) check(errs *FieldErrors, field, n string) {
	switch {
	case !nameRE.MatchString(n):
		errs.Add(field+".name", "%q must match [a-z0-9-]{1,32} (clients send it as \"provider\")", n)
	case names[n]:
		errs.Add(field+".name", "%q is already used; verifier names must be unique", n)
	}
	names[n] = true
}

// normalize validates one OIDC verifier (field is its path, e.g. "oidc[0]")
// and applies its defaults: userClaim "sub", algorithms [RS256].
func (o *OIDC) normalize(errs *FieldErrors, field string, allowLoopbackHTTP bool) {
	if err := CheckURL(o.Issuer, allowLoopbackHTTP); err != nil {
		errs.Add(field+".issuer", "%v", err)
	}
	if o.JWKSURL != "" {
		if err := CheckURL(o.JWKSURL, allowLoopbackHTTP); err != nil {
			errs.Add(field+".jwksUrl", "%v", err)
		}
	}
	if len(o.Audiences) == 0 {
		errs.Add(field+".audiences", "must list at least one audience (the app's client id)")
	}
	for _, a := range o.Audiences {
		if a == "" {
			errs.Add(field+".audiences", "must not contain an empty string")
		}
	}
	o.normalizeClaims(errs, field)
	if a := o.MaxTokenAge(); o.MaxTokenAgeSeconds != 0 && (a < MinOIDCMaxTokenAge || a > MaxOIDCMaxTokenAge) {
		errs.Add(field+".maxTokenAgeSeconds", "must be in %d..%d, or omitted for no limit beyond exp",
			int(MinOIDCMaxTokenAge/time.Second), int(MaxOIDCMaxTokenAge/time.Second))
	}
	if len(o.Algorithms) == 0 {
		o.Algorithms = []string{"RS256"}
	}
	for _, a := range o.Algorithms {
		if !AllowedAlgorithms[a] {
			errs.Add(field+".algorithms", "%q is not an allowed asymmetric algorithm (RS/PS/ES 256-512, EdDSA)", a)
		}
	}
}

// normalizeClaims checks the claims an OIDC verifier reads the user and
// the tenant from, defaulting the user claim to "sub".
func (o *OIDC) normalizeClaims(errs *FieldErrors, field string) {
	if o.UserClaim == "" {
		o.UserClaim = "sub"
	} else if err := checkUserClaim(o.UserClaim); err != nil {
		errs.Add(field+".userClaim", "%v", err)
	}
	if o.TenantClaim != "" {
		if err := CheckTenantClaim(o.TenantClaim); err != nil {
			errs.Add(field+".tenantClaim", "%v", err)
		}
	}
}

// normalize validates the WeChat verifier and applies its defaults: the
// public API base URL (without a trailing slash) and idField "openid".
func (w *WeChat) normalize(errs *FieldErrors, allowLoopbackHTTP bool) {
	if !appIDRE.MatchString(w.AppID) {
		errs.Add("wechat.appId", "must be 1-64 characters of [A-Za-z0-9_]")
	}
	if w.BaseURL == "" {
		w.BaseURL = DefaultWeChatBaseURL
	} else if err := CheckURL(w.BaseURL, allowLoopbackHTTP); err != nil {
		errs.Add("wechat.baseUrl", "%v", err)
	}
	w.BaseURL = strings.TrimRight(w.BaseURL, "/")
	switch w.IDField {
	case "":
		w.IDField = "openid"
	case "openid", "unionid":
	default:
		errs.Add("wechat.idField", "%q must be openid or unionid", w.IDField)
	}
}

// normalize validates the HS256 verifier (the team's backend signs the
// login) and defaults its maximum token lifetime to DefaultHS256MaxTTL.
func (h *HS256) normalize(errs *FieldErrors) {
	if h.Issuer == "" {
		errs.Add("hs256.issuer", "required")
	}
	if h.Audience == "" {
		errs.Add("hs256.audience", "required")
	}
	if h.TenantClaim != "" {
		if err := CheckTenantClaim(h.TenantClaim); err != nil {
			errs.Add("hs256.tenantClaim", "%v", err)
		}
	}
	switch {
	case h.MaxTTLSeconds == 0:
		h.MaxTTLSeconds = int(DefaultHS256MaxTTL / time.Second)
	case h.MaxTTLSeconds < 1 || h.MaxTTLSeconds > 3600:
		errs.Add("hs256.maxTtlSeconds", "must be in 1..3600")
	}
}

// CheckURL accepts absolute https URLs, and http ones for loopback hosts
// when allowLoopbackHTTP is set (local mode and tests).
func CheckURL(raw string, allowLoopbackHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must be an absolute https URL without credentials, query or fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if allowLoopbackHTTP && IsLoopbackHost(u.Hostname()) {
			return nil
		}
	}
	return errors.New("must use https")
}

// IsLoopbackHost reports whether host (a URL's Hostname) is "localhost" or a
// loopback IP address: the only hosts s3vend talks to over plain http (local
// stand-ins and tests).
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
