package config

import (
	"slices"
	"strings"
)

// Plain types of the construct props (package infra) that cdk.json carries:
// defined here, without the CDK, so that Parse can produce them and the
// constructs' props reference them.

// BucketAccess is the one option ("bucketAccess") that decides how the
// bucket is public. Object ownership, Block Public Access and the bucket ACL
// are derived from it (infra.NewPublicBucket), so an impossible combination
// cannot be written.
type BucketAccess string

const (
	// PublicReadByPolicy (default): ACLs disabled (BucketOwnerEnforced), an
	// explicit private ACL, and anonymous read of public/* granted by the
	// bucket policy only.
	PublicReadByPolicy BucketAccess = "policy"
	// PublicReadByACL is the seeds' console recipe: a public-read bucket ACL.
	// It lets anyone list every key in the bucket, so it is opt-in and warns.
	PublicReadByACL BucketAccess = "acl-public-read"
)

// Valid reports whether a is one of the two modes.
func (a BucketAccess) Valid() bool { return a == PublicReadByPolicy || a == PublicReadByACL }

// UserPoolProvider ("userPool") adds a Cognito user pool as a second login
// provider: either a new pool (Create) or an existing one (UserPoolID and
// ClientID).
type UserPoolProvider struct {
	Create     bool
	UserPoolID string
	ClientID   string
}

// RoleMappingRule ("roleMappings.rules[i]") maps a user pool token claim to
// an existing role ARN.
type RoleMappingRule struct {
	Claim     string    `json:"claim"`
	MatchType MatchType `json:"matchType"`
	Value     string    `json:"value"`
	RoleARN   string    `json:"roleArn"`
}

// MatchType is how a role-mapping rule compares the claim with its value:
// the MatchType values of AWS::Cognito::IdentityPoolRoleAttachment
// MappingRule ("Equals, NotEqual, StartsWith, and Contains",
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-cognito-identitypoolroleattachment-mappingrule.html).
type MatchType string

// The match types of a role-mapping rule.
const (
	MatchEquals     MatchType = "Equals"
	MatchContains   MatchType = "Contains"
	MatchStartsWith MatchType = "StartsWith"
	MatchNotEqual   MatchType = "NotEqual"
)

// MatchTypes are every valid MatchType.
var MatchTypes = []MatchType{MatchEquals, MatchContains, MatchStartsWith, MatchNotEqual}

// Valid reports whether m is one of MatchTypes.
func (m MatchType) Valid() bool { return slices.Contains(MatchTypes, m) }

// MatchTypesList is MatchTypes for messages: "Equals, Contains, StartsWith, NotEqual".
func MatchTypesList() string {
	names := make([]string, len(MatchTypes))
	for i, m := range MatchTypes {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}
