package stacks

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/infra"
)

// CICDStackName is the stack of the AWS side of the GitHub workflows,
// synthesized only when cdk.json has s3vend.cicd.
const CICDStackName = "S3Vend-cicd"

// CICDConfig is the "cicd" key: the GitHub repository whose workflows
// deploy, and the environments they deploy.
type CICDConfig struct {
	Repository      string // OWNER/REPO
	Account, Region string // where S3Vend-cicd goes; empty: environment-agnostic
	OIDCProviderArn string // existing GitHub OIDC provider of the account; empty: create it
	Deploy          []CICDDeploy
	PullRequestDiff bool // a read-only role for `cdk diff` on pull requests
}

// CICDDeploy is one environment the workflows deploy, from the GitHub
// environment of the same (or the configured) name.
type CICDDeploy struct {
	Env               string // s3vend environment
	GitHubEnvironment string
	Account, Region   string // the environment's; empty: the S3Vend-cicd stack's
	Edge              bool   // the environment also has a us-east-1 edge ACL stack
}

type rawCICD struct {
	Repository      string                   `json:"repository"`
	Account         string                   `json:"account"`
	Region          string                   `json:"region"`
	OIDCProviderArn string                   `json:"oidcProviderArn"`
	Deploy          map[string]rawCICDDeploy `json:"deploy"`
	PullRequestDiff *bool                    `json:"pullRequestDiff"`
}

type rawCICDDeploy struct {
	GitHubEnvironment string `json:"githubEnvironment"`
}

var (
	// GitHub owner and repository names.
	repositoryRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9_.-]{1,100}$`)
	// GitHub environment names: up to 255 characters, no wildcards or
	// whitespace (they end up in an exact sub claim).
	githubEnvRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,255}$`)
)

// parseCICD validates the "cicd" key against the parsed environments.
func parseCICD(msg json.RawMessage, envs map[string]EnvConfig) (*CICDConfig, []error) {
	path := ContextKey + ".cicd"
	var r rawCICD
	if err := strictDecode(msg, &r); err != nil {
		return nil, []error{fmt.Errorf("%s: %w", path, err)}
	}
	var errs []error
	fail := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", path, key, fmt.Sprintf(format, a...)))
	}
	c := &CICDConfig{Repository: r.Repository, Account: r.Account, Region: r.Region, OIDCProviderArn: r.OIDCProviderArn, PullRequestDiff: boolOr(r.PullRequestDiff, true)}
	if !repositoryRe.MatchString(r.Repository) {
		fail("repository", "%q must be the GitHub repository as OWNER/REPO, like \"octo-org/s3vend-app\"", r.Repository)
	}
	if r.Account != "" && !accountRe.MatchString(r.Account) {
		fail("account", "%q is not a 12-digit AWS account id; remove the key for an environment-agnostic stack", r.Account)
	}
	if r.Region != "" && !contract.ValidRegion(r.Region) {
		fail("region", "%q is not an AWS region name", r.Region)
	}
	if r.OIDCProviderArn != "" && !strings.HasSuffix(r.OIDCProviderArn, ":oidc-provider/"+infra.GitHubOIDCIssuer) {
		fail("oidcProviderArn", "%q is not the ARN of an IAM OIDC provider for %s; remove the key to create one (an account has at most one)", r.OIDCProviderArn, infra.GitHubOIDCIssuer)
	}
	if _, clash := envs["cicd"]; clash {
		fail("", "an environment named \"cicd\" would also be stack %s; rename it", CICDStackName)
	}
	if len(r.Deploy) == 0 {
		fail("deploy", "name at least one environment the workflows deploy, like {\"dev\": {}}")
	}
	partitions := map[string][]string{} // partition -> what is in it
	if r.Region != "" {
		partitions[contract.PartitionName(r.Region)] = append(partitions[contract.PartitionName(r.Region)], "cicd.region "+r.Region)
	}
	names := make([]string, 0, len(r.Deploy))
	for n := range r.Deploy {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		e, ok := envs[n]
		if !ok {
			fail("deploy."+n, "no environment %q in %s.environments; use one of %s", n, ContextKey, strings.Join(Config{Environments: envs}.Names(), ", "))
			continue
		}
		d := CICDDeploy{Env: n, GitHubEnvironment: r.Deploy[n].GitHubEnvironment, Account: e.Account, Region: e.Region, Edge: e.Edge.Enabled}
		if d.GitHubEnvironment == "" {
			d.GitHubEnvironment = n
		}
		if !githubEnvRe.MatchString(d.GitHubEnvironment) {
			fail("deploy."+n+".githubEnvironment", "%q must be a GitHub environment name of letters, digits, '_', '.' and '-'", d.GitHubEnvironment)
		}
		if e.Region != "" {
			p := contract.PartitionName(e.Region)
			partitions[p] = append(partitions[p], n+" ("+e.Region+")")
		}
		c.Deploy = append(c.Deploy, d)
	}
	if len(partitions) > 1 {
		var parts []string
		for p, what := range partitions {
			parts = append(parts, p+": "+strings.Join(what, ", "))
		}
		slices.Sort(parts)
		fail("deploy", "spans AWS partitions (%s); a role can only assume roles of its own partition, so list one partition's environments here; another partition needs its own OIDC provider and roles (README \"CI/CD\")", strings.Join(parts, "; "))
	}
	return c, errs
}

// CICDStack is the AWS side of the GitHub workflows: the GitHub OIDC
// provider and the roles the workflows assume.
type CICDStack struct {
	awscdk.Stack
	Roles *infra.GitHubDeployRoles
}

// NewCICDStack composes the CI roles: one deploy role per deployed
// environment, trusted on that GitHub environment, and one read-only diff
// role for pull requests.
func NewCICDStack(scope constructs.Construct, c CICDConfig) *CICDStack {
	sp := &awscdk.StackProps{
		StackName:   jsii.String(CICDStackName),
		Description: jsii.String("s3vend CI: GitHub OIDC provider and the roles GitHub Actions of " + c.Repository + " assume to diff and deploy"),
		// Never disposable: deleting it locks CI out of every environment.
		TerminationProtection: jsii.Bool(true),
	}
	if c.Account != "" || c.Region != "" {
		sp.Env = &awscdk.Environment{Account: strOrNil(c.Account), Region: strOrNil(c.Region)}
	}
	stack := awscdk.NewStack(scope, jsii.String(CICDStackName), sp)
	var specs []infra.GitHubRoleSpec
	var all []infra.CDKTarget
	for _, d := range c.Deploy {
		targets := []infra.CDKTarget{{Account: d.Account, Region: d.Region}}
		if d.Edge {
			targets = append(targets, infra.CDKTarget{Account: d.Account, Region: EdgeACLRegion})
		}
		all = append(all, targets...)
		specs = append(specs, infra.GitHubRoleSpec{
			ID:      "Deploy" + pascal(d.Env),
			Subject: "repo:" + c.Repository + ":environment:" + d.GitHubEnvironment,
			Deploy:  true,
			Targets: targets,
			// make smoke STACK=S3Vend-<env> after the deploy (main workflow).
			SmokeStacks: []string{StackName(d.Env)},
		})
	}
	if c.PullRequestDiff {
		specs = append(specs, infra.GitHubRoleSpec{ID: "Diff", Subject: "repo:" + c.Repository + ":pull_request", Targets: uniqueTargets(all)})
	}
	s := &CICDStack{Stack: stack, Roles: infra.NewGitHubDeployRoles(stack, "GitHub", infra.GitHubDeployRolesProps{OIDCProviderArn: c.OIDCProviderArn, Roles: specs})}
	out := func(id, desc string, value *string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Description: jsii.String(desc), Value: value})
	}
	out("OIDCProviderArn", "GitHub Actions OIDC provider of this account", s.Roles.ProviderArn)
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
