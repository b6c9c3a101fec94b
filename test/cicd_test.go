package test

import (
	"github.com/s3vend/s3vend/config"
	"maps"
	"slices"
	"strings"
	"testing"
)

// The GitHub OIDC trust of the CI roles: the audience and an exact subject
// (no StringLike, no wildcard), and nothing but sts:AssumeRole on named CDK
// bootstrap roles. Facts and sources: infra/githubdeploy.go.
func TestCICDStack(t *testing.T) {
	tpl := stackTemplate(t, config.CICDStackName)

	_, provider := only(t, tpl, "AWS::IAM::OIDCProvider")
	if p := props(provider); p["Url"] != "https://token.actions.githubusercontent.com" || mustJSON(p["ClientIdList"]) != `["sts.amazonaws.com"]` {
		t.Fatalf("OIDC provider: %s", mustJSON(p))
	}

	roles := resources(tpl, "AWS::IAM::Role")
	wantSub := map[string]string{ // role logical id prefix -> sub
		"GitHubDeployDev":  "repo:octo-org/s3vend-app:environment:dev",
		"GitHubDeployEdge": "repo:octo-org/s3vend-app:environment:production",
		"GitHubDiff":       "repo:octo-org/s3vend-app:pull_request",
	}
	if len(roles) != len(wantSub) {
		t.Fatalf("want %d roles, got %d", len(wantSub), len(roles))
	}
	roleOf := map[string]string{} // logical id -> prefix
	for id, r := range roles {
		var prefix string
		for p := range wantSub {
			if strings.HasPrefix(id, p) && len(id) > len(prefix) && (len(prefix) == 0 || strings.HasPrefix(p, prefix)) {
				prefix = p
			}
		}
		if prefix == "" {
			t.Fatalf("unexpected role %s", id)
		}
		roleOf[id] = prefix
		stmts := statements(t, obj(t, r, "Properties", "AssumeRolePolicyDocument"))
		if len(stmts) != 1 {
			t.Fatalf("%s: want one trust statement, got %s", id, mustJSON(stmts))
		}
		st := stmts[0]
		cond := mustJSON(st["Condition"])
		want := mustJSON(map[string]any{"StringEquals": map[string]any{
			"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
			"token.actions.githubusercontent.com:sub": wantSub[prefix],
		}})
		if st["Action"] != "sts:AssumeRoleWithWebIdentity" || st["Effect"] != "Allow" || cond != want {
			t.Errorf("%s trust: %s", id, mustJSON(st))
		}
		if fed := mustJSON(st["Principal"]); !strings.Contains(fed, "GitHubGitHubOIDC") {
			t.Errorf("%s: trusts %s, not the stack's GitHub OIDC provider", id, fed)
		}
	}

	// Each role's permissions: sts:AssumeRole on bootstrap roles, and for a
	// deploy role GetSecretValue of the secrets tagged with its own stack
	// (make smoke after the deploy).
	assumable := map[string][]string{} // prefix -> rendered ARNs
	smoke := map[string]string{}       // prefix -> rendered smoke statement
	for _, pol := range resources(tpl, "AWS::IAM::Policy") {
		p := props(pol)
		roles := list(t, p, "Roles")
		for _, st := range statements(t, obj(t, p, "PolicyDocument")) {
			if st["Sid"] == "SmokeCheckReadsItsStacksVerifierSecret" {
				for i := range roles {
					smoke[roleOf[str(t, roles, i, "Ref")]] = mustJSON(st)
				}
				continue
			}
			if st["Action"] != "sts:AssumeRole" || st["Effect"] != "Allow" {
				t.Errorf("CI role may do more than sts:AssumeRole: %s", mustJSON(st))
			}
			res, ok := st["Resource"].([]any)
			if !ok {
				res = []any{st["Resource"]}
			}
			for i := range roles {
				prefix := roleOf[str(t, roles, i, "Ref")]
				for _, r := range res {
					assumable[prefix] = append(assumable[prefix], mustJSON(r))
				}
			}
		}
	}
	arn := func(kind, account, region string) string {
		return mustJSON(map[string]any{"Fn::Sub": "arn:${AWS::Partition}:iam::" + account + ":role/cdk-hnb659fds-" + kind + "-role-" + account + "-" + region})
	}
	want := map[string][]string{
		// dev is environment-agnostic: the CI stack's own account and region.
		"GitHubDeployDev": {arn("deploy", "${AWS::AccountId}", "${AWS::Region}"), arn("file-publishing", "${AWS::AccountId}", "${AWS::Region}")},
		// edge: its region and the us-east-1 web ACL stack.
		"GitHubDeployEdge": {
			arn("deploy", "111122223333", "eu-west-1"), arn("file-publishing", "111122223333", "eu-west-1"),
			arn("deploy", "111122223333", "us-east-1"), arn("file-publishing", "111122223333", "us-east-1"),
		},
		"GitHubDiff": {arn("lookup", "${AWS::AccountId}", "${AWS::Region}"), arn("lookup", "111122223333", "eu-west-1"), arn("lookup", "111122223333", "us-east-1")},
	}
	for prefix, w := range want {
		got := slices.Sorted(slices.Values(assumable[prefix]))
		if !slices.Equal(got, slices.Sorted(slices.Values(w))) {
			t.Errorf("%s may assume\n  %v\nwant\n  %v", prefix, got, w)
		}
	}

	smokeStatement := func(stack, account, region string) string {
		return mustJSON(map[string]any{
			"Action":    "secretsmanager:GetSecretValue",
			"Condition": map[string]any{"StringEquals": map[string]any{"secretsmanager:ResourceTag/s3vend:stack": []any{stack}}},
			"Effect":    "Allow",
			"Resource":  map[string]any{"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:" + region + ":" + account + ":secret:*"},
			"Sid":       "SmokeCheckReadsItsStacksVerifierSecret",
		})
	}
	wantSmoke := map[string]string{
		"GitHubDeployDev":  smokeStatement("S3Vend-dev", "${AWS::AccountId}", "${AWS::Region}"),
		"GitHubDeployEdge": smokeStatement("S3Vend-edge", "111122223333", "eu-west-1"),
	}
	if !maps.Equal(smoke, wantSmoke) {
		t.Errorf("smoke-check statements\n  %v\nwant (deploy roles only, own stack's tag, own region)\n  %v", smoke, wantSmoke)
	}

	outputs := obj(t, tpl, "Outputs")
	for _, o := range []string{"OIDCProviderArn", "DeployRoleArnDev", "DeployRoleArnEdge", "DiffRoleArn"} {
		if _, ok := outputs[o]; !ok {
			t.Errorf("output %s missing", o)
		}
	}
}

// The CI deploy roles read a verifier secret only through its s3vend:stack
// tag (TestCICDStack), so every stack's secret must carry its stack's name.
func TestVerifierSecretTaggedWithItsStack(t *testing.T) {
	synthesized(t)
	seen := 0
	for _, stack := range stackNames() {
		for id, sec := range resources(stackTemplate(t, stack), "AWS::SecretsManager::Secret") {
			seen++
			var tagged bool
			tags := list(t, sec, "Properties", "Tags")
			for i := range tags {
				tag := obj(t, tags, i)
				tagged = tagged || (tag["Key"] == "s3vend:stack" && tag["Value"] == stack)
			}
			if !tagged {
				t.Errorf("%s: secret %s lacks the tag s3vend:stack=%s: %v", stack, id, stack, props(sec)["Tags"])
			}
		}
	}
	if seen == 0 {
		t.Fatal("no verifier secret in any stack: the test checks nothing")
	}
}
