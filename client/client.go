// Package client gets temporary AWS credentials for S3 from an s3vend token
// vendor, as an aws.CredentialsProvider for aws-sdk-go-v2.
//
// Enhanced flow (default): the login is posted to /v1/token, and the
// returned OpenID token is exchanged for credentials with Cognito's
// GetCredentialsForIdentity, through the SDK's Cognito Identity client.
// Basic flow: /v1/credentials returns credentials directly. Guests: /v1/guest.
//
//	creds, err := client.New(outputs.TokenEndpoint, func(ctx context.Context) (string, string, error) {
//		return "backend", myJWT(ctx), nil
//	})
//	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(outputs.Region), config.WithCredentialsProvider(creds.Cache()))
//	id, err := creds.IdentityID(ctx)
//	key := client.PrivateKey(id, "photo.jpg") // private/<identityId>/photo.jpg
//
// With access rules (docs/access-rules.md), keys are built for a rule:
//
//	rules, err := outputs.Rules()
//	who, err := creds.Identity(ctx)
//	key, err := client.Key(rules, "avatars", who, "me.jpg") // avatars/<userId>/me.jpg
//
// Credentials are cached by one aws.CredentialsCache, refreshed ahead of
// expiry; concurrent callers share one refresh. Hand the SDK that cache,
// Credentials.Cache: config.LoadDefaultConfig and the service clients use an
// *aws.CredentialsCache as it is and wrap any other provider in a cache of
// their own (config/resolve_credentials.go, wrapWithCredentialsCache), the
// pattern of aws-sdk-go-v2's credentials/stscreds, whose providers the
// caller wraps in aws.NewCredentialsCache exactly once. So Invalidate
// reaches the cache the S3 client reads. *Credentials itself is not an
// aws.CredentialsProvider, so the double-caching form does not compile.
package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"

	"github.com/s3vend/s3vend/contract"
)

// LoginFunc returns the login to post to the vendor: the name of one of its
// verifiers ("google", "wechat", "backend") and the credential that verifier
// checks (an ID token, a wx.login code, the backend's JWT). It is called once
// per refresh, so single-use credentials (WeChat codes) work.
type LoginFunc func(ctx context.Context) (provider, credential string, err error)

// Flow selects how credentials are obtained.
type Flow int

const (
	// FlowEnhanced posts to /v1/token and calls Cognito GetCredentialsForIdentity (default).
	FlowEnhanced Flow = iota
	// FlowBasic posts to /v1/credentials, which returns credentials (the pool must allow the basic flow).
	FlowBasic
)

func (f Flow) String() string {
	switch f {
	case FlowEnhanced:
		return "enhanced"
	case FlowBasic:
		return "basic"
	}
	return fmt.Sprintf("Flow(%d)", int(f))
}

// ParseFlow parses "enhanced" or "basic".
func ParseFlow(s string) (Flow, error) {
	switch s {
	case "enhanced":
		return FlowEnhanced, nil
	case "basic":
		return FlowBasic, nil
	}
	return 0, fmt.Errorf("flow %q: want enhanced or basic", s)
}

// CognitoAPI is the one Cognito Identity call the enhanced flow makes;
// *cognitoidentity.Client implements it.
type CognitoAPI interface {
	GetCredentialsForIdentity(ctx context.Context, in *cognitoidentity.GetCredentialsForIdentityInput, optFns ...func(*cognitoidentity.Options)) (*cognitoidentity.GetCredentialsForIdentityOutput, error)
}

var _ CognitoAPI = (*cognitoidentity.Client)(nil)

// Defaults of Options.
const (
	DefaultExpiryWindow = 5 * time.Minute
	DefaultJitterFrac   = 0.2
	DefaultTimeout      = time.Minute
)

// Options configure New and NewVendor.
type Options struct {
	// HTTPClient calls the vendor; default: a client with a 15 s timeout per
	// attempt. Vendor calls never follow redirects, with this client or the
	// default (a copy is used with CheckRedirect set).
	HTTPClient *http.Client
	// Flow: FlowEnhanced (default) or FlowBasic. Guests use whatever the vendor's /v1/guest returns.
	Flow Flow
	// Guest gets unauthenticated guest credentials from /v1/guest; LoginFunc may be nil.
	// The guest identity id is reused on refresh.
	Guest bool
	// Cognito overrides the Cognito Identity client of the enhanced flow. By
	// default one is built with config.LoadDefaultConfig in the region of the
	// vendor's response, so AWS_ENDPOINT_URL_COGNITO_IDENTITY, AWS_CA_BUNDLE and
	// the other standard settings apply.
	Cognito CognitoAPI
	// ExpiryWindow: credentials are refreshed this long before they expire.
	// 0 means DefaultExpiryWindow; negative means at expiry (Expires is then
	// the real expiration).
	ExpiryWindow time.Duration
	// ExpiryWindowJitterFrac randomises the window by up to this fraction, so
	// that many clients do not refresh at once. 0 means DefaultJitterFrac; negative means none.
	ExpiryWindowJitterFrac float64
	// MaxAttempts of each vendor call, including the first (default DefaultMaxAttempts).
	MaxAttempts int
	// MaxBackoff caps each wait between vendor attempts, Retry-After included (default DefaultMaxBackoff).
	MaxBackoff time.Duration
	// Timeout bounds one refresh (vendor attempts and Cognito); default DefaultTimeout.
	// The SDK's cache does not pass the caller's cancellation to a refresh, so
	// that one caller giving up does not fail the others waiting for it.
	Timeout time.Duration
}

func (o *Options) setDefaults() {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.ExpiryWindow == 0 {
		o.ExpiryWindow = DefaultExpiryWindow
	}
	if o.ExpiryWindowJitterFrac == 0 {
		o.ExpiryWindowJitterFrac = DefaultJitterFrac
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
}

// Errors of a refresh, besides *VendorError; test with errors.Is.
var (
	// ErrLogin wraps an error returned by the LoginFunc.
	ErrLogin = errors.New("login callback failed")
	// ErrCognito wraps a failed GetCredentialsForIdentity (the smithy
	// operation error, with the API error code, is wrapped too).
	ErrCognito = errors.New("cognito identity")
)

// Credentials are temporary AWS credentials from an s3vend token vendor, in
// one aws.CredentialsCache (Cache), with what the vendor said about the
// caller (Identity). Create it with New; it is safe for concurrent use.
type Credentials struct {
	cache   *aws.CredentialsCache
	fetcher *fetcher
}

// New returns credentials from the vendor at tokenEndpoint (the stack's
// TokenEndpoint output), logging in with login on every refresh.
func New(tokenEndpoint string, login LoginFunc, optFns ...func(*Options)) (*Credentials, error) {
	o := Options{}
	for _, fn := range optFns {
		fn(&o)
	}
	o.setDefaults()
	if o.Flow != FlowEnhanced && o.Flow != FlowBasic {
		return nil, fmt.Errorf("client: unknown %v", o.Flow)
	}
	if login == nil && !o.Guest {
		return nil, errors.New("client: a LoginFunc is required unless Guest is set")
	}
	v, err := newVendor(tokenEndpoint, &o)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	f := &fetcher{vendor: v, login: login, opts: o, cognito: o.Cognito}
	cache := aws.NewCredentialsCache(f, func(co *aws.CredentialsCacheOptions) {
		if o.ExpiryWindow > 0 {
			co.ExpiryWindow = o.ExpiryWindow
			co.ExpiryWindowJitterFrac = max(o.ExpiryWindowJitterFrac, 0)
		}
	})
	return &Credentials{cache: cache, fetcher: f}, nil
}

// Cache is the credentials provider to hand the AWS SDK
// (config.WithCredentialsProvider(creds.Cache()), or s3.Options.Credentials):
// the one cache of these credentials, which the SDK uses without wrapping it
// again. Its Retrieve returns cached credentials, refreshing them within the
// expiry window; concurrent callers share a single refresh (the cache's
// single-flight group). A refresh error wraps a *VendorError, ErrLogin or
// ErrCognito.
func (c *Credentials) Cache() *aws.CredentialsCache { return c.cache }

// Invalidate makes the next Retrieve of Cache (by the SDK or anyone) refresh.
func (c *Credentials) Invalidate() { c.cache.Invalidate() }

// Identity is what the vendor said about the caller in the last refresh.
type Identity struct {
	IdentityID     string // "<region>:<uuid>"; the S3 prefixes private/<IdentityID>/ and protected/<IdentityID>/ are the caller's
	Region         string // region of the identity pool (enhanced flow, or guest with the basic flow off); "" if unknown
	IdentityPoolID string // "" if unknown
	LoginKey       string // "" if unknown
	// UserID and Tenant are the caller's {userId} and {tenant} in the
	// stack's access rules ("" when the rules use none, or for guests).
	UserID string
	Tenant string
}

// KeyValues are the caller's placeholder values, for Rule.Key.
func (id Identity) KeyValues() contract.KeyValues {
	return contract.KeyValues{IdentityID: id.IdentityID, UserID: id.UserID, Tenant: id.Tenant}
}

// Key returns the key of name under the access rule for the caller: the
// rule's path with its placeholders replaced by the caller's own values,
// such as "avatars/google:42/me.jpg" for rule avatars/{userId}/*.
//
//	rules, _ := outputs.Rules()
//	id, _ := creds.Identity(ctx)
//	key, err := client.Key(rules, "avatars", id, "me.jpg")
func Key(rules contract.Rules, rule string, id Identity, name string) (string, error) {
	r, ok := rules.Named(rule)
	if !ok {
		return "", fmt.Errorf("no access rule %q (the stack's AccessRules output)", rule)
	}
	return r.Key(id.KeyValues(), name)
}

// Identity returns the caller's identity, retrieving credentials first if
// none were retrieved yet.
func (c *Credentials) Identity(ctx context.Context) (Identity, error) {
	if id := c.fetcher.identity(); id.IdentityID != "" {
		return id, nil
	}
	if _, err := c.cache.Retrieve(ctx); err != nil {
		return Identity{}, err
	}
	return c.fetcher.identity(), nil
}

// IdentityID returns the caller's Cognito identity id, to build its keys
// with PrivateKey and ProtectedKey.
func (c *Credentials) IdentityID(ctx context.Context) (string, error) {
	id, err := c.Identity(ctx)
	return id.IdentityID, err
}

// PrivateKey returns "private/<identityID>/<name>", a key only the identity can read and write.
func PrivateKey(identityID, name string) string {
	return "private/" + identityID + "/" + strings.TrimLeft(name, "/")
}

// ProtectedKey returns "protected/<identityID>/<name>", a key the identity
// writes and every signed-in user reads.
func ProtectedKey(identityID, name string) string {
	return "protected/" + identityID + "/" + strings.TrimLeft(name, "/")
}

// PublicKey returns "public/<name>", readable by anyone, written only by the bucket owner.
func PublicKey(name string) string { return "public/" + strings.TrimLeft(name, "/") }

// fetcher is the uncached provider behind the cache.
type fetcher struct {
	vendor *Vendor
	login  LoginFunc
	opts   Options

	mu      sync.Mutex
	id      Identity
	cognito CognitoAPI // the override, or the client built for cognitoRegion
	region  string     // region cognito was built for ("" for an override)
}

func (f *fetcher) identity() Identity {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.id
}

func (f *fetcher) setIdentity(id Identity) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.id = id
}

// Retrieve implements aws.CredentialsProvider without caching.
func (f *fetcher) Retrieve(ctx context.Context) (aws.Credentials, error) {
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	if f.opts.Guest {
		return f.guest(ctx)
	}
	provider, credential, err := f.login(ctx)
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("%w: %w", ErrLogin, err)
	}
	if f.opts.Flow == FlowBasic {
		r, err := f.vendor.Credentials(ctx, provider, credential)
		if err != nil {
			return aws.Credentials{}, err
		}
		f.setIdentity(Identity{IdentityID: r.IdentityID, UserID: r.UserID, Tenant: r.Tenant})
		return awsCredentials(r.AccessKeyID, r.SecretAccessKey, r.SessionToken, r.Expiration), nil
	}
	t, err := f.vendor.Token(ctx, provider, credential)
	if err != nil {
		return aws.Credentials{}, err
	}
	id := Identity{IdentityID: t.IdentityID, Region: t.Region, IdentityPoolID: t.IdentityPoolID, LoginKey: t.LoginKey, UserID: t.UserID, Tenant: t.Tenant}
	return f.exchange(ctx, id, t.Token)
}

func (f *fetcher) guest(ctx context.Context) (aws.Credentials, error) {
	prev := f.identity().IdentityID
	g, err := f.vendor.Guest(ctx, prev)
	var ve *VendorError
	if prev != "" && errors.As(err, &ve) && ve.Status == http.StatusUnauthorized {
		// The remembered guest identity is no longer a guest of this pool
		// (e.g. the pool was replaced): start a new one.
		g, err = f.vendor.Guest(ctx, "")
	}
	if err != nil {
		return aws.Credentials{}, err
	}
	if g.HasCredentials() {
		f.setIdentity(Identity{IdentityID: g.IdentityID})
		return awsCredentials(g.AccessKeyID, g.SecretAccessKey, g.SessionToken, *g.Expiration), nil
	}
	id := Identity{IdentityID: g.IdentityID, Region: g.Region, IdentityPoolID: g.IdentityPoolID, LoginKey: g.LoginKey}
	return f.exchange(ctx, id, g.Token)
}

// exchange calls GetCredentialsForIdentity(identityId, Logins{loginKey: token}).
// "This is a public API. You do not need any credentials to call this API."
// (Amazon Cognito Identity API Reference, GetCredentialsForIdentity); the SDK
// resolves the anonymous auth scheme for it (service/cognitoidentity auth.go,
// operationAuthOptions["GetCredentialsForIdentity"] = SchemeIDAnonymous).
func (f *fetcher) exchange(ctx context.Context, id Identity, token string) (aws.Credentials, error) {
	cog, err := f.cognitoClient(ctx, id.Region)
	if err != nil {
		return aws.Credentials{}, err
	}
	out, err := cog.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{
		IdentityId: aws.String(id.IdentityID),
		Logins:     map[string]string{id.LoginKey: token},
	})
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("%w: %w", ErrCognito, err)
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretKey == nil || c.Expiration == nil {
		return aws.Credentials{}, fmt.Errorf("%w: GetCredentialsForIdentity returned no credentials or no expiration", ErrCognito)
	}
	if out.IdentityId != nil && *out.IdentityId != "" {
		id.IdentityID = *out.IdentityId
	}
	f.setIdentity(id)
	return awsCredentials(*c.AccessKeyId, *c.SecretKey, aws.ToString(c.SessionToken), *c.Expiration), nil
}

// cognitoClient returns the override, or a client for region built from the
// default config with anonymous credentials. config.LoadDefaultConfig reads
// AWS_ENDPOINT_URL_COGNITO_IDENTITY (config/env_config.go
// GetServiceBaseEndpoint: AWS_ENDPOINT_URL_<sdkID upper-cased, spaces to
// '_'>, applied by service/cognitoidentity endpoints.go resolveBaseEndpoint)
// and AWS_CA_BUNDLE (config/env_config.go awsCABundleEnv, loaded by
// config/resolve.go resolveCustomCABundle into the HTTP client's root CAs).
func (f *fetcher) cognitoClient(ctx context.Context, region string) (CognitoAPI, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cognito != nil && (f.opts.Cognito != nil || f.region == region) {
		return f.cognito, nil
	}
	if region == "" {
		return nil, fmt.Errorf("%w: the vendor returned no region", ErrCognito)
	}
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(region),
		config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	if err != nil {
		return nil, fmt.Errorf("%w: loading the AWS SDK configuration: %w", ErrCognito, err)
	}
	f.cognito, f.region = cognitoidentity.NewFromConfig(cfg), region
	return f.cognito, nil
}

func awsCredentials(akid, secret, session string, exp time.Time) aws.Credentials {
	return aws.Credentials{
		AccessKeyID:     akid,
		SecretAccessKey: secret,
		SessionToken:    session,
		Source:          "s3vend",
		CanExpire:       true,
		Expires:         exp,
	}
}
