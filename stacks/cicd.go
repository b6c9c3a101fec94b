package stacks

import (
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/s3vend/s3vend/config"
	"github.com/s3vend/s3vend/infra"
)

// CICDStack is the AWS side of the GitHub workflows: the GitHub OIDC
// provider and the roles the workflows assume.
type CICDStack struct {
	awscdk.Stack
	Roles *infra.GitHubDeployRoles
}

// NewCICDStack composes the CI roles: one deploy role per deployed
// environment, trusted on that GitHub environment, and one read-only diff
// role for pull requests.
func NewCICDStack(scope constructs.Construct, c config.CICD) *CICDStack {
	sp := &awscdk.StackProps{
		StackName:   jsii.String(config.CICDStackName),
		Description: jsii.String("s3vend CI: GitHub OIDC provider and the roles GitHub Actions of " + c.Repository + " assume to diff and deploy"),
		// Never disposable: deleting it locks CI out of every environment.
		TerminationProtection: jsii.Bool(true),
	}
	if c.Account != "" || c.Region != "" {
		sp.Env = &awscdk.Environment{Account: strOrNil(c.Account), Region: strOrNil(c.Region)}
	}
	stack := awscdk.NewStack(scope, jsii.String(config.CICDStackName), sp)
	var specs []infra.GitHubRoleSpec
	var all []infra.CDKTarget
	for _, d := range c.Deploy {
		targets := []infra.CDKTarget{{Account: d.Account, Region: d.Region}}
		if d.Edge {
			targets = append(targets, infra.CDKTarget{Account: d.Account, Region: config.EdgeACLRegion})
		}
		all = append(all, targets...)
		specs = append(specs, infra.GitHubRoleSpec{
			ID:      "Deploy" + pascal(d.Env),
			Subject: "repo:" + c.Repository + ":environment:" + d.GitHubEnvironment,
			Deploy:  true,
			Targets: targets,
			// make smoke STACK=S3Vend-<env> after the deploy (main workflow).
			SmokeStacks: []string{config.StackName(d.Env)},
		})
	}
	if c.PullRequestDiff {
		specs = append(specs, infra.GitHubRoleSpec{ID: "Diff", Subject: "repo:" + c.Repository + ":pull_request", Targets: uniqueTargets(all)})
	}
	s := &CICDStack{Stack: stack, Roles: infra.NewGitHubDeployRoles(stack, "GitHub", infra.GitHubDeployRolesProps{OIDCProviderARN: c.OIDCProviderARN, Roles: specs})}
	out := func(id, desc string, value *string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Description: jsii.String(desc), Value: value})
	}
	out("OIDCProviderArn", "GitHub Actions OIDC provider of this account", s.Roles.ProviderARN)
	for _, d := range c.Deploy {
		out("DeployRoleArn"+pascal(d.Env), "Set as variable AWS_DEPLOY_ROLE_ARN of GitHub environment "+d.GitHubEnvironment, s.Roles.Roles["Deploy"+pascal(d.Env)].RoleArn())
	}
	if c.PullRequestDiff {
		out("DiffRoleArn", "Set as repository variable AWS_DIFF_ROLE_ARN (read-only cdk diff on pull requests)", s.Roles.Roles["Diff"].RoleArn())
	}
	return s
}

func uniqueTargets(ts []infra.CDKTarget) []infra.CDKTarget {
	var out []infra.CDKTarget
	for _, t := range ts {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// pascal turns an environment name (a-z0-9-) into an id part: prod-cn -> ProdCn.
func pascal(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
