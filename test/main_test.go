// Package test holds s3vend's CDK tests. The whole package shares one jsii
// kernel and one synthesis of every environment: the ones in cdk.json plus a
// few test-only environments that cover the options cdk.json does not use.
package test

import (
	"encoding/json"
	"fmt"
	"github.com/s3vend/s3vend/config"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/s3vend/s3vend/stacks"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	if synthDir != "" {
		os.RemoveAll(synthDir)
	}
	os.Exit(code)
}

// testOnlyEnvironments exercise options that the shipped cdk.json leaves at
// their defaults: the opt-in ACL mode, a created user pool with role
// mappings (basic flow off), an imported user pool in a fixed region
// with custom upload limits, a 15-minute credential lifetime, alarm
// thresholds and e-mail subscriptions, alarms turned off (acl), the
// CloudFront + WAF edge, and the other Cognito principal form AWS China
// documents (cognitoPrincipal, cn-alt), and a custom access layout (rules). All but cn-alt are throw-away
// environments ("disposable": true), like the shipped dev.
var testOnlyEnvironments = map[string]any{
	// A custom access layout using all three placeholders (issue 17): keys
	// by the app's own user id, a tenant from the backend token's "org"
	// claim, an inbox by identity id that only the backend writes; with a
	// user quota over the rules the owner writes.
	"rules": map[string]any{
		"disposable":            true,
		"region":                "eu-west-1",
		"cors":                  map[string]any{"allowedOrigins": []string{"https://app.example.com"}},
		"developerProviderName": "login.s3vend.rules",
		"guests":                true,
		"verifiers": map[string]any{
			"hs256":  map[string]any{"name": "backend", "issuer": "https://api.example.com", "audience": "s3vend", "tenantClaim": "org"},
			"wechat": map[string]any{"name": "wechat", "appId": "wx0123456789abcdef"},
		},
		"access": testAccessRules,
		// Metered under avatars/ and members/ (owner puts there); the e2e
		// quota test of this layout lowers maxObjects.
		"userQuota": map[string]any{"maxObjects": 1000},
	},
	"cn-alt": map[string]any{
		"region":                "cn-north-1",
		"cors":                  map[string]any{"allowedOrigins": []string{"https://app.example.cn"}},
		"developerProviderName": "login.s3vend.cnalt",
		"guests":                true,
		"cognitoPrincipal": map[string]any{
			"trustPrincipal": "cognito-identity.cn-north-1.amazonaws.com.cn", "conditionKeyPrefix": "cognito-identity.amazonaws.com.cn",
		},
		"verifiers": map[string]any{"hs256": map[string]any{
			"name": "backend", "issuer": "https://api.example.cn", "audience": "s3vend",
		}},
	},
	"edge": map[string]any{
		"disposable":            true,
		"account":               "111122223333",
		"region":                "eu-west-1",
		"cors":                  map[string]any{"allowedOrigins": []string{"https://app.example.com"}},
		"developerProviderName": "login.s3vend.edge",
		"guests":                true,
		"verifiers": map[string]any{"hs256": map[string]any{
			"name": "backend", "issuer": "https://api.example.com", "audience": "s3vend",
		}},
		"edge": map[string]any{"enabled": true, "perIpLimit": 200, "window": "2m"},
	},
	"acl": map[string]any{
		"disposable":            true,
		"bucketAccess":          "acl-public-read",
		"cors":                  map[string]any{"allowedOrigins": []string{"*"}},
		"developerProviderName": "login.s3vend.acl",
		"basicFlow":             false,
		"userPool":              map[string]any{"create": true},
		// A tuned cache and quota; the stage throttle is derived from them.
		"cache": map[string]any{"maxEntries": 500, "minRemaining": "2m"},
		"quota": map[string]any{"developerTokenRps": 100, "cacheHitRatio": 0.5},
		"roleMappings": map[string]any{"rules": []any{map[string]any{
			"claim": "cognito:groups", "matchType": "Contains", "value": "admins",
			"roleArn": "arn:aws:iam::111122223333:role/s3vend-admins",
		}}},
		"verifiers": map[string]any{"oidc": []any{map[string]any{
			"name": "idp", "issuer": "https://idp.example.com", "audiences": []string{"app"},
		}}},
		"alarms": map[string]any{"enabled": false},
	},
	"imported": map[string]any{
		"disposable":            true,
		"account":               "111122223333",
		"region":                "eu-west-1",
		"cors":                  map[string]any{"allowedOrigins": []string{"https://app.example.com"}},
		"developerProviderName": "login.s3vend.imported",
		"credentialLifetime":    "15m", // below IAM's 1 h role minimum: roles keep 1 h
		"userPool":              map[string]any{"userPoolId": "eu-west-1_AbCdEf123", "clientId": "1example23456789"},
		"verifiers": map[string]any{"wechat": map[string]any{
			"name": "wechat", "appId": "wx0123456789abcdef",
		}},
		"upload": map[string]any{"maxBytes": 1 << 20, "contentTypes": []string{"image/PNG", "image/jpeg"}, "expiry": "90s"},
		"cache":  map[string]any{"enabled": false}, // the off switch
		"alarms": map[string]any{
			"email":                     []string{"ops@example.com", "oncall@example.org"},
			"serverErrorRatePercent":    2.5,
			"upstreamThrottledPer5Min":  3,
			"invalidCredentialsPer5Min": 40,
			"durationPercentOfTimeout":  70,
			"apiClientErrorRatePercent": 30,
			"apiServerErrorRatePercent": 1,
			"minRequestsPer5Min":        50,
		},
	},
}

// testAccessRules is the "rules" environment's layout.
var testAccessRules = []any{
	map[string]any{"name": "avatars", "path": "avatars/{userId}/*", "owner": []string{"get", "put", "delete", "list"}, "anonymous": []string{"get"}, "authenticated": []string{"list"}},
	map[string]any{"name": "teams", "path": "teams/{tenant}/*", "tenant": []string{"get", "put", "delete", "list"}},
	map[string]any{"name": "members", "path": "members/{tenant}/{userId}/*", "owner": []string{"get", "put", "delete"}, "tenant": []string{"get", "list"}},
	map[string]any{"name": "inbox", "path": "inbox/{identityId}/*", "owner": []string{"get", "list", "delete"}},
	map[string]any{"name": "shared", "path": "shared/*", "authenticated": []string{"get"}, "guest": []string{"get"}},
}

// testOnlyCICD adds the S3Vend-cicd stack (cdk.json ships without it): an
// environment-agnostic deploy target, one with a fixed account and region
// and a us-east-1 edge ACL stack, and the pull-request diff role.
var testOnlyCICD = map[string]any{
	"repository": "octo-org/s3vend-app",
	"deploy": map[string]any{
		"dev":  map[string]any{},
		"edge": map[string]any{"githubEnvironment": "production"},
	},
}

// shippedEnvironments are the environment names of cdk.json.
var shippedEnvironments []string

var (
	synthOnce sync.Once
	synthErr  error
	synthDir  string
	templates map[string]map[string]any // stack name -> template
	configs   config.Config
)

// cdkJSON returns cdk.json's context.
func cdkJSON() (map[string]any, error) { return config.ReadCDKJSON("../cdk.json") }

// synthAll builds the app exactly as app.go does (stacks.Build), with the
// test-only environments added, and synthesizes it once into a temp dir.
// Bundling is skipped: the asset hash is derived from sources, so the
// templates are the same as with a real build.
func synthAll() error {
	ctx, err := cdkJSON()
	if err != nil {
		return err
	}
	s3vend, err := typed[map[string]any]("an object", ctx, config.ContextKey)
	if err != nil {
		return fmt.Errorf("cdk.json context %w", err)
	}
	envs, err := typed[map[string]any]("an object", s3vend, "environments")
	if err != nil {
		return fmt.Errorf("cdk.json context /%s%w", config.ContextKey, err)
	}
	for name := range envs {
		shippedEnvironments = append(shippedEnvironments, name)
	}
	for name, env := range testOnlyEnvironments {
		envs[name] = env
	}
	s3vend["cicd"] = testOnlyCICD
	// As make synth: the shipped sample's placeholders warn, not refuse.
	if configs, err = config.ParseWith(s3vend, config.ParseOptions{WarnPlaceholders: true}); err != nil {
		return err
	}
	if synthDir, err = os.MkdirTemp("", "s3vend-test-*"); err != nil {
		return err
	}
	ctx["aws:cdk:bundling-stacks"] = []string{}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(synthDir), Context: &ctx})
	stacks.Build(app, configs, "..")
	app.Synth(nil)

	templates = map[string]map[string]any{}
	for _, stack := range stackNames() {
		var tpl map[string]any
		if err := readJSON(filepath.Join(synthDir, stack+".template.json"), &tpl); err != nil {
			return err
		}
		templates[stack] = tpl
	}
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func synthesized(t testing.TB) {
	t.Helper()
	synthOnce.Do(func() { synthErr = synthAll() })
	if synthErr != nil {
		t.Fatalf("synth: %v", synthErr)
	}
}

// stackTemplate returns the parsed template of a synthesized stack, such as
// "S3Vend-dev". Every test in the package shares one synthesis.
func stackTemplate(t testing.TB, stack string) map[string]any {
	t.Helper()
	synthesized(t)
	tpl, ok := templates[stack]
	if !ok {
		t.Fatalf("no stack %q synthesized", stack)
	}
	return tpl
}

// envConfig returns the parsed configuration of one synthesized environment.
func envConfig(t testing.TB, name string) config.Environment {
	t.Helper()
	synthesized(t)
	e, ok := configs.Environments[name]
	if !ok {
		t.Fatalf("no environment %q", name)
	}
	return e
}

// allStacks returns every environment's stack name, shipped and test-only.
func allStacks(t testing.TB) []string {
	synthesized(t)
	var out []string
	for _, n := range configs.Names() {
		out = append(out, config.StackName(n))
	}
	return out
}

// everyStack is allStacks plus the edge ACL stacks (us-east-1), for the
// checks that apply to any template: cdk-nag, cfn-guard, snapshots.
func everyStack(t testing.TB) []string {
	synthesized(t)
	return stackNames()
}

// stackNames is every synthesized stack (config.Config.StackNames: each
// environment's stack, its edge ACL stack, the CI/CD stack).
func stackNames() []string { return configs.StackNames() }

// annotation is one error or warning attached to a construct.
type annotation struct {
	Path, Level, Message string
}

// annotations returns a stack's errors and warnings (cdk-nag findings among
// them) as the CLI reports them, from <stack>.metadata.json.
func annotations(t testing.TB, stack string) []annotation {
	t.Helper()
	synthesized(t)
	return annotationsIn(t, synthDir, stack)
}

// annotationsIn reads a stack's errors and warnings from the cloud assembly
// in dir.
func annotationsIn(t testing.TB, dir, stack string) []annotation {
	t.Helper()
	var meta map[string][]struct {
		Type string `json:"type"`
		Data any    `json:"data"`
	}
	path := filepath.Join(dir, stack+".metadata.json")
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return nil
	}
	if err := readJSON(path, &meta); err != nil {
		t.Fatal(err)
	}
	var out []annotation
	for p, entries := range meta {
		for _, e := range entries {
			switch e.Type {
			case "aws:cdk:error", "aws:cdk:warning":
				out = append(out, annotation{Path: p, Level: e.Type, Message: fmt.Sprint(e.Data)})
			}
		}
	}
	return out
}

// resources returns the template's resources of one type, by logical id.
func resources(tpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	all, _ := tpl["Resources"].(map[string]any) // a template without resources has none of typ
	for id, r := range all {
		if res, ok := r.(map[string]any); ok && res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// only returns the single resource of a type, failing if there is not one.
func only(t testing.TB, tpl map[string]any, typ string) (string, map[string]any) {
	t.Helper()
	rs := resources(tpl, typ)
	if len(rs) != 1 {
		t.Fatalf("want exactly one %s, got %d", typ, len(rs))
	}
	for id, r := range rs {
		return id, r
	}
	return "", nil
}

func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
