// Package infra holds s3vend's constructs, its building blocks. Each
// construct is a struct embedding constructs.Construct, built by
// NewX(scope, id, props) from plain Go props that it never mutates; defaults
// and validation live in one method per props type, and call the defaults
// and ranges of package config (the cdk.json keys the props carry) and
// package contract (what the token vendor checks too).
package infra

import (
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/s3vend/s3vend/config"
	"github.com/s3vend/s3vend/contract"
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

// PublicBucket is the content bucket clients read and write directly, plus
// the bucket that receives its server access logs.
type PublicBucket struct {
	constructs.Construct
	Bucket     awss3.Bucket
	AccessLogs awss3.Bucket
}

// NewPublicBucket creates the bucket. Invalid props panic at synth with an
// error naming the field.
func NewPublicBucket(scope constructs.Construct, id string, props PublicBucketProps) *PublicBucket {
	p := props.withDefaults()
	if err := p.validate(); err != nil {
		panic(err)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	removal := removalPolicy(p.Retain)

	logs := awss3.NewBucket(c, jsii.String("AccessLogs"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		MinimumTLSVersion: jsii.Number(1.2),
		RemovalPolicy:     removal,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("expire-access-logs"),
			Expiration: awscdk.Duration_Days(days(p.AccessLogExpiry)),
		}},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(logs, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("This is the access-log target bucket; logging it into itself would loop."),
	}}, jsii.Bool(false))

	acknowledgeGuard(logs, map[string]string{
		"s3_bucket_default_encryption_kms_check": "S3 server access logging delivers only to SSE-S3 encrypted target buckets.",
		"s3_bucket_versioning_enabled_check":     "Logs are written once by the S3 logging service and expire by lifecycle; versions would only keep expired logs.",
		"s3_bucket_logging_enabled_check":        "This is the access-log target bucket; logging it into itself would loop.",
		"s3_event_notifications_enabled_check":   "Nothing consumes access-log events; add a notification when a log pipeline exists.",
		"s3_bucket_object_lock_enabled_check":    "Object Lock would block the lifecycle expiry that bounds log retention and cost.",
	})

	ownership, bpa, acl := s3Settings(p.BucketAccess)
	bucket := awss3.NewBucket(c, jsii.String("Bucket"), &awss3.BucketProps{
		ObjectOwnership:        ownership,
		BlockPublicAccess:      bpa,
		AccessControl:          acl,
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		Versioned:              jsii.Bool(p.Versioning),
		RemovalPolicy:          removal,
		ServerAccessLogsBucket: logs,
		ServerAccessLogsPrefix: jsii.String("s3/"),
		Cors: &[]*awss3.CorsRule{{
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
		}},
		LifecycleRules: lifecycleRules(p),
	})
	// Anonymous read of public/* only: no public list, put or delete.
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("PublicReadOfPublicPrefix"),
		Effect:     awsiam.Effect_ALLOW,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:GetObject"),
		Resources:  jsii.Strings(*bucket.ArnForObjects(jsii.String(PublicPrefix + "*"))),
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(bucket, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-S2"),
		Reason: jsii.String("The bucket serves public/ to anonymous clients by design. Only the public-policy flags of Block Public " +
			"Access are off; the policy grants s3:GetObject on public/* alone, and the ACL flags stay on unless the opt-in " +
			"acl-public-read mode is configured."),
	}}, jsii.Bool(false))
	bucketAcks := map[string]string{
		"s3_bucket_level_public_access_prohibited_check": "Anonymous read of public/ is the product: the public-policy flags of Block Public Access must be off for the bucket policy to deploy. The policy allows s3:GetObject on public/* only.",
		"s3_bucket_default_encryption_kms_check":         "SSE-S3, not SSE-KMS: anonymous readers of public/ cannot be granted kms:Decrypt, and every client role would need a key grant.",
		"s3_bucket_acl_prohibited_check":                 "The ACL is set explicitly (Private, or PublicRead in the opt-in ACL mode) so that what S3 applies is visible in cdk diff; with BucketOwnerEnforced, Private is the only ACL S3 accepts.",
		"s3_event_notifications_enabled_check":           "Clients upload directly; nothing consumes object events yet. Add a notification when a processing pipeline exists.",
		"s3_bucket_object_lock_enabled_check":            "Users overwrite and delete their own objects by design; Object Lock would forbid it. Versioning (on unless the environment is disposable) keeps recoverable history instead.",
	}
	if !p.Versioning {
		bucketAcks["s3_bucket_versioning_enabled_check"] = "Versioning is off in this environment by config (versioning: false, the default only in a disposable environment) to keep throw-away storage cheap."
	}
	acknowledgeGuard(bucket, bucketAcks)
	if p.BucketAccess == config.PublicReadByACL {
		awscdk.Annotations_Of(bucket).AddWarningV2(jsii.String("s3vend:PublicReadACL"), jsii.String(ACLWarning))
	}
	return &PublicBucket{Construct: c, Bucket: bucket, AccessLogs: logs}
}

// s3Settings derives object ownership, Block Public Access and the canned ACL
// from the access mode. Under S3's 2023 defaults (all four BPA flags on,
// ACLs disabled) a public bucket policy only deploys with BlockPublicPolicy
// and RestrictPublicBuckets off, and a public ACL only with ACLs enabled and
// the two ACL flags off; the ACL-blocking flags stay on whenever ACLs are not
// the mechanism.
func s3Settings(a config.BucketAccess) (awss3.ObjectOwnership, awss3.BlockPublicAccess, awss3.BucketAccessControl) {
	if a == config.PublicReadByACL {
		return awss3.ObjectOwnership_BUCKET_OWNER_PREFERRED,
			awss3.NewBlockPublicAccess(&awss3.BlockPublicAccessOptions{
				BlockPublicAcls: jsii.Bool(false), IgnorePublicAcls: jsii.Bool(false),
				BlockPublicPolicy: jsii.Bool(false), RestrictPublicBuckets: jsii.Bool(false),
			}),
			awss3.BucketAccessControl_PUBLIC_READ
	}
	return awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		awss3.NewBlockPublicAccess(&awss3.BlockPublicAccessOptions{
			BlockPublicAcls: jsii.Bool(true), IgnorePublicAcls: jsii.Bool(true),
			BlockPublicPolicy: jsii.Bool(false), RestrictPublicBuckets: jsii.Bool(false),
		}),
		awss3.BucketAccessControl_PRIVATE
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

// GrantUserAccess gives an authenticated identity's role its per-identity
// access: read/write/delete of private/<sub>/ and protected/<sub>/, read of
// protected/ and public/, and listing of only those prefixes.
// who is how the pool's sessions name Cognito: the identity id is the policy
// variable ${<who.ConditionKeyPrefix>:sub}.
func (b *PublicBucket) GrantUserAccess(role awsiam.IRole, who contract.CognitoPrincipal) {
	identitySub := who.IdentityIDVariable()
	own := []string{
		*b.Bucket.ArnForObjects(jsii.String(PrivatePrefix + identitySub + "/*")),
		*b.Bucket.ArnForObjects(jsii.String(ProtectedPrefix + identitySub + "/*")),
	}
	policy := awsiam.NewPolicy(b.Construct, jsii.String("UserAccess"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("OwnObjects"),
				Actions: jsii.Strings("s3:GetObject", "s3:PutObject", "s3:DeleteObject",
					"s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"),
				Resources: jsii.Strings(own...),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:     jsii.String("ReadSharedObjects"),
				Actions: jsii.Strings("s3:GetObject"),
				Resources: jsii.Strings(
					*b.Bucket.ArnForObjects(jsii.String(ProtectedPrefix + "*")),
					*b.Bucket.ArnForObjects(jsii.String(PublicPrefix + "*")),
				),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ListVisiblePrefixes"),
				Actions:   jsii.Strings("s3:ListBucket"),
				Resources: jsii.Strings(*b.Bucket.BucketArn()),
				Conditions: &map[string]any{"StringLike": map[string]any{"s3:prefix": []string{
					PublicPrefix, PublicPrefix + "*",
					ProtectedPrefix, ProtectedPrefix + "*",
					PrivatePrefix + identitySub + "/", PrivatePrefix + identitySub + "/*",
				}}},
			}),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(policy, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Object keys are chosen by the user at run time: the wildcards are scoped to the caller's own " +
			"identity prefix (" + identitySub + ") or to the read-only shared prefixes public/ and protected/."),
		AppliesTo: &[]any{regexAppliesTo(`Resource::<.*Bucket.*\.Arn>/(public|protected|private)/.*`)},
	}}, jsii.Bool(false))
}

// GrantGuestAccess lets an unauthenticated identity's role read public/ only.
func (b *PublicBucket) GrantGuestAccess(role awsiam.IRole) {
	policy := awsiam.NewPolicy(b.Construct, jsii.String("GuestAccess"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadPublicObjects"),
			Actions:   jsii.Strings("s3:GetObject"),
			Resources: jsii.Strings(*b.Bucket.ArnForObjects(jsii.String(PublicPrefix + "*"))),
		})},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(policy, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("Guests may read any object under public/, which is world-readable through the bucket policy anyway."),
		AppliesTo: &[]any{regexAppliesTo(`Resource::<.*Bucket.*\.Arn>/public/\*`)},
	}}, jsii.Bool(false))
}

func regexAppliesTo(re string) *cdknag.RegexAppliesTo {
	return &cdknag.RegexAppliesTo{Regex: jsii.String("/^" + re + "$/")}
}
