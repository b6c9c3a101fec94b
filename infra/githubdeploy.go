package infra

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/s3vend/s3vend/config"
)

// GitHub Actions reach AWS through OpenID Connect, never with long-lived
// keys: the workflow's job gets a signed token from GitHub and trades it for
// a role's credentials (sts:AssumeRoleWithWebIdentity). The facts the trust
// policies depend on:
//
//   - The issuer is https://token.actions.githubusercontent.com; the IAM
//     OIDC provider's URL is that issuer and its client id (audience) is
//     sts.amazonaws.com, the audience aws-actions/configure-aws-credentials
//     requests. The trust policy must pin both
//     token.actions.githubusercontent.com:aud = sts.amazonaws.com and
//     token.actions.githubusercontent.com:sub.
//     https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services
//     https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html
//   - The sub claim of a job that references a GitHub environment is
//     repo:OWNER/REPO:environment:NAME; of a pull_request run,
//     repo:OWNER/REPO:pull_request; otherwise repo:OWNER/REPO:ref:refs/heads/BRANCH.
//     https://docs.github.com/en/actions/reference/security/oidc (OIDC token
//     claims: iss https://token.actions.githubusercontent.com, sub, and the
//     example subject claims per trigger)
//   - An account has one IAM OIDC provider per URL, so a second stack must
//     import the existing one (GitHubDeployRolesProps.OIDCProviderARN).
//   - CloudFormation's ThumbprintList is optional: "If it is not included,
//     IAM will retrieve and use the top intermediate certificate authority
//     (CA) thumbprint of the OpenID Connect identity provider server
//     certificate" (awsiam.CfnOIDCProviderProps, aws-cdk-go v2.270.0, from
//     https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-iam-oidcprovider.html).
//   - cdk diff reads the deployed template with the bootstrap lookup role
//     only with --no-change-set: "Whether to create a change set to analyze
//     resource replacements. In this mode, diff will use the deploy role
//     instead of the lookup role." (aws-cdk CLI 2.1148.1, cdk diff --help).

// GitHubOIDCAudience is the audience aws-actions/configure-aws-credentials
// asks GitHub for, and the only one the roles accept.
const GitHubOIDCAudience = "sts.amazonaws.com"

// CDKTarget is an account and region the CDK deploys to, whose bootstrap
// roles (cdk bootstrap, qualifier hnb659fds) a CI role may assume. Empty
// Account or Region: the CI stack's own.
type CDKTarget struct {
	Account string
	Region  string
}

// GitHubRoleSpec is one role GitHub Actions may assume.
type GitHubRoleSpec struct {
	ID      string // construct id and output name, like "DeployDev"
	Subject string // the exact sub claim, like "repo:o/r:environment:dev"
	Deploy  bool   // true: the bootstrap deploy and file-publishing roles; false: only the lookup role (read-only diff)
	Targets []CDKTarget
	// SmokeStacks are the stacks whose verifier secret the role may read
	// (make smoke after deploy mints its test logins with the HS256 key);
	// only for Deploy roles, and only secrets tagged SmokeSecretTag=<stack>.
	SmokeStacks []string
}

// SmokeSecretTag is the tag NewTokenVendor puts on its verifier secret, the
// stack name as its value; a CI deploy role reads only the secrets tagged
// with the stacks it deploys.
const SmokeSecretTag = "s3vend:stack"

// GitHubDeployRolesProps configures NewGitHubDeployRoles.
type GitHubDeployRolesProps struct {
	// OIDCProviderARN imports the account's existing GitHub OIDC provider;
	// empty creates it.
	OIDCProviderARN string
	Roles           []GitHubRoleSpec
}

var (
	subjectRe = regexp.MustCompile(`^repo:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+:(environment:[^*?\s]+|pull_request|ref:refs/heads/[^*?\s]+)$`)
	roleIDRe  = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{0,63}$`)
)

func (p GitHubDeployRolesProps) validate() error {
	if p.OIDCProviderARN != "" {
		if err := config.CheckGitHubOIDCProviderARN(p.OIDCProviderARN); err != nil {
			return fmt.Errorf("GitHubDeployRolesProps.OIDCProviderARN: %w", err)
		}
	}
	if len(p.Roles) == 0 {
		return fmt.Errorf("GitHubDeployRolesProps.Roles: at least one role is required")
	}
	seen := map[string]bool{}
	for i, r := range p.Roles {
		switch {
		case !roleIDRe.MatchString(r.ID) || seen[r.ID]:
			return fmt.Errorf("GitHubDeployRolesProps.Roles[%d].ID: %q must be a unique PascalCase id", i, r.ID)
		case !subjectRe.MatchString(r.Subject):
			return fmt.Errorf("GitHubDeployRolesProps.Roles[%d].Subject: %q is not an exact GitHub sub claim (repo:OWNER/REPO:environment:NAME, :pull_request or :ref:refs/heads/BRANCH; no wildcards)", i, r.Subject)
		case len(r.Targets) == 0:
			return fmt.Errorf("GitHubDeployRolesProps.Roles[%d].Targets: at least one target is required", i)
		}
		seen[r.ID] = true
	}
	return nil
}

// GitHubDeployRoles is the GitHub OIDC provider (created or imported) and
// one role per spec, each trusted only on its exact sub claim and allowed
// only to assume CDK bootstrap roles.
type GitHubDeployRoles struct {
	constructs.Construct
	ProviderARN *string
	Roles       map[string]awsiam.Role // by spec ID
}

// NewGitHubDeployRoles creates the provider and roles.
func NewGitHubDeployRoles(scope constructs.Construct, id string, props GitHubDeployRolesProps) *GitHubDeployRoles {
	if err := props.validate(); err != nil {
		panic(err)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	g := &GitHubDeployRoles{Construct: c, Roles: map[string]awsiam.Role{}}
	if props.OIDCProviderARN != "" {
		g.ProviderARN = jsii.String(props.OIDCProviderARN)
	} else {
		// The L1 resource, not awsiam.OpenIdConnectProvider: that L2 is a
		// custom resource with its own Lambda function.
		provider := awsiam.NewCfnOIDCProvider(c, jsii.String("GitHubOIDC"), &awsiam.CfnOIDCProviderProps{
			Url:          jsii.String("https://" + config.GitHubOIDCIssuer),
			ClientIdList: jsii.Strings(GitHubOIDCAudience),
		})
		g.ProviderARN = provider.AttrArn()
	}
	for _, spec := range props.Roles {
		g.Roles[spec.ID] = g.role(spec)
	}
	acknowledge(g.acknowledgements(props))
	return g
}

// role is the role of one spec: trusted only on its exact sub claim, it may
// assume the CDK bootstrap roles of its targets and, for a deploy role, read
// the verifier secrets of its smoke-checked stacks.
func (g *GitHubDeployRoles) role(spec GitHubRoleSpec) awsiam.Role {
	principal := awsiam.NewWebIdentityPrincipal(g.ProviderARN, &map[string]any{
		"StringEquals": map[string]any{
			config.GitHubOIDCIssuer + ":aud": GitHubOIDCAudience,
			config.GitHubOIDCIssuer + ":sub": spec.Subject,
		},
	})
	what := "read-only cdk diff (CDK lookup role)"
	if spec.Deploy {
		what = "cdk deploy (CDK deploy and file-publishing roles)"
	}
	role := awsiam.NewRole(g.Construct, jsii.String(spec.ID), &awsiam.RoleProps{
		AssumedBy:   principal,
		Description: jsii.String("s3vend CI: GitHub Actions " + spec.Subject + " may " + what),
	})
	var arns []*string
	for _, t := range spec.Targets {
		arns = append(arns, bootstrapRoleArns(t, spec.Deploy)...)
	}
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("sts:AssumeRole"),
		Resources: &arns,
	}))
	if spec.Deploy && len(spec.SmokeStacks) > 0 {
		// make smoke signs in with the HS256 key of the stack's verifier
		// secret. Reading it is no escalation for a role that already
		// deploys the stack (the bootstrap deploy role changes anything in
		// it, the secret included), and the tag condition keeps it to the
		// secrets of this role's own stacks: GetSecretValue supports the
		// secretsmanager:ResourceTag/${TagKey} condition key (Service
		// Authorization Reference, "Actions, resources, and condition keys
		// for AWS Secrets Manager",
		// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html).
		// The secret lives in the first target (the environment's own
		// account and region; the others hold companion stacks).
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("SmokeCheckReadsItsStacksVerifierSecret"),
			Actions:    jsii.Strings("secretsmanager:GetSecretValue"),
			Resources:  &[]*string{awscdk.Fn_Sub(jsii.String(secretARNPattern(spec.Targets[0])), nil)},
			Conditions: &map[string]any{"StringEquals": map[string]any{"secretsmanager:ResourceTag/" + SmokeSecretTag: spec.SmokeStacks}},
		}))
	}
	return role
}

// acknowledgements are the roles' accepted findings.
func (g *GitHubDeployRoles) acknowledgements(p GitHubDeployRolesProps) []ack {
	var rows []ack
	for _, spec := range p.Roles {
		if spec.Deploy && len(spec.SmokeStacks) > 0 {
			rows = append(rows, nagAck(g.Roles[spec.ID], "AwsSolutions-IAM5", "secret:* is narrowed by the condition secretsmanager:ResourceTag/"+SmokeSecretTag+
				" = the role's own stacks: the verifier secret's name ends in a random suffix CloudFormation picks, so the tag,"+
				" which NewTokenVendor sets, names it; only GetSecretValue, for make smoke after the deploy this role already performs").
				only(regexAppliesTo(`Resource::arn:<AWS::Partition>:secretsmanager:.+:secret:\*`)).withChildren())
		}
	}
	return rows
}

// bootstrapRoleArns are the CDK bootstrap roles of one target, from the CDK's
// own DefaultStackSynthesizer role ARN templates (the roles `cdk bootstrap`
// creates with the default qualifier): the deploy role (CloudFormation
// changes) and the file-publishing role (the Lambda's zip asset) to deploy;
// the lookup role (ReadOnlyAccess, no KMS decrypt) for `cdk diff
// --no-change-set`, which reads the deployed template with it.
func bootstrapRoleArns(t CDKTarget, deploy bool) []*string {
	templates := []*string{awscdk.DefaultStackSynthesizer_DEFAULT_LOOKUP_ROLE_ARN()}
	if deploy {
		templates = []*string{
			awscdk.DefaultStackSynthesizer_DEFAULT_DEPLOY_ROLE_ARN(),
			awscdk.DefaultStackSynthesizer_DEFAULT_FILE_ASSET_PUBLISHING_ROLE_ARN(),
		}
	}
	var out []*string
	for _, tpl := range templates {
		s := strings.ReplaceAll(*tpl, "${Qualifier}", *awscdk.DefaultStackSynthesizer_DEFAULT_QUALIFIER())
		if t.Account != "" {
			s = strings.ReplaceAll(s, "${AWS::AccountId}", t.Account)
		}
		if t.Region != "" {
			s = strings.ReplaceAll(s, "${AWS::Region}", t.Region)
		}
		out = append(out, awscdk.Fn_Sub(jsii.String(s), nil)) // ${AWS::Partition} and any pseudo parameter left
	}
	return out
}

// secretARNPattern is every secret of one target, for Fn::Sub: the tag
// condition, not the ARN, picks the stack's secret (its name ends in a
// random suffix CloudFormation chooses).
func secretARNPattern(t CDKTarget) string {
	account, region := "${AWS::AccountId}", "${AWS::Region}"
	if t.Account != "" {
		account = t.Account
	}
	if t.Region != "" {
		region = t.Region
	}
	return "arn:${AWS::Partition}:secretsmanager:" + region + ":" + account + ":secret:*"
}
