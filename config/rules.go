package config

import (
	"fmt"
	"regexp"
	"slices"
	"time"
)

// The defaults and ranges of the cdk.json keys that a construct reads too.
// Each lives once, here: Parse applies and checks them with a message that
// names the cdk.json key, and the constructs' withDefaults and validate
// (package infra) call the same values and checks, so a construct used on
// its own holds to the same rules. The token vendor's own rules (durations,
// upload limits, cache, verifiers) live in package contract.

// Day is the unit of S3 lifecycle rules and CloudWatch Logs retention.
const Day = 24 * time.Hour

// DurationRule is a duration key's default and accepted range.
type DurationRule struct {
	Default, Min, Max time.Duration
	// WholeDays: the value must be a whole number of days (S3 lifecycle
	// rules count days).
	WholeDays bool
}

// Check reports a value out of range, or not whole days when WholeDays.
func (r DurationRule) Check(d time.Duration) error {
	if d < r.Min || d > r.Max {
		return fmt.Errorf("%s is out of range; use a value from %s to %s", d, r.Min, r.Max)
	}
	if r.WholeDays && d%Day != 0 {
		return fmt.Errorf("%s must be a whole number of days (S3 lifecycle rules count days)", d)
	}
	return nil
}

// The bucket's durations: "cors.maxAge" (the browsers' preflight cache),
// "noncurrentVersionExpiry", "abortIncompleteUploadsAfter" and
// "accessLogExpiry" (S3 lifecycle rules, in days).
var (
	CORSMaxAge                  = DurationRule{Default: 50 * time.Minute, Min: 0, Max: 24 * time.Hour}
	NoncurrentVersionExpiry     = DurationRule{Default: 30 * Day, Min: Day, Max: 3650 * Day, WholeDays: true}
	AbortIncompleteUploadsAfter = DurationRule{Default: 7 * Day, Min: Day, Max: 365 * Day, WholeDays: true}
	AccessLogExpiry             = DurationRule{Default: 90 * Day, Min: Day, Max: 3650 * Day, WholeDays: true}
)

// DefaultLogRetention is "logRetention"'s default: the vendor's log groups
// keep 30 days.
const DefaultLogRetention = 30 * Day

// LogRetentionDays are the retentions CloudWatch Logs accepts, in days (the
// values of aws-cdk-go v2.270.0's awslogs.RetentionDays but INFINITE, which
// s3vend never sets; infra maps each to that enum, and its tests check the
// two lists agree).
var LogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// CheckLogRetention reports a retention CloudWatch Logs does not accept.
func CheckLogRetention(d time.Duration) error {
	if d%Day != 0 || !slices.Contains(LogRetentionDays, int(d/Day)) {
		return fmt.Errorf("%s is not a CloudWatch Logs retention; use whole days, one of %v (\"720h\" is 30 days)", d, LogRetentionDays)
	}
	return nil
}

// The HTTP API stage throttle ("throttle.rateLimit", "throttle.burstLimit").
// Parse derives the default from "quota" (deriveThrottle); the Default*
// values are a construct's own when its props leave them zero.
const (
	DefaultThrottleRateLimit  = 10.0
	DefaultThrottleBurstLimit = 20
	MaxThrottleRateLimit      = 10000.0
	MaxThrottleBurstLimit     = 5000
)

// CheckThrottleRateLimit reports a stage rate limit out of range.
func CheckThrottleRateLimit(rate float64) error {
	if rate <= 0 || rate > MaxThrottleRateLimit {
		return fmt.Errorf("%v must be above 0 and at most %v requests per second", rate, MaxThrottleRateLimit)
	}
	return nil
}

// CheckThrottleBurstLimit reports a stage burst limit out of range.
func CheckThrottleBurstLimit(burst int) error {
	if burst < 1 || burst > MaxThrottleBurstLimit {
		return fmt.Errorf("%d must be from 1 to %d requests", burst, MaxThrottleBurstLimit)
	}
	return nil
}

// RateLimitWindows are the evaluation windows AWS WAF accepts for a
// rate-based rule (EvaluationWindowSec: 60, 120, 300 or 600); "edge.window".
var RateLimitWindows = []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute}

// Rate-based rule limits (AWS WAF: the lowest limit is 10; Limit is at most
// 2,000,000,000) and s3vend's defaults ("edge.perIpLimit", "edge.window").
const (
	MinRateLimit           = 10
	MaxRateLimit           = 2_000_000_000
	DefaultRateLimit       = 300 // per client IP per window: one request a second on average
	DefaultRateLimitWindow = 5 * time.Minute
)

// CheckPerIPLimit reports a per-client-IP limit AWS WAF does not accept.
func CheckPerIPLimit(n int) error {
	if n < MinRateLimit || n > MaxRateLimit {
		return fmt.Errorf("%d must be from %d (AWS WAF's lowest rate limit) to %d requests per client IP per window", n, MinRateLimit, MaxRateLimit)
	}
	return nil
}

// CheckRateLimitWindow reports an evaluation window AWS WAF does not accept.
func CheckRateLimitWindow(d time.Duration) error {
	if !slices.Contains(RateLimitWindows, d) {
		return fmt.Errorf("%s is not an AWS WAF evaluation window; use \"1m\", \"2m\", \"5m\" (default) or \"10m\"", d)
	}
	return nil
}

// GitHubOIDCIssuer is GitHub Actions' OIDC issuer host (infra/githubdeploy.go
// has the sources).
const GitHubOIDCIssuer = "token.actions.githubusercontent.com"

var githubOIDCProviderARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/` + regexp.QuoteMeta(GitHubOIDCIssuer) + `$`)

// CheckGitHubOIDCProviderARN reports an ARN that is not an IAM OIDC provider
// of GitHubOIDCIssuer ("cicd.oidcProviderArn").
func CheckGitHubOIDCProviderARN(arn string) error {
	if !githubOIDCProviderARNRE.MatchString(arn) {
		return fmt.Errorf("%q is not the ARN of an IAM OIDC provider for %s; remove the key to create one (an account has at most one)", arn, GitHubOIDCIssuer)
	}
	return nil
}
