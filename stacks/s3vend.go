// Package stacks composes s3vend's constructs (package infra) into one stack
// per environment of the configuration package config has read and
// validated; it holds no rule of its own.
package stacks

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/s3vend/s3vend/config"
	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/infra"
)

// S3VendStackProps configures one environment's stack.
type S3VendStackProps struct {
	Env       config.Environment
	ModuleDir string // the Go module root, where go.mod and lambda/ are
	// EdgeACLARN (token) is the web ACL of the CloudFront distribution put
	// in front of the API; required when Env.Edge.Enabled, else ignored.
	EdgeACLARN *string
}

// S3VendStack is one environment: bucket, identity pool and token vendor.
type S3VendStack struct {
	awscdk.Stack
	Bucket       *infra.PublicBucket
	IdentityPool *infra.IdentityPool
	TokenVendor  *infra.TokenVendor
	Edge         *infra.Edge       // nil unless edge.enabled
	Monitoring   *infra.Monitoring // nil with "alarms": {"enabled": false}
	Abuse        *infra.AbuseControl
}

// NewS3VendStack composes the constructs of one environment.
func NewS3VendStack(scope constructs.Construct, props S3VendStackProps) *S3VendStack {
	e := props.Env
	s := &S3VendStack{Stack: newStack(scope, e)}
	// The session tags signed-in users' sessions carry, those the access
	// rules' placeholders need and, with a user quota, the quota-state tag
	// (infra.NewAbuseControl): the trust policy and the vendor get the same
	// list (contract/tags.go).
	sessionTags := e.SessionTagKeys()

	s.Bucket = infra.NewPublicBucket(s.Stack, "Storage", bucketProps(e))
	s.IdentityPool = infra.NewIdentityPool(s.Stack, "Identity", s.identityPoolProps(e, sessionTags))
	guestRoleARN := s.grantStorage()
	s.TokenVendor = infra.NewTokenVendor(s.Stack, "TokenVendor", s.tokenVendorProps(e, props.ModuleDir, sessionTags, guestRoleARN))
	s.Abuse = infra.NewAbuseControl(s.Stack, "AbuseControl", s.abuseControlProps(e, props.ModuleDir))
	if e.Edge.Enabled {
		s.Edge = infra.NewEdge(s.Stack, "Edge", infra.EdgeProps{API: s.TokenVendor.API, WebACLARN: props.EdgeACLARN})
	}
	if e.Alarms.Enabled {
		s.Monitoring = infra.NewMonitoring(s.Stack, "Monitoring", s.monitoringProps(e))
	}

	if w := e.PlaceholderWarning(); w != "" {
		awscdk.Annotations_Of(s.Stack).AddWarningV2(jsii.String("s3vend:Placeholders"), jsii.String(w))
	}
	s.outputs(e)
	return s
}

func newStack(scope constructs.Construct, e config.Environment) awscdk.Stack {
	sp := &awscdk.StackProps{
		StackName:   jsii.String(config.StackName(e.Name)),
		Description: jsii.String("s3vend " + e.Name + ": public S3 bucket, Cognito identity pool with a developer provider, token vendor"),
		// A protected environment refuses an accidental cdk destroy
		// (docs/security.md, "Termination protection", says how to lift it).
		TerminationProtection: jsii.Bool(!e.Disposable),
	}
	if e.Account != "" || e.Region != "" {
		sp.Env = &awscdk.Environment{Account: strOrNil(e.Account), Region: strOrNil(e.Region)}
	}
	return awscdk.NewStack(scope, jsii.String(config.StackName(e.Name)), sp)
}

func bucketProps(e config.Environment) infra.PublicBucketProps {
	return infra.PublicBucketProps{
		BucketAccess:                e.BucketAccess,
		CORSOrigins:                 e.CORSOrigins,
		CORSMaxAge:                  e.CORSMaxAge,
		Versioning:                  e.Versioning,
		NoncurrentVersionExpiry:     e.NoncurrentVersionExpiry,
		AbortIncompleteUploadsAfter: e.AbortIncompleteUploadsAfter,
		AccessLogExpiry:             e.AccessLogExpiry,
		Retain:                      e.Retain,
		Rules:                       e.Access,
	}
}

func (s *S3VendStack) identityPoolProps(e config.Environment, sessionTags []string) infra.IdentityPoolProps {
	return infra.IdentityPoolProps{
		DeveloperProviderName: e.DeveloperProviderName,
		Guests:                e.Guests,
		BasicFlow:             e.BasicFlow,
		UserPool:              e.UserPool,
		RoleMappings:          e.RoleMappings,
		AmbiguousRoleDeny:     e.AmbiguousRoleDeny,
		CredentialLifetime:    e.CredentialLifetime,
		Retain:                e.Retain,
		CognitoPrincipal:      e.CognitoPrincipal,
		SessionTags:           sessionTags,
		GuestAccess:           s.Bucket.GuestAccessSummary(),
	}
}

// grantStorage gives the pool's roles their bucket access; it returns the
// guest role's ARN (nil without guests).
func (s *S3VendStack) grantStorage() *string {
	s.Bucket.GrantUserAccess(s.IdentityPool.AuthenticatedRole, s.IdentityPool.CognitoPrincipal)
	r := s.IdentityPool.UnauthenticatedRole
	if r == nil {
		return nil
	}
	s.Bucket.GrantGuestAccess(r)
	return r.RoleArn()
}

func (s *S3VendStack) tokenVendorProps(e config.Environment, moduleDir string, sessionTags []string, guestRoleARN *string) infra.TokenVendorProps {
	return infra.TokenVendorProps{
		Build:                 infra.GoBuild{ModuleDir: moduleDir, Package: "./lambda/cmd/tokenvendor", SourceDir: "lambda"},
		IdentityPoolID:        s.IdentityPool.PoolID,
		IdentityPoolARN:       s.IdentityPool.PoolARN,
		DeveloperProviderName: e.DeveloperProviderName,
		AuthenticatedRoleARN:  s.IdentityPool.AuthenticatedRole.RoleArn(),
		Guests:                e.Guests,
		GuestRoleARN:          guestRoleARN,
		BasicFlow:             e.BasicFlow,
		TokenDuration:         e.TokenDuration,
		CredentialLifetime:    e.CredentialLifetime,
		SessionPolicy:         e.SessionPolicy,
		Verifiers:             e.Verifiers,
		BucketName:            s.Bucket.Bucket.BucketName(),
		Upload:                e.Upload,
		Cache:                 e.Cache,
		SessionTags:           sessionTags,
		AccessRules:           e.Access,
		CORSOrigins:           e.CORSOrigins,
		ThrottleRateLimit:     e.ThrottleRateLimit,
		ThrottleBurstLimit:    e.ThrottleBurstLimit,
		LogRetention:          e.LogRetention,
		Retain:                e.Retain,
	}
}

func (s *S3VendStack) abuseControlProps(e config.Environment, moduleDir string) infra.AbuseControlProps {
	roles := []awsiam.IRole{s.IdentityPool.AuthenticatedRole}
	if r := s.IdentityPool.UnauthenticatedRole; r != nil {
		roles = append(roles, r)
	}
	return infra.AbuseControlProps{
		Build:        infra.GoBuild{ModuleDir: moduleDir, Package: "./lambda/cmd/metering", SourceDir: "lambda"},
		Bucket:       s.Bucket.Bucket,
		Vendor:       s.TokenVendor,
		Roles:        roles,
		PoolARN:      s.IdentityPool.PoolARN,
		Quota:        e.UserQuota,
		AccessRules:  e.Access,
		AuthRole:     s.IdentityPool.AuthenticatedRole,
		LogRetention: e.LogRetention,
		Retain:       e.Retain,
	}
}

func (s *S3VendStack) monitoringProps(e config.Environment) infra.MonitoringProps {
	return infra.MonitoringProps{
		Name:            config.StackName(e.Name), // the vendor's Stack dimension: the stack name (NewTokenVendor)
		Function:        s.TokenVendor.Function,
		FunctionTimeout: s.TokenVendor.Timeout,
		API:             s.TokenVendor.API,
		Thresholds:      e.Alarms.Thresholds,
		Emails:          e.Alarms.Emails,
		Retain:          e.Retain,
		Abuse:           s.Abuse,
	}
}

func (s *S3VendStack) outputs(e config.Environment) {
	out := func(id, desc string, value *string) {
		awscdk.NewCfnOutput(s.Stack, jsii.String(id), &awscdk.CfnOutputProps{Description: jsii.String(desc), Value: value})
	}
	out("Region", "Region of every resource; the client SDKs' region", s.Region())
	out("BucketName", "Bucket clients read and write", s.Bucket.Bucket.BucketName())
	out("IdentityPoolId", "Cognito identity pool id", s.IdentityPool.PoolID)
	out("DeveloperProviderName", "Developer provider name of the identity pool (cannot change)", jsii.String(e.DeveloperProviderName))
	if s.Edge != nil {
		out("TokenEndpoint", "POST a login here to receive an identity id and token (CloudFront, rate-limited per client IP)", s.Edge.TokenURL)
		out("DirectTokenEndpoint", "The API's own execute-api URL of the same route: not rate-limited per client, keep it for diagnostics", s.TokenVendor.TokenURL)
	} else {
		out("TokenEndpoint", "POST a login here to receive an identity id and token", s.TokenVendor.TokenURL)
	}
	if e.Region != "" { // env-agnostic stacks: the token response carries loginKey
		out("LoginKey", "Logins key for GetCredentialsForIdentity with a vended token", jsii.String(contract.LoginKey(e.Region)))
	}
	out(contract.OutputAccessRules, "The key layout and who may do what (cdk.json access, JSON); client.Outputs.Rules", jsii.String(e.Access.JSON()))
	out("AuthenticatedRoleArn", "Role of signed-in identities", s.IdentityPool.AuthenticatedRole.RoleArn())
	if r := s.IdentityPool.UnauthenticatedRole; r != nil {
		out("UnauthenticatedRoleArn", "Role of guest identities", r.RoleArn())
	}
	if s.TokenVendor.Secret != nil {
		out("VerifierSecretArn", "Secret holding wechatAppSecret (set it) and hs256Key (generated; share with your backend)", s.TokenVendor.Secret.SecretArn())
	}
	out("RevocationsTableName", "Revocation table (s3vend admin revoke, unrevoke, revoked)", s.Abuse.Revocations.TableName())
	out("OperatorPolicyArn", "Managed policy for s3vend admin: attach it to your operators (never to CI)", s.Abuse.Operator.ManagedPolicyArn())
	if s.Abuse.Usage != nil {
		out("UsageTableName", "Per-user usage table (s3vend admin usage)", s.Abuse.Usage.TableName())
		if q := e.UserQuota; q.MaxBytes > 0 {
			out(contract.OutputUserQuotaMaxBytes, "userQuota.maxBytes: bytes one identity may keep (s3vend admin usage)", jsii.String(strconv.FormatInt(q.MaxBytes, 10)))
		}
		if q := e.UserQuota; q.MaxObjects > 0 {
			out(contract.OutputUserQuotaMaxObjects, "userQuota.maxObjects: objects one identity may keep (s3vend admin usage)", jsii.String(strconv.FormatInt(q.MaxObjects, 10)))
		}
	}
	if m := s.Monitoring; m != nil {
		out("AlarmTopicArn", "SNS topic of the alarms (runbook: docs/runbook.md); subscribe more endpoints here", m.Topic.TopicArn())
		out("DashboardName", "CloudWatch dashboard of the token vendor's signals", m.Dashboard.DashboardName())
	}
	if up := s.IdentityPool.UserPool; up != nil {
		out("UserPoolId", "User pool accepted as a second login provider", up.UserPoolId())
		out("UserPoolClientId", "App client id of that user pool", s.IdentityPool.UserPoolClientID)
	}
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return jsii.String(s)
}

// Build adds every configured environment's stack to app, and cdk-nag's
// AwsSolutions checks over all of them. app.go and the tests both call it,
// so what is tested is what is deployed.
func Build(app awscdk.App, cfg config.Config, moduleDir string) map[string]*S3VendStack {
	out := make(map[string]*S3VendStack, len(cfg.Environments))
	for _, name := range cfg.Names() {
		e := cfg.Environments[name]
		props := S3VendStackProps{Env: e, ModuleDir: moduleDir}
		if e.Edge.Enabled {
			props.EdgeACLARN = NewEdgeACLStack(app, e).ACL.ARN
		}
		out[name] = NewS3VendStack(app, props)
	}
	if cfg.CICD != nil {
		NewCICDStack(app, *cfg.CICD)
	}
	// Findings (and suppressions) surface as synth annotations, which fail
	// `cdk synth` and are asserted in the tests. The per-rule CSV reports are
	// off: writing them line by line took 5-7 s of a 10 s synth.
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{
		Verbose: jsii.Bool(true), Reports: jsii.Bool(false),
	}), nil)
	return out
}
