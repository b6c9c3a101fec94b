// Package config reads and validates the token vendor's environment once, at
// start-up. Every error names the variable (and field) at fault and never
// echoes a secret.
package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/s3vend/s3vend/contract"
)

// Environment variable names, from the contract shared with the CDK stack.
const (
	EnvRegion             = contract.EnvRegion
	EnvIdentityPoolID     = contract.EnvIdentityPoolID
	EnvDeveloperProvider  = contract.EnvDeveloperProvider
	EnvAuthRoleARN        = contract.EnvAuthRoleARN
	EnvUnauthRoleARN      = contract.EnvUnauthRoleARN
	EnvGuestsEnabled      = contract.EnvGuestsEnabled
	EnvBasicFlow          = contract.EnvBasicFlow
	EnvTokenDuration      = contract.EnvTokenDuration
	EnvCredentialLifetime = contract.EnvCredentialLifetime
	EnvSessionPolicy      = contract.EnvSessionPolicy
	EnvVerifiers          = contract.EnvVerifiers
	EnvSecretARN          = contract.EnvSecretARN
	EnvSecretsFile        = contract.EnvSecretsFile
	EnvUpstreamTimeout    = contract.EnvUpstreamTimeout
	EnvMaxAttempts        = contract.EnvMaxAttempts
	EnvListen             = contract.EnvListen
	EnvLambdaRuntimeAPI   = contract.EnvLambdaRuntimeAPI
	EnvMetricsStack       = contract.EnvMetricsStack
)

// Upload route (POST /v1/upload) variables, from the contract.
const (
	EnvBucket             = contract.EnvBucket
	EnvUploadMaxBytes     = contract.EnvUploadMaxBytes
	EnvUploadContentTypes = contract.EnvUploadContentTypes
	EnvUploadExpiry       = contract.EnvUploadExpiry
)

// The verifier document, defined by the contract.
type (
	Verifiers = contract.Verifiers
	OIDC      = contract.OIDC
	WeChat    = contract.WeChat
	HS256     = contract.HS256
)

// AllowedAlgorithms are the asymmetric JWS algorithms an OIDC verifier may accept.
var AllowedAlgorithms = contract.AllowedAlgorithms

// ParseVerifiers decodes and validates S3VEND_VERIFIERS (http allowed for
// loopback hosts only, for local mode and tests).
func ParseVerifiers(raw []byte) (Verifiers, error) { return contract.ParseVerifiers(raw, true) }

// CheckURL accepts https URLs, and http only for loopback hosts.
func CheckURL(raw string) error { return contract.CheckURL(raw, true) }

// Defaults and limits, from the contract shared with the CDK stack.
const (
	DefaultTokenDuration      = contract.DefaultTokenDuration
	DefaultCredentialLifetime = contract.DefaultCredentialLifetime
	DefaultMaxAttempts        = contract.DefaultMaxAttempts
	DefaultHS256MaxTTL        = contract.DefaultHS256MaxTTL
	MinHS256KeyBytes          = contract.MinHS256KeyBytes
)

// DefaultUpstreamTimeout is the upstream deadline when S3VEND_UPSTREAM_TIMEOUT
// is unset (local mode): the one of the stack's default Lambda timeout.
var DefaultUpstreamTimeout = contract.DefaultUpstreamTimeout

// Config is the validated service configuration.
type Config struct {
	Region             string
	IdentityPoolID     string
	DeveloperProvider  string
	AuthRoleARN        string
	UnauthRoleARN      string
	GuestsEnabled      bool
	BasicFlow          bool // pool allows the basic (classic) flow; false disables /v1/credentials and gives guests the enhanced flow
	TokenDuration      time.Duration
	CredentialLifetime time.Duration
	SessionPolicy      string
	Verifiers          Verifiers
	SecretARN          string
	SecretsFile        string
	UpstreamTimeout    time.Duration
	MaxAttempts        int
	Listen             string
	InLambda           bool
	// Bucket is S3VEND_BUCKET: "" turns POST /v1/upload off (404).
	Bucket string
	// Upload are the upload route's limits (defaults applied).
	Upload contract.UploadLimits
	// MetricsStack is the Stack dimension of the EMF metrics; "" emits none.
	MetricsStack string
	// Cache configures the reuse cache (S3VEND_CACHE_*, defaults applied).
	Cache contract.CacheSettings
	// RevocationsTable is S3VEND_REVOCATIONS_TABLE: "" turns the
	// revocation check off; RevocationRefresh its view's interval.
	RevocationsTable  string
	RevocationRefresh time.Duration
	// UsageTable is S3VEND_USAGE_TABLE and Quota the userQuota; both are
	// needed for the upload route's quota check.
	UsageTable string
	Quota      contract.UserQuota
	// SessionTags are the keys of the session tags the vendor sets
	// (S3VEND_SESSION_TAGS; contract/tags.go).
	SessionTags []string
	// UploadRules are the access rules POST /v1/upload signs keys for
	// (S3VEND_ACCESS_RULES; unset: the default layout's).
	UploadRules []contract.UploadRule
}

// LoginKey is the Logins key clients use with GetCredentialsForIdentity for
// the tokens this service vends: the region's own issuer in China.
func (c Config) LoginKey() string { return contract.LoginKey(c.Region) }

// NeedsSecrets reports whether a verifier needs the shared secret.
func (c Config) NeedsSecrets() bool {
	return c.Verifiers.WeChat != nil || c.Verifiers.HS256 != nil
}

// Secrets is the SecretString of S3VEND_SECRET_ARN (or S3VEND_SECRETS_FILE locally).
type Secrets struct {
	WeChatAppSecret string `json:"wechatAppSecret,omitempty"`
	HS256Key        string `json:"hs256Key,omitempty"`
	// HS256NextKey is accepted as well as HS256Key during a key rotation
	// (docs/runbook.md#rotating-the-secret).
	HS256NextKey string `json:"hs256NextKey,omitempty"`
}

// HS256Keys are the accepted HS256 keys, current first; none when
// hs256Key is empty.
func (s Secrets) HS256Keys() [][]byte {
	if s.HS256Key == "" {
		return nil
	}
	keys := [][]byte{[]byte(s.HS256Key)}
	if s.HS256NextKey != "" {
		keys = append(keys, []byte(s.HS256NextKey))
	}
	return keys
}

// ExampleIdentityPoolID is a well-formed identity pool id, quoted in errors and docs.
const ExampleIdentityPoolID = contract.ExampleIdentityPoolID

// SecretSourceHelp says which secret source to use where; every error about a
// missing secret source ends with it.
const SecretSourceHelp = "set " + EnvSecretARN + " to the Secrets Manager secret's ARN in Lambda, or " +
	EnvSecretsFile + " to a JSON file with the same fields (hs256Key, wechatAppSecret) when running locally"

// stackRE is a CloudFormation stack name: "[a-zA-Z][-a-zA-Z0-9]*", at most
// 128 characters (CreateStack, StackName).
var stackRE = regexp.MustCompile(`^[A-Za-z][-A-Za-z0-9]{0,127}$`)

// FromEnv reads the configuration through getenv (os.Getenv in main). It
// reports every bad variable, in the order below, not only the first.
func FromEnv(getenv func(string) string) (Config, error) {
	r := &envReader{getenv: getenv}
	c := Config{
		Region:            getenv(EnvRegion),
		IdentityPoolID:    getenv(EnvIdentityPoolID),
		DeveloperProvider: getenv(EnvDeveloperProvider),
		AuthRoleARN:       getenv(EnvAuthRoleARN),
		UnauthRoleARN:     getenv(EnvUnauthRoleARN),
		SessionPolicy:     getenv(EnvSessionPolicy),
		SecretARN:         getenv(EnvSecretARN),
		SecretsFile:       getenv(EnvSecretsFile),
		Listen:            getenv(EnvListen),
		InLambda:          getenv(EnvLambdaRuntimeAPI) != "",
		MetricsStack:      getenv(EnvMetricsStack),
		Bucket:            getenv(EnvBucket),
		RevocationsTable:  getenv(contract.EnvRevocationsTable),
		UsageTable:        getenv(contract.EnvUsageTable),
	}
	r.pool(&c)
	r.flows(&c)
	r.upstream(&c)
	r.verifiers(&c)
	r.storage(&c)
	r.tags(&c)
	if len(r.errs) > 0 {
		return Config{}, errors.Join(r.errs...)
	}
	return c, nil
}

// envReader collects the errors of FromEnv, each naming its variable.
type envReader struct {
	getenv func(string) string
	errs   []error
}

func (r *envReader) bad(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
}

// add keeps err, which already names its variable (the contract's parsers).
func (r *envReader) add(err error) {
	if err != nil {
		r.errs = append(r.errs, err)
	}
}

// pool checks the metrics stack, the region, the identity pool, its
// developer provider and roles, and whether guests are on.
func (r *envReader) pool(c *Config) {
	if c.MetricsStack != "" && !stackRE.MatchString(c.MetricsStack) {
		r.bad(EnvMetricsStack, "must be a CloudFormation stack name (a letter, then up to 127 letters, digits and '-'), or unset for no metrics")
	}
	region := ""
	if !contract.ValidRegion(c.Region) {
		r.bad(EnvRegion, "must be an AWS region such as eu-west-1")
	} else if _, err := contract.PartitionFor(c.Region); err != nil {
		r.bad(EnvRegion, "%v", err)
	} else {
		region = c.Region
	}
	if err := contract.CheckIdentityPoolID(c.IdentityPoolID, region); err != nil {
		r.bad(EnvIdentityPoolID, "%v (%s is %q)", err, EnvRegion, c.Region)
	}
	if err := contract.CheckDeveloperProvider(c.DeveloperProvider); err != nil {
		r.bad(EnvDeveloperProvider, "%v", err)
	}
	if !contract.ValidRoleARN(c.AuthRoleARN) {
		r.bad(EnvAuthRoleARN, "must be an IAM role ARN")
	}
	switch g := r.getenv(EnvGuestsEnabled); g {
	case "true":
		c.GuestsEnabled = true
		if !contract.ValidRoleARN(c.UnauthRoleARN) {
			r.bad(EnvUnauthRoleARN, "must be an IAM role ARN when %s=true", EnvGuestsEnabled)
		}
	case "false", "":
		if c.UnauthRoleARN != "" && !contract.ValidRoleARN(c.UnauthRoleARN) {
			r.bad(EnvUnauthRoleARN, "must be an IAM role ARN")
		}
	default:
		r.bad(EnvGuestsEnabled, "must be true or false")
	}
}

// flows reads the basic flow switch, the token and credential lifetimes and
// the basic flow's session policy.
func (r *envReader) flows(c *Config) {
	switch r.getenv(EnvBasicFlow) {
	case "true", "":
		c.BasicFlow = true
	case "false":
	default:
		r.bad(EnvBasicFlow, "must be true or false")
	}
	var err error
	if c.TokenDuration, err = seconds(r.getenv(EnvTokenDuration), DefaultTokenDuration, contract.CheckTokenDuration); err != nil {
		r.bad(EnvTokenDuration, "%v", err)
	}
	if c.CredentialLifetime, err = seconds(r.getenv(EnvCredentialLifetime), DefaultCredentialLifetime, contract.CheckCredentialLifetime); err != nil {
		r.bad(EnvCredentialLifetime, "%v", err)
	}
	if err := contract.CheckSessionPolicy(c.SessionPolicy); err != nil {
		r.bad(EnvSessionPolicy, "%v", err)
	} else if c.SessionPolicy != "" && r.getenv(EnvBasicFlow) == "false" {
		r.bad(EnvSessionPolicy, "applies only to basic-flow credentials and must not be set when %s=false", EnvBasicFlow)
	}
}

// upstream reads the upstream deadline and the SDK's attempts.
func (r *envReader) upstream(c *Config) {
	c.UpstreamTimeout = DefaultUpstreamTimeout
	if v := r.getenv(EnvUpstreamTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err == nil {
			err = contract.CheckUpstreamTimeout(d)
		}
		if err != nil {
			r.bad(EnvUpstreamTimeout, "%v", contract.CheckUpstreamTimeout(-1))
		} else {
			c.UpstreamTimeout = d
		}
	}
	c.MaxAttempts = DefaultMaxAttempts
	if v := r.getenv(EnvMaxAttempts); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < contract.MinMaxAttempts || n > contract.MaxMaxAttempts {
			r.bad(EnvMaxAttempts, "must be an integer in %d..%d", contract.MinMaxAttempts, contract.MaxMaxAttempts)
		} else {
			c.MaxAttempts = n
		}
	}
}

// verifiers reads the verifier document and where their secret comes from.
func (r *envReader) verifiers(c *Config) {
	var err error
	if raw := r.getenv(EnvVerifiers); raw == "" {
		r.bad(EnvVerifiers, "is required")
	} else if c.Verifiers, err = contract.ParseVerifiers([]byte(raw), !c.InLambda); err != nil {
		// Plain http loopback URLs only in local mode: inside Lambda,
		// 127.0.0.1:9001 is the Runtime API.
		r.bad(EnvVerifiers, "%v", err)
	} else if c.Verifiers.Count() == 0 && !c.GuestsEnabled {
		r.bad(EnvVerifiers, "configures no verifier and guests are disabled")
	}
	if !c.NeedsSecrets() {
		return
	}
	switch {
	case c.InLambda && c.SecretsFile != "":
		r.bad(EnvSecretsFile, "is for local mode only and refused in Lambda; use %s", EnvSecretARN)
	case c.SecretARN == "" && c.SecretsFile == "":
		r.bad(EnvSecretARN+" or "+EnvSecretsFile, "one is required when the wechat or hs256 verifier is configured: %s", SecretSourceHelp)
	case c.SecretARN != "" && c.SecretsFile != "":
		r.bad(EnvSecretsFile, "set either %s or %s, not both: %s", EnvSecretARN, EnvSecretsFile, SecretSourceHelp)
	}
}

// storage reads the upload route's bucket and limits, the cache, and abuse
// control's tables, refresh and quota.
func (r *envReader) storage(c *Config) {
	if c.Bucket != "" && !contract.ValidBucketName(c.Bucket) {
		r.bad(EnvBucket, "must be an S3 bucket name (3-63 characters of a-z, 0-9, '.', '-') or unset")
	}
	var err error
	c.Upload, err = contract.ParseUploadEnv(r.getenv)
	r.add(err)
	c.Cache, err = contract.ParseCacheEnv(r.getenv)
	r.add(err)
	for _, t := range []struct{ env, v string }{{contract.EnvRevocationsTable, c.RevocationsTable}, {contract.EnvUsageTable, c.UsageTable}} {
		if t.v != "" && !tableRE.MatchString(t.v) {
			r.bad(t.env, "must be a DynamoDB table name (3-255 characters of a-z, A-Z, 0-9, '_', '-', '.') or unset")
		}
	}
	c.RevocationRefresh, err = contract.ParseRevocationRefreshEnv(r.getenv)
	r.add(err)
	if c.Quota, err = contract.ParseUserQuotaEnv(r.getenv); err != nil {
		r.add(err)
	} else if c.Quota.Enabled() && c.UsageTable == "" {
		r.bad(contract.EnvUsageTable, "is required when %s or %s sets a quota", contract.EnvQuotaMaxBytes, contract.EnvQuotaMaxObjects)
	}
}

// tags reads the session tags and the upload rules, whose placeholders
// need their tags.
func (r *envReader) tags(c *Config) {
	var err error
	if c.SessionTags, err = contract.ParseSessionTagsEnv(r.getenv); err != nil {
		r.add(err)
	} else if slices.Contains(c.SessionTags, contract.TagTenant) && !c.Verifiers.Tenants() {
		r.bad(contract.EnvSessionTags, "lists %s but no verifier in %s has a tenantClaim to take it from", contract.TagTenant, EnvVerifiers)
	}
	c.UploadRules, err = contract.ParseUploadRulesEnv(r.getenv)
	r.add(err)
	for _, u := range c.UploadRules {
		for _, p := range u.Rule().Placeholders() {
			if tag := contract.SessionTagKeys([]string{p}); len(tag) > 0 && !slices.Contains(c.SessionTags, tag[0]) {
				r.bad(contract.EnvAccessRules, "rule %q uses %s, whose session tag %s is not in %s", u.Name, p, tag[0], contract.EnvSessionTags)
			}
		}
	}
}

// tableRE is a DynamoDB table name (CreateTable, TableName).
var tableRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

// Secret document fields, as named in the SecretString (the contract; the
// Secrets struct tags must match, which config_test checks).
const (
	SecretFieldWeChat    = contract.SecretFieldWeChat
	SecretFieldHS256     = contract.SecretFieldHS256
	SecretFieldHS256Next = contract.SecretFieldHS256Next
)

// ParseSecrets decodes the secret document and checks what it holds for the
// configured verifiers. An empty or missing field is not an error: the
// deployment creates the secret with an empty wechatAppSecret that is filled
// in by hand, and until then only the verifier that needs it is unavailable
// (see Secrets.Missing). A malformed document, or an hs256Key that is set but
// too short, is an error. Errors never include secret values.
func ParseSecrets(raw []byte, v Verifiers) (Secrets, error) {
	var s Secrets
	if err := decodeStrict(raw, &s); err != nil {
		// The decoder's message may quote the document; do not pass it on.
		// A repeated known key is named: which copy is meant is ambiguous.
		var ke *contract.KeyError
		if errors.As(err, &ke) && ke.Duplicate && (ke.Path == SecretFieldWeChat || ke.Path == SecretFieldHS256 || ke.Path == SecretFieldHS256Next) {
			return Secrets{}, fmt.Errorf("secret has the key %q more than once; keep one", ke.Path)
		}
		return Secrets{}, errors.New("secret is not a JSON object with only wechatAppSecret, hs256Key and hs256NextKey")
	}
	if v.HS256 != nil && s.HS256Key != "" && len(s.HS256Key) < MinHS256KeyBytes {
		return Secrets{}, fmt.Errorf("secret hs256Key must be at least %d bytes", MinHS256KeyBytes)
	}
	if v.HS256 != nil && s.HS256NextKey != "" {
		switch {
		case len(s.HS256NextKey) < MinHS256KeyBytes:
			return Secrets{}, fmt.Errorf("secret hs256NextKey must be at least %d bytes", MinHS256KeyBytes)
		case s.HS256Key == "":
			return Secrets{}, errors.New("secret hs256NextKey is set but hs256Key is empty; keep the key in use in hs256Key until the rotation ends")
		}
	}
	return s, nil
}

// MissingSecret is a configured verifier whose secret field is empty.
type MissingSecret struct {
	Verifier string // the verifier's configured name
	Field    string // SecretFieldWeChat or SecretFieldHS256
}

// Missing lists the configured verifiers whose secret field is empty, in a
// fixed order (wechat, then hs256). Those verifiers answer 503 until the
// secret is completed and the function cold-starts again.
func (s Secrets) Missing(v Verifiers) []MissingSecret {
	var out []MissingSecret
	if v.WeChat != nil && s.WeChatAppSecret == "" {
		out = append(out, MissingSecret{Verifier: v.WeChat.Name, Field: SecretFieldWeChat})
	}
	if v.HS256 != nil && s.HS256Key == "" {
		out = append(out, MissingSecret{Verifier: v.HS256.Name, Field: SecretFieldHS256})
	}
	return out
}

// decodeStrict decodes exactly one JSON value; keys must match exactly and
// appear once (contract.DecodeStrict).
func decodeStrict(raw []byte, dst any) error {
	if err := contract.DecodeStrict(raw, dst); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return nil
}

// seconds parses an integer number of seconds (def when v is empty) and
// checks it with the contract's rule.
func seconds(v string, def time.Duration, check func(time.Duration) error) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer number of seconds; it %v", v, check(-1))
	}
	d := time.Duration(n) * time.Second
	if err := check(d); err != nil {
		return 0, err
	}
	return d, nil
}
