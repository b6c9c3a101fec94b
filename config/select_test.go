package config

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func selectConfig(t *testing.T) Config {
	t.Helper()
	env := func(dpn string, edge bool) map[string]any {
		e := map[string]any{
			"cors":                  map[string]any{"allowedOrigins": []string{"https://app.example.com"}},
			"developerProviderName": dpn,
			"verifiers":             map[string]any{"hs256": map[string]any{"name": "backend", "issuer": "https://api.example.com", "audience": "s3vend"}},
		}
		if edge {
			e["edge"] = map[string]any{"enabled": true}
			e["region"] = "eu-west-1"
		}
		return e
	}
	b, _ := json.Marshal(map[string]any{"environments": map[string]any{
		"dev": env("login.dev", false), "prod": env("login.prod", false), "edge": env("login.edge", true),
	}})
	cfg, err := Parse(json.RawMessage(b))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestSelect(t *testing.T) {
	cfg := selectConfig(t)
	if got, want := cfg.StackNames(), []string{"S3Vend-dev", "S3Vend-edge", "S3Vend-edge-EdgeACL", "S3Vend-prod"}; !slices.Equal(got, want) {
		t.Fatalf("StackNames = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		sel  any
		want []string // environments kept
	}{
		{nil, []string{"dev", "edge", "prod"}},
		{"", []string{"dev", "edge", "prod"}},
		{"S3Vend-dev", []string{"dev"}},
		{" S3Vend-prod , S3Vend-dev,", []string{"dev", "prod"}},
		{[]any{"S3Vend-prod"}, []string{"prod"}},
		// The main stack reads the ACL stack's output: both come together.
		{"S3Vend-edge", []string{"edge"}},
		{"S3Vend-edge-EdgeACL", []string{"edge"}},
	} {
		got, err := cfg.Select(tc.sel)
		if err != nil {
			t.Fatalf("Select(%#v): %v", tc.sel, err)
		}
		if !slices.Equal(got.Names(), tc.want) {
			t.Errorf("Select(%#v) = %v, want %v", tc.sel, got.Names(), tc.want)
		}
	}
	if got, _ := cfg.Select("S3Vend-edge"); !slices.Equal(got.StackNames(), []string{"S3Vend-edge", "S3Vend-edge-EdgeACL"}) {
		t.Errorf("S3Vend-edge synthesizes %v, want its ACL stack too", got.StackNames())
	}
}

func TestSelectBadInput(t *testing.T) {
	cfg := selectConfig(t)
	for _, tc := range []struct {
		sel  any
		want []string
	}{
		{"S3Vend-staging", []string{`s3vend:stacks: no stack "S3Vend-staging"`, "S3Vend-dev, S3Vend-edge, S3Vend-edge-EdgeACL, S3Vend-prod"}},
		{"dev", []string{`no stack "dev"`}},
		{"S3Vend-dev,S3Vend-x,S3Vend-y", []string{`"S3Vend-x", "S3Vend-y"`}},
		{[]any{1.0}, []string{"expected stack names"}},
		{true, []string{"expected comma-separated stack names"}},
	} {
		_, err := cfg.Select(tc.sel)
		if err == nil {
			t.Fatalf("Select(%#v): no error", tc.sel)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Select(%#v) = %q, want it to contain %q", tc.sel, err, w)
			}
		}
	}
}

func TestSelectCICD(t *testing.T) {
	b, _ := json.Marshal(map[string]any{
		"environments": map[string]any{
			"dev":  map[string]any{"cors": map[string]any{"allowedOrigins": []string{"https://a.example.com"}}, "developerProviderName": "login.dev", "verifiers": map[string]any{"hs256": map[string]any{"name": "b", "issuer": "https://api.example.com", "audience": "s"}}},
			"prod": map[string]any{"region": "eu-west-1", "cors": map[string]any{"allowedOrigins": []string{"https://a.example.com"}}, "developerProviderName": "login.prod", "verifiers": map[string]any{"hs256": map[string]any{"name": "b", "issuer": "https://api.example.com", "audience": "s"}}},
		},
		"cicd": map[string]any{"repository": "octo-org/app", "deploy": map[string]any{"dev": map[string]any{}, "prod": map[string]any{"githubEnvironment": "production"}}},
	})
	cfg, err := Parse(json.RawMessage(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.StackNames(); !slices.Equal(got, []string{"S3Vend-dev", "S3Vend-prod", "S3Vend-cicd"}) {
		t.Fatalf("StackNames = %v", got)
	}
	want := []CICDDeploy{{Env: "dev", GitHubEnvironment: "dev"}, {Env: "prod", GitHubEnvironment: "production", Region: "eu-west-1"}}
	if !slices.Equal(cfg.CICD.Deploy, want) || !cfg.CICD.PullRequestDiff {
		t.Fatalf("CICD = %+v", cfg.CICD)
	}
	only, err := cfg.Select("S3Vend-cicd")
	if err != nil || len(only.Environments) != 0 || only.CICD == nil || !slices.Equal(only.StackNames(), []string{"S3Vend-cicd"}) {
		t.Fatalf("Select(S3Vend-cicd) = %+v, %v", only, err)
	}
	if dev, _ := cfg.Select("S3Vend-dev"); dev.CICD != nil {
		t.Fatal("selecting S3Vend-dev kept S3Vend-cicd")
	}
}

func TestCICDBadInput(t *testing.T) {
	env := func(region string) map[string]any {
		e := map[string]any{"cors": map[string]any{"allowedOrigins": []string{"https://a.example.com"}}, "developerProviderName": "login.x", "verifiers": map[string]any{"hs256": map[string]any{"name": "b", "issuer": "https://api.example.com", "audience": "s"}}}
		if region != "" {
			e["region"] = region
		}
		return e
	}
	envs := map[string]any{"dev": env(""), "prod": env("eu-west-1"), "prod-cn": env("cn-north-1")}
	for _, tc := range []struct {
		cicd map[string]any
		want string
	}{
		{map[string]any{"deploy": map[string]any{"dev": map[string]any{}}}, `s3vend.cicd.repository: "" must be the GitHub repository as OWNER/REPO`},
		{map[string]any{"repository": "octo-org/app:*", "deploy": map[string]any{"dev": map[string]any{}}}, "s3vend.cicd.repository"},
		{map[string]any{"repository": "o/r"}, "s3vend.cicd.deploy: name at least one environment"},
		{map[string]any{"repository": "o/r", "deploy": map[string]any{"staging": map[string]any{}}}, `s3vend.cicd.deploy.staging: no environment "staging" in s3vend.environments; use one of dev, prod, prod-cn`},
		{map[string]any{"repository": "o/r", "deploy": map[string]any{"dev": map[string]any{"githubEnvironment": "*"}}}, "s3vend.cicd.deploy.dev.githubEnvironment"},
		{map[string]any{"repository": "o/r", "deploy": map[string]any{"prod": map[string]any{}, "prod-cn": map[string]any{}}}, "spans AWS partitions (aws-cn: prod-cn (cn-north-1); aws: prod (eu-west-1))"},
		{map[string]any{"repository": "o/r", "region": "cn-north-1", "deploy": map[string]any{"prod": map[string]any{}}}, "spans AWS partitions"},
		{map[string]any{"repository": "o/r", "oidcProviderArn": "arn:aws:iam::111122223333:oidc-provider/example.com", "deploy": map[string]any{"dev": map[string]any{}}}, "s3vend.cicd.oidcProviderArn"},
		{map[string]any{"repository": "o/r", "deploy": map[string]any{"dev": map[string]any{}}, "pullRequestDif": true}, `s3vend.cicd: unknown key "pullRequestDif"`},
	} {
		b, _ := json.Marshal(map[string]any{"environments": envs, "cicd": tc.cicd})
		_, err := Parse(json.RawMessage(b))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("cicd %v: error %v, want it to contain %q", tc.cicd, err, tc.want)
		}
	}
}
