// Package infra holds s3vend's constructs, its building blocks. Each
// construct is a struct embedding constructs.Construct, built by
// NewX(scope, id, props) from plain Go props that it never mutates; defaults
// and validation live in one method per props type, and call the defaults
// and ranges of package config (the cdk.json keys the props carry) and
// package contract (what the token vendor checks too).
package infra

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/s3vend/s3vend/config"
	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/infra/accesspolicy"
)

// Key prefixes, the Amplify storage convention the roles are written for;
// the token vendor's upload route signs keys under the same prefixes.
const (
	PublicPrefix    = contract.PublicPrefix
	ProtectedPrefix = contract.ProtectedPrefix
	PrivatePrefix   = contract.PrivatePrefix
)

// ACLWarning is the synth warning the public-read ACL mode adds.
const ACLWarning = "bucketAccess acl-public-read grants the bucket ACL READ to everyone: anyone can list every key, including private/ and protected/ ones (their contents stay unreadable). Prefer the default \"policy\" mode."

// PublicBucketProps configures NewPublicBucket.
// Its defaults and ranges are config's (the cdk.json keys of the same names).
type PublicBucketProps struct {
	BucketAccess                config.BucketAccess // default config.PublicReadByPolicy
	CORSOrigins                 []string            // required
	CORSMaxAge                  time.Duration       // default config.CORSMaxAge
	Versioning                  bool
	NoncurrentVersionExpiry     time.Duration // default config.NoncurrentVersionExpiry; only with Versioning
	AbortIncompleteUploadsAfter time.Duration // default config.AbortIncompleteUploadsAfter
	AccessLogExpiry             time.Duration // default config.AccessLogExpiry
	Retain                      bool          // keep both buckets on stack delete/replace
	// Rules are the key layout and who may do what (cdk.json "access");
	// default contract.DefaultRules(). The bucket policy gets their
	// anonymous grants, GrantUserAccess and GrantGuestAccess the rest
	// (compiled by infra/accesspolicy).
	Rules contract.Rules
}

func (p PublicBucketProps) withDefaults() PublicBucketProps {
	if p.BucketAccess == "" {
		p.BucketAccess = config.PublicReadByPolicy
	}
	for _, d := range p.durations() {
		if *d.value == 0 {
			*d.value = d.rule.Default
		}
	}
	p.CORSOrigins = slices.Clone(p.CORSOrigins)
	if p.Rules == nil {
		p.Rules = contract.DefaultRules()
	}
	p.Rules = slices.Clone(p.Rules)
	return p
}

// durationProp is a duration of the props and the config rule it follows.
type durationProp struct {
	name  string
	value *time.Duration
	rule  config.DurationRule
}

// durations are the props' durations with their rules.
func (p *PublicBucketProps) durations() []durationProp {
	return []durationProp{
		{"CORSMaxAge", &p.CORSMaxAge, config.CORSMaxAge},
		{"NoncurrentVersionExpiry", &p.NoncurrentVersionExpiry, config.NoncurrentVersionExpiry},
		{"AbortIncompleteUploadsAfter", &p.AbortIncompleteUploadsAfter, config.AbortIncompleteUploadsAfter},
		{"AccessLogExpiry", &p.AccessLogExpiry, config.AccessLogExpiry},
	}
}

func (p PublicBucketProps) validate() error {
	if !p.BucketAccess.Valid() {
		return fmt.Errorf("PublicBucketProps.BucketAccess: %q is not %q or %q", p.BucketAccess, config.PublicReadByPolicy, config.PublicReadByACL)
	}
	if len(p.CORSOrigins) == 0 {
		return fmt.Errorf("PublicBucketProps.CORSOrigins: at least one origin is required")
	}
	// Config checked the rules against the verifiers; here only what the
	// bucket itself needs: valid rules that compile.
	if err := p.Rules.Check(contract.CheckOptions{Verifiers: anyVerifiers}); err != nil {
		return fmt.Errorf("PublicBucketProps.Rules: %w", err)
	}
	if _, err := accesspolicy.Compile(p.Rules, contract.Partitions[0].Principal); err != nil {
		return fmt.Errorf("PublicBucketProps.Rules: %w", err)
	}
	for _, d := range p.durations() {
		if err := d.rule.Check(*d.value); err != nil {
			return fmt.Errorf("PublicBucketProps.%s: %w", d.name, err)
		}
	}
	return nil
}

// CORSExposedHeaders are the response headers browsers may show to scripts.
// ETag is what a browser needs to complete a multipart upload; the x-amz-
// headers are what the AWS SDKs read back. Since early 2025 the AWS SDK for
// JavaScript v3 computes a CRC32 checksum for uploads by default and
// validates GetObject responses against any x-amz-checksum-<algorithm>
// header it can read (@aws-sdk/checksums, flexible-checksums/constants.js:
// DEFAULT_REQUEST_CHECKSUM_CALCULATION = WHEN_SUPPORTED,
// DEFAULT_CHECKSUM_ALGORITHM = CRC32; getChecksumLocationName.js:
// "x-amz-checksum-" + algorithm; validateChecksumFromResponse.js), and S3
// reports whole-object vs composite checksums in x-amz-checksum-type.
var CORSExposedHeaders = []string{
	"ETag", "x-amz-version-id", "x-amz-server-side-encryption", "x-amz-request-id", "x-amz-id-2",
	"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme",
	"x-amz-checksum-sha1", "x-amz-checksum-sha256", "x-amz-checksum-type",
}

// anyVerifiers can supply every placeholder, for the rule checks that do
// not depend on the environment's verifiers (config checks those).
var anyVerifiers = contract.Verifiers{OIDC: []contract.OIDC{{Name: "any", TenantClaim: "tenant"}}}

// PublicBucket is the content bucket clients read and write directly, plus
// the bucket that receives its server access logs.
type PublicBucket struct {
	constructs.Construct
	Bucket     awss3.Bucket
	AccessLogs awss3.Bucket
	// Rules are the layout the policies were compiled from.
	Rules contract.Rules
}

// NewPublicBucket creates the bucket. Invalid props panic at synth with an
// error naming the field.
func NewPublicBucket(scope constructs.Construct, id string, props PublicBucketProps) *PublicBucket {
	p := props.withDefaults()
	if err := p.validate(); err != nil {
		panic(err)
	}
	b := &PublicBucket{Construct: constructs.NewConstruct(scope, jsii.String(id)), Rules: p.Rules}
	public, _ := accesspolicy.Compile(p.Rules, contract.Partitions[0].Principal) // validated above; anonymous grants bind nothing
	b.AccessLogs = b.accessLogs(p)
	b.Bucket = b.content(p, len(public.Bucket) > 0)
	// Anonymous access: exactly the rules' anonymous grants (default: read
	// of public/* only; no public list, put or delete).
	for _, st := range public.Bucket {
		b.Bucket.AddToResourcePolicy(b.statement(st, awsiam.NewAnyPrincipal()))
	}
	acknowledge(b.acknowledgements(p, public))
	if p.BucketAccess == config.PublicReadByACL {
		awscdk.Annotations_Of(b.Bucket).AddWarningV2(jsii.String("s3vend:PublicReadACL"), jsii.String(ACLWarning))
	}
	return b
}

// accessLogs is the private bucket that receives the content bucket's
// server access logs, which expire by lifecycle.
func (b *PublicBucket) accessLogs(p PublicBucketProps) awss3.Bucket {
	return awss3.NewBucket(b.Construct, jsii.String("AccessLogs"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		BlockedEncryptionTypes: blockSSEC(),
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		RemovalPolicy:          removalPolicy(p.Retain),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("expire-access-logs"),
			Expiration: awscdk.Duration_Days(days(p.AccessLogExpiry)),
		}},
	})
}

// content is the bucket clients read and write, its public access settings
// following the access mode and whether any rule grants anonymous access.
func (b *PublicBucket) content(p PublicBucketProps, anonymous bool) awss3.Bucket {
	ownership, bpa, acl := s3Settings(p.BucketAccess, anonymous)
	return awss3.NewBucket(b.Construct, jsii.String("Bucket"), &awss3.BucketProps{
		ObjectOwnership:        ownership,
		BlockPublicAccess:      bpa,
		AccessControl:          acl,
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		BlockedEncryptionTypes: blockSSEC(),
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		Versioned:              jsii.Bool(p.Versioning),
		RemovalPolicy:          removalPolicy(p.Retain),
		ServerAccessLogsBucket: b.AccessLogs,
		ServerAccessLogsPrefix: jsii.String("s3/"),
		Cors:                   corsRules(p),
		LifecycleRules:         lifecycleRules(p),
	})
}

func corsRules(p PublicBucketProps) *[]*awss3.CorsRule {
	return &[]*awss3.CorsRule{{
		AllowedOrigins: jsii.Strings(p.CORSOrigins...),
		AllowedMethods: &[]awss3.HttpMethods{
			awss3.HttpMethods_GET, awss3.HttpMethods_HEAD, awss3.HttpMethods_PUT,
			awss3.HttpMethods_POST, awss3.HttpMethods_DELETE,
		},
		// Whatever the SDKs send, including the checksum headers of flexible
		// checksums (x-amz-checksum-*, x-amz-sdk-checksum-algorithm).
		AllowedHeaders: jsii.Strings("*"),
		ExposedHeaders: jsii.Strings(CORSExposedHeaders...),
		MaxAge:         jsii.Number(p.CORSMaxAge.Seconds()),
	}}
}

// acknowledgements are the buckets' accepted findings; the texts follow the
// access rules (with the default rules they read as they always have).
func (b *PublicBucket) acknowledgements(p PublicBucketProps, public accesspolicy.Policies) []ack {
	logs, bucket := b.AccessLogs, b.Bucket
	rows := []ack{
		nagAck(logs, "AwsSolutions-S1", "This is the access-log target bucket; logging it into itself would loop."),
		guardAck(logs, "s3_bucket_default_encryption_kms_check", "S3 server access logging delivers only to SSE-S3 encrypted target buckets."),
		guardAck(logs, "s3_bucket_versioning_enabled_check", "Logs are written once by the S3 logging service and expire by lifecycle; versions would only keep expired logs."),
		guardAck(logs, "s3_bucket_logging_enabled_check", "This is the access-log target bucket; logging it into itself would loop."),
		guardAck(logs, "s3_event_notifications_enabled_check", "Nothing consumes access-log events; add a notification when a log pipeline exists."),
		guardAck(logs, "s3_bucket_object_lock_enabled_check", "Object Lock would block the lifecycle expiry that bounds log retention and cost."),

		guardAck(bucket, "s3_bucket_acl_prohibited_check", "The ACL is set explicitly (Private, or PublicRead in the opt-in ACL mode) so that what S3 applies is visible in cdk diff; with BucketOwnerEnforced, Private is the only ACL S3 accepts."),
		guardAck(bucket, "s3_event_notifications_enabled_check", "Clients upload directly; nothing consumes object events yet. Add a notification when a processing pipeline exists."),
		guardAck(bucket, "s3_bucket_object_lock_enabled_check", "Users overwrite and delete their own objects by design; Object Lock would forbid it. Versioning (on unless the environment is disposable) keeps recoverable history instead."),
		lintAck(bucket, "W3045", "AccessControl is set explicitly: Private, the only canned ACL S3 accepts with BucketOwnerEnforced (ACLs "+
			"disabled), so that what S3 applies is visible in cdk diff; or PublicRead in the opt-in acl-public-read mode, "+
			"for which this legacy property is CloudFormation's only way to set a bucket ACL. Access is granted by the bucket policy."),
	}
	switch anonymous, grants, bases := len(public.Bucket) > 0, describeGrants(public.Bucket), publicBases(p.Rules); {
	case anonymous:
		rows = append(rows,
			nagAck(bucket, "AwsSolutions-S2", "The bucket serves "+bases+" to anonymous clients by design. Only the public-policy flags of Block Public "+
				"Access are off; the policy grants "+grants+" alone, and the ACL flags stay on unless the opt-in "+
				"acl-public-read mode is configured."),
			guardAck(bucket, "s3_bucket_level_public_access_prohibited_check", "Anonymous read of "+bases+" is the product: the public-policy flags of Block Public Access must be off for the bucket policy to deploy. The policy allows "+grants+" only."),
			guardAck(bucket, "s3_bucket_default_encryption_kms_check", "SSE-S3, not SSE-KMS: anonymous readers of "+bases+" cannot be granted kms:Decrypt, and every client role would need a key grant."),
		)
	case p.BucketAccess == config.PublicReadByACL:
		rows = append(rows,
			nagAck(bucket, "AwsSolutions-S2", "The opt-in acl-public-read mode (bucketAccess) needs the ACL flags of Block Public Access off; no access rule grants anonymous access by policy."),
			guardAck(bucket, "s3_bucket_level_public_access_prohibited_check", "The opt-in acl-public-read mode (bucketAccess) needs Block Public Access off for its public-read ACL."),
			guardAck(bucket, "s3_bucket_default_encryption_kms_check", "SSE-S3, not SSE-KMS: every client role would need a key grant."),
		)
	default:
		rows = append(rows, guardAck(bucket, "s3_bucket_default_encryption_kms_check", "SSE-S3, not SSE-KMS: every client role would need a key grant."))
	}
	if !p.Versioning {
		rows = append(rows, guardAck(bucket, "s3_bucket_versioning_enabled_check", "Versioning is off in this environment by config (versioning: false, the default only in a disposable environment) to keep throw-away storage cheap."))
	}
	return rows
}

// s3Settings derives object ownership, Block Public Access and the canned ACL
// from the access mode and whether the access rules grant anonymous access.
// Under S3's 2023 defaults (all four BPA flags on, ACLs disabled) a public
// bucket policy only deploys with BlockPublicPolicy and
// RestrictPublicBuckets off, and a public ACL only with ACLs enabled and
// the two ACL flags off; the ACL-blocking flags stay on whenever ACLs are not
// the mechanism, and all four when no rule grants anonymous access.
func s3Settings(a config.BucketAccess, anonymous bool) (awss3.ObjectOwnership, awss3.BlockPublicAccess, awss3.BucketAccessControl) {
	if a == config.PublicReadByACL {
		return awss3.ObjectOwnership_BUCKET_OWNER_PREFERRED,
			awss3.NewBlockPublicAccess(&awss3.BlockPublicAccessOptions{
				BlockPublicAcls: jsii.Bool(false), IgnorePublicAcls: jsii.Bool(false),
				BlockPublicPolicy: jsii.Bool(false), RestrictPublicBuckets: jsii.Bool(false),
			}),
			awss3.BucketAccessControl_PUBLIC_READ
	}
	if !anonymous {
		return awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED, awss3.BlockPublicAccess_BLOCK_ALL(), awss3.BucketAccessControl_PRIVATE
	}
	return awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		awss3.NewBlockPublicAccess(&awss3.BlockPublicAccessOptions{
			BlockPublicAcls: jsii.Bool(true), IgnorePublicAcls: jsii.Bool(true),
			BlockPublicPolicy: jsii.Bool(false), RestrictPublicBuckets: jsii.Bool(false),
		}),
		awss3.BucketAccessControl_PRIVATE
}

// blockSSEC blocks writes with customer-provided keys (SSE-C) on the bucket,
// the bucket-level setting S3 added for it: "When SSE-C is blocked for a
// bucket, any PutObject, CopyObject, PostObject, or Multipart Upload or
// replication requests that specify SSE-C encryption will be rejected with
// an HTTP 403 AccessDenied error" (S3 User Guide, "Blocking or unblocking
// SSE-C for a general purpose bucket"; CloudFormation AWS::S3::Bucket
// ServerSideEncryptionRule.BlockedEncryptionTypes, in awscdk v2.270.0 as
// BucketProps.BlockedEncryptionTypes). "Starting April 2026, Amazon S3
// automatically disables SSE-C for all new general purpose buckets"; s3vend
// says so explicitly, so that existing buckets (created before, or in an
// account with SSE-C objects) get the same setting and cdk diff shows it.
// An object written with SSE-C is unreadable for everyone without the key,
// the bucket owner included.
func blockSSEC() *[]awss3.BlockedEncryptionType {
	return &[]awss3.BlockedEncryptionType{awss3.BlockedEncryptionType_SSE_C()}
}

func lifecycleRules(p PublicBucketProps) *[]*awss3.LifecycleRule {
	rules := []*awss3.LifecycleRule{{
		Id:                                  jsii.String("abort-incomplete-multipart-uploads"),
		AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(days(p.AbortIncompleteUploadsAfter)),
	}}
	if p.Versioning {
		rules = append(rules, &awss3.LifecycleRule{
			Id:                          jsii.String("expire-noncurrent-versions"),
			NoncurrentVersionExpiration: awscdk.Duration_Days(days(p.NoncurrentVersionExpiry)),
			ExpiredObjectDeleteMarker:   jsii.Bool(true),
		})
	}
	return &rules
}

// removalPolicy keeps a resource on stack delete/replace when retain is set.
func removalPolicy(retain bool) awscdk.RemovalPolicy {
	if retain {
		return awscdk.RemovalPolicy_RETAIN
	}
	return awscdk.RemovalPolicy_DESTROY
}

func days(d time.Duration) *float64 { return jsii.Number(float64(d / (24 * time.Hour))) }

// GrantUserAccess gives the authenticated role the rules' grants to
// authenticated, owner and tenant; with the default rules, read/write/delete
// of private/<sub>/ and protected/<sub>/, read of protected/ and public/,
// and listing of only those prefixes. who is how the pool's sessions name
// Cognito: the identity id is the policy variable
// ${<who.ConditionKeyPrefix>:sub}; {userId} and {tenant} are the session
// tags ${aws:PrincipalTag/s3vend-user} and ${aws:PrincipalTag/s3vend-tenant}.
// The statements are the compiled Allow ones only; Deny guardrails go in
// separate statements beside them.
func (b *PublicBucket) GrantUserAccess(role awsiam.IRole, who contract.CognitoPrincipal) {
	compiled := b.compile(who)
	if len(compiled.Authenticated) == 0 {
		return // no signed-in grant: the role has no S3 permission at all
	}
	policy := awsiam.NewPolicy(b.Construct, jsii.String("UserAccess"), &awsiam.PolicyProps{
		Roles:      &[]awsiam.IRole{role},
		Statements: b.withGuardrails(b.statements(compiled.Authenticated)),
	})
	identitySub := who.IdentityIDVariable()
	acknowledge([]ack{nagAck(policy, "AwsSolutions-IAM5", "Object keys are chosen by the user at run time: the wildcards are scoped to the caller's own "+
		ownPrefixes(b.Rules, identitySub)+" or to the "+sharedPrefixes(b.Rules)+".").
		only(regexAppliesTo(`Resource::<.*Bucket.*\.Arn>/(` + firstSegments(b.Rules, contract.SubjectAuthenticated, contract.SubjectOwner, contract.SubjectTenant) + `)/.*`))})
}

// withGuardrails appends the guardrail Denies to the compiled Allow
// statements of the authenticated role: two lists, so the rules never
// reach the Denies and the Denies never depend on the layout.
func (b *PublicBucket) withGuardrails(allows *[]awsiam.PolicyStatement) *[]awsiam.PolicyStatement {
	out := append(*allows,
		guardrail("DenyStorageClassOtherThanStandard", b.Bucket, map[string]any{
			"Null":            map[string]any{"s3:x-amz-storage-class": "false"},
			"StringNotEquals": map[string]any{"s3:x-amz-storage-class": "STANDARD"},
		}),
		guardrail("DenyCustomerProvidedKeys", b.Bucket, map[string]any{
			"Null": map[string]any{"s3:x-amz-server-side-encryption-customer-algorithm": "false"},
		}),
		guardrail("DenyServerSideCopy", b.Bucket, map[string]any{
			"Null": map[string]any{"s3:x-amz-copy-source": "false"},
		}),
	)
	return &out
}

// guardrail is a Deny of s3:PutObject (which PutObject, CreateMultipartUpload,
// UploadPart, UploadPartCopy, CompleteMultipartUpload, POST uploads and
// CopyObject all need: "Required permissions for Amazon S3 API operations")
// on every object when the request's condition keys match, so that a
// signed-in user's direct writes into their own prefix cannot do what
// /v1/upload would never sign (docs/security.md, "Storage guardrails"):
//
//   - a storage class other than STANDARD: s3:x-amz-storage-class, "Filters
//     access by storage class" (Service Authorization Reference, Amazon S3
//     condition keys; set from the x-amz-storage-class header). GLACIER and
//     DEEP_ARCHIVE objects cannot be read until restored, and bill 90 and
//     180 days at least; REDUCED_REDUNDANCY and the IA classes have their own
//     minimums and retrieval fees;
//   - a customer-provided key: s3:x-amz-server-side-encryption-customer-algorithm
//     ("Filters access by customer specified algorithm for server-side
//     encryption"), which every SSE-C write carries; the bucket also blocks
//     SSE-C (blockSSEC);
//   - a server-side copy: s3:x-amz-copy-source ("Filters access by copy
//     source bucket, prefix, or object in the copy object requests"), which
//     CopyObject and UploadPartCopy set: each copies up to 5 GB per request
//     inside S3 (CopyObject copies an object of up to 5 GB in one atomic
//     operation, UploadPartCopy a 5 GB part: S3 User Guide, "Copying,
//     moving, and renaming objects") without the data crossing the client's
//     connection, so a user could fill their prefix from public/ or their
//     own objects at no bandwidth cost.
//
// Each tests that the key is present (Null false) and, for the storage class,
// that it differs from STANDARD: a key absent from the request makes
// StringNotEquals true ("If the policy condition requires that the key is
// not matched, such as StringNotLike or ArnNotLike, and the right key is not
// present, the condition is true", IAM User Guide, "IAM JSON policy
// elements: Condition operators"), which would deny every put that sends no
// storage class; ...IfExists would too, Null does not.
func guardrail(sid string, bucket awss3.IBucket, condition map[string]any) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(sid),
		Effect:     awsiam.Effect_DENY,
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  jsii.Strings(*bucket.ArnForObjects(jsii.String("*"))),
		Conditions: &condition,
	})
}

// GrantGuestAccess gives the unauthenticated role the rules' guest grants
// (default: read of public/ only).
func (b *PublicBucket) GrantGuestAccess(role awsiam.IRole) {
	compiled := b.compile(contract.Partitions[0].Principal) // guest grants bind nothing
	if len(compiled.Guest) == 0 {
		return // no guest grant: the role has no S3 permission at all
	}
	policy := awsiam.NewPolicy(b.Construct, jsii.String("GuestAccess"), &awsiam.PolicyProps{
		Roles:      &[]awsiam.IRole{role},
		Statements: b.statements(compiled.Guest),
	})
	objects := objectPatterns(compiled.Guest)
	quoted := make([]string, len(objects))
	for i, o := range objects {
		quoted[i] = regexp.QuoteMeta(o)
	}
	applies := strings.Join(quoted, "|")
	if len(quoted) != 1 {
		applies = "(" + applies + ")"
	}
	reason := "Guests may read any object under " + publicBases(b.Rules) + ", which is world-readable through the bucket policy anyway."
	if !guestsSeeOnlyPublic(b.Rules) {
		reason = "Guests may read or list under " + bases(b.Rules, contract.SubjectGuest) + ": the environment's access rules (cdk.json \"access\") grant it to unauthenticated identities, and nothing to write."
	}
	acknowledge([]ack{nagAck(policy, "AwsSolutions-IAM5", reason).only(regexAppliesTo(`Resource::<.*Bucket.*\.Arn>/` + applies))})
}

// GuestAccessSummary says what the rules let guests do, for
// IdentityPoolProps.GuestAccess.
func (b *PublicBucket) GuestAccessSummary() string {
	g := bases(b.Rules, contract.SubjectGuest)
	switch {
	case g == "nothing":
		return "no S3 permission at all (no access rule grants guests anything)"
	case guestsSeeOnlyPublic(b.Rules):
		return "read of " + g + " only, which the bucket policy already makes world-readable"
	}
	return "only the access rules' guest grants (read or list under " + g + ", never writes)"
}

// compile compiles the rules for sessions named as who (validated in
// NewPublicBucket; a leak found only with who's variables still panics at
// synth, naming the rule).
func (b *PublicBucket) compile(who contract.CognitoPrincipal) accesspolicy.Policies {
	p, err := accesspolicy.Compile(b.Rules, who)
	if err != nil {
		panic(fmt.Errorf("PublicBucketProps.Rules: %w", err))
	}
	return p
}

func (b *PublicBucket) statements(sts []accesspolicy.Statement) *[]awsiam.PolicyStatement {
	out := make([]awsiam.PolicyStatement, len(sts))
	for i, st := range sts {
		out[i] = b.statement(st, nil)
	}
	return &out
}

// statement is a compiled statement as a CDK one, on this bucket.
func (b *PublicBucket) statement(st accesspolicy.Statement, principal awsiam.IPrincipal) awsiam.PolicyStatement {
	props := &awsiam.PolicyStatementProps{Sid: jsii.String(st.Sid), Effect: awsiam.Effect_ALLOW, Actions: jsii.Strings(st.Actions...)}
	if principal != nil {
		props.Principals = &[]awsiam.IPrincipal{principal}
	}
	if st.IsList() {
		props.Resources = jsii.Strings(*b.Bucket.BucketArn())
		props.Conditions = &map[string]any{"StringLike": map[string]any{"s3:prefix": st.Prefixes}}
	} else {
		res := make([]string, len(st.Resources))
		for i, r := range st.Resources {
			res[i] = *b.Bucket.ArnForObjects(jsii.String(r))
		}
		props.Resources = jsii.Strings(res...)
	}
	return awsiam.NewPolicyStatement(props)
}

// The texts of the cdk-nag and cfn-guard acknowledgements, from the rules:
// with the default rules they read as they always have.

// objectPatterns are the object patterns of statements, in order.
func objectPatterns(sts []accesspolicy.Statement) []string {
	var out []string
	for _, st := range sts {
		for _, r := range st.Resources {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// describeGrants is "s3:GetObject on public/*" for the default rules.
func describeGrants(sts []accesspolicy.Statement) string {
	parts := make([]string, len(sts))
	for i, st := range sts {
		if st.IsList() {
			parts[i] = strings.Join(st.Actions, ", ") + " with s3:prefix " + strings.Join(st.Prefixes, ", ")
		} else {
			parts[i] = strings.Join(st.Actions, ", ") + " on " + strings.Join(st.Resources, ", ")
		}
	}
	return strings.Join(parts, "; ")
}

// bases are the bases ("public/") of the rules granting s anything, joined
// "a/, b/ and c/".
func bases(rules contract.Rules, subjects ...contract.Subject) string {
	var out []string
	for _, r := range rules {
		if slices.ContainsFunc(subjects, func(s contract.Subject) bool { return len(r.Grants(s)) > 0 }) && !slices.Contains(out, r.Base()) {
			out = append(out, r.Base())
		}
	}
	return joinAnd(out)
}

func publicBases(rules contract.Rules) string { return bases(rules, contract.SubjectAnonymous) }

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return "nothing"
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// guestsSeeOnlyPublic: every guest grant is also an anonymous one.
func guestsSeeOnlyPublic(rules contract.Rules) bool {
	for _, r := range rules {
		for _, a := range r.Guest {
			if !r.Allows(contract.SubjectAnonymous, a) {
				return false
			}
		}
	}
	return true
}

// ownPrefixes names the caller's own variables of the owner and tenant
// grants: "identity prefix (${…:sub})" for the default rules.
func ownPrefixes(rules contract.Rules, identitySub string) string {
	vars := map[string]string{contract.PlaceholderIdentityID: identitySub,
		contract.PlaceholderUserID: contract.PrincipalTagVariable(contract.TagUser), contract.PlaceholderTenant: contract.PrincipalTagVariable(contract.TagTenant)}
	var used []string
	for _, p := range rules.Placeholders() {
		if slices.ContainsFunc(rules, func(r contract.Rule) bool {
			return r.Uses(p) && (len(r.Owner) > 0 || (p == contract.PlaceholderTenant && len(r.Tenant) > 0))
		}) {
			used = append(used, vars[p])
		}
	}
	if len(used) == 1 && used[0] == identitySub {
		return "identity prefix (" + identitySub + ")"
	}
	return "prefixes (" + strings.Join(used, ", ") + ")"
}

// sharedPrefixes names the bases of the grants that bind nothing:
// "read-only shared prefixes public/ and protected/" for the default rules.
func sharedPrefixes(rules contract.Rules) string {
	var out []string
	writes := false
	for _, r := range rules {
		if len(r.Authenticated) > 0 {
			out = append(out, r.Base())
			writes = writes || slices.ContainsFunc(r.Authenticated, contract.Action.Writes)
		}
	}
	if !writes {
		return "read-only shared prefixes " + joinAnd(out)
	}
	return "shared prefixes " + joinAnd(out) + " (writes by every signed-in user acknowledged with acknowledgeUnconfinedWrites)"
}

// firstSegments is the regex alternation of the rules' first segments that
// grant the subjects anything ("public|protected|private").
func firstSegments(rules contract.Rules, subjects ...contract.Subject) string {
	var out []string
	for _, r := range rules {
		first := r.Segments()[0].Literal
		if slices.ContainsFunc(subjects, func(s contract.Subject) bool { return len(r.Grants(s)) > 0 }) && !slices.Contains(out, regexp.QuoteMeta(first)) {
			out = append(out, regexp.QuoteMeta(first))
		}
	}
	return strings.Join(out, "|")
}

func regexAppliesTo(re string) *cdknag.RegexAppliesTo {
	return &cdknag.RegexAppliesTo{Regex: jsii.String("/^" + re + "$/")}
}
