package test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3vend/s3vend/config"
	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/lambda/vendorenv"
)

// The stack and the token vendor share their rules through the contract package;
// these tests check the result end to end: every synthesized vendor
// function's environment, with its tokens replaced by well-formed sample
// values, must pass the vendor's own start-up loader (what main runs at a
// cold start), its timeout must leave room for the upstream deadline, and
// its generated secret must parse. A stack that would deploy a vendor that
// cannot start fails here.

// vendorFunction is the synthesized token vendor of a stack.
type vendorFunction struct {
	Env     map[string]any // Environment.Variables, intrinsics unresolved
	Timeout time.Duration
	Secret  map[string]any // the verifier secret's GenerateSecretString, or nil
}

func vendorOf(t *testing.T, stack string) vendorFunction {
	t.Helper()
	tpl := stackTemplate(t, stack)
	var out []vendorFunction
	for _, fn := range resources(tpl, "AWS::Lambda::Function") {
		props := obj(t, fn, "Properties")
		env, _ := props["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if _, ok := vars[contract.EnvVerifiers]; !ok {
			continue // not the vendor (e.g. a CDK custom resource)
		}
		secs, ok := props["Timeout"].(float64)
		if !ok {
			t.Fatalf("%s: the vendor function has no numeric Timeout: %v", stack, props["Timeout"])
		}
		v := vendorFunction{Env: vars, Timeout: time.Duration(secs) * time.Second}
		for _, s := range resources(tpl, "AWS::SecretsManager::Secret") {
			v.Secret, _ = obj(t, s, "Properties")["GenerateSecretString"].(map[string]any)
		}
		out = append(out, v)
	}
	if len(out) != 1 {
		t.Fatalf("%s: want one token vendor function, found %d", stack, len(out))
	}
	return out[0]
}

// resolveEnv replaces the intrinsics of a function environment with
// well-formed sample values of what each variable holds, and adds what
// Lambda itself sets (AWS_REGION, AWS_LAMBDA_RUNTIME_API). A token in a
// variable without a known sample is an error: the test must learn what the
// variable holds rather than guess.
func resolveEnv(vars map[string]any, region string) (map[string]string, error) {
	p := contract.PartitionName(region)
	samples := map[string]string{
		contract.EnvIdentityPoolID:   region + ":01234567-89ab-cdef-0123-456789abcdef",
		contract.EnvAuthRoleARN:      "arn:" + p + ":iam::111122223333:role/S3Vend-sample-AuthenticatedRole",
		contract.EnvUnauthRoleARN:    "arn:" + p + ":iam::111122223333:role/S3Vend-sample-UnauthenticatedRole",
		contract.EnvSecretARN:        "arn:" + p + ":secretsmanager:" + region + ":111122223333:secret:VerifierSecret-AbCdEf",
		contract.EnvBucket:           "s3vend-sample-storagebucket-0123456789ab",
		contract.EnvRevocationsTable: "S3Vend-sample-AbuseControlRevocations-0123456789AB",
		contract.EnvUsageTable:       "S3Vend-sample-AbuseControlUsage-0123456789AB",
	}
	env := map[string]string{
		contract.EnvRegion:           region,
		contract.EnvLambdaRuntimeAPI: "127.0.0.1:9001",
	}
	for k, v := range vars {
		switch v := v.(type) {
		case string:
			env[k] = v
		case map[string]any: // Ref, Fn::GetAtt, Fn::Join, ...
			s, ok := samples[k]
			if !ok {
				return nil, fmt.Errorf("%s is a token (%v) with no sample value; add one to resolveEnv", k, v)
			}
			env[k] = s
		default:
			return nil, fmt.Errorf("%s: unexpected %T", k, v)
		}
	}
	return env, nil
}

// generatedSecret is the SecretString Secrets Manager creates from a
// GenerateSecretString: the template with the generated key added.
func generatedSecret(g map[string]any) ([]byte, error) {
	doc := map[string]any{}
	if tpl, ok := g["SecretStringTemplate"].(string); ok {
		if err := json.Unmarshal([]byte(tpl), &doc); err != nil {
			return nil, fmt.Errorf("SecretStringTemplate: %w", err)
		}
	}
	key, _ := g["GenerateStringKey"].(string)
	n, _ := g["PasswordLength"].(float64)
	if key == "" || n == 0 {
		return nil, fmt.Errorf("GenerateSecretString without GenerateStringKey and PasswordLength: %v", g)
	}
	doc[key] = strings.Repeat("a", int(n))
	return json.Marshal(doc)
}

// checkVendor runs the vendor's start-up checks on one function.
func checkVendor(v vendorFunction, region string) error {
	env, err := resolveEnv(v.Env, region)
	if err != nil {
		return err
	}
	loaded, err := vendorenv.Load(func(k string) string { return env[k] })
	if err != nil {
		return fmt.Errorf("the vendor refuses to start:\n%w", err)
	}
	if err := contract.CheckDeadlines(v.Timeout, loaded.UpstreamTimeout); err != nil {
		return fmt.Errorf("function Timeout: %w", err)
	}
	if loaded.NeedsSecret {
		if v.Secret == nil {
			return fmt.Errorf("a verifier needs the secret, but the stack creates none")
		}
		doc, err := generatedSecret(v.Secret)
		if err != nil {
			return err
		}
		missing, err := vendorenv.CheckSecret(doc, loaded.Verifiers)
		if err != nil {
			return err
		}
		// The WeChat app secret is WeChat's and set by hand after deploy;
		// the HS256 key is generated and must be there from the start.
		if slices.Contains(missing, contract.SecretFieldHS256) {
			return fmt.Errorf("the generated secret lacks %s", contract.SecretFieldHS256)
		}
	}
	return nil
}

func sampleRegion(t *testing.T, stack string) string {
	for _, n := range configs.Names() {
		if config.StackName(n) == stack {
			if r := envConfig(t, n).Region; r != "" {
				return r
			}
		}
	}
	return "us-east-1" // environment-agnostic: any region with identity pools
}

// TestVendorStartsWithEverySynthesizedEnvironment is the drift test.
func TestVendorStartsWithEverySynthesizedEnvironment(t *testing.T) {
	for _, stack := range allStacks(t) {
		t.Run(stack, func(t *testing.T) {
			if err := checkVendor(vendorOf(t, stack), sampleRegion(t, stack)); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestDriftTestCatchesMutations: the drift check is not vacuous; a
// synthesized environment changed the ways the stack and vendor used to
// disagree is refused, and what the stack now derives is accepted.
func TestDriftTestCatchesMutations(t *testing.T) {
	base := vendorOf(t, "S3Vend-prod")
	mutate := func(f func(v *vendorFunction)) vendorFunction {
		v := base
		v.Env = map[string]any{}
		for k, x := range base.Env {
			v.Env[k] = x
		}
		f(&v)
		return v
	}
	if err := checkVendor(base, "us-east-1"); err != nil {
		t.Fatalf("control: %v", err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 3000) + `"}]}`
	for name, c := range map[string]struct {
		v    vendorFunction
		want string // "" = accepted
	}{
		// A 20 s function with the deadline the stack derives starts (it
		// used to get 14 s, which the vendor refused above 9 s).
		"timeout 20s, derived deadline": {mutate(func(v *vendorFunction) {
			v.Timeout = 20 * time.Second
			v.Env[contract.EnvUpstreamTimeout] = contract.UpstreamTimeout(v.Timeout).String()
		}), ""},
		"timeout 20s, deadline beyond the vendor's bound": {mutate(func(v *vendorFunction) {
			v.Timeout = 20 * time.Second
			v.Env[contract.EnvUpstreamTimeout] = "25s"
		}), contract.EnvUpstreamTimeout},
		"deadline outlives the function": {mutate(func(v *vendorFunction) { v.Timeout = 5 * time.Second }), "leaves no time to answer"},
		"function timeout beyond the HTTP API's": {mutate(func(v *vendorFunction) {
			v.Timeout = 40 * time.Second
		}), "integration limit"},
		"session policy of 3,000 characters": {mutate(func(v *vendorFunction) {
			v.Env[contract.EnvSessionPolicy] = policy
		}), contract.EnvSessionPolicy},
		"token duration beyond Cognito's": {mutate(func(v *vendorFunction) {
			v.Env[contract.EnvTokenDuration] = "86401"
		}), contract.EnvTokenDuration},
		"secret field renamed": {mutate(func(v *vendorFunction) {
			v.Secret = map[string]any{"SecretStringTemplate": `{"wechatAppSecret":""}`, "GenerateStringKey": "hs256key", "PasswordLength": 64.0}
		}), "secret"},
		"role ARN of another shape": {mutate(func(v *vendorFunction) {
			v.Env[contract.EnvAuthRoleARN] = "arn:aws:iam::111122223333:user/x"
		}), contract.EnvAuthRoleARN},
	} {
		t.Run(name, func(t *testing.T) {
			err := checkVendor(c.v, "us-east-1")
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("err = %v, want one naming %q", err, c.want)
			}
		})
	}
}

// TestPlaceholderWarnings: the shipped sample synthesizes offline with a
// warning on each stack that still holds placeholders, naming the keys.
func TestPlaceholderWarnings(t *testing.T) {
	want := map[string]string{
		"S3Vend-dev":     "verifiers.oidc[0].audiences[0]",
		"S3Vend-prod":    "verifiers.oidc[0].audiences[0]",
		"S3Vend-prod-cn": "verifiers.wechat.appId",
		"S3Vend-edge":    "",
	}
	for stack, key := range want {
		var got []string
		for _, a := range annotations(t, stack) {
			if a.Level == "aws:cdk:warning" && strings.Contains(a.Message, "placeholder") {
				got = append(got, a.Message)
			}
		}
		switch {
		case key == "" && len(got) > 0:
			t.Errorf("%s: unexpected placeholder warning %q", stack, got)
		case key != "" && (len(got) != 1 || !strings.Contains(got[0], key) || !strings.Contains(got[0], "cannot be deployed as is")):
			t.Errorf("%s: placeholder warnings %q, want one naming %s", stack, got, key)
		}
	}
}
