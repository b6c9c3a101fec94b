package contract

import (
	"fmt"
	"slices"
	"strings"
)

// This file is the one table of what differs between AWS partitions for
// s3vend: the regions with Cognito identity pools, the federated principal
// of the pool roles' trust policies, the prefix of the Cognito condition keys
// (…:aud and …:amr in trust policies, ${…:sub} in S3 policies) and the
// Logins key of developer-authenticated tokens. The stack (stacks,
// constructs), the vendor (lambda/internal/config), the access matrix and
// the local stand-ins read it; nothing else spells these values.

// CognitoPrincipal is how IAM names Amazon Cognito identity pools in the
// policies of a partition: the Federated principal of role trust policies
// and the prefix of the condition keys and policy variables its web identity
// sessions carry. They can differ (the AWS China role-based access control
// page pairs principal "cognito-identity.cn-north-1.amazonaws.com.cn" with
// keys "cognito-identity.amazonaws.com.cn:aud").
type CognitoPrincipal struct {
	TrustPrincipal     string `json:"trustPrincipal"`
	ConditionKeyPrefix string `json:"conditionKeyPrefix"`
}

// Key is the condition key name (aud, amr, sub) under the prefix, such as
// "cognito-identity.amazonaws.com:aud".
func (c CognitoPrincipal) Key(name string) string { return c.ConditionKeyPrefix + ":" + name }

// IdentityIDVariable is the IAM policy variable holding the caller's identity
// id, such as "${cognito-identity.amazonaws.com:sub}".
func (c CognitoPrincipal) IdentityIDVariable() string { return "${" + c.Key("sub") + "}" }

// Partition is one AWS partition as s3vend needs it.
type Partition struct {
	Name      string // ARN partition: aws, aws-cn
	DNSSuffix string // amazonaws.com, amazonaws.com.cn
	// regionRe matches the partition's region names: the "regionRegex" of
	// the partition in the AWS SDKs' endpoint rules (aws-sdk-go-v2
	// internal/endpoints/awsrulesfn/partitions.json).
	regionRe *lazyRegexp
	// IdentityPoolRegions are the regions where the Cognito Identity
	// (cognito-identity) endpoint exists, per the AWS SDK's endpoint table
	// (aws-sdk-go-v2 service/cognitoidentity v1.34.0,
	// internal/endpoints/endpoints.go, partition by partition) and the
	// AWS General Reference "Amazon Cognito Identity endpoints and quotas"
	// (https://docs.aws.amazon.com/general/latest/gr/cognito_identity.html).
	IdentityPoolRegions []string
	// Principal is the default CognitoPrincipal; Principals are every form
	// AWS's own documentation shows for the partition (an environment may
	// pick another one with "cognitoPrincipal" in cdk.json).
	Principal  CognitoPrincipal
	Principals []CognitoPrincipal
	// loginKey is the Logins key of GetCredentialsForIdentity for a token
	// from GetOpenIdTokenForDeveloperIdentity in region (its issuer host).
	loginKey func(region string) string
	// UserPools tells whether Cognito user pools exist in the partition.
	UserPools bool
}

var globalPrincipal = CognitoPrincipal{
	TrustPrincipal: "cognito-identity.amazonaws.com", ConditionKeyPrefix: "cognito-identity.amazonaws.com",
}

// Partitions is the table. GovCloud is not in it, on purpose: see
// ErrGovCloud.
var Partitions = []Partition{
	{
		Name:      "aws",
		DNSSuffix: "amazonaws.com",
		regionRe:  newLazyRegexp(`^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$`),
		IdentityPoolRegions: []string{
			"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
			"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
			"ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1",
			"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
			"il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
			"us-east-1", "us-east-2", "us-west-1", "us-west-2",
		},
		// The Amazon Cognito Developer Guide, "Role trust and permissions"
		// (https://docs.aws.amazon.com/cognito/latest/developerguide/role-trust-and-permissions.html):
		// Federated "cognito-identity.amazonaws.com" with condition keys
		// "cognito-identity.amazonaws.com:aud" and ":amr"; "IAM policy
		// variables" lists ${cognito-identity.amazonaws.com:sub}
		// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif).
		Principal:  globalPrincipal,
		Principals: []CognitoPrincipal{globalPrincipal},
		// Developer-authenticated identities: "cognito-identity.amazonaws.com"
		// is the Logins key ("Developer-authenticated identities",
		// https://docs.aws.amazon.com/cognito/latest/developerguide/developer-authenticated-identities.html).
		loginKey:  func(string) string { return "cognito-identity.amazonaws.com" },
		UserPools: true,
	},
	{
		Name:      "aws-cn",
		DNSSuffix: "amazonaws.com.cn",
		regionRe:  newLazyRegexp(`^cn-\w+-\d+$`),
		// "Amazon Cognito is available in the following regions in China:
		// Beijing Region" (Getting Started with AWS in China, Amazon Cognito,
		// https://docs.amazonaws.cn/en_us/aws/latest/userguide/cognito.html);
		// the SDK's aws-cn partition has cognito-identity in cn-north-1 only.
		IdentityPoolRegions: []string{"cn-north-1"},
		// AWS's China documentation shows two forms and no statement of which
		// IAM in aws-cn requires:
		//  - "Role trust and permissions" on docs.amazonaws.cn
		//    (https://docs.amazonaws.cn/en_us/cognito/latest/developerguide/role-trust-and-permissions.html):
		//    Federated "cognito-identity.amazonaws.com", keys
		//    "cognito-identity.amazonaws.com:aud"/":amr" (the global form);
		//  - "Using role-based access control" on docs.amazonaws.cn
		//    (https://docs.amazonaws.cn/cognito/latest/developerguide/role-based-access-control.html):
		//    Federated "cognito-identity.cn-north-1.amazonaws.com.cn", keys
		//    "cognito-identity.amazonaws.com.cn:aud"/":amr".
		// The default is the global form: it is what the China-hosted English
		// developer guide and the AWS CDK's own identity pool L2 (aws-cdk-lib
		// 2.270.0 aws-cognito-identitypool, a fixed
		// "cognito-identity.amazonaws.com" for every partition) use, and what
		// s3vend has deployed so far, so existing China stacks keep their
		// trust policies. An environment can pick the other documented form
		// with "cognitoPrincipal"; the post-deploy smoke check confirms it.
		Principal: globalPrincipal,
		Principals: []CognitoPrincipal{
			globalPrincipal,
			{TrustPrincipal: "cognito-identity.cn-north-1.amazonaws.com.cn", ConditionKeyPrefix: "cognito-identity.amazonaws.com.cn"},
		},
		// "In the China (Beijing) Region, identity pool tokens are issued by
		// https://cognito-identity.cn-north-1.amazonaws.com.cn/ instead of
		// https://cognito-identity.amazonaws.com/. When you are using
		// Developer Authenticated Identities,
		// https://cognito-identity.cn-north-1.amazonaws.com.cn/ is the key to
		// the login map for GetCredentialsForIdentity." (same China page).
		loginKey: func(region string) string { return "cognito-identity." + region + ".amazonaws.com.cn" },
		// "Amazon Cognito User Pools are not currently available in the
		// Beijing Region." (same China page).
		UserPools: false,
	},
}

// govRe is the "regionRegex" of aws-us-gov in the SDKs' partitions.json.
var govRe = newLazyRegexp(`^us-gov-\w+-\d+$`)

// ErrGovCloud explains why AWS GovCloud (US) regions are refused: Cognito
// there "uses FIPS endpoints only" and trusts its own principal per region
// ("cognito-identity-us-gov.amazonaws.com" in US-West,
// "cognito-identity.us-gov-east-1.amazonaws.com" in US-East; AWS GovCloud
// (US) User Guide, Amazon Cognito,
// https://docs.aws.amazon.com/govcloud-us/latest/UserGuide/govcloud-cog.html).
// s3vend's browser, mini-program and CLI clients and its local stand-ins do
// not speak FIPS endpoints, and nothing here tests those principals, so
// s3vend refuses GovCloud instead of synthesizing stacks that would fail.
const ErrGovCloud = "AWS GovCloud (US) is not supported: Cognito there uses FIPS endpoints only and its own trust principal per region " +
	"(https://docs.aws.amazon.com/govcloud-us/latest/UserGuide/govcloud-cog.html), which s3vend's clients and tests do not cover"

// partitionOf is the partition whose region names match region, or nil.
func partitionOf(region string) *Partition {
	for i := range Partitions {
		if Partitions[i].regionRe.MatchString(region) {
			return &Partitions[i]
		}
	}
	return nil
}

// PartitionName is the ARN partition of a region name, by the table's region
// patterns: "aws-us-gov" for GovCloud (which PartitionFor refuses), and
// "aws" for any other name, the empty one of an environment-agnostic stack
// included.
func PartitionName(region string) string {
	if govRe.MatchString(region) {
		return "aws-us-gov"
	}
	if p := partitionOf(region); p != nil {
		return p.Name
	}
	return "aws"
}

// IdentityPoolRegions lists every region s3vend can deploy to, sorted.
func IdentityPoolRegions() []string {
	var all []string
	for _, p := range Partitions {
		all = append(all, p.IdentityPoolRegions...)
	}
	slices.Sort(all)
	return all
}

// PartitionFor is region's partition, or an error naming the regions that
// have identity pools when region has none (or is not a region).
func PartitionFor(region string) (Partition, error) {
	if govRe.MatchString(region) {
		return Partition{}, fmt.Errorf("%q: %s", region, ErrGovCloud)
	}
	p := partitionOf(region)
	if p == nil || !slices.Contains(p.IdentityPoolRegions, region) {
		return Partition{}, fmt.Errorf("%q has no Cognito identity pools; use one of %s", region, strings.Join(IdentityPoolRegions(), ", "))
	}
	return *p, nil
}

// PartitionNamed is the table's partition with ARN partition name, if any.
func PartitionNamed(name string) (Partition, bool) {
	for _, p := range Partitions {
		if p.Name == name {
			return p, true
		}
	}
	return Partition{}, false
}

// LoginKey is the Logins key a client passes to GetCredentialsForIdentity
// with a token from GetOpenIdTokenForDeveloperIdentity in region. The stack's
// LoginKey output, the vendor's loginKey and the local Cognito stand-in all
// use it. A region outside the table's partitions gets the global key.
func LoginKey(region string) string {
	if p := partitionOf(region); p != nil {
		return p.loginKey(region)
	}
	return Partitions[0].loginKey(region)
}
