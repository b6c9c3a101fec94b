// Package config reads and validates the s3vend context of cdk.json once
// (Parse) into plain Go values the stacks compose their constructs from:
// one Environment per environment, every default applied, every problem
// reported with its full key and the fix. It does not import the CDK, so
// the tools that only read cdk.json (internal/tools/preflight) and these
// tests run without jsii. The defaults and ranges the constructs share live
// in rules.go; what the token vendor checks too lives in package contract.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/infra/accesspolicy"
)

// ContextKey is the cdk.json context key that holds every environment.
const ContextKey = "s3vend"

// Config is the whole s3vend configuration: one entry per environment.
// It is read and validated once, in app.go, by ParseWith.
type Config struct {
	Environments map[string]Environment
	CICD         *CICD // the "cicd" key (stack S3Vend-cicd); nil without it
}

// Names returns the environment names in a stable order.
func (c Config) Names() []string {
	names := make([]string, 0, len(c.Environments))
	for n := range c.Environments {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Environment is one environment, with every default applied. Each field
// is named after the cdk.json key it carries.
type Environment struct {
	Name    string
	Account string // empty: environment-agnostic
	Region  string // empty: environment-agnostic

	BucketAccess                BucketAccess
	CORSOrigins                 []string      // cors.allowedOrigins
	CORSMaxAge                  time.Duration // cors.maxAge
	Versioning                  bool
	NoncurrentVersionExpiry     time.Duration // noncurrent object versions expire after this
	AbortIncompleteUploadsAfter time.Duration // incomplete multipart uploads are aborted after this
	AccessLogExpiry             time.Duration // server access logs expire after this

	DeveloperProviderName string
	Guests                bool
	BasicFlow             bool
	UserPool              *UserPoolProvider
	RoleMappings          []RoleMappingRule
	AmbiguousRoleDeny     bool // roleMappings.ambiguousRoleResolution is Deny
	// Partition is the region's row of contract.Partitions (the aws row for
	// an environment-agnostic stack: its default principal is also aws-cn's,
	// so the stack is right in either partition).
	// CognitoPrincipal is the partition's default or the "cognitoPrincipal"
	// chosen.
	Partition        contract.Partition
	CognitoPrincipal contract.CognitoPrincipal

	TokenDuration      time.Duration // GetOpenIdTokenForDeveloperIdentity TokenDuration
	CredentialLifetime time.Duration // role MaxSessionDuration and basic-flow credential lifetime

	ThrottleRateLimit  float64 // throttle.rateLimit
	ThrottleBurstLimit int     // throttle.burstLimit
	LogRetention       time.Duration

	// Disposable is the explicit opt-out of the production protections
	// (https-only CORS without "*", versioning, retained bucket, pool and
	// secret): every environment is protected unless "disposable": true.
	Disposable bool
	// Placeholders are the keys that still hold a sample value from the
	// shipped cdk.json (REPLACE-ME...): a synth warning, or an error in a
	// protected environment unless the placeholders=warn opt-out is given.
	Placeholders []string

	Retain        bool
	Verifiers     contract.Verifiers    // validated, defaults applied
	SessionPolicy string                // optional scope-down policy for basic-flow credentials (JSON)
	Upload        contract.UploadLimits // POST /v1/upload limits, validated, defaults applied

	Edge Edge // optional CloudFront + AWS WAF per-client rate limit in front of the API

	Alarms Alarms                 // alarms, alarm topic and dashboard (alarms.go); on by default
	Cache  contract.CacheSettings // the vendor's per-instance reuse cache, validated, defaults applied
	Quota  Quota                  // Cognito quotas the default throttle is derived from
	// UserQuota is the per-user storage quota ("userQuota"; off by default,
	// docs/abuse-control.md); distinct from Quota, Cognito's request quota.
	UserQuota contract.UserQuota

	// Access are the access rules ("access"; contract.DefaultRules() without
	// the key), checked against the verifiers and compiled once here, so a
	// layout IAM would refuse is a synth error naming the rule.
	Access contract.Rules
}

// Quota is the "quota" key: the account's Cognito Identity quota for
// GetOpenIdTokenForDeveloperIdentity and the share of vends the reuse cache
// is expected to serve. Without an explicit "throttle", the HTTP API stage
// throttle is derived from them (deriveThrottle).
type Quota struct {
	DeveloperTokenRPS float64 // requests per second, account-wide (default 50)
	CacheHitRatio     float64 // 0..0.95; 0 when the cache is off
}

// Edge is the "edge" key: a CloudFront distribution in front of the
// token vendor's HTTP API, with a WAF web ACL (in a us-east-1 stack) that
// rate-limits each client IP. Off by default.
type Edge struct {
	Enabled    bool
	PerIPLimit int           // requests per client IP per Window
	Window     time.Duration // one of RateLimitWindows
}

// rawConfig mirrors the JSON shape of the cdk.json context.
type rawConfig struct {
	Environments map[string]json.RawMessage `json:"environments"`
	CICD         json.RawMessage            `json:"cicd"`
}

type rawEnv struct {
	Account                     string              `json:"account"`
	Region                      string              `json:"region"`
	BucketAccess                string              `json:"bucketAccess"`
	CORS                        *rawCORS            `json:"cors"`
	Versioning                  *bool               `json:"versioning"`
	NoncurrentVersionExpiry     string              `json:"noncurrentVersionExpiry"`
	AbortIncompleteUploadsAfter string              `json:"abortIncompleteUploadsAfter"`
	AccessLogExpiry             string              `json:"accessLogExpiry"`
	DeveloperProviderName       string              `json:"developerProviderName"`
	Guests                      *bool               `json:"guests"`
	BasicFlow                   *bool               `json:"basicFlow"`
	UserPool                    *rawUserPool        `json:"userPool"`
	RoleMappings                *rawRoleMappings    `json:"roleMappings"`
	CognitoPrincipal            *rawPrincipal       `json:"cognitoPrincipal"`
	TokenDuration               string              `json:"tokenDuration"`
	CredentialLifetime          string              `json:"credentialLifetime"`
	Throttle                    *rawThrottle        `json:"throttle"`
	LogRetention                string              `json:"logRetention"`
	Retain                      *bool               `json:"retain"`
	Disposable                  *bool               `json:"disposable"`
	Verifiers                   *contract.Verifiers `json:"verifiers"`
	SessionPolicy               json.RawMessage     `json:"sessionPolicy"`
	Upload                      *rawUpload          `json:"upload"`
	Edge                        *rawEdge            `json:"edge"`
	Alarms                      *rawAlarms          `json:"alarms"`
	Cache                       *rawCache           `json:"cache"`
	Quota                       *rawQuota           `json:"quota"`
	Access                      json.RawMessage     `json:"access"`
	UserQuota                   *rawUserQuota       `json:"userQuota"`
}

// rawUserQuota is the "userQuota" key: per-user storage limits.
type rawUserQuota struct {
	MaxBytes   *int64 `json:"maxBytes"`
	MaxObjects *int64 `json:"maxObjects"`
}

// rawCache is the "cache" key: the token vendor's reuse cache.
type rawCache struct {
	Enabled      *bool  `json:"enabled"`
	MaxEntries   *int   `json:"maxEntries"`
	MinRemaining string `json:"minRemaining"`
}

// rawQuota is the "quota" key.
type rawQuota struct {
	DeveloperTokenRPS *float64 `json:"developerTokenRps"`
	CacheHitRatio     *float64 `json:"cacheHitRatio"`
}

// rawPrincipal is the "cognitoPrincipal" key.
type rawPrincipal = contract.CognitoPrincipal

// rawEdge is the "edge" key.
type rawEdge struct {
	Enabled    bool   `json:"enabled"`
	PerIPLimit *int   `json:"perIpLimit"`
	Window     string `json:"window"`
}

// rawUpload is the "upload" key: limits of the presigned-POST route.
type rawUpload struct {
	MaxBytes     *int64   `json:"maxBytes"`
	ContentTypes []string `json:"contentTypes"`
	Expiry       string   `json:"expiry"`
}

type rawCORS struct {
	AllowedOrigins []string `json:"allowedOrigins"`
	MaxAge         string   `json:"maxAge"`
}

type rawUserPool struct {
	Create     bool   `json:"create"`
	UserPoolID string `json:"userPoolId"`
	ClientID   string `json:"clientId"`
}

type rawRoleMappings struct {
	AmbiguousRoleResolution string            `json:"ambiguousRoleResolution"`
	Rules                   []RoleMappingRule `json:"rules"`
}

type rawThrottle struct {
	RateLimit  *float64 `json:"rateLimit"`
	BurstLimit *int     `json:"burstLimit"`
}

// Defaults of the keys only Parse reads (the ones the constructs share are
// in rules.go).
const (
	// Cognito Identity's default quota for GetOpenIdTokenForDeveloperIdentity:
	// 50 requests per second per account and region, adjustable ("Quotas in
	// Amazon Cognito", https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html,
	// "API request rate quotas": GetOpenIdTokenForDeveloperIdentity 50 RPS,
	// GetId 25, GetOpenIdToken and GetCredentialsForIdentity 200).
	defaultDeveloperTokenRPS = 50.0
	// defaultCacheHitRatio: the share of vends the reuse cache is assumed to
	// serve when sizing the throttle (docs/quotas-and-cache.md#the-stage-throttle).
	defaultCacheHitRatio = 0.75
	maxCacheHitRatio     = 0.95
)

var (
	// An environment name becomes the stack name S3Vend-<env>.
	envNameRe    = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)
	accountRe    = regexp.MustCompile(`^\d{12}$`)
	userPoolIDRe = regexp.MustCompile(`^[\w-]+_[0-9a-zA-Z]+$`)
)

// PlaceholdersContextKey is the CDK context key of the one opt-out from the
// placeholder refusal: with -c s3vend:placeholders=warn a protected
// environment that still holds sample values (REPLACE-ME...) synthesizes
// with a warning instead of failing. make synth, make local and the tests
// pass it to build the shipped sample offline; deploy and diff never do.
const PlaceholdersContextKey = "s3vend:placeholders"

// ParseOptions are the synth-wide switches of ParseWith.
type ParseOptions struct {
	// WarnPlaceholders turns the refusal of placeholders in protected
	// environments into a warning (PlaceholdersContextKey=warn).
	WarnPlaceholders bool
}

// ParseOptionsFromContext reads ParseOptions from the app's context value of
// PlaceholdersContextKey (nil when unset).
func ParseOptionsFromContext(placeholders any) (ParseOptions, error) {
	switch placeholders {
	case nil, "refuse":
		return ParseOptions{}, nil
	case "warn":
		return ParseOptions{WarnPlaceholders: true}, nil
	}
	return ParseOptions{}, fmt.Errorf("context %s: %v is not \"warn\" or \"refuse\" (the default)", PlaceholdersContextKey, placeholders)
}

// Parse decodes and validates the s3vend context value (as returned by
// TryGetContext), refusing placeholders in protected environments. Every
// problem is reported with the full key path and the fix; all problems are
// reported together.
func Parse(ctx any) (Config, error) { return ParseWith(ctx, ParseOptions{}) }

// ParseWith is Parse with synth-wide options.
func ParseWith(ctx any, opts ParseOptions) (Config, error) {
	if ctx == nil {
		return Config{}, fmt.Errorf("%s: missing from cdk.json context; add {\"environments\": {...}} (see docs/configuration.md)", ContextKey)
	}
	var raw rawConfig
	if err := strictDecode(ctx, &raw); err != nil {
		return Config{}, fmt.Errorf("%s: %w", ContextKey, err)
	}
	if len(raw.Environments) == 0 {
		return Config{}, fmt.Errorf("%s.environments: at least one environment is required", ContextKey)
	}
	cfg := Config{Environments: map[string]Environment{}}
	var errs []error
	names := make([]string, 0, len(raw.Environments))
	for n := range raw.Environments {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		v := &validator{path: ContextKey + ".environments." + name, opts: opts}
		env := v.env(name, raw.Environments[name])
		if len(v.errs) > 0 {
			errs = append(errs, v.errs...)
			continue
		}
		cfg.Environments[name] = env
	}
	if len(errs) == 0 && len(raw.CICD) > 0 && string(raw.CICD) != "null" {
		var cicdErrs []error
		cfg.CICD, cicdErrs = parseCICD(raw.CICD, cfg.Environments)
		errs = append(errs, cicdErrs...)
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("invalid cdk.json context:\n  %w", joinLines(errs))
	}
	return cfg, nil
}

type lines []error

func (l lines) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n  ")
}

func (l lines) Unwrap() []error { return l }

func joinLines(errs []error) error { return lines(errs) }

func strictDecode(in any, out any) error {
	b, ok := in.(json.RawMessage)
	if !ok {
		var err error
		if b, err = json.Marshal(in); err != nil {
			return err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return describeJSONError(err)
	}
	return nil
}

func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("key %q: expected %s, got a JSON %s", te.Field, te.Type, te.Value)
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("unknown key %s (check the spelling against the keys in docs/configuration.md)", msg)
	}
	return err
}

type validator struct {
	path string
	opts ParseOptions
	errs []error
}

func (v *validator) fail(key, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s.%s: %s", v.path, key, fmt.Sprintf(format, args...)))
}

// failFields reports the field errors of a contract Normalize (or of
// AlarmThresholds.Validate) under the cdk.json key prefix: prefix.field, or
// prefix itself for an error without a field.
func (v *validator) failFields(prefix string, err error) {
	var fields contract.FieldErrors
	if !errors.As(err, &fields) {
		v.fail(prefix, "%v", err)
		return
	}
	for _, f := range fields {
		v.fail(contract.JoinField(prefix, f.Field), "%s", f.Message)
	}
}

// duration parses a duration key; "" is the rule's default.
func (v *validator) duration(key, s string, rule DurationRule) time.Duration {
	return v.durationIn(key, s, rule.Default, rule.Check)
}

// durationIn parses a duration key; "" is def, and check reports a value
// out of range.
func (v *validator) durationIn(key, s string, def time.Duration, check func(time.Duration) error) time.Duration {
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		v.fail(key, "%q is not a duration; write it like \"15m\", \"1h\" or \"720h\"", s)
		return def
	}
	if err := check(d); err != nil {
		v.fail(key, "%v", err)
	}
	return d
}

// nonZeroDuration parses a duration key of a contract type whose Normalize
// reads 0 as "unset, use the default": 0 is refused here, so a cdk.json
// that writes it is not silently given the default. The range [lo, hi] is
// the contract's, checked by that Normalize; the message names it.
func (v *validator) nonZeroDuration(key, s string, lo, hi time.Duration) (time.Duration, bool) {
	d, err := time.ParseDuration(s)
	if err != nil || d == 0 {
		v.fail(key, "%q is not a duration from %s to %s; write it like \"5m\"", s, lo, hi)
		return 0, false
	}
	return d, true
}

// between is a range check for durationIn.
func between(lo, hi time.Duration) func(time.Duration) error {
	return DurationRule{Min: lo, Max: hi}.Check
}

// env validates one environment of cdk.json and applies its defaults,
// key group by key group in the order the errors are reported; a body
// that does not decode strictly is one error and an empty Environment.
func (v *validator) env(name string, msg json.RawMessage) Environment {
	if !envNameRe.MatchString(name) {
		v.fail("", "environment name %q must match %s (it becomes the stack name S3Vend-<env>)", name, envNameRe)
	}
	var r rawEnv
	if err := strictDecode(msg, &r); err != nil {
		v.errs = append(v.errs, fmt.Errorf("%s: %w", v.path, err))
		return Environment{}
	}
	e := v.newEnvironment(name, &r)
	v.bucket(&e, &r)
	v.developerProvider(&e)
	v.lifetimes(&e, &r)
	v.cache(&e, r.Cache)
	v.quota(&e, r.Quota)
	v.userQuota(&e, r.UserQuota)
	v.throttle(&e, r.Throttle)
	e.LogRetention = v.durationIn("logRetention", r.LogRetention, DefaultLogRetention, CheckLogRetention)

	v.userPool(&e, r.UserPool)
	v.roleMappings(&e, r.RoleMappings)
	v.verifiers(&e, r.Verifiers)
	v.upload(&e, r.Upload)
	v.edge(&e, r.Edge)
	v.alarms(&e, r.Alarms)

	v.sessionPolicy(&e, r.SessionPolicy)
	v.access(&e, r.Access)
	v.placeholders(&e, msg)
	return e
}

// newEnvironment starts the environment: its name, account, region and
// partition, the pool's flows, and the protection defaults. Every
// environment is protected, whatever its name, unless it opts out with
// "disposable": then versioning and retention default to off.
func (v *validator) newEnvironment(name string, r *rawEnv) Environment {
	disposable := boolOr(r.Disposable, false)
	protected := !disposable
	e := Environment{
		Name:                  name,
		Account:               r.Account,
		Region:                r.Region,
		DeveloperProviderName: r.DeveloperProviderName,
		Guests:                boolOr(r.Guests, false),
		BasicFlow:             boolOr(r.BasicFlow, true),
		Disposable:            disposable,
		Versioning:            boolOr(r.Versioning, protected),
		Retain:                boolOr(r.Retain, protected),
	}
	if e.Account != "" && !accountRe.MatchString(e.Account) {
		v.fail("account", "%q is not a 12-digit AWS account id; remove the key for an environment-agnostic stack", e.Account)
	}
	v.partition(&e, r.CognitoPrincipal)
	return e
}

// bucket reads the bucket's keys: how public/* is made public, CORS (at
// least one origin, each checked the stricter way for a protected
// environment) and the lifecycle durations.
func (v *validator) bucket(e *Environment, r *rawEnv) {
	switch a := BucketAccess(r.BucketAccess); {
	case a == "":
		e.BucketAccess = PublicReadByPolicy
	case a.Valid():
		e.BucketAccess = a
	default:
		v.fail("bucketAccess", "%q is not one of %q (default) or %q", r.BucketAccess, PublicReadByPolicy, PublicReadByACL)
	}

	if r.CORS == nil || len(r.CORS.AllowedOrigins) == 0 {
		v.fail("cors.allowedOrigins", "at least one origin is required, like \"https://app.example.com\"")
	} else {
		for i, o := range r.CORS.AllowedOrigins {
			v.origin(fmt.Sprintf("cors.allowedOrigins[%d]", i), o, !e.Disposable)
		}
		e.CORSOrigins = slices.Clone(r.CORS.AllowedOrigins)
	}
	e.CORSMaxAge = CORSMaxAge.Default
	if r.CORS != nil {
		e.CORSMaxAge = v.duration("cors.maxAge", r.CORS.MaxAge, CORSMaxAge)
	}
	e.NoncurrentVersionExpiry = v.duration("noncurrentVersionExpiry", r.NoncurrentVersionExpiry, NoncurrentVersionExpiry)
	e.AbortIncompleteUploadsAfter = v.duration("abortIncompleteUploadsAfter", r.AbortIncompleteUploadsAfter, AbortIncompleteUploadsAfter)
	e.AccessLogExpiry = v.duration("accessLogExpiry", r.AccessLogExpiry, AccessLogExpiry)
}

// developerProvider checks the developer provider name: required, and
// fixed for the life of the identity pool.
func (v *validator) developerProvider(e *Environment) {
	if e.DeveloperProviderName == "" {
		v.fail("developerProviderName", "required, like \"login.example.app\"; it cannot be changed once the pool exists")
	} else if err := contract.CheckDeveloperProvider(e.DeveloperProviderName); err != nil {
		v.fail("developerProviderName", "%q %v", e.DeveloperProviderName, err)
	}
}

// lifetimes reads the Cognito token's and the vended credentials'
// lifetimes within the token vendor's own ranges (contract), so cdk.json
// cannot hold a duration the service would refuse at start-up.
func (v *validator) lifetimes(e *Environment, r *rawEnv) {
	e.TokenDuration = v.durationIn("tokenDuration", r.TokenDuration, contract.DefaultTokenDuration, between(contract.MinTokenDuration, contract.MaxTokenDuration))
	v.wholeSeconds("tokenDuration", e.TokenDuration)
	e.CredentialLifetime = v.durationIn("credentialLifetime", r.CredentialLifetime, contract.DefaultCredentialLifetime, between(contract.MinCredentialLifetime, contract.MaxCredentialLifetime))
	v.wholeSeconds("credentialLifetime", e.CredentialLifetime)
}

// throttle sets the API stage's throttle: derived from the quota (read
// before it), overridden key by key by "throttle", then range-checked.
func (v *validator) throttle(e *Environment, t *rawThrottle) {
	e.ThrottleRateLimit, e.ThrottleBurstLimit = deriveThrottle(e.Quota)
	if t != nil {
		if t.RateLimit != nil {
			e.ThrottleRateLimit = *t.RateLimit
		}
		if t.BurstLimit != nil {
			e.ThrottleBurstLimit = *t.BurstLimit
		}
	}
	if err := CheckThrottleRateLimit(e.ThrottleRateLimit); err != nil {
		v.fail("throttle.rateLimit", "%v", err)
	}
	if err := CheckThrottleBurstLimit(e.ThrottleBurstLimit); err != nil {
		v.fail("throttle.burstLimit", "%v", err)
	}
}

// Room the compiled access policies leave for the statements the stack
// adds beside them: the bucket policy's two TLS denies (about 600
// characters with the longest ARN), and the roles' guardrail denies.
const (
	accessRoleReserve   = 2048
	accessBucketReserve = 1024
)

// access parses "access" (contract.ParseRules), checks it against the
// environment's verifiers (contract.Rules.Check) and compiles it for the
// environment's Cognito principal (accesspolicy.Compile), refusing a
// layout whose policies would exceed IAM's or S3's size limits. Each error
// names the rule: <env>.access[i] (name): what to fix.
func (v *validator) access(e *Environment, raw json.RawMessage) {
	e.Access = contract.DefaultRules()
	if len(raw) == 0 {
		return
	}
	fail := func(err error) {
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, one := range joined.Unwrap() {
				v.errs = append(v.errs, fmt.Errorf("%s.%s", v.path, one))
			}
			return
		}
		v.errs = append(v.errs, fmt.Errorf("%s.%s", v.path, err))
	}
	rules, err := contract.ParseRules(raw)
	if err != nil {
		fail(err)
		return
	}
	if err := rules.Check(contract.CheckOptions{Verifiers: e.Verifiers}); err != nil {
		fail(err)
		return
	}
	compiled, err := accesspolicy.Compile(rules, e.CognitoPrincipal)
	if err == nil {
		err = compiled.CheckSizes(accessRoleReserve, accessBucketReserve)
	}
	if err != nil {
		fail(err)
		return
	}
	if e.UserQuota.Enabled() && len(rules.MeteredRules()) == 0 {
		v.fail("userQuota", "no access rule counts against a user: a quota meters the rules keyed by {identityId} or {userId} whose owner may put; add one, or remove userQuota")
		return
	}
	e.Access = rules
}

// placeholderRe matches the sample values of the shipped cdk.json
// ("REPLACE-ME.apps.googleusercontent.com", "wxREPLACEME00000000").
var placeholderRe = regexp.MustCompile(`(?i)replace-?me`)

// placeholders records the keys that still hold a sample value. A protected
// environment refuses them (the stack would deploy a verifier nobody can
// sign in with), unless WarnPlaceholders; Build warns about them.
func (v *validator) placeholders(e *Environment, msg json.RawMessage) {
	var doc any
	if json.Unmarshal(msg, &doc) != nil {
		return
	}
	var walk func(path string, x any)
	walk = func(path string, x any) {
		switch x := x.(type) {
		case string:
			if placeholderRe.MatchString(x) {
				e.Placeholders = append(e.Placeholders, path)
				if !e.Disposable && !v.opts.WarnPlaceholders {
					v.fail(path, "%q is a placeholder from the sample cdk.json; put the real value here (a protected environment "+
						"never synthesizes with placeholders; only an offline test synth may pass -c %s=warn)", x, PlaceholdersContextKey)
				}
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				walk(strings.TrimPrefix(path+"."+k, "."), x[k])
			}
		case []any:
			for i, el := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), el)
			}
		}
	}
	walk("", doc)
}

// PlaceholderWarning is the synth warning of an environment that still holds
// sample values, or "" when it holds none.
func (e Environment) PlaceholderWarning() string {
	if len(e.Placeholders) == 0 {
		return ""
	}
	verb := "holds a placeholder"
	if len(e.Placeholders) > 1 {
		verb = "hold placeholders"
	}
	why := "disposable environment"
	if !e.Disposable {
		why = "protected environment, synthesized only because of -c " + PlaceholdersContextKey + "=warn"
	}
	return fmt.Sprintf("%s.environments.%s: %s still %s from the sample cdk.json (REPLACE-ME); this environment cannot be deployed as is: "+
		"put the real values there (%s)", ContextKey, e.Name, strings.Join(e.Placeholders, ", "), verb, why)
}

// sessionPolicy keeps the policy compacted, as the vendor passes it to STS,
// and checks it there with the vendor's own rule (contract.CheckSessionPolicy:
// STS's 2,048-character limit among others), so a policy that would fail
// every cold start fails synth instead.
func (v *validator) sessionPolicy(e *Environment, raw json.RawMessage) {
	if len(raw) == 0 || string(raw) == "null" {
		return
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		v.fail("sessionPolicy", "must be an IAM policy object with \"Version\": %q and at least one Statement", contract.SessionPolicyVersion)
		return
	}
	if err := contract.CheckSessionPolicy(compact.String()); err != nil {
		v.fail("sessionPolicy", "%v", err)
	} else if !e.BasicFlow {
		v.fail("sessionPolicy", "only applies to basic-flow credentials; set basicFlow to true or remove it")
	} else {
		e.SessionPolicy = compact.String()
	}
}

func (v *validator) wholeSeconds(key string, d time.Duration) {
	if d%time.Second != 0 {
		v.fail(key, "%s must be a whole number of seconds", d)
	}
}

func (v *validator) origin(key, o string, protected bool) {
	if o == "*" {
		if protected {
			v.fail(key, "\"*\" is not allowed in a protected environment; list the app's origins, or set \"disposable\": true for a throw-away environment")
		}
		return
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		v.fail(key, "%q is not an origin; write scheme://host[:port], like \"https://app.example.com\"", o)
		return
	}
	if strings.HasSuffix(o, "/") {
		v.fail(key, "%q must not end with '/' (browsers send origins without it)", o)
	}
	if protected && u.Scheme == "http" && u.Hostname() != "localhost" {
		v.fail(key, "%q: origins of a protected environment must use https (or set \"disposable\": true for a throw-away environment)", o)
	}
	if strings.Contains(u.Host, "*") && strings.Count(o, "*") > 1 {
		v.fail(key, "%q: S3 allows at most one '*' wildcard in an origin", o)
	}
}

func (v *validator) userPool(e *Environment, r *rawUserPool) {
	if r == nil {
		return
	}
	up := UserPoolProvider{Create: r.Create, UserPoolID: r.UserPoolID, ClientID: r.ClientID}
	switch {
	case up.Create && (up.UserPoolID != "" || up.ClientID != ""):
		v.fail("userPool", "set either \"create\": true or \"userPoolId\" with \"clientId\", not both")
	case !up.Create && (up.UserPoolID == "" || up.ClientID == ""):
		v.fail("userPool", "an imported user pool needs both \"userPoolId\" and \"clientId\"")
	case !up.Create && !userPoolIDRe.MatchString(up.UserPoolID):
		v.fail("userPool.userPoolId", "%q is not a user pool id like \"us-east-1_AbCdEf123\"", up.UserPoolID)
	case !up.Create && e.Region != "" && !strings.HasPrefix(up.UserPoolID, e.Region+"_"):
		v.fail("userPool.userPoolId", "%q is not in this environment's region %s", up.UserPoolID, e.Region)
	}
	if e.Region != "" && !e.Partition.UserPools {
		v.fail("userPool", "Cognito user pools are not available in %s; use an oidc verifier instead", e.Region)
	}
	e.UserPool = &up
}

// roleMappings: rules steer GetCredentialsForIdentity, the enhanced flow
// ("These roles are used when making calls to GetCredentialsForIdentity",
// https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_SetIdentityPoolRoles.html);
// the basic flow assumes the role the vendor names. No AWS source says a pool
// cannot have both (the CDK's identity pool L2 accepts allowClassicFlow with
// roleMappings), so basicFlow does not matter here.
func (v *validator) roleMappings(e *Environment, r *rawRoleMappings) {
	if r == nil {
		return
	}
	if e.UserPool == nil {
		v.fail("roleMappings", "rules match user pool token claims; configure userPool first")
	}
	switch r.AmbiguousRoleResolution {
	case "", "Deny":
		e.AmbiguousRoleDeny = true
	case "AuthenticatedRole":
	default:
		v.fail("roleMappings.ambiguousRoleResolution", "%q is not \"Deny\" (default) or \"AuthenticatedRole\"", r.AmbiguousRoleResolution)
	}
	if len(r.Rules) == 0 || len(r.Rules) > 25 {
		v.fail("roleMappings.rules", "give 1 to 25 rules")
	}
	for i, rule := range r.Rules {
		k := fmt.Sprintf("roleMappings.rules[%d]", i)
		if rule.Claim == "" || rule.Value == "" {
			v.fail(k, "\"claim\" and \"value\" are required")
		}
		if !rule.MatchType.Valid() {
			v.fail(k+".matchType", "%q is not one of %s", rule.MatchType, MatchTypesList())
		}
		if !contract.ValidRoleARN(rule.RoleARN) {
			v.fail(k+".roleArn", "%q is not an IAM role ARN", rule.RoleARN)
		}
	}
	e.RoleMappings = slices.Clone(r.Rules)
}

// verifiers checks the login verifiers with the token vendor's own rules
// (contract), so cdk.json cannot hold a document the service would
// refuse at start-up, and keeps the normalized document (defaults applied).
func (v *validator) verifiers(e *Environment, raw *contract.Verifiers) {
	if raw == nil || raw.Count() == 0 {
		v.fail("verifiers", "configure at least one login verifier (oidc, wechat or hs256); without one nobody can sign in")
		return
	}
	norm, err := raw.Normalize(false)
	if err != nil {
		v.failFields("verifiers", err)
		return
	}
	e.Verifiers = norm
}

// upload checks the upload route's limits with the token vendor's own rules
// (contract.UploadLimits.Normalize, which the service runs on the
// S3VEND_UPLOAD_* variables) and keeps them with defaults applied.
func (v *validator) upload(e *Environment, r *rawUpload) {
	var u contract.UploadLimits
	if r != nil {
		if r.MaxBytes != nil {
			if *r.MaxBytes == 0 {
				v.fail("upload.maxBytes", "0 must be from 1 to %d bytes; leave the key out for the default %d", contract.MaxUploadBytes, contract.DefaultUploadMaxBytes)
				return
			}
			u.MaxBytes = *r.MaxBytes
		}
		u.ContentTypes = r.ContentTypes
		if r.Expiry != "" {
			d, ok := v.nonZeroDuration("upload.expiry", r.Expiry, contract.MinUploadExpiry, contract.MaxUploadExpiry)
			if !ok {
				return
			}
			u.Expiry = d
		}
	}
	norm, err := u.Normalize()
	if err != nil {
		v.failFields("upload", err)
		return
	}
	e.Upload = norm
}

// edge checks the "edge" key. The web ACL of a CloudFront distribution must
// be in us-east-1, so it lives in its own stack there, and the API's stack
// reads its ARN with Fn::GetStackOutput: both stacks need a known region.
func (v *validator) edge(e *Environment, r *rawEdge) {
	e.Edge = Edge{PerIPLimit: DefaultRateLimit, Window: DefaultRateLimitWindow}
	if r == nil {
		return
	}
	e.Edge.Enabled = r.Enabled
	if r.PerIPLimit != nil {
		e.Edge.PerIPLimit = *r.PerIPLimit
		if err := CheckPerIPLimit(*r.PerIPLimit); err != nil {
			v.fail("edge.perIpLimit", "%v", err)
		}
	}
	e.Edge.Window = v.durationIn("edge.window", r.Window, DefaultRateLimitWindow, CheckRateLimitWindow)
	if !e.Edge.Enabled {
		return
	}
	switch {
	case e.Region == "":
		v.fail("edge.enabled", "needs \"region\" set: the web ACL is deployed in its own us-east-1 stack and this stack reads its ARN across regions, which CloudFormation can only do between known regions")
	case e.Partition.Name == "aws-cn":
		v.fail("edge.enabled", "not available in %s: CloudFront in the China regions serves only an ICP-recorded alternate domain with an IAM-uploaded certificate (not *.cloudfront.cn), and the aws-cn partition has no us-east-1 for the web ACL; remove the key (see docs/edge.md)", e.Region)
	}
}

// partition looks the region up in contract.Partitions and applies a
// "cognitoPrincipal" override, which must be one of the forms AWS documents
// for the partition.
func (v *validator) partition(e *Environment, override *rawPrincipal) {
	e.Partition = contract.Partitions[0]
	e.CognitoPrincipal = e.Partition.Principal
	if e.Region != "" {
		p, err := contract.PartitionFor(e.Region)
		if err != nil {
			v.fail("region", "%v; or remove the key for an environment-agnostic stack", err)
			return
		}
		e.Partition = p
	}
	e.CognitoPrincipal = e.Partition.Principal
	if override == nil {
		return
	}
	if e.Region == "" {
		v.fail("cognitoPrincipal", "needs \"region\" set: which forms are valid depends on the partition")
		return
	}
	if !slices.Contains(e.Partition.Principals, *override) {
		forms := make([]string, len(e.Partition.Principals))
		for i, f := range e.Partition.Principals {
			b, _ := json.Marshal(f)
			forms[i] = string(b)
		}
		v.fail("cognitoPrincipal", "%+v is not a form AWS documents for partition %s; use one of %s (default %s), or remove the key",
			*override, e.Partition.Name, strings.Join(forms, ", "), forms[0])
		return
	}
	e.CognitoPrincipal = *override
}

func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// cache validates the "cache" key with the vendor's own rules
// (contract.CacheSettings.Normalize, which the vendor runs on S3VEND_CACHE_*).
func (v *validator) cache(e *Environment, r *rawCache) {
	var c contract.CacheSettings
	if r != nil {
		c.Disabled = r.Enabled != nil && !*r.Enabled
		if r.MaxEntries != nil {
			if *r.MaxEntries == 0 {
				v.fail("cache.maxEntries", "0 must be from 1 to %d entries; to turn the cache off write \"enabled\": false", contract.MaxCacheMaxEntries)
				return
			}
			c.MaxEntries = *r.MaxEntries
		}
		if r.MinRemaining != "" {
			d, ok := v.nonZeroDuration("cache.minRemaining", r.MinRemaining, contract.MinCacheMinRemaining, contract.MaxCacheMinRemaining)
			if !ok {
				return
			}
			c.MinRemaining = d
		}
	}
	norm, err := c.Normalize()
	if err != nil {
		v.failFields("cache", err)
		return
	}
	if !norm.Disabled && norm.MinRemaining >= e.TokenDuration {
		v.fail("cache.minRemaining", "%s must be shorter than tokenDuration (%s), or the cache never serves a token; lower it or set \"enabled\": false", norm.MinRemaining, e.TokenDuration)
	}
	e.Cache = norm
}

// userQuota validates the "userQuota" key: at least one limit, each in the
// contract's range (the vendor checks the same at start-up).
func (v *validator) userQuota(e *Environment, r *rawUserQuota) {
	if r == nil {
		return
	}
	var q contract.UserQuota
	if r.MaxBytes != nil {
		q.MaxBytes = *r.MaxBytes
	}
	if r.MaxObjects != nil {
		q.MaxObjects = *r.MaxObjects
	}
	if r.MaxBytes != nil && *r.MaxBytes == 0 || r.MaxObjects != nil && *r.MaxObjects == 0 {
		v.fail("userQuota", "a limit of 0 is not \"no limit\": omit the key (maxBytes or maxObjects) instead")
		return
	}
	if err := q.Check(); err != nil {
		v.failFields("userQuota", err)
		return
	}
	if !q.Enabled() {
		v.fail("userQuota", "set maxBytes (bytes per user) or maxObjects (objects per user), or remove the key for no quota")
		return
	}
	e.UserQuota = q
}

// quota validates the "quota" key.
func (v *validator) quota(e *Environment, r *rawQuota) {
	q := Quota{DeveloperTokenRPS: defaultDeveloperTokenRPS, CacheHitRatio: defaultCacheHitRatio}
	if r != nil && r.DeveloperTokenRPS != nil {
		q.DeveloperTokenRPS = *r.DeveloperTokenRPS
		if q.DeveloperTokenRPS < 1 || q.DeveloperTokenRPS > 10000 {
			v.fail("quota.developerTokenRps", "%v must be from 1 to 10000 requests per second (your account's GetOpenIdTokenForDeveloperIdentity quota; default 50)", q.DeveloperTokenRPS)
		}
	}
	if r != nil && r.CacheHitRatio != nil {
		q.CacheHitRatio = *r.CacheHitRatio
		switch {
		case q.CacheHitRatio < 0 || q.CacheHitRatio > maxCacheHitRatio:
			v.fail("quota.cacheHitRatio", "%v must be from 0 to %v (the share of vends served from the cache)", q.CacheHitRatio, maxCacheHitRatio)
		case e.Cache.Disabled && q.CacheHitRatio > 0:
			v.fail("quota.cacheHitRatio", "only applies with the cache on; remove it or set cache.enabled to true")
		}
	}
	if e.Cache.Disabled {
		q.CacheHitRatio = 0
	}
	e.Quota = q
}

// deriveThrottle is the default HTTP API stage throttle: the vend rate the
// developer-token quota sustains when a share CacheHitRatio of vends is
// served from the cache, rate = developerTokenRps / (1 - cacheHitRatio)
// (50 / (1 - 0.75) = 200 by default; 50 with the cache off), with a burst of
// one second at that rate. A vend beyond it is refused by API Gateway with
// 429 before it reaches the function or Cognito.
func deriveThrottle(q Quota) (rate float64, burst int) {
	rate = math.Floor(q.DeveloperTokenRPS / (1 - q.CacheHitRatio))
	return rate, max(1, int(rate))
}

// ReadCDKJSON reads the "context" object of a cdk.json file, whose
// ContextKey entry Parse takes, for the tools and tests that read cdk.json
// without the CDK CLI.
func ReadCDKJSON(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc.Context, nil
}

// SessionTagKeys are the session tags the environment's signed-in sessions
// carry: those its access rules' placeholders need and, with a user quota,
// the quota-state tag (contract.TagQuota). The stack gives the trust
// policy and the vendor this one list.
func (e Environment) SessionTagKeys() []string {
	placeholders := e.Access.Placeholders()
	if e.UserQuota.Enabled() {
		placeholders = append(placeholders, contract.PlaceholderQuota)
	}
	return contract.SessionTagKeys(placeholders)
}
