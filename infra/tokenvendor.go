package infra

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/s3vend/s3vend/config"
	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/contract/wire"
)

// TokenVendorProps configures NewTokenVendor.
type TokenVendorProps struct {
	Build GoBuild

	IdentityPoolID        *string // token
	IdentityPoolARN       *string // token
	DeveloperProviderName string
	AuthenticatedRoleARN  *string // token
	// Guests turns on guest identities; GuestRoleARN (token) is then
	// required, and must be nil otherwise.
	Guests             bool
	GuestRoleARN       *string
	BasicFlow          bool
	TokenDuration      time.Duration // default and range: contract (1s to 24h)
	CredentialLifetime time.Duration // default and range: contract (15m to 12h)
	SessionPolicy      string        // optional JSON policy, contract.CheckSessionPolicy
	// Verifiers is the S3VEND_VERIFIERS document (non-secret), rendered to
	// JSON here. A verifier that needs a secret (WeChat app secret, HS256
	// key) makes the construct create the verifier secret.
	Verifiers contract.Verifiers

	// BucketName (token) turns on POST /v1/upload, which signs presigned-POST
	// forms for the content bucket with each caller's own credentials (the
	// function gets no S3 permission). nil: the route answers 404.
	BucketName *string
	Upload     contract.UploadLimits // the route's limits; zero values take the contract's defaults

	// Cache configures the vendor's per-instance reuse cache (S3VEND_CACHE_*);
	// the zero value is on with the contract's defaults.
	Cache contract.CacheSettings

	// SessionTags are the keys of the session tags the vendor sets on
	// signed-in users' sessions (S3VEND_SESSION_TAGS); the authenticated
	// role's trust must allow the same keys (IdentityPoolProps.SessionTags).
	SessionTags []string
	// AccessRules are the environment's rules; the vendor's upload route
	// signs forms for the ones a signed-in subject may put under
	// (S3VEND_ACCESS_RULES, set only for a layout other than the default).
	AccessRules contract.Rules

	CORSOrigins []string
	// The HTTP API stage throttle (default config.DefaultThrottleRateLimit
	// and config.DefaultThrottleBurstLimit, ranges config's) and the log
	// groups' retention (default config.DefaultLogRetention).
	ThrottleRateLimit  float64
	ThrottleBurstLimit int
	LogRetention       time.Duration
	Retain             bool

	// Timeout is the function timeout (default contract.DefaultLambdaTimeout);
	// the vendor's upstream deadline is derived from it
	// (contract.UpstreamTimeout), never set on its own.
	Timeout  time.Duration
	MemoryMB int // default 256
}

func (p TokenVendorProps) withDefaults() TokenVendorProps {
	if p.Timeout == 0 {
		p.Timeout = contract.DefaultLambdaTimeout
	}
	if p.MemoryMB == 0 {
		p.MemoryMB = 256
	}
	if p.LogRetention == 0 {
		p.LogRetention = config.DefaultLogRetention
	}
	if p.TokenDuration == 0 {
		p.TokenDuration = contract.DefaultTokenDuration
	}
	if p.CredentialLifetime == 0 {
		p.CredentialLifetime = contract.DefaultCredentialLifetime
	}
	// A zero throttle would stop the API: zero means the default.
	if p.ThrottleRateLimit == 0 {
		p.ThrottleRateLimit = config.DefaultThrottleRateLimit
	}
	if p.ThrottleBurstLimit == 0 {
		p.ThrottleBurstLimit = config.DefaultThrottleBurstLimit
	}
	p.CORSOrigins = slices.Clone(p.CORSOrigins)
	p.Upload.ContentTypes = slices.Clone(p.Upload.ContentTypes)
	p.SessionTags = slices.Clone(p.SessionTags)
	return p
}

// MaxEnvironmentBytes is Lambda's limit on a function's environment:
// "Environment variables: 4 KB, for all environment variables associated
// with the function, in aggregate" (Lambda quotas,
// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
const MaxEnvironmentBytes = 4096

// unresolvedTokenBytes stands for a value not known at synth (an ARN, the
// pool id, the bucket name): longer than any of them.
const unresolvedTokenBytes = 160

// envConfigKeys names the cdk.json key (under s3vend.environments.<env>)
// behind the variables that grow with it, for the size error's fix.
var envConfigKeys = map[string]string{
	contract.EnvVerifiers:          "verifiers",
	contract.EnvAccessRules:        "access",
	contract.EnvSessionPolicy:      "sessionPolicy",
	contract.EnvSessionTags:        "sessionTags",
	contract.EnvUploadContentTypes: "upload.contentTypes",
}

// checkEnvironmentSize refuses an environment that would not fit Lambda's
// 4 KB at deploy, naming the largest variables and the cdk.json keys they
// come from (the verifiers document and the access rules are the ones that
// grow with cdk.json).
func checkEnvironmentSize(env map[string]*string) error {
	total := 0
	sizes := map[string]int{}
	for k, v := range env {
		n := unresolvedTokenBytes
		if !*awscdk.Token_IsUnresolved(v) {
			n = len(*v)
		}
		sizes[k] = len(k) + n
		total += sizes[k]
	}
	if total <= MaxEnvironmentBytes {
		return nil
	}
	keys := slices.Collect(maps.Keys(sizes))
	slices.SortFunc(keys, func(a, b string) int {
		if d := sizes[b] - sizes[a]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	var largest []string
	for _, k := range keys[:min(2, len(keys))] {
		name := k
		if key, ok := envConfigKeys[k]; ok {
			name += " (cdk.json " + key + ")"
		}
		largest = append(largest, fmt.Sprintf("%s %d bytes", name, sizes[k]))
	}
	return fmt.Errorf("the token vendor's environment would be about %d bytes; Lambda allows %d in total. Largest: %s. Configure fewer verifiers or access rules, or shorter paths",
		total, MaxEnvironmentBytes, strings.Join(largest, ", "))
}

// validate checks every prop before any resource exists, with the token
// vendor's own rules where the vendor reads the value (contract).
func (p TokenVendorProps) validate() error {
	field := func(name string, err error) error {
		if err != nil {
			return fmt.Errorf("TokenVendorProps.%s: %w", name, err)
		}
		return nil
	}
	if p.IdentityPoolID == nil || p.IdentityPoolARN == nil || p.AuthenticatedRoleARN == nil {
		return fmt.Errorf("TokenVendorProps: IdentityPoolID, IdentityPoolARN and AuthenticatedRoleARN are required")
	}
	if p.Guests != (p.GuestRoleARN != nil) {
		return fmt.Errorf("TokenVendorProps.GuestRoleARN: required when Guests is true, and must be nil when it is false")
	}
	if _, err := p.Verifiers.Normalize(false); err != nil {
		return field("Verifiers", err)
	}
	if p.Verifiers.Count() == 0 && !p.Guests {
		return field("Verifiers", fmt.Errorf("configure at least one verifier, or guests"))
	}
	if p.SessionPolicy != "" && !p.BasicFlow {
		return field("SessionPolicy", fmt.Errorf("applies only to basic-flow credentials"))
	}
	if _, err := p.Upload.Normalize(); err != nil {
		return field("Upload", err)
	}
	for _, err := range []error{
		field("LogRetention", config.CheckLogRetention(p.LogRetention)),
		field("ThrottleRateLimit", config.CheckThrottleRateLimit(p.ThrottleRateLimit)),
		field("ThrottleBurstLimit", config.CheckThrottleBurstLimit(p.ThrottleBurstLimit)),
		field("DeveloperProviderName", contract.CheckDeveloperProvider(p.DeveloperProviderName)),
		field("TokenDuration", contract.CheckTokenDuration(p.TokenDuration)),
		field("CredentialLifetime", contract.CheckCredentialLifetime(p.CredentialLifetime)),
		field("SessionPolicy", contract.CheckSessionPolicy(p.SessionPolicy)),
		field("Timeout", contract.CheckLambdaTimeout(p.Timeout)),
	} {
		if err != nil {
			return err
		}
	}
	switch {
	case p.MemoryMB < 128 || p.MemoryMB > 10240:
		return fmt.Errorf("TokenVendorProps.MemoryMB: %d must be from 128 to 10240", p.MemoryMB)
	case len(p.CORSOrigins) == 0:
		return fmt.Errorf("TokenVendorProps.CORSOrigins: at least one origin is required")
	}
	if _, err := p.Cache.Normalize(); err != nil {
		return fmt.Errorf("TokenVendorProps.Cache: %w", err)
	}
	if err := checkSessionTags(p.SessionTags); err != nil {
		return fmt.Errorf("TokenVendorProps.SessionTags: %w", err)
	}
	return nil
}

// TokenVendor is the token-vending Lambda behind an HTTP API.
type TokenVendor struct {
	constructs.Construct
	Function awslambda.Function
	API      awsapigatewayv2.HttpApi
	Secret   awssecretsmanager.Secret // nil when no verifier needs one
	// TokenURL is the full URL of POST /v1/token.
	TokenURL *string
	// Timeout is the function's timeout (for the duration alarm).
	Timeout time.Duration
	// FunctionLogs is the function's log group, AccessLogs the API's.
	FunctionLogs, AccessLogs awslogs.LogGroup
	// env is the function's environment so far, for the size check of
	// every later AddEnvironment.
	env map[string]*string
}

// AddEnvironment sets a variable of the function's environment (other
// constructs' tables, for instance), refusing one that would take the whole
// environment over Lambda's 4 KB. Use it, not Function.AddEnvironment, so
// the check sees the environment as deployed.
func (tv *TokenVendor) AddEnvironment(key string, value *string) {
	env := maps.Clone(tv.env)
	env[key] = value
	if err := checkEnvironmentSize(env); err != nil {
		panic(fmt.Errorf("%s: %w", *tv.Node().Path(), err))
	}
	tv.env = env
	tv.Function.AddEnvironment(jsii.String(key), value, nil)
}

// NewTokenVendor creates the function, its least-privilege role, its log
// groups, the verifier secret when needed, and the HTTP API in front of it.
func NewTokenVendor(scope constructs.Construct, id string, props TokenVendorProps) *TokenVendor {
	p := props.withDefaults()
	if err := p.validate(); err != nil {
		panic(err)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	tv := &TokenVendor{Construct: c, Timeout: p.Timeout}
	role := tv.role(p)
	env := tv.environment(p)
	if p.Verifiers.NeedsSecret() {
		tv.secret(p, role)
		env[contract.EnvSecretARN] = tv.Secret.SecretArn()
	}
	if err := checkEnvironmentSize(env); err != nil {
		panic(fmt.Errorf("%s: %w", *c.Node().Path(), err))
	}
	tv.env = env
	tv.Function = p.Build.function(c, "Function", "s3vend token vendor", role, tv.FunctionLogs, p.Timeout, p.MemoryMB, env)
	tv.api(p)
	acknowledge(tv.acknowledgements())
	return tv
}

// role is the function's log group and role, which may do only what the
// function does: write its own logs, and mint developer identity tokens for
// this pool. AssumeRoleWithWebIdentity is called with the Cognito token
// itself and needs no IAM permission.
func (tv *TokenVendor) role(p TokenVendorProps) awsiam.Role {
	logs, role := logsAndRole(tv.Construct, "FunctionLogs", "FunctionRole", "s3vend token vendor: vends Cognito developer-identity tokens",
		logRetentionDays[int(p.LogRetention/config.Day)], removalPolicy(p.Retain)) // validated
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("VendDeveloperIdentityTokens"),
		Actions:   jsii.Strings("cognito-identity:GetOpenIdTokenForDeveloperIdentity"),
		Resources: jsii.Strings(*p.IdentityPoolARN),
	}))
	tv.FunctionLogs = logs
	return role
}

// environment is what the vendor reads at start-up (lambda/internal/config),
// from the contract's names; the secret's ARN is added with the secret.
func (tv *TokenVendor) environment(p TokenVendorProps) map[string]*string {
	norm, _ := p.Verifiers.Normalize(false) // validated; defaults applied as the vendor would
	verifiers, err := json.Marshal(norm)
	if err != nil {
		panic(fmt.Errorf("TokenVendorProps.Verifiers: %w", err))
	}
	env := map[string]*string{
		contract.EnvIdentityPoolID:     p.IdentityPoolID,
		contract.EnvDeveloperProvider:  jsii.String(p.DeveloperProviderName),
		contract.EnvAuthRoleARN:        p.AuthenticatedRoleARN,
		contract.EnvGuestsEnabled:      jsii.String(strconv.FormatBool(p.Guests)),
		contract.EnvBasicFlow:          jsii.String(strconv.FormatBool(p.BasicFlow)),
		contract.EnvTokenDuration:      jsii.String(strconv.Itoa(int(p.TokenDuration.Seconds()))),
		contract.EnvCredentialLifetime: jsii.String(strconv.Itoa(int(p.CredentialLifetime.Seconds()))),
		contract.EnvVerifiers:          jsii.String(string(verifiers)),
		// Derived from the function timeout, so the vendor answers 503
		// before Lambda kills the call (one rule, in the contract).
		contract.EnvUpstreamTimeout: jsii.String(contract.UpstreamTimeout(p.Timeout).String()),
		// The Stack dimension of the vendor's EMF metrics, which the alarms
		// (NewMonitoring, Name = the stack name) select on.
		contract.EnvMetricsStack: awscdk.Stack_Of(tv.Construct).StackName(),
	}
	if p.Guests {
		env[contract.EnvUnauthRoleARN] = p.GuestRoleARN
	}
	if p.SessionPolicy != "" {
		env[contract.EnvSessionPolicy] = jsii.String(p.SessionPolicy)
	}
	if len(p.SessionTags) > 0 {
		env[contract.EnvSessionTags] = jsii.String(contract.SessionTagsEnv(p.SessionTags))
	}
	if p.AccessRules != nil && p.AccessRules.JSON() != contract.DefaultRules().JSON() {
		env[contract.EnvAccessRules] = jsii.String(p.AccessRules.UploadRulesEnv())
	}
	cache, _ := p.Cache.Normalize() // validated
	settings := []map[string]string{cache.Env()}
	if p.BucketName != nil {
		// No IAM change: the vendor signs upload forms with the caller's own
		// credentials (GetCredentialsForIdentity is a public API).
		env[contract.EnvBucket] = p.BucketName
		upload, _ := p.Upload.Normalize() // validated
		settings = append(settings, upload.Env())
	}
	for _, m := range settings {
		for k, v := range m {
			env[k] = jsii.String(v)
		}
	}
	return env
}

// secret is the verifier secret: the WeChat app secret, set by hand, and a
// generated HS256 key for the team's backend; the function may read it.
func (tv *TokenVendor) secret(p TokenVendorProps, role awsiam.Role) {
	tv.Secret = awssecretsmanager.NewSecret(tv.Construct, jsii.String("VerifierSecret"), &awssecretsmanager.SecretProps{
		Description: jsii.String("s3vend login-verifier secrets: set wechatAppSecret; hs256Key is generated for your backend"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String(`{"` + contract.SecretFieldWeChat + `":""}`),
			GenerateStringKey:    jsii.String(contract.SecretFieldHS256),
			PasswordLength:       jsii.Number(contract.GeneratedHS256KeyChars),
			ExcludePunctuation:   jsii.Bool(true),
		},
		RemovalPolicy: removalPolicy(p.Retain),
	})
	tv.Secret.GrantRead(role, nil)
	// The tag names the stack whose smoke check may read this secret
	// (NewGitHubDeployRoles: a deploy role reads only secrets tagged
	// with its own stacks, through secretsmanager:ResourceTag).
	awscdk.Tags_Of(tv.Secret).Add(jsii.String(SmokeSecretTag), awscdk.Stack_Of(tv.Construct).StackName(), nil)
}

// api is the HTTP API in front of the function, its throttled $default
// stage and that stage's access log.
func (tv *TokenVendor) api(p TokenVendorProps) {
	tv.AccessLogs = awslogs.NewLogGroup(tv.Construct, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention: logRetentionDays[int(p.LogRetention/config.Day)], RemovalPolicy: removalPolicy(p.Retain), // validated
	})
	tv.API = awsapigatewayv2.NewHttpApi(tv.Construct, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		Description:        jsii.String("s3vend token vendor"),
		CreateDefaultStage: jsii.Bool(false),
		// Every path goes to the function, so unknown paths and methods get
		// the service's own JSON 404/405; API Gateway answers CORS preflight.
		DefaultIntegration: awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("Vendor"), tv.Function, nil),
		CorsPreflight:      corsPreflight(p.CORSOrigins),
	})
	stage := awsapigatewayv2.NewHttpStage(tv.Construct, jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    tv.API,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit: jsii.Number(p.ThrottleRateLimit), BurstLimit: jsii.Number(float64(p.ThrottleBurstLimit)),
		},
		AccessLogSettings: &accessLogSettings{awsapigatewayv2.NewLogGroupLogDestination(tv.AccessLogs)},
	})
	tv.TokenURL = jsii.String(*stage.Url() + strings.TrimPrefix(wire.RouteToken, "/")) // the stage URL ends with "/"
}

// corsPreflight is the API's answer to browsers' preflight requests.
func corsPreflight(origins []string) *awsapigatewayv2.CorsPreflightOptions {
	return &awsapigatewayv2.CorsPreflightOptions{
		AllowOrigins: jsii.Strings(origins...),
		AllowMethods: &[]awsapigatewayv2.CorsHttpMethod{awsapigatewayv2.CorsHttpMethod_POST, awsapigatewayv2.CorsHttpMethod_GET},
		AllowHeaders: jsii.Strings("content-type"),
		// Browsers let a script read only the CORS-safelisted response
		// headers unless Access-Control-Expose-Headers names others
		// (https://fetch.spec.whatwg.org/#cors-safelisted-response-header-name):
		// Retry-After is not one, and JS clients honour it on 429/503
		// (js/client); X-Request-Id ties an error to the vendor's log.
		ExposeHeaders: jsii.Strings("retry-after", "x-request-id"),
		MaxAge:        awscdk.Duration_Minutes(jsii.Number(10)),
	}
}

// acknowledgements are the token vendor's accepted findings.
func (tv *TokenVendor) acknowledgements() []ack {
	const (
		retention = "Retention is the environment's logRetention setting (default 30 days) to bound cost; teams under a one-year policy set \"8760h\"."
		encrypted = "CloudWatch Logs encrypts at rest with service keys; the logs hold no credentials or tokens (the service never logs them), so a customer managed key would add cost and a key policy without protecting more."
	)
	route := tv.API.Node().FindChild(jsii.String("DefaultRoute"))
	rows := []ack{
		guardAck(tv.FunctionLogs, "cloudwatch_log_group_retention_period_check", retention),
		guardAck(tv.FunctionLogs, "cloudwatch_log_group_encrypted_check", encrypted),
		guardAck(tv.AccessLogs, "cloudwatch_log_group_retention_period_check", retention),
		guardAck(tv.AccessLogs, "cloudwatch_log_group_encrypted_check", encrypted),
		guardAck(tv.Function, "lambda_inside_vpc_check",
			"The function reaches only public endpoints (Cognito Identity, STS, Secrets Manager, OIDC issuers, WeChat); a VPC would add NAT cost and no isolation."),
		guardAck(route, "api_gw_v2_authorization_type_configured_check",
			"The token endpoint is where clients authenticate: the function verifies the login credential in the body, so there is no caller identity to authorize first."),
		guardAck(route.Node().FindChild(jsii.String("Vendor-Permission")), "lambda_function_public_access_prohibited_check",
			"Invocation is granted to API Gateway only, with SourceArn scoped to this API (a Fn::Join the rule cannot evaluate)."),
		nagAck(tv.API, "AwsSolutions-APIG4",
			"The token endpoint is where clients authenticate: it verifies the login credential in the request "+
				"body itself (OIDC ID token, WeChat code or backend-signed JWT), so there is no caller identity to authorize first.").withChildren(),
	}
	if tv.Secret != nil {
		rows = append(rows, nagAck(tv.Secret, "AwsSolutions-SMG4",
			"Holds third-party credentials (the WeChat app secret, issued by WeChat) and a key shared with the "+
				"team's backend; both are rotated by hand together with their other holder, so a rotation Lambda cannot do it."))
	}
	return rows
}

// accessLogSettings implements awsapigatewayv2.IAccessLogSettings with one
// JSON line per request.
type accessLogSettings struct {
	dest awsapigatewayv2.IAccessLogDestination
}

func (a accessLogSettings) Destination() awsapigatewayv2.IAccessLogDestination { return a.dest }

func (a accessLogSettings) Format() awsapigateway.AccessLogFormat {
	line, _ := json.Marshal(map[string]string{ // json.Marshal sorts keys: a stable template
		"requestId":          "$context.requestId",
		"ip":                 "$context.identity.sourceIp",
		"userAgent":          "$context.identity.userAgent",
		"requestTime":        "$context.requestTime",
		"httpMethod":         "$context.httpMethod",
		"path":               "$context.path",
		"status":             "$context.status",
		"protocol":           "$context.protocol",
		"responseLength":     "$context.responseLength",
		"responseLatency":    "$context.responseLatency",
		"integrationLatency": "$context.integrationLatency",
		"integrationStatus":  "$context.integration.status",
		"integrationError":   "$context.integration.error",
	})
	return awsapigateway.AccessLogFormat_Custom(jsii.String(string(line)))
}

// logRetentionDays maps each of config.LogRetentionDays to the CDK's enum
// (TestLogRetentionDaysCoverConfig checks the two agree).
var logRetentionDays = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}
