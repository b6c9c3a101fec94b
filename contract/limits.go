package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The rules below are the ones the CDK stack (config.Parse and the
// constructs) and the token vendor (internal/config at start-up) must agree
// on. Each exists once, here; test/drift_test.go feeds every synthesized
// function environment through the vendor's own loader.

// Token duration: GetOpenIdTokenForDeveloperIdentity TokenDuration, "Valid
// Range: Minimum value of 1. Maximum value of 86400." and "If you don't
// provide an expiration time, the token is valid for 15 minutes"
// (https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetOpenIdTokenForDeveloperIdentity.html).
const (
	MinTokenDuration     = time.Second
	MaxTokenDuration     = 24 * time.Hour
	DefaultTokenDuration = 15 * time.Minute
)

// Credential lifetime: the DurationSeconds of AssumeRoleWithWebIdentity
// (basic flow), "can range from 900 seconds (15 minutes) up to the maximum
// session duration setting for the role", which "can have a value from 1 hour
// to 12 hours"; the default is 3600 seconds
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html).
const (
	MinCredentialLifetime     = 15 * time.Minute
	MaxCredentialLifetime     = 12 * time.Hour
	DefaultCredentialLifetime = time.Hour
)

// MinRoleMaxSession is the lowest MaxSessionDuration IAM accepts on a role:
// "Valid Range: Minimum value of 3600. Maximum value of 43200."
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html).
const MinRoleMaxSession = time.Hour

// RoleMaxSession is the MaxSessionDuration of the identity pool's roles for
// a credential lifetime: the lifetime itself, raised to IAM's one-hour
// minimum (a 15-minute lifetime is a valid DurationSeconds, not a valid
// MaxSessionDuration; aws-cdk-lib's Role throws "maxSessionDuration is set
// to 900, but must be >= 3600sec (1hr)" at synth, validateMaxSessionDuration
// in aws-iam/lib/role.js).
func RoleMaxSession(credentialLifetime time.Duration) time.Duration {
	return max(credentialLifetime, MinRoleMaxSession)
}

// CheckSeconds checks a whole-second duration against [lo, hi].
func CheckSeconds(d, lo, hi time.Duration) error {
	if d < lo || d > hi || d%time.Second != 0 {
		return fmt.Errorf("must be a whole number of seconds from %d (%s) to %d (%s)",
			int(lo/time.Second), lo, int(hi/time.Second), hi)
	}
	return nil
}

// CheckTokenDuration checks a GetOpenIdTokenForDeveloperIdentity TokenDuration.
func CheckTokenDuration(d time.Duration) error {
	return CheckSeconds(d, MinTokenDuration, MaxTokenDuration)
}

// CheckCredentialLifetime checks a basic-flow credential lifetime.
func CheckCredentialLifetime(d time.Duration) error {
	return CheckSeconds(d, MinCredentialLifetime, MaxCredentialLifetime)
}

// Timeouts. The vendor bounds every upstream call (Cognito, STS, Secrets
// Manager, OIDC issuers, WeChat) by S3VEND_UPSTREAM_TIMEOUT, which must end
// early enough inside the Lambda timeout to answer 503 before Lambda kills
// the invocation. The stack never chooses the two independently: it derives
// the upstream deadline from the function timeout with UpstreamTimeout.
const (
	DefaultLambdaTimeout = 10 * time.Second
	MinLambdaTimeout     = 3 * time.Second
	// MaxLambdaTimeout stays under the HTTP API's integration limit:
	// "Maximum integration timeout: 30 seconds" (quota, not increasable;
	// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html).
	MaxLambdaTimeout = 29 * time.Second

	MinUpstreamTimeout = 100 * time.Millisecond
	// upstreamShare of the Lambda timeout is the upstream deadline: the
	// rest answers 503 and flushes logs.
	upstreamShareNum, upstreamShareDen = 7, 10
)

// MaxUpstreamTimeout is the upstream deadline of the longest Lambda timeout.
var MaxUpstreamTimeout = UpstreamTimeout(MaxLambdaTimeout)

// DefaultUpstreamTimeout is the upstream deadline of the default Lambda
// timeout, and the vendor's default when the variable is unset (local mode).
var DefaultUpstreamTimeout = UpstreamTimeout(DefaultLambdaTimeout)

// UpstreamTimeout is the upstream deadline for a Lambda timeout: 70% of it,
// in whole milliseconds.
func UpstreamTimeout(lambdaTimeout time.Duration) time.Duration {
	return (lambdaTimeout * upstreamShareNum / upstreamShareDen).Truncate(time.Millisecond)
}

// CheckLambdaTimeout checks a function timeout.
func CheckLambdaTimeout(d time.Duration) error {
	if d < MinLambdaTimeout || d > MaxLambdaTimeout || d%time.Second != 0 {
		return fmt.Errorf("%s must be whole seconds from %s to %s (the HTTP API's 30 s integration limit)", d, MinLambdaTimeout, MaxLambdaTimeout)
	}
	return nil
}

// CheckUpstreamTimeout checks S3VEND_UPSTREAM_TIMEOUT on its own (what the
// vendor can know at start-up: Lambda does not tell a function its timeout).
func CheckUpstreamTimeout(d time.Duration) error {
	if d < MinUpstreamTimeout || d > MaxUpstreamTimeout {
		return fmt.Errorf("must be a Go duration from %s to %s (70%% of the longest Lambda timeout, %s)", MinUpstreamTimeout, MaxUpstreamTimeout, MaxLambdaTimeout)
	}
	return nil
}

// CheckDeadlines checks a deployed pair: the upstream deadline must leave
// the function time to answer before its own timeout.
func CheckDeadlines(lambdaTimeout, upstream time.Duration) error {
	if err := CheckLambdaTimeout(lambdaTimeout); err != nil {
		return err
	}
	if err := CheckUpstreamTimeout(upstream); err != nil {
		return err
	}
	if upstream > UpstreamTimeout(lambdaTimeout) {
		return fmt.Errorf("upstream deadline %s leaves no time to answer within the Lambda timeout %s (at most %s)", upstream, lambdaTimeout, UpstreamTimeout(lambdaTimeout))
	}
	return nil
}

// Retries of each AWS call (the SDK's standard retryer, first attempt included).
const (
	DefaultMaxAttempts = 3
	MinMaxAttempts     = 1
	MaxMaxAttempts     = 10
)

// MaxSessionPolicyChars is STS's limit on a session policy: "The plaintext
// that you use for both inline and managed session policies can't exceed
// 2,048 characters." The same page warns of a second limit on the packed
// (compressed) policy and tags, which only STS can compute; a policy near
// the plain-text limit may still fail with PackedPolicyTooLarge
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html).
const MaxSessionPolicyChars = 2048

// SessionPolicyVersion is the only IAM policy language version s3vend writes.
const SessionPolicyVersion = "2012-10-17"

// CheckSessionPolicy checks a session policy as the vendor passes it to
// AssumeRoleWithWebIdentity: a JSON object with "Version": "2012-10-17" and
// at least one Statement, of at most MaxSessionPolicyChars characters of
// \u0009, \u000A, \u000D or \u0020-\u00FF (the Policy parameter's character
// set on the same page). "" is no policy.
func CheckSessionPolicy(p string) error {
	if p == "" {
		return nil
	}
	if n := len([]rune(p)); n > MaxSessionPolicyChars {
		return fmt.Errorf("is %d characters; STS accepts at most %d (remove statements or shorten resource lists)", n, MaxSessionPolicyChars)
	}
	for _, r := range p {
		if r != '\t' && r != '\n' && r != '\r' && (r < 0x20 || r > 0xFF) {
			return fmt.Errorf("contains %q; STS accepts only tab, newline, carriage return and U+0020-U+00FF", r)
		}
	}
	var doc struct {
		Version   string            `json:"Version"`
		Statement []json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(p), &doc); err != nil || doc.Version != SessionPolicyVersion || len(doc.Statement) == 0 {
		return fmt.Errorf("must be an IAM policy object with \"Version\": %q and at least one Statement", SessionPolicyVersion)
	}
	return nil
}

// Fields of the verifier secret's JSON document (SecretString). The stack
// creates the secret with these keys; the vendor reads them.
const (
	SecretFieldWeChat = "wechatAppSecret"
	SecretFieldHS256  = "hs256Key"
	// SecretFieldHS256Next is the optional second HS256 key of a rotation.
	SecretFieldHS256Next = "hs256NextKey"
)

// MinHS256KeyBytes is the shortest hs256Key the vendor accepts.
const MinHS256KeyBytes = 32

// GeneratedHS256KeyChars is the length of the hs256Key the stack generates
// (letters and digits only).
const GeneratedHS256KeyChars = 64

// roleARNRE is an IAM role ARN in the partitions s3vend supports (aws,
// aws-cn, aws-us-gov); the role name and path use IAM's character set,
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html
// (Arn length 20-2048, RoleName [\w+=,.@-]+, Path (\u002F)|(\u002F[\u0021-\u007E]+\u002F)).
var roleARNRE = newLazyRegexp(`^arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)

// ValidRoleARN reports whether s is an IAM role ARN of a supported partition.
func ValidRoleARN(s string) bool { return len(s) <= 2048 && roleARNRE.MatchString(s) }

// regionRE is the shape of an AWS region name (us-east-1, cn-north-1,
// us-gov-west-1). Which regions have identity pools is a separate rule.
var regionRE = newLazyRegexp(`^[a-z]{2}(-[a-z]+)+-\d$`)

// ValidRegion reports whether s has the shape of an AWS region name.
func ValidRegion(s string) bool { return regionRE.MatchString(s) }

// MaxIdentityPoolIDLen and poolIDRE are Cognito's own constraints on
// IdentityPoolId ("REGION:GUID", length 1-55, pattern [\w-]+:[0-9a-f-]+),
// https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_IdentityPoolShortDescription.html
// (RE2's \w is [0-9A-Za-z_], as in Java's regular expressions).
const MaxIdentityPoolIDLen = 55

var poolIDRE = newLazyRegexp(`^[\w-]+:[0-9a-f-]+$`)

// ExampleIdentityPoolID is a well-formed identity pool id, quoted in errors and docs.
const ExampleIdentityPoolID = "eu-west-1:01234567-89ab-cdef-0123-456789abcdef"

// CheckIdentityPoolID checks an identity pool id, and that it is in region
// when region is not "".
func CheckIdentityPoolID(id, region string) error {
	if len(id) > MaxIdentityPoolIDLen || !poolIDRE.MatchString(id) {
		return fmt.Errorf("must be an identity pool id REGION:GUID (at most %d characters) such as %s", MaxIdentityPoolIDLen, ExampleIdentityPoolID)
	}
	if region != "" && !strings.HasPrefix(id, region+":") {
		return fmt.Errorf("must be in region %s, such as %s:01234567-89ab-cdef-0123-456789abcdef", region, region)
	}
	return nil
}

// CheckDeveloperProvider checks a developer provider name: 1-100 characters
// of [\w._-] (DeveloperProviderName in
// https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_CreateIdentityPool.html),
// and not starting with "cognito": Cognito's own login providers are named
// cognito-identity.amazonaws.com and cognito-idp.<region>.amazonaws.com/...,
// and a developer provider named alike would be confused with them in a
// Logins map (an s3vend rule, not an API constraint).
func CheckDeveloperProvider(name string) error {
	switch {
	case !ValidDeveloperProvider(name):
		return errors.New("must be 1-100 characters of letters, digits, '_', '.' and '-'")
	case strings.HasPrefix(strings.ToLower(name), "cognito"):
		return errors.New("must not start with \"cognito\"")
	}
	return nil
}
