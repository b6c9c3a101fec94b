package infra

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/s3vend/s3vend/contract"
)

// UserPoolProvider adds a Cognito user pool as a second login provider:
// either a new pool (Create) or an existing one (UserPoolID and ClientID).
type UserPoolProvider struct {
	Create     bool
	UserPoolID string
	ClientID   string
}

// RoleMappingRule maps a user pool token claim to an existing role ARN.
type RoleMappingRule struct {
	Claim     string    `json:"claim"`
	MatchType MatchType `json:"matchType"`
	Value     string    `json:"value"`
	RoleArn   string    `json:"roleArn"`
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

// IdentityPoolProps configures NewIdentityPool.
type IdentityPoolProps struct {
	DeveloperProviderName string // required; cannot change once the pool exists
	AllowGuests           bool
	AllowClassicFlow      bool
	UserPool              *UserPoolProvider
	RoleMappings          []RoleMappingRule
	AmbiguousRoleDeny     bool
	// MaxSessionDuration is the credential lifetime (default 1h; 15m to
	// 12h); the roles' MaxSessionDuration is contract.RoleMaxSession of it
	// (at least IAM's one hour).
	MaxSessionDuration time.Duration
	Retain             bool
	// Principal names Cognito in the roles' trust policies; default the aws
	// partition's (contract.Partitions), right for any env-agnostic stack.
	Principal contract.CognitoPrincipal
}

func (p IdentityPoolProps) withDefaults() IdentityPoolProps {
	if p.MaxSessionDuration == 0 {
		p.MaxSessionDuration = contract.DefaultCredentialDuration
	}
	if p.Principal == (contract.CognitoPrincipal{}) {
		p.Principal = contract.Partitions[0].Principal
	}
	p.RoleMappings = slices.Clone(p.RoleMappings)
	return p
}

func (p IdentityPoolProps) validate() error {
	switch {
	case contract.CheckDeveloperProvider(p.DeveloperProviderName) != nil:
		return fmt.Errorf("IdentityPoolProps.DeveloperProviderName: %q %v", p.DeveloperProviderName, contract.CheckDeveloperProvider(p.DeveloperProviderName))
	case contract.CheckCredentialDuration(p.MaxSessionDuration) != nil:
		return fmt.Errorf("IdentityPoolProps.MaxSessionDuration: %s %v", p.MaxSessionDuration, contract.CheckCredentialDuration(p.MaxSessionDuration))
	case p.Principal.TrustPrincipal == "" || p.Principal.ConditionKeyPrefix == "":
		return fmt.Errorf("IdentityPoolProps.Principal: needs both TrustPrincipal and ConditionKeyPrefix")
	case len(p.RoleMappings) > 0 && p.UserPool == nil:
		return fmt.Errorf("IdentityPoolProps.RoleMappings: rules need a UserPool provider")
	}
	for i, r := range p.RoleMappings {
		switch {
		case !r.MatchType.Valid():
			return fmt.Errorf("IdentityPoolProps.RoleMappings[%d].MatchType: %q is not one of %s", i, r.MatchType, MatchTypesList())
		case !contract.ValidRoleARN(r.RoleArn):
			return fmt.Errorf("IdentityPoolProps.RoleMappings[%d].RoleArn: %q is not an IAM role ARN", i, r.RoleArn)
		}
	}
	return nil
}

// IdentityPool is a Cognito identity pool with a developer provider, its
// authenticated role and, when guests are allowed, its unauthenticated role.
//
// It uses the L1 resources rather than the awscognitoidentitypool L2: the L2
// always creates and attaches an unauthenticated role, even when guests are
// off, and creates its roles with a one-hour MaxSessionDuration that the basic
// flow's configurable credential lifetime needs to raise.
type IdentityPool struct {
	constructs.Construct
	Pool                awscognito.CfnIdentityPool
	PoolID              *string
	PoolArn             *string
	AuthenticatedRole   awsiam.Role
	UnauthenticatedRole awsiam.Role // nil when guests are off
	UserPool            awscognito.IUserPool
	UserPoolClientID    *string
	Principal           contract.CognitoPrincipal // how the roles name Cognito
}

// NewIdentityPool creates the pool, its roles and its role attachment.
func NewIdentityPool(scope constructs.Construct, id string, props IdentityPoolProps) *IdentityPool {
	p := props.withDefaults()
	if err := p.validate(); err != nil {
		panic(err)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	ip := &IdentityPool{Construct: c}
	stack := awscdk.Stack_Of(c)

	var providers []any
	if up := p.UserPool; up != nil {
		providerName, clientID := ip.userPoolProvider(c, *up, p.Retain)
		providers = append(providers, &awscognito.CfnIdentityPool_CognitoIdentityProviderProperty{
			ProviderName:         providerName,
			ClientId:             clientID,
			ServerSideTokenCheck: jsii.Bool(true),
		})
	}
	pool := awscognito.NewCfnIdentityPool(c, jsii.String("Pool"), &awscognito.CfnIdentityPoolProps{
		AllowUnauthenticatedIdentities: jsii.Bool(p.AllowGuests),
		AllowClassicFlow:               jsii.Bool(p.AllowClassicFlow),
		DeveloperProviderName:          jsii.String(p.DeveloperProviderName),
		CognitoIdentityProviders:       nilIfEmpty(providers),
	})
	if p.Retain {
		// Identity ids key users' private data: a replaced pool would orphan it.
		pool.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN, nil)
	}
	ip.Pool = pool
	ip.PoolID = pool.Ref()
	ip.PoolArn = stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("cognito-identity"),
		Resource:     jsii.String("identitypool"),
		ResourceName: pool.Ref(),
		ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})

	ip.Principal = p.Principal
	ip.AuthenticatedRole = ip.role("AuthenticatedRole", "authenticated", p.MaxSessionDuration)
	roles := map[string]any{"authenticated": ip.AuthenticatedRole.RoleArn()}
	if p.AllowGuests {
		ip.UnauthenticatedRole = ip.role("UnauthenticatedRole", "unauthenticated", p.MaxSessionDuration)
		roles["unauthenticated"] = ip.UnauthenticatedRole.RoleArn()
		cdknag.NagSuppressions_AddResourceSuppressions(pool, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-COG7"),
			Reason: jsii.String("Guests are enabled in this environment's config on purpose; the stack grants their role " +
				"read of public/ only, which the bucket policy already makes world-readable."),
		}}, jsii.Bool(false))
	}
	attachment := &awscognito.CfnIdentityPoolRoleAttachmentProps{IdentityPoolId: pool.Ref(), Roles: roles}
	if len(p.RoleMappings) > 0 {
		attachment.RoleMappings = ip.roleMappings(p)
	}
	awscognito.NewCfnIdentityPoolRoleAttachment(c, jsii.String("Roles"), attachment)
	return ip
}

// role creates a role only Cognito can assume, and only for this pool (aud)
// and this kind of identity (amr).
func (ip *IdentityPool) role(id, amr string, maxSession time.Duration) awsiam.Role {
	return awsiam.NewRole(ip.Construct, jsii.String(id), &awsiam.RoleProps{
		Description: jsii.String(fmt.Sprintf("s3vend %s identities of identity pool %s", amr, *ip.Node().Path())),
		AssumedBy: awsiam.NewFederatedPrincipal(jsii.String(ip.Principal.TrustPrincipal), &map[string]any{
			"StringEquals":           map[string]any{ip.Principal.Key("aud"): ip.PoolID},
			"ForAnyValue:StringLike": map[string]any{ip.Principal.Key("amr"): amr},
		}, jsii.String("sts:AssumeRoleWithWebIdentity")),
		MaxSessionDuration: awscdk.Duration_Seconds(jsii.Number(contract.RoleMaxSession(maxSession).Seconds())),
	})
}

func (ip *IdentityPool) userPoolProvider(c constructs.Construct, up UserPoolProvider, retain bool) (providerName, clientID *string) {
	stack := awscdk.Stack_Of(c)
	if !up.Create {
		ip.UserPool = awscognito.UserPool_FromUserPoolId(c, jsii.String("UserPool"), jsii.String(up.UserPoolID))
		ip.UserPoolClientID = jsii.String(up.ClientID)
		name := fmt.Sprintf("cognito-idp.%s.%s/%s", *stack.Region(), *stack.UrlSuffix(), up.UserPoolID)
		return jsii.String(name), ip.UserPoolClientID
	}
	pool := awscognito.NewUserPool(c, jsii.String("UserPool"), &awscognito.UserPoolProps{
		SelfSignUpEnabled: jsii.Bool(false),
		SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
		AccountRecovery:   awscognito.AccountRecovery_EMAIL_ONLY,
		Mfa:               awscognito.Mfa_OPTIONAL,
		MfaSecondFactor:   &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength: jsii.Number(12), RequireDigits: jsii.Bool(true), RequireLowercase: jsii.Bool(true),
			RequireUppercase: jsii.Bool(true), RequireSymbols: jsii.Bool(true),
		},
		RemovalPolicy: removalPolicy(retain), // user accounts cannot be recreated
	})
	client := pool.AddClient(jsii.String("AppClient"), &awscognito.UserPoolClientOptions{
		GenerateSecret:             jsii.Bool(false), // public browser/mobile client
		AuthFlows:                  &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		PreventUserExistenceErrors: jsii.Bool(true),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(pool, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-COG2"), Reason: jsii.String("MFA is optional (TOTP) so app teams can roll it out to their users; the identity pool, not the user pool, guards AWS access.")},
		{Id: jsii.String("AwsSolutions-COG3"), Reason: jsii.String("Threat protection needs the Plus feature plan; it is the app team's cost decision, documented in the README.")},
		{Id: jsii.String("AwsSolutions-COG8"), Reason: jsii.String("The Plus feature plan is the app team's cost decision, documented in the README.")},
	}, jsii.Bool(true))
	ip.UserPool = pool
	ip.UserPoolClientID = client.UserPoolClientId()
	return pool.UserPoolProviderName(), client.UserPoolClientId()
}

func (ip *IdentityPool) roleMappings(p IdentityPoolProps) any {
	rules := make([]any, len(p.RoleMappings))
	for i, r := range p.RoleMappings {
		rules[i] = &awscognito.CfnIdentityPoolRoleAttachment_MappingRuleProperty{
			Claim: jsii.String(r.Claim), MatchType: jsii.String(string(r.MatchType)),
			Value: jsii.String(r.Value), RoleArn: jsii.String(r.RoleArn),
		}
	}
	resolution := "AuthenticatedRole"
	if p.AmbiguousRoleDeny {
		resolution = "Deny"
	}
	var provider string
	if p.UserPool != nil && !p.UserPool.Create {
		stack := awscdk.Stack_Of(ip.Construct)
		provider = fmt.Sprintf("cognito-idp.%s.%s/%s:%s", *stack.Region(), *stack.UrlSuffix(), p.UserPool.UserPoolID, p.UserPool.ClientID)
	} else {
		provider = *ip.UserPool.UserPoolProviderName() + ":" + *ip.UserPoolClientID
	}
	return map[string]any{"userpool": &awscognito.CfnIdentityPoolRoleAttachment_RoleMappingProperty{
		Type:                    jsii.String("Rules"),
		AmbiguousRoleResolution: jsii.String(resolution),
		IdentityProvider:        jsii.String(provider),
		RulesConfiguration: &awscognito.CfnIdentityPoolRoleAttachment_RulesConfigurationTypeProperty{
			Rules: &rules,
		},
	}}
}

func nilIfEmpty(v []any) *[]any {
	if len(v) == 0 {
		return nil
	}
	return &v
}
