package config_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/lambda/internal/config"
)

func baseEnv() map[string]string {
	return map[string]string{
		"AWS_REGION":                "eu-west-1",
		"S3VEND_IDENTITY_POOL_ID":   "eu-west-1:0d4f7c2e-1111-2222-3333-444455556666",
		"S3VEND_DEVELOPER_PROVIDER": "login.s3vend",
		"S3VEND_AUTH_ROLE_ARN":      "arn:aws:iam::123456789012:role/auth",
		"S3VEND_GUESTS_ENABLED":     "false",
		"S3VEND_VERIFIERS":          `{"oidc":[{"name":"google","issuer":"https://accounts.google.com","audiences":["c"]}]}`,
	}
}

func load(env map[string]string) (config.Config, error) {
	return config.FromEnv(func(k string) string { return env[k] })
}

func TestDefaults(t *testing.T) {
	c, err := load(baseEnv())
	if err != nil {
		t.Fatal(err)
	}
	o := c.Verifiers.OIDC[0]
	if o.UserClaim != "sub" || len(o.Algorithms) != 1 || o.Algorithms[0] != "RS256" || o.JWKSURL != "" {
		t.Errorf("oidc defaults: %+v", o)
	}
	if c.UpstreamTimeout != contract.UpstreamTimeout(contract.DefaultLambdaTimeout) || c.MaxAttempts != 3 || c.TokenDuration != 15*time.Minute || c.CredentialLifetime != time.Hour {
		t.Errorf("defaults: %+v", c)
	}
	if c.LoginKey() != "cognito-identity.amazonaws.com" || c.NeedsSecrets() {
		t.Errorf("loginKey %s", c.LoginKey())
	}
	if !c.BasicFlow {
		t.Error("S3VEND_BASIC_FLOW unset: basic flow should default to on")
	}
}

func TestBasicFlow(t *testing.T) {
	for val, want := range map[string]bool{"": true, "true": true, "false": false} {
		env := baseEnv()
		env["S3VEND_BASIC_FLOW"] = val
		c, err := load(env)
		if err != nil || c.BasicFlow != want {
			t.Errorf("S3VEND_BASIC_FLOW=%q: BasicFlow=%v err=%v, want %v", val, c.BasicFlow, err, want)
		}
	}
	// Guests with the enhanced flow are a valid configuration.
	env := baseEnv()
	env["S3VEND_BASIC_FLOW"] = "false"
	env["S3VEND_GUESTS_ENABLED"] = "true"
	env["S3VEND_UNAUTH_ROLE_ARN"] = "arn:aws:iam::123456789012:role/unauth"
	if c, err := load(env); err != nil || c.BasicFlow || !c.GuestsEnabled {
		t.Errorf("enhanced-flow guests: %+v %v", c, err)
	}
	// A session policy is fine with the basic flow, refused without it.
	const policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]}`
	env = baseEnv()
	env["S3VEND_SESSION_POLICY"] = policy
	if _, err := load(env); err != nil {
		t.Errorf("policy with basic flow: %v", err)
	}
	env["S3VEND_BASIC_FLOW"] = "false"
	if _, err := load(env); err == nil || !strings.Contains(err.Error(), "S3VEND_SESSION_POLICY") || !strings.Contains(err.Error(), "S3VEND_BASIC_FLOW=false") {
		t.Errorf("policy without basic flow: %v", err)
	}
}

func TestWeChatAndHS256Defaults(t *testing.T) {
	env := baseEnv()
	env["S3VEND_VERIFIERS"] = `{"wechat":{"name":"wechat","appId":"wx123"},"hs256":{"name":"backend","issuer":"i","audience":"a"}}`
	env["S3VEND_SECRET_ARN"] = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"
	c, err := load(env)
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Verifiers.WeChat; w.BaseURL != "https://api.weixin.qq.com" || w.IDField != "openid" {
		t.Errorf("wechat: %+v", w)
	}
	if c.Verifiers.HS256.MaxTTL() != 300*time.Second || !c.NeedsSecrets() {
		t.Errorf("hs256: %+v", c.Verifiers.HS256)
	}
}

func TestChinaLoginKey(t *testing.T) {
	env := baseEnv()
	env["AWS_REGION"] = "cn-north-1"
	env["S3VEND_IDENTITY_POOL_ID"] = "cn-north-1:0d4f7c2e-1111-2222-3333-444455556666"
	env["S3VEND_AUTH_ROLE_ARN"] = "arn:aws-cn:iam::123456789012:role/auth"
	c, err := load(env)
	if err != nil {
		t.Fatal(err)
	}
	if c.LoginKey() != "cognito-identity.cn-north-1.amazonaws.com.cn" {
		t.Errorf("loginKey %s", c.LoginKey())
	}
}

// A region without identity pools (or GovCloud, which s3vend does not
// support) is a configuration error naming the region, not a vendor that
// fails on its first Cognito call.
func TestRegionWithoutIdentityPools(t *testing.T) {
	for region, want := range map[string]string{
		"cn-northwest-1": `AWS_REGION: "cn-northwest-1" has no Cognito identity pools; use one of`,
		"us-gov-west-1":  `AWS_REGION: "us-gov-west-1": AWS GovCloud (US) is not supported`,
	} {
		env := baseEnv()
		env["AWS_REGION"] = region
		env["S3VEND_IDENTITY_POOL_ID"] = region + ":0d4f7c2e-1111-2222-3333-444455556666"
		if _, err := load(env); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", region, err, want)
		}
	}
}

func TestRejects(t *testing.T) {
	cases := map[string]struct{ key, val, want string }{
		"unknown verifier field": {"S3VEND_VERIFIERS", `{"oidc":[{"name":"g","issuer":"https://i","audiences":["a"],"jsonUrl":"https://x"}]}`, "unknown field"},
		"unknown top field":      {"S3VEND_VERIFIERS", `{"saml":{}}`, "unknown field"},
		"dup names":              {"S3VEND_VERIFIERS", `{"oidc":[{"name":"g","issuer":"https://i","audiences":["a"]}],"hs256":{"name":"g","issuer":"i","audience":"a"}}`, "must be unique"},
		"bad name":               {"S3VEND_VERIFIERS", `{"oidc":[{"name":"Google","issuer":"https://i","audiences":["a"]}]}`, "[a-z0-9-]"},
		"symmetric alg":          {"S3VEND_VERIFIERS", `{"oidc":[{"name":"g","issuer":"https://i","audiences":["a"],"algorithms":["HS256"]}]}`, "not an allowed"},
		"alg none":               {"S3VEND_VERIFIERS", `{"oidc":[{"name":"g","issuer":"https://i","audiences":["a"],"algorithms":["none"]}]}`, "not an allowed"},
		"http issuer":            {"S3VEND_VERIFIERS", `{"oidc":[{"name":"g","issuer":"http://i.example","audiences":["a"]}]}`, "https"},
		"no audiences":           {"S3VEND_VERIFIERS", `{"oidc":[{"name":"g","issuer":"https://i"}]}`, "audiences"},
		"bad idField":            {"S3VEND_VERIFIERS", `{"wechat":{"name":"w","appId":"wx","idField":"email"}}`, "idField"},
		"not json":               {"S3VEND_VERIFIERS", `oidc`, "invalid JSON"},
		"missing verifiers":      {"S3VEND_VERIFIERS", ``, "required"},
		"no secret":              {"S3VEND_VERIFIERS", `{"hs256":{"name":"b","issuer":"i","audience":"a"}}`, "S3VEND_SECRET_ARN"},
		"bad policy":             {"S3VEND_SESSION_POLICY", `{not json`, "IAM policy object"},
		"empty policy":           {"S3VEND_SESSION_POLICY", `{"Version":"2012-10-17","Statement":[]}`, "at least one Statement"},
		"policy over 2048 chars": {"S3VEND_SESSION_POLICY", longPolicy(2049), "is 2049 characters; STS accepts at most 2048"},
		"token duration":         {"S3VEND_TOKEN_DURATION_SECONDS", "86401", "from 1 (1s) to 86400"},
		"credential duration":    {"S3VEND_CREDENTIAL_DURATION_SECONDS", "600", "from 900 (15m0s) to 43200"},
		"guests":                 {"S3VEND_GUESTS_ENABLED", "yes", "true or false"},
		"guests need role":       {"S3VEND_GUESTS_ENABLED", "true", "S3VEND_UNAUTH_ROLE_ARN"},
		"basic flow":             {"S3VEND_BASIC_FLOW", "no", "S3VEND_BASIC_FLOW: must be true or false"},
		"basic flow case":        {"S3VEND_BASIC_FLOW", "TRUE", "S3VEND_BASIC_FLOW: must be true or false"},
		"timeout":                {"S3VEND_UPSTREAM_TIMEOUT", "30s", "from 100ms to 20.3s"},
		"pool region":            {"S3VEND_IDENTITY_POOL_ID", "us-east-1:0d4f7c2e-1111", "region"},
		"role":                   {"S3VEND_AUTH_ROLE_ARN", "arn:aws:iam::1:user/x", "role ARN"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			env := baseEnv()
			env[c.key] = c.val
			_, err := load(env)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want mention of %q", err, c.want)
			}
		})
	}
}

func TestSecretsFileRefusedInLambda(t *testing.T) {
	env := baseEnv()
	env["S3VEND_VERIFIERS"] = `{"hs256":{"name":"b","issuer":"i","audience":"a"}}`
	env["S3VEND_SECRETS_FILE"] = "/tmp/secrets.json"
	if _, err := load(env); err != nil {
		t.Fatalf("local: %v", err)
	}
	env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:9001"
	if _, err := load(env); err == nil || !strings.Contains(err.Error(), "refused in Lambda") {
		t.Fatalf("lambda: %v", err)
	}
}

func TestParseSecrets(t *testing.T) {
	v := config.Verifiers{HS256: &config.HS256{Name: "backend"}, WeChat: &config.WeChat{Name: "wechat"}}
	key := strings.Repeat("k", 32)
	type missing = []config.MissingSecret
	wechat := config.MissingSecret{Verifier: "wechat", Field: "wechatAppSecret"}
	backend := config.MissingSecret{Verifier: "backend", Field: "hs256Key"}
	// Empty or absent fields are an unfinished setup, not a start-up error:
	// only the verifier that needs the field is unavailable.
	for doc, want := range map[string]missing{
		`{"wechatAppSecret":"s","hs256Key":"` + key + `"}`: nil,
		`{"wechatAppSecret":"","hs256Key":"` + key + `"}`:  {wechat}, // as the CDK stack creates it
		`{"hs256Key":"` + key + `"}`:                       {wechat},
		`{"wechatAppSecret":"s"}`:                          {backend},
		`{"wechatAppSecret":"s","hs256Key":""}`:            {backend},
		`{}`:                                               {wechat, backend},
		`{"wechatAppSecret":"s","hs256Key":"` + key + `","hs256NextKey":"` + key + `"}`: nil, // a rotation
	} {
		s, err := config.ParseSecrets([]byte(doc), v)
		if err != nil {
			t.Errorf("%s: %v", doc, err)
			continue
		}
		if got := s.Missing(v); !slices.Equal(got, want) {
			t.Errorf("%s: missing %v, want %v", doc, got, want)
		}
	}
	// Fields of verifiers that are not configured are never missing.
	if s, err := config.ParseSecrets([]byte(`{}`), config.Verifiers{}); err != nil || len(s.Missing(config.Verifiers{})) != 0 {
		t.Errorf("no verifiers: %v %v", s.Missing(config.Verifiers{}), err)
	}
	// A key that is set but too short is a misconfiguration; a malformed
	// document is refused. Neither error echoes the secret.
	for _, doc := range []string{`{"hs256Key":"` + key + `","hs256NextKey":"short"}`, `{"hs256NextKey":"` + key + `"}`, `{"hs256Key":"` + key + `","hs256Key":"TOPSECRET` + key + `"}`, `{"HS256Key":"` + key + `"}`, `{"wechatAppSecret":"TOPSECRET","wechatAppSecret":"s"}`, `{"hs256Key":"short","wechatAppSecret":"s"}`, `{"hs256Key":"short"}`, `{"other":"TOPSECRET"}`, `TOPSECRET`, `{"wechatAppSecret":"TOPSECRET"} x`, `{"wechatAppSecret":1}`} {
		_, err := config.ParseSecrets([]byte(doc), v)
		if err == nil {
			t.Errorf("accepted %s", doc)
		} else if strings.Contains(err.Error(), "TOPSECRET") || strings.Contains(err.Error(), "short") {
			t.Errorf("error echoes the secret: %v", err)
		}
	}
}

func FuzzParseVerifiers(f *testing.F) {
	f.Add([]byte(`{"oidc":[{"name":"google","issuer":"https://accounts.google.com","audiences":["client-id"],"jwksUrl":"https://www.googleapis.com/oauth2/v3/certs","userClaim":"sub","algorithms":["RS256"]}],"wechat":{"name":"wechat","appId":"wx123","baseUrl":"https://api.weixin.qq.com","idField":"openid"},"hs256":{"name":"backend","issuer":"https://api.example.com","audience":"s3vend","maxTtlSeconds":300}}`))
	// Strict keys (issue 9, item 4): a second hs256 or a differently cased key is refused.
	f.Add([]byte(`{"hs256":{"name":"backend","issuer":"https://a.example","audience":"s3vend"},"hs256":{"name":"evil","issuer":"https://evil.example","audience":"s3vend"}}`))
	f.Add([]byte(`{"HS256":{"name":"backend","issuer":"https://a.example","audience":"s3vend"}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, err := config.ParseVerifiers(raw)
		if err != nil {
			return
		}
		// Top-level keys: exact names, each at most once.
		seen := map[string]bool{}
		dec := json.NewDecoder(bytes.NewReader(raw))
		_, _ = dec.Token()
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				break
			}
			if ks, _ := k.(string); seen[ks] || (ks != "oidc" && ks != "wechat" && ks != "hs256") {
				t.Fatalf("accepted top-level key %q (repeated: %v)", ks, seen[ks])
			} else {
				seen[ks] = true
			}
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				break
			}
		}
		for _, o := range v.OIDC {
			for _, a := range o.Algorithms {
				if !config.AllowedAlgorithms[a] {
					t.Fatalf("accepted algorithm %q", a)
				}
			}
			if o.UserClaim == "" || len(o.Audiences) == 0 {
				t.Fatalf("defaults not applied: %+v", o)
			}
		}
	})
}

func TestIdentityPoolID(t *testing.T) {
	// Cognito's IdentityPoolId: REGION:GUID, pattern [\w-]+:[0-9a-f-]+, 1-55 characters.
	for region, id := range map[string]string{
		"eu-west-1":      config.ExampleIdentityPoolID, // the example quoted in errors and docs/local.md
		"us-east-2":      "us-east-2:0d4f7c2e-1111-2222-3333-444455556666",
		"cn-north-1":     "cn-north-1:0d4f7c2e-1111-2222-3333-444455556666",
		"ap-southeast-5": "ap-southeast-5:" + strings.Repeat("a", 55-len("ap-southeast-5:")),
	} {
		env := baseEnv()
		env["AWS_REGION"] = region
		env["S3VEND_IDENTITY_POOL_ID"] = id
		if _, err := load(env); err != nil {
			t.Errorf("%s refused: %v", id, err)
		}
	}
	const want = "S3VEND_IDENTITY_POOL_ID: must be an identity pool id REGION:GUID (at most 55 characters) such as eu-west-1:01234567-89ab-cdef-0123-456789abcdef"
	for _, id := range []string{
		"", "eu-west-1:...", "eu-west-1", "eu-west-1:0D4F", "eu-west-1:0d4f/x", "eu west 1:0d4f", ":0d4f",
		"eu-west-1:" + strings.Repeat("a", 55-len("eu-west-1:")+1),
	} {
		env := baseEnv()
		env["S3VEND_IDENTITY_POOL_ID"] = id
		if _, err := load(env); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v", id, err)
		}
	}
	env := baseEnv()
	env["S3VEND_IDENTITY_POOL_ID"] = "us-east-1:0d4f7c2e-1111"
	if _, err := load(env); err == nil || !strings.Contains(err.Error(),
		"S3VEND_IDENTITY_POOL_ID: must be in region eu-west-1, such as eu-west-1:01234567-89ab-cdef-0123-456789abcdef (AWS_REGION is \"eu-west-1\")") {
		t.Errorf("other region: %v", err)
	}
	// A bad region is reported once, not again as a pool in the wrong region.
	env = baseEnv()
	env["AWS_REGION"] = "EU"
	if _, err := load(env); err == nil || strings.Contains(err.Error(), "S3VEND_IDENTITY_POOL_ID") {
		t.Errorf("bad region: %v", err)
	}
}

func TestSecretSourceErrorsNameBothSources(t *testing.T) {
	hs := `{"hs256":{"name":"b","issuer":"i","audience":"a"}}`
	for name, c := range map[string]struct {
		arn, file, lambda string
		want              string
	}{
		"none":         {"", "", "", "S3VEND_SECRET_ARN or S3VEND_SECRETS_FILE: one is required when the wechat or hs256 verifier is configured"},
		"none, Lambda": {"", "", "127.0.0.1:9001", "S3VEND_SECRET_ARN or S3VEND_SECRETS_FILE: one is required"},
		"both":         {"arn:aws:secretsmanager:eu-west-1:123456789012:secret:x", "s.json", "", "S3VEND_SECRETS_FILE: set either S3VEND_SECRET_ARN or S3VEND_SECRETS_FILE, not both"},
		"file, Lambda": {"", "s.json", "127.0.0.1:9001", "S3VEND_SECRETS_FILE: is for local mode only and refused in Lambda; use S3VEND_SECRET_ARN"},
	} {
		env := baseEnv()
		env["S3VEND_VERIFIERS"] = hs
		env["S3VEND_SECRET_ARN"], env["S3VEND_SECRETS_FILE"], env["AWS_LAMBDA_RUNTIME_API"] = c.arn, c.file, c.lambda
		_, err := load(env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
			continue
		}
		// Every one says which source to use where.
		if msg := err.Error(); !strings.Contains(msg, "S3VEND_SECRET_ARN") || !strings.Contains(msg, "S3VEND_SECRETS_FILE") ||
			!strings.Contains(msg, "Lambda") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if !strings.Contains(config.SecretSourceHelp, "S3VEND_SECRET_ARN to the Secrets Manager secret's ARN in Lambda") ||
		!strings.Contains(config.SecretSourceHelp, "S3VEND_SECRETS_FILE to a JSON file") || !strings.Contains(config.SecretSourceHelp, "locally") {
		t.Errorf("SecretSourceHelp = %q", config.SecretSourceHelp)
	}
}

// TestLoopbackHTTPOnlyInLocalMode: inside Lambda 127.0.0.1:9001 is the
// Runtime API, so plain http loopback URLs are refused there (issue 9, item 8).
func TestLoopbackHTTPOnlyInLocalMode(t *testing.T) {
	for doc, field := range map[string]string{
		`{"oidc":[{"name":"o","issuer":"http://127.0.0.1:9001","audiences":["c"]}]}`:                                    "oidc[0].issuer",
		`{"oidc":[{"name":"o","issuer":"https://i.example","jwksUrl":"http://localhost:9001/jwks","audiences":["c"]}]}`: "oidc[0].jwksUrl",
		`{"wechat":{"name":"w","appId":"wx1","baseUrl":"http://[::1]:9001"}}`:                                           "wechat.baseUrl",
	} {
		env := baseEnv()
		env["S3VEND_VERIFIERS"] = doc
		env["S3VEND_SECRET_ARN"] = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-AbCdEf"
		if _, err := load(env); err != nil {
			t.Errorf("local mode refused %s: %v", doc, err)
		}
		env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:9001"
		if _, err := load(env); err == nil || !strings.Contains(err.Error(), "S3VEND_VERIFIERS: "+field+": must use https") {
			t.Errorf("in Lambda %s: got %v, want an error naming %s", doc, err, field)
		}
	}
}

// longPolicy is a valid session policy of exactly n characters (n >= 120).
func longPolicy(n int) string {
	head := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::`
	tail := `"}]}`
	return head + strings.Repeat("b", n-len(head)-len(tail)) + tail
}

// TestSessionPolicyLimit: STS's 2,048-character limit (contract) holds at
// start-up: a policy at the limit loads, one character more is refused.
func TestSessionPolicyLimit(t *testing.T) {
	env := baseEnv()
	env["S3VEND_SESSION_POLICY"] = longPolicy(contract.MaxSessionPolicyChars)
	if _, err := load(env); err != nil {
		t.Errorf("policy of %d characters: %v", contract.MaxSessionPolicyChars, err)
	}
}

// TestUpstreamTimeoutOfEveryLambdaTimeout: whatever function timeout the
// stack may set, the upstream deadline it derives loads.
func TestUpstreamTimeoutOfEveryLambdaTimeout(t *testing.T) {
	for lt := contract.MinLambdaTimeout; lt <= contract.MaxLambdaTimeout; lt += time.Second {
		env := baseEnv()
		env["S3VEND_UPSTREAM_TIMEOUT"] = contract.UpstreamTimeout(lt).String()
		if c, err := load(env); err != nil || c.UpstreamTimeout != contract.UpstreamTimeout(lt) {
			t.Errorf("Lambda timeout %s: upstream %s: %v", lt, contract.UpstreamTimeout(lt), err)
		}
	}
}

// TestSecretFieldsAreTheContract: the JSON names of the secret document are
// the contract's, which the stack uses to create the secret.
func TestSecretFieldsAreTheContract(t *testing.T) {
	var tags []string
	st := reflect.TypeFor[config.Secrets]()
	for i := range st.NumField() {
		name, _, _ := strings.Cut(st.Field(i).Tag.Get("json"), ",")
		tags = append(tags, name)
	}
	want := []string{contract.SecretFieldWeChat, contract.SecretFieldHS256, contract.SecretFieldHS256Next}
	if !slices.Equal(tags, want) {
		t.Errorf("Secrets JSON fields = %v, want the contract's %v", tags, want)
	}
}

func TestMetricsStack(t *testing.T) {
	env := baseEnv()
	c, err := load(env)
	if err != nil || c.MetricsStack != "" {
		t.Fatalf("unset: %q %v", c.MetricsStack, err)
	}
	env[config.EnvMetricsStack] = "S3Vend-prod-cn"
	if c, err = load(env); err != nil || c.MetricsStack != "S3Vend-prod-cn" {
		t.Fatalf("set: %q %v", c.MetricsStack, err)
	}
	for _, bad := range []string{"1stack", "S3Vend dev", `x","Stack":"y`, strings.Repeat("a", 129)} {
		env[config.EnvMetricsStack] = bad
		if _, err := load(env); err == nil || !strings.Contains(err.Error(), config.EnvMetricsStack) {
			t.Errorf("%q accepted or error not naming the variable: %v", bad, err)
		}
	}
}

func TestSessionTags(t *testing.T) {
	env := baseEnv()
	if c, err := load(env); err != nil || c.SessionTags != nil {
		t.Fatalf("unset: %v %v", c.SessionTags, err)
	}
	env[contract.EnvSessionTags] = contract.TagUser
	if c, err := load(env); err != nil || !slices.Equal(c.SessionTags, []string{contract.TagUser}) {
		t.Errorf("user tag: %v %v", c.SessionTags, err)
	}
	// The tenant tag needs a verifier that names a tenant.
	env[contract.EnvSessionTags] = contract.TagUser + "," + contract.TagTenant
	if _, err := load(env); err == nil || !strings.Contains(err.Error(), contract.EnvSessionTags+": ") || !strings.Contains(err.Error(), "tenantClaim") {
		t.Errorf("tenant tag without a tenantClaim: %v", err)
	}
	env["S3VEND_VERIFIERS"] = `{"oidc":[{"name":"google","issuer":"https://accounts.google.com","audiences":["c"],"tenantClaim":"org_id"}]}`
	if c, err := load(env); err != nil || len(c.SessionTags) != 2 || c.Verifiers.OIDC[0].TenantClaim != "org_id" {
		t.Errorf("tenant tag: %v %v", c.SessionTags, err)
	}
	env[contract.EnvSessionTags] = "s3vend-other"
	if _, err := load(env); err == nil || !strings.HasPrefix(err.Error(), contract.EnvSessionTags+": ") {
		t.Errorf("unknown tag: %v", err)
	}
}

func TestUploadRules(t *testing.T) {
	env := baseEnv()
	c, err := load(env)
	if err != nil || len(c.UploadRules) != 2 || c.UploadRules[0].Name != "protected" {
		t.Fatalf("default: %+v %v", c.UploadRules, err)
	}
	env[contract.EnvAccessRules] = `[{"name":"avatars","path":"avatars/{userId}/*"}]`
	if _, err := load(env); err == nil || !strings.Contains(err.Error(), contract.EnvAccessRules+": rule \"avatars\" uses {userId}") {
		t.Errorf("{userId} without its tag: %v", err)
	}
	env[contract.EnvSessionTags] = contract.TagUser
	if c, err := load(env); err != nil || len(c.UploadRules) != 1 || c.UploadRules[0].Path != "avatars/{userId}/*" {
		t.Errorf("%+v %v", c.UploadRules, err)
	}
}
