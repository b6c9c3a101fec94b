package infra

import (
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/s3vend/s3vend/config"
	"github.com/s3vend/s3vend/contract"
)

// IdentityPoolProps configures NewIdentityPool.
type IdentityPoolProps struct {
	DeveloperProviderName string // required; cannot change once the pool exists
	Guests                bool   // AllowUnauthenticatedIdentities and the unauthenticated role
	BasicFlow             bool   // AllowClassicFlow
	UserPool              *config.UserPoolProvider
	RoleMappings          []config.RoleMappingRule
	AmbiguousRoleDeny     bool
	// CredentialLifetime is the basic-flow credential lifetime (default
	// 1h; 15m to 12h); the roles' MaxSessionDuration is
	// contract.RoleMaxSession of it (at least IAM's one hour).
	CredentialLifetime time.Duration
	Retain             bool
	// CognitoPrincipal names Cognito in the roles' trust policies; default
	// the aws partition's (contract.Partitions), right for any env-agnostic
	// stack.
	CognitoPrincipal contract.CognitoPrincipal
	// SessionTags are the keys of the session tags signed-in identities'
	// sessions carry (contract.SessionTags): the authenticated role's trust
	// allows sts:TagSession for those keys only. None: no sts:TagSession.
	SessionTags []string
	// GuestAccess says what guests' role may do, for the cdk-nag
	// acknowledgement of guests (PublicBucket.GuestAccessSummary; default
	// that of the default access rules).
	GuestAccess string
}

func (p IdentityPoolProps) withDefaults() IdentityPoolProps {
	if p.CredentialLifetime == 0 {
		p.CredentialLifetime = contract.DefaultCredentialLifetime
	}
	if p.CognitoPrincipal == (contract.CognitoPrincipal{}) {
		p.CognitoPrincipal = contract.Partitions[0].Principal
	}
	p.RoleMappings = slices.Clone(p.RoleMappings)
	p.SessionTags = slices.Clone(p.SessionTags)
	if p.GuestAccess == "" {
		p.GuestAccess = DefaultGuestAccess
	}
	return p
}

// DefaultGuestAccess is the guests' access with the default rules.
const DefaultGuestAccess = "read of public/ only, which the bucket policy already makes world-readable"

func (p IdentityPoolProps) validate() error {
	switch {
	case contract.CheckDeveloperProvider(p.DeveloperProviderName) != nil:
		return fmt.Errorf("IdentityPoolProps.DeveloperProviderName: %q %v", p.DeveloperProviderName, contract.CheckDeveloperProvider(p.DeveloperProviderName))
	case contract.CheckCredentialLifetime(p.CredentialLifetime) != nil:
		return fmt.Errorf("IdentityPoolProps.CredentialLifetime: %s %v", p.CredentialLifetime, contract.CheckCredentialLifetime(p.CredentialLifetime))
	case p.CognitoPrincipal.TrustPrincipal == "" || p.CognitoPrincipal.ConditionKeyPrefix == "":
		return fmt.Errorf("IdentityPoolProps.CognitoPrincipal: needs both TrustPrincipal and ConditionKeyPrefix")
	case len(p.RoleMappings) > 0 && p.UserPool == nil:
		return fmt.Errorf("IdentityPoolProps.RoleMappings: rules need a UserPool provider")
	}
	if err := checkSessionTags(p.SessionTags); err != nil {
		return fmt.Errorf("IdentityPoolProps.SessionTags: %w", err)
	}
	for i, r := range p.RoleMappings {
		switch {
		case !r.MatchType.Valid():
			return fmt.Errorf("IdentityPoolProps.RoleMappings[%d].MatchType: %q is not one of %s", i, r.MatchType, config.MatchTypesList())
		case !contract.ValidRoleARN(r.RoleARN):
			return fmt.Errorf("IdentityPoolProps.RoleMappings[%d].RoleARN: %q is not an IAM role ARN", i, r.RoleARN)
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
	PoolARN             *string
	AuthenticatedRole   awsiam.Role
	UnauthenticatedRole awsiam.Role // nil when guests are off
	UserPool            awscognito.IUserPool
	UserPoolClientID    *string
	CognitoPrincipal    contract.CognitoPrincipal // how the roles name Cognito
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
		AllowUnauthenticatedIdentities: jsii.Bool(p.Guests),
		AllowClassicFlow:               jsii.Bool(p.BasicFlow),
		DeveloperProviderName:          jsii.String(p.DeveloperProviderName),
		CognitoIdentityProviders:       nilIfEmpty(providers),
	})
	if p.Retain {
		// Identity ids key users' private data: a replaced pool would orphan it.
		pool.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN, nil)
	}
	ip.Pool = pool
	ip.PoolID = pool.Ref()
	ip.PoolARN = stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("cognito-identity"),
		Resource:     jsii.String("identitypool"),
		ResourceName: pool.Ref(),
		ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})

	ip.CognitoPrincipal = p.CognitoPrincipal
	ip.AuthenticatedRole = ip.role("AuthenticatedRole", "authenticated", p.CredentialLifetime)
	if len(p.SessionTags) > 0 {
		ip.allowSessionTags(ip.AuthenticatedRole, "authenticated", p.SessionTags)
	}
	roles := map[string]any{"authenticated": ip.AuthenticatedRole.RoleArn()}
	if p.Guests {
		ip.UnauthenticatedRole = ip.role("UnauthenticatedRole", "unauthenticated", p.CredentialLifetime)
		roles["unauthenticated"] = ip.UnauthenticatedRole.RoleArn()
	}
	attachment := &awscognito.CfnIdentityPoolRoleAttachmentProps{IdentityPoolId: pool.Ref(), Roles: roles}
	if len(p.RoleMappings) > 0 {
		attachment.RoleMappings = ip.roleMappings(p)
	}
	awscognito.NewCfnIdentityPoolRoleAttachment(c, jsii.String("Roles"), attachment)
	acknowledge(ip.acknowledgements(p))
	return ip
}

// acknowledgements are the pools' accepted findings.
func (ip *IdentityPool) acknowledgements(p IdentityPoolProps) []ack {
	var rows []ack
	if up := p.UserPool; up != nil && up.Create {
		pool := ip.UserPool
		rows = append(rows,
			nagAck(pool, "AwsSolutions-COG2", "MFA is optional (TOTP) so app teams can roll it out to their users; the identity pool, not the user pool, guards AWS access.").withChildren(),
			nagAck(pool, "AwsSolutions-COG3", "Threat protection needs the Plus feature plan; it is the app team's cost decision, documented in docs/security.md.").withChildren(),
			nagAck(pool, "AwsSolutions-COG8", "The Plus feature plan is the app team's cost decision, documented in docs/security.md.").withChildren(),
		)
	}
	if p.Guests {
		rows = append(rows, nagAck(ip.Pool, "AwsSolutions-COG7", "Guests are enabled in this environment's config on purpose; the stack grants their role "+p.GuestAccess+"."))
	}
	return rows
}

// role creates a role only Cognito can assume, and only for this pool (aud)
// and this kind of identity (amr).
func (ip *IdentityPool) role(id, amr string, maxSession time.Duration) awsiam.Role {
	return awsiam.NewRole(ip.Construct, jsii.String(id), &awsiam.RoleProps{
		Description: jsii.String(fmt.Sprintf("s3vend %s identities of identity pool %s", amr, *ip.Node().Path())),
		AssumedBy: awsiam.NewFederatedPrincipal(jsii.String(ip.CognitoPrincipal.TrustPrincipal), &map[string]any{
			"StringEquals":           map[string]any{ip.CognitoPrincipal.Key("aud"): ip.PoolID},
			"ForAnyValue:StringLike": map[string]any{ip.CognitoPrincipal.Key("amr"): amr},
		}, jsii.String("sts:AssumeRoleWithWebIdentity")),
		MaxSessionDuration: awscdk.Duration_Seconds(jsii.Number(contract.RoleMaxSession(maxSession).Seconds())),
	})
}

// allowSessionTags lets Cognito (enhanced flow) and STS (basic flow) tag the
// role's sessions with keys, and no other key: "When using session tags,
// trust policies for all roles connected to the identity provider (IdP)
// that is passing tags must have the sts:TagSession permission", and
// aws:TagKeys "limits the maximum set of session tags that can be passed"
// (IAM User Guide, "Passing session tags in AWS STS",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_permissions-required).
// The statement carries the same aud and amr conditions as the
// AssumeRoleWithWebIdentity one, so only this pool's identities of that
// kind can be tagged.
func (ip *IdentityPool) allowSessionTags(role awsiam.Role, amr string, keys []string) {
	role.AssumeRolePolicy().AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("TagSessionWithS3vendTags"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewFederatedPrincipal(jsii.String(ip.CognitoPrincipal.TrustPrincipal), nil, nil)},
		Actions:    jsii.Strings("sts:TagSession"),
		Conditions: &map[string]any{
			"StringEquals":              map[string]any{ip.CognitoPrincipal.Key("aud"): ip.PoolID},
			"ForAnyValue:StringLike":    map[string]any{ip.CognitoPrincipal.Key("amr"): amr},
			"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": keys},
		},
	}))
}

// checkSessionTags accepts keys of the contract's tag table, each once.
func checkSessionTags(keys []string) error {
	for i, k := range keys {
		if _, ok := contract.SessionTagNamed(k); !ok {
			return fmt.Errorf("%q is not a session tag of contract.SessionTags", k)
		}
		if slices.Contains(keys[:i], k) {
			return fmt.Errorf("%q is listed twice", k)
		}
	}
	return nil
}

func (ip *IdentityPool) userPoolProvider(c constructs.Construct, up config.UserPoolProvider, retain bool) (providerName, clientID *string) {
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
	ip.UserPool = pool
	ip.UserPoolClientID = client.UserPoolClientId()
	return pool.UserPoolProviderName(), client.UserPoolClientId()
}

func (ip *IdentityPool) roleMappings(p IdentityPoolProps) any {
	rules := make([]any, len(p.RoleMappings))
	for i, r := range p.RoleMappings {
		rules[i] = &awscognito.CfnIdentityPoolRoleAttachment_MappingRuleProperty{
			Claim: jsii.String(r.Claim), MatchType: jsii.String(string(r.MatchType)),
			Value: jsii.String(r.Value), RoleArn: jsii.String(r.RoleARN),
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
