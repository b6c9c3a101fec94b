// Package vend is the core of the token vendor: it verifies a login with the
// named verifier and obtains Cognito tokens and STS credentials. It depends
// only on the small interfaces declared here; the AWS adapters live in awsx.
package vend

import (
	"context"
	"errors"
	"maps"
	"regexp"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/verify"
)

// IdentityToken is a Cognito identity and its OpenID token.
type IdentityToken struct {
	IdentityID string
	Token      string
}

// DeveloperLogin is the input of GetOpenIdTokenForDeveloperIdentity.
type DeveloperLogin struct {
	IdentityPoolID    string
	DeveloperProvider string
	UserID            string
	TokenDuration     time.Duration
	// PrincipalTags become the session tags of the credentials the token is
	// exchanged for (contract/tags.go); nil for none.
	PrincipalTags map[string]string
}

// Cognito is what the core needs from Cognito Identity.
type Cognito interface {
	// DeveloperToken calls GetOpenIdTokenForDeveloperIdentity.
	DeveloperToken(ctx context.Context, in DeveloperLogin) (IdentityToken, error)
	// GetID calls GetId without logins (a guest identity).
	GetID(ctx context.Context, identityPoolID string) (string, error)
	// OpenIDToken calls GetOpenIdToken without logins (a guest token).
	OpenIDToken(ctx context.Context, identityID string) (IdentityToken, error)
	// CredentialsForIdentity calls GetCredentialsForIdentity (enhanced flow)
	// with logins such as {LoginKey: token}.
	CredentialsForIdentity(ctx context.Context, identityID string, logins map[string]string) (AWSCredentials, error)
}

// AssumeInput is the input of AssumeRoleWithWebIdentity.
type AssumeInput struct {
	RoleARN     string
	SessionName string
	Token       string
	Policy      string // optional session policy
	Duration    time.Duration
}

// AWSCredentials are temporary credentials from STS.
type AWSCredentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// STS is what the core needs from STS.
type STS interface {
	AssumeRoleWithWebIdentity(ctx context.Context, in AssumeInput) (AWSCredentials, error)
}

// Config is the core's slice of the service configuration.
type Config struct {
	IdentityPoolID     string
	DeveloperProvider  string
	Region             string
	LoginKey           string
	AuthRoleARN        string
	UnauthRoleARN      string
	GuestsEnabled      bool
	BasicFlow          bool // the pool allows the basic flow; false: no /v1/credentials, enhanced-flow guests
	TokenDuration      time.Duration
	CredentialLifetime time.Duration
	SessionPolicy      string
	Upload             UploadConfig     // POST /v1/upload; off without a bucket
	Now                func() time.Time // default time.Now
	// NewGuestsPerSecond and NewGuestsBurst cap new guest identities per
	// instance (defaults DefaultNewGuestsPerSecond, DefaultNewGuestsBurst;
	// a negative rate: no cap).
	NewGuestsPerSecond float64
	NewGuestsBurst     int
	// Cache configures the per-instance reuse cache (cache.go); its zero
	// value is on with the contract's defaults.
	Cache contract.CacheSettings
	// ShedWindow is how long developer-token calls are refused after Cognito
	// throttled one (default DefaultShedWindow; negative: never).
	ShedWindow time.Duration
	// Abuse is revocation and quota (abuse.go); the zero value is off.
	Abuse AbuseConfig
	// FillTimeout bounds a reuse-cache miss's upstream calls, which run
	// detached from the request that started them (cache.go); default
	// contract.DefaultUpstreamTimeout. The service sets the upstream
	// deadline (S3VEND_UPSTREAM_TIMEOUT).
	FillTimeout time.Duration
	// SessionTags are the keys of the session tags signed-in users'
	// credentials carry (contract.SessionTags; S3VEND_SESSION_TAGS).
	SessionTags []string
}

// Token is the result of POST /v1/token (httpapi answers it as a
// wire.TokenResponse).
type Token struct {
	IdentityID     string
	Token          string
	ExpiresAt      time.Time
	IdentityPoolID string
	Region         string
	LoginKey       string
	// UserID and Tenant are the caller's {userId} and {tenant} for access
	// rule keys (their session tag values, contract.UserTagValue); only
	// when the rules use them.
	UserID, Tenant string
	// Cached: served from the reuse cache, no AWS call (not in the body).
	Cached bool
}

// Credentials is the result of POST /v1/credentials, POST /v1/session and,
// with the basic flow, POST /v1/guest.
type Credentials struct {
	IdentityID      string
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
	// UserID and Tenant: as in Token (signed-in users only).
	UserID, Tenant string
	// Cached: served from the reuse cache, no AWS call (not in the body).
	Cached bool
}

// GuestToken is the result of POST /v1/guest when the pool does not allow the
// basic flow: the client calls GetCredentialsForIdentity itself with
// Logins {LoginKey: Token} (enhanced flow).
type GuestToken struct {
	IdentityID     string
	Token          string
	IdentityPoolID string
	Region         string
	LoginKey       string
}

// Service vends tokens and credentials.
type Service struct {
	cfg        Config
	verifiers  map[string]verify.Verifier
	cognito    Cognito
	sts        STS
	posts      PostSigner
	uploadErrs uploadErrors
	newGuests  *rate.Limiter // nil: no cap
	reuse      *reuse        // nil: cache off
	shed       *shedder      // nil: no shedding window
	// linked is the login -> identity map of users this instance vended
	// to (abuse.go, quotaState); bounded like the reuse cache.
	linked *lru.Cache[string, string]
}

// New returns a Service. Verifier names must be unique (config checks this).
// posts may be nil when cfg.Upload has no bucket (the upload route is off).
func New(cfg Config, verifiers []verify.Verifier, cognito Cognito, sts STS, posts PostSigner) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := make(map[string]verify.Verifier, len(verifiers))
	for _, v := range verifiers {
		m[v.Name()] = v
	}
	if cfg.ShedWindow == 0 {
		cfg.ShedWindow = DefaultShedWindow
	}
	if cfg.FillTimeout <= 0 {
		cfg.FillTimeout = contract.DefaultUpstreamTimeout
	}
	if cfg.Upload.Rules == nil {
		cfg.Upload.Rules = contract.DefaultRules().UploadRules()
	}
	s := &Service{cfg: cfg, verifiers: m, cognito: cognito, sts: sts, posts: posts,
		uploadErrs: newUploadErrors(cfg.Upload.Limits), newGuests: newGuestLimiter(cfg), reuse: newReuse(cfg.Cache)}
	s.linked, _ = lru.New[string, string](contract.DefaultCacheMaxEntries) // errors only for size <= 0
	if cfg.ShedWindow > 0 {
		s.shed = newShedder(cfg.ShedWindow)
	}
	if v, ok := cfg.Abuse.Admission.(interface{ OnRevoked(func([]string)) }); ok {
		v.OnRevoked(s.dropCached)
	}
	return s
}

// HasProvider reports whether name is a configured verifier.
func (s *Service) HasProvider(name string) bool {
	_, ok := s.verifiers[name]
	return ok
}

// GuestsEnabled reports whether /v1/guest is served.
func (s *Service) GuestsEnabled() bool { return s.cfg.GuestsEnabled }

// BasicFlow reports whether the pool allows the basic flow: /v1/credentials
// is served and guests get credentials (Guest) rather than a token (GuestToken).
func (s *Service) BasicFlow() bool { return s.cfg.BasicFlow }

// Token verifies the credential and makes at most one AWS call:
// GetOpenIdTokenForDeveloperIdentity (none on a cache hit).
func (s *Service) Token(ctx context.Context, provider, credential string) (Token, error) {
	user, err := s.verifyUser(ctx, provider, credential)
	if err != nil {
		return Token{}, err
	}
	it, expires, hit, err := s.developerToken(ctx, user)
	if err != nil {
		return Token{}, err
	}
	if err := s.admit(ctx, "", it.IdentityID); err != nil {
		return Token{}, err
	}
	return Token{
		IdentityID:     it.IdentityID,
		Token:          it.Token,
		ExpiresAt:      expires,
		IdentityPoolID: s.cfg.IdentityPoolID,
		Region:         s.cfg.Region,
		LoginKey:       s.cfg.LoginKey,
		UserID:         user.tags[contract.TagUser],
		Tenant:         user.tags[contract.TagTenant],
		Cached:         hit,
	}, nil
}

// Session answers POST /v1/session: the caller's identity id and its own
// temporary credentials in one round trip, through whichever flow the pool
// allows, so that a client without Cognito (a WeChat mini-program, whose
// domain list then needs only the API and the bucket) can sign S3 requests.
// With the basic flow it is Credentials (AssumeRoleWithWebIdentity: the
// session policy and credential lifetime apply; the same cache entry as
// /v1/credentials); without it, GetCredentialsForIdentity on the vendor's
// side (the enhanced flow; the same cache entry as /v1/upload's signing
// credentials). At most two AWS calls, none on a cache hit.
func (s *Service) Session(ctx context.Context, provider, credential string) (Credentials, error) {
	if s.cfg.BasicFlow {
		return s.Credentials(ctx, provider, credential)
	}
	user, err := s.verifyUser(ctx, provider, credential)
	if err != nil {
		return Credentials{}, err
	}
	e, hit, err := s.identityCredentials(ctx, user, 0)
	if err != nil {
		return Credentials{}, err
	}
	return e.credentials(user, hit), nil
}

// Credentials verifies the credential and makes at most two AWS calls:
// GetOpenIdTokenForDeveloperIdentity, then AssumeRoleWithWebIdentity on the
// authenticated role (basic flow); none on a cache hit.
func (s *Service) Credentials(ctx context.Context, provider, credential string) (Credentials, error) {
	if !s.cfg.BasicFlow {
		return Credentials{}, fault.New(fault.ErrBasicFlowDisabled, "credentials need the basic flow", nil)
	}
	user, err := s.verifyUser(ctx, provider, credential)
	if err != nil {
		return Credentials{}, err
	}
	e, hit, err := s.cached(ctx, user.key(kindCredentials), 0, func(ctx context.Context) (cacheEntry, error) {
		it, _, _, err := s.developerToken(ctx, user)
		if err != nil {
			return cacheEntry{}, err
		}
		if err := checkTokenTags(it.Token, user.tags); err != nil {
			return cacheEntry{}, err
		}
		c, err := s.assume(ctx, s.cfg.AuthRoleARN, it)
		if err != nil {
			return cacheEntry{}, err
		}
		return cacheEntry{it: IdentityToken{IdentityID: c.IdentityID}, creds: AWSCredentials{
			AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Expiration: c.Expiration,
		}}, nil
	})
	if err != nil {
		return Credentials{}, err
	}
	if err := s.admit(ctx, "", e.it.IdentityID); err != nil {
		return Credentials{}, err
	}
	return e.credentials(user, hit), nil
}

// credentials is the answer of a cached credentials entry for user; hit: it
// came from the cache.
func (e cacheEntry) credentials(user verifiedUser, hit bool) Credentials {
	return Credentials{
		IdentityID:      e.it.IdentityID,
		AccessKeyID:     e.creds.AccessKeyID,
		SecretAccessKey: e.creds.SecretAccessKey,
		SessionToken:    e.creds.SessionToken,
		Expiration:      e.creds.Expiration.UTC(),
		UserID:          user.tags[contract.TagUser],
		Tenant:          user.tags[contract.TagTenant],
		Cached:          hit,
	}
}

// Guest vends unauthenticated-role credentials (basic flow): GetId (unless
// identityID is given, to reuse a guest identity), GetOpenIdToken,
// AssumeRoleWithWebIdentity.
func (s *Service) Guest(ctx context.Context, identityID string) (Credentials, error) {
	if s.cfg.GuestsEnabled && !s.cfg.BasicFlow {
		return Credentials{}, fault.New(fault.ErrBasicFlowDisabled, "guest credentials need the basic flow", nil)
	}
	it, err := s.guestToken(ctx, identityID)
	if err != nil {
		return Credentials{}, err
	}
	return s.assume(ctx, s.cfg.UnauthRoleARN, it)
}

// GuestToken vends a guest identity's OpenID token for the enhanced flow:
// GetId (unless identityID is given, to reuse a guest identity) and
// GetOpenIdToken, nothing else. The client exchanges the token itself with
// GetCredentialsForIdentity.
func (s *Service) GuestToken(ctx context.Context, identityID string) (GuestToken, error) {
	it, err := s.guestToken(ctx, identityID)
	if err != nil {
		return GuestToken{}, err
	}
	return GuestToken{
		IdentityID:     it.IdentityID,
		Token:          it.Token,
		IdentityPoolID: s.cfg.IdentityPoolID,
		Region:         s.cfg.Region,
		LoginKey:       s.cfg.LoginKey,
	}, nil
}

func (s *Service) guestToken(ctx context.Context, identityID string) (IdentityToken, error) {
	if !s.cfg.GuestsEnabled {
		return IdentityToken{}, fault.New(fault.ErrNotFound, "guests disabled", nil)
	}
	if identityID == "" {
		if !s.allowNewGuest(s.cfg.Now()) {
			return IdentityToken{}, fault.New(fault.ErrRateLimited, "new guest identities over the per-instance cap", nil)
		}
		id, err := s.cognito.GetID(ctx, s.cfg.IdentityPoolID)
		if err != nil {
			return IdentityToken{}, err
		}
		identityID = id
	} else if !ValidIdentityID(identityID, s.cfg.Region) {
		return IdentityToken{}, fault.New(fault.ErrInvalidCredential, "malformed identity id", nil)
	}
	if err := s.admit(ctx, "", identityID); err != nil {
		return IdentityToken{}, err
	}
	it, err := s.cognito.OpenIDToken(ctx, identityID)
	if err != nil {
		if errors.Is(err, fault.ErrIdentityRejected) {
			return IdentityToken{}, fault.New(fault.ErrInvalidCredential, "identity is not a guest identity of this pool", err)
		}
		return IdentityToken{}, err
	}
	return it, nil
}

// verifiedUser is a login that passed its verifier: the namespaced user id
// (UserID, the Cognito developer user identifier) and the session tags its
// credentials carry.
type verifiedUser struct {
	id   string
	tags map[string]string // nil without Config.SessionTags
}

// keyValues are the user's values for access-rule keys (the identity id
// is added once known).
func (u verifiedUser) keyValues() contract.KeyValues {
	return contract.KeyValues{UserID: u.tags[contract.TagUser], Tenant: u.tags[contract.TagTenant]}
}

// key is the user's reuse-cache key for kind: per user and per tag set, so
// that credentials are never served with tags other than the ones the
// request's verification produced (a tenant that changed, a new tag).
func (u verifiedUser) key(kind cacheKind) cacheKey {
	return cacheKey{kind: kind, user: u.id, tags: contract.TagSetKey(u.tags)}
}

// verifyUser verifies the credential with the named verifier and returns the
// namespaced user id (UserID) and its session tags. Every request is
// verified, cache or not, and then admitted: a revoked user is refused
// here, before any cache lookup.
func (s *Service) verifyUser(ctx context.Context, provider, credential string) (verifiedUser, error) {
	v, ok := s.verifiers[provider]
	if !ok {
		return verifiedUser{}, fault.New(fault.ErrUnknownProvider, "no such verifier", nil)
	}
	id, err := v.Verify(ctx, credential)
	if err != nil {
		return verifiedUser{}, err
	}
	user := UserID(provider, id.ID)
	if err := s.admit(ctx, user); err != nil {
		return verifiedUser{}, err
	}
	tags, err := s.sessionTags(ctx, provider, user, id)
	if err != nil {
		return verifiedUser{}, err
	}
	return verifiedUser{id: user, tags: tags}, nil
}

// sessionTags are the values of the configured session tags for a verified
// identity, one per key of Config.SessionTags. A verifier without a
// tenantClaim gives its users no tenant tag: rules keyed by {tenant} do not
// apply to them (IAM does not match a policy variable without a value). An
// id that cannot be a tag value is refused (contract.UserTagValue), never
// truncated.
func (s *Service) sessionTags(ctx context.Context, provider, user string, id verify.Identity) (map[string]string, error) {
	if len(s.cfg.SessionTags) == 0 {
		return nil, nil
	}
	tags := make(map[string]string, len(s.cfg.SessionTags))
	for _, key := range s.cfg.SessionTags {
		var v string
		var err error
		switch key {
		case contract.TagUser:
			v, err = contract.UserTagValue(provider, id.ID)
		case contract.TagTenant:
			if id.Tenant == "" {
				continue
			}
			v, err = contract.UserTagValue(provider, id.Tenant)
		case contract.TagQuota:
			tags[key] = s.quotaState(ctx, user) // abuse.go
			continue
		default: // config checked the keys against the contract's table
			return nil, fault.New(fault.ErrUpstream, "session tag without a value source: "+key, nil)
		}
		if err != nil {
			return nil, fault.New(fault.ErrUnsupportedUserID, "user id or tenant too long for a session tag", err)
		}
		tags[key] = v
	}
	return tags, nil
}

// checkTokenTags makes sure the token from GetOpenIdTokenForDeveloperIdentity
// carries exactly the session tags asked for in its
// https://aws.amazon.com/tags claim, which is the only place
// AssumeRoleWithWebIdentity takes session tags from (contract/tags.go, fact
// 3). Credentials without their tags would deny every rule keyed by them, so
// the basic flow refuses instead of vending them.
func checkTokenTags(token string, want map[string]string) error {
	if len(want) == 0 {
		return nil
	}
	got, err := contract.TokenPrincipalTags(token)
	if err != nil || !maps.Equal(got, want) {
		return fault.New(fault.ErrUpstream, "GetOpenIdTokenForDeveloperIdentity: the token does not carry the principal tags (basic-flow credentials would lack their session tags)", err)
	}
	return nil
}

// developerToken returns user's Cognito identity and token and its expiry,
// from the cache (hit) or from GetOpenIdTokenForDeveloperIdentity. Within a
// shedding window after a throttle it refuses at once (ErrThrottled).
func (s *Service) developerToken(ctx context.Context, user verifiedUser) (IdentityToken, time.Time, bool, error) {
	e, hit, err := s.cached(ctx, user.key(kindToken), 0, func(ctx context.Context) (cacheEntry, error) {
		start := s.cfg.Now()
		if s.shed != nil && s.shed.shedding() {
			return cacheEntry{}, fault.New(fault.ErrThrottled, "GetOpenIdTokenForDeveloperIdentity: shedding load after a throttle", nil)
		}
		it, err := s.cognito.DeveloperToken(ctx, DeveloperLogin{
			IdentityPoolID:    s.cfg.IdentityPoolID,
			DeveloperProvider: s.cfg.DeveloperProvider,
			UserID:            user.id,
			TokenDuration:     s.cfg.TokenDuration,
			PrincipalTags:     user.tags,
		})
		if err != nil {
			if s.shed != nil {
				s.shed.observe(err)
			}
			return cacheEntry{}, err
		}
		// The token's lifetime starts no earlier than our call: a conservative expiry.
		return cacheEntry{it: it, expires: start.Add(s.cfg.TokenDuration).UTC().Truncate(time.Second)}, nil
	})
	if err != nil {
		return IdentityToken{}, time.Time{}, false, err
	}
	s.link(ctx, user.id, e.it.IdentityID) // abuse.go: the quota state of the next vend
	return e.it, e.expires, hit, nil
}

func (s *Service) assume(ctx context.Context, role string, it IdentityToken) (Credentials, error) {
	c, err := s.sts.AssumeRoleWithWebIdentity(ctx, AssumeInput{
		RoleARN:     role,
		SessionName: SessionName(it.IdentityID),
		Token:       it.Token,
		Policy:      s.cfg.SessionPolicy,
		Duration:    s.cfg.CredentialLifetime,
	})
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{
		IdentityID:      it.IdentityID,
		AccessKeyID:     c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey,
		SessionToken:    c.SessionToken,
		Expiration:      c.Expiration.UTC(),
	}, nil
}

// UserID namespaces a verifier's user id, so that two verifiers can never
// map to the same Cognito identity.
func UserID(verifier, id string) string { return verifier + ":" + id }

var (
	sessionUnsafe = regexp.MustCompile(`[^\w+=,.@-]`)
	identityIDRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d:[0-9a-f-]{36}$`)
)

// SessionName derives an STS RoleSessionName ([\w+=,.@-]{2,64}) from an
// identity id such as "eu-west-1:1234...".
func SessionName(identityID string) string {
	_, after, _ := strings.Cut(identityID, ":")
	n := "s3vend-" + sessionUnsafe.ReplaceAllString(after, "")
	if len(n) > 64 {
		n = n[:64]
	}
	return n
}

// ValidIdentityID reports whether id looks like an identity id of region.
func ValidIdentityID(id, region string) bool {
	return identityIDRE.MatchString(id) && strings.HasPrefix(id, region+":")
}
