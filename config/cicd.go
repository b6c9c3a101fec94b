package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/s3vend/s3vend/contract"
)

// CICDStackName is the stack of the AWS side of the GitHub workflows,
// synthesized only when cdk.json has s3vend.cicd.
const CICDStackName = "S3Vend-cicd"

// CICD is the "cicd" key: the GitHub repository whose workflows deploy,
// and the environments they deploy.
type CICD struct {
	Repository      string // OWNER/REPO
	Account, Region string // where S3Vend-cicd goes; empty: environment-agnostic
	OIDCProviderARN string // existing GitHub OIDC provider of the account; empty: create it
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
	OIDCProviderARN string                   `json:"oidcProviderArn"`
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
func parseCICD(msg json.RawMessage, envs map[string]Environment) (*CICD, []error) {
	v := &validator{path: ContextKey + ".cicd"}
	var r rawCICD
	if err := strictDecode(msg, &r); err != nil {
		return nil, []error{fmt.Errorf("%s: %w", v.path, err)}
	}
	c := &CICD{Repository: r.Repository, Account: r.Account, Region: r.Region, OIDCProviderARN: r.OIDCProviderARN, PullRequestDiff: boolOr(r.PullRequestDiff, true)}
	v.cicdStack(&r, envs)
	c.Deploy = v.cicdDeploy(&r, envs)
	return c, v.errs
}

// cicdStack checks the keys of the CI/CD stack itself: the repository its
// workflows run in, where the stack goes, and the GitHub OIDC provider.
func (v *validator) cicdStack(r *rawCICD, envs map[string]Environment) {
	if !repositoryRe.MatchString(r.Repository) {
		v.fail("repository", "%q must be the GitHub repository as OWNER/REPO, like \"octo-org/s3vend-app\"", r.Repository)
	}
	if r.Account != "" && !accountRe.MatchString(r.Account) {
		v.fail("account", "%q is not a 12-digit AWS account id; remove the key for an environment-agnostic stack", r.Account)
	}
	if r.Region != "" && !contract.ValidRegion(r.Region) {
		v.fail("region", "%q is not an AWS region name", r.Region)
	}
	if r.OIDCProviderARN != "" {
		if err := CheckGitHubOIDCProviderARN(r.OIDCProviderARN); err != nil {
			v.fail("oidcProviderArn", "%v", err)
		}
	}
	if _, clash := envs["cicd"]; clash {
		v.fail("", "an environment named \"cicd\" would also be stack %s; rename it", CICDStackName)
	}
	if len(r.Deploy) == 0 {
		v.fail("deploy", "name at least one environment the workflows deploy, like {\"dev\": {}}")
	}
}

// cicdDeploy reads the environments the workflows deploy, by name: each
// must be an environment of cdk.json, and all of them (with the stack's
// own region) in one partition.
func (v *validator) cicdDeploy(r *rawCICD, envs map[string]Environment) []CICDDeploy {
	partitions := map[string][]string{} // partition -> what is in it
	if r.Region != "" {
		partitions[contract.PartitionName(r.Region)] = append(partitions[contract.PartitionName(r.Region)], "cicd.region "+r.Region)
	}
	var deploys []CICDDeploy
	for _, n := range slices.Sorted(maps.Keys(r.Deploy)) {
		e, ok := envs[n]
		if !ok {
			v.fail("deploy."+n, "no environment %q in %s.environments; use one of %s", n, ContextKey, strings.Join(Config{Environments: envs}.Names(), ", "))
			continue
		}
		d := CICDDeploy{Env: n, GitHubEnvironment: r.Deploy[n].GitHubEnvironment, Account: e.Account, Region: e.Region, Edge: e.Edge.Enabled}
		if d.GitHubEnvironment == "" {
			d.GitHubEnvironment = n
		}
		if !githubEnvRe.MatchString(d.GitHubEnvironment) {
			v.fail("deploy."+n+".githubEnvironment", "%q must be a GitHub environment name of letters, digits, '_', '.' and '-'", d.GitHubEnvironment)
		}
		if e.Region != "" {
			p := contract.PartitionName(e.Region)
			partitions[p] = append(partitions[p], n+" ("+e.Region+")")
		}
		deploys = append(deploys, d)
	}
	if len(partitions) > 1 {
		var parts []string
		for p, what := range partitions {
			parts = append(parts, p+": "+strings.Join(what, ", "))
		}
		slices.Sort(parts)
		v.fail("deploy", "spans AWS partitions (%s); a role can only assume roles of its own partition, so list one partition's environments here; another partition needs its own OIDC provider and roles (docs/deploying.md, \"CI/CD\")", strings.Join(parts, "; "))
	}
	return deploys
}
