package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3vend/s3vend/internal/standin"
)

// The post-deploy smoke check (s3vend smoke, make smoke), run as a team runs
// it after a deploy: the built CLI against a running stack, reached through
// the standard endpoint settings, reading a cdk --outputs-file document.

// smokeEnv writes s's outputs file and returns the CLI's environment and
// the file.
func smokeEnv(t *testing.T, s *standin.Stack, stack string) ([]string, string) {
	t.Helper()
	outputs := filepath.Join(t.TempDir(), "outputs.json")
	b, _ := json.Marshal(map[string]map[string]string{stack: s.Outputs()})
	if err := os.WriteFile(outputs, b, 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(s.ClientEnv(), "S3VEND_S3_PATH_STYLE=true",
		"AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull)
	return env, outputs
}

// rows parses the pass/fail table into check -> status.
func rows(out string) map[string]string {
	m := map[string]string{}
	re := regexp.MustCompile(`^(.+?)\s{2,}(pass|FAIL|skip)\s`)
	for _, line := range strings.Split(out, "\n") {
		if sm := re.FindStringSubmatch(line + " "); sm != nil {
			m[sm[1]] = sm[2]
		}
	}
	return m
}

// smokeChecks are the rows every healthy stack with guests passes.
var smokeChecks = []string{
	"token + credentials (enhanced flow, user a)",
	"token + credentials (enhanced flow, user b)",
	"put/get/delete private/<id>/ (a)",
	"put/get/delete protected/<id>/ (a)",
	"user b reads a's protected/ object",
	"user b refused reading a's private/",
	"user b refused writing a's private/",
	"user a refused writing public/",
	"user a refused listing private/",
	"user a refused listing the bucket root",
	"user a lists own private/<id>/",
	"anonymous reads public/",
	"anonymous refused reading private/",
	"guest credentials",
	"guest reads public/",
	"guest refused writing private/<id>/",
	"clean-up",
}

func wantRows(t *testing.T, out string, checks []string, status string) {
	t.Helper()
	got := rows(out)
	for _, c := range checks {
		if got[c] != status {
			t.Errorf("row %q: %q, want %q\n%s", c, got[c], status, out)
		}
	}
}

// noSmokeLeftovers fails when the smoke check left an object behind.
func noSmokeLeftovers(t *testing.T, s *standin.Stack) {
	t.Helper()
	for _, k := range s.S3.Keys() {
		if strings.Contains(k, "s3vend-smoke-") {
			t.Errorf("left behind: %s", k)
		}
	}
}

func TestSmokeDev(t *testing.T) {
	ready(t)
	// GIVEN the dev stack (hs256 + oidc, guests, basic flow) and its outputs file
	env, outputs := smokeEnv(t, devStack, "S3Vend-dev")
	// WHEN the smoke check signs in with hs256 logins signed with the secret's key
	out := run(t, env, false, binaries["s3vend"], "smoke", "--stack", "S3Vend-dev", "--outputs", outputs, "--secrets-file", devStack.SecretsFile)
	// THEN every row passes, nothing is left behind, and no key or token is printed
	wantRows(t, out, append(smokeChecks, "credentials (basic flow, user a)", "put/get/delete private/<id>/ (a-basic)"), "pass")
	if strings.Contains(out, "FAIL") || strings.Contains(out, "eyJ") || strings.Contains(out, string(devStack.HS256.Key)) {
		t.Errorf("failed row or a secret in the output:\n%s", out)
	}
	noSmokeLeftovers(t, devStack)
}

func TestSmokeChinaWeChat(t *testing.T) {
	ready(t)
	// GIVEN the China stack, whose only verifier is WeChat: the credential
	// command stands for the mini-program's wx.login, one fresh code per login
	env, outputs := smokeEnv(t, cnStack, "S3Vend-prod-cn")
	// (the pinned Node 24, present on every platform, rather than the host's python3)
	code := "'" + node24 + `' -e 'fetch(process.env.WECHAT_CODES_URL+"?openid=smoke-"+process.env.S3VEND_SMOKE_USER).then(r=>r.json()).then(j=>console.log(j.code))'`
	// WHEN run without a login source, it says what to pass
	msg, exit := runCode(t, env, binaries["s3vend"], "smoke", "--stack", "S3Vend-prod-cn", "--outputs", outputs)
	if exit != 2 || !strings.Contains(msg, "no hs256 verifier") || !strings.Contains(msg, "--credential-command") || strings.Count(strings.TrimSpace(msg), "\n") != 0 {
		t.Errorf("without a login: exit %d, want 2 and one line naming --credential-command:\n%s", exit, msg)
	}
	// WHEN run with the WeChat codes
	out := run(t, env, false, binaries["s3vend"], "smoke", "--stack", "S3Vend-prod-cn", "--outputs", outputs,
		"--provider", cnStack.WeChatProvider, "--credential-command", code)
	// THEN every row passes in cn-north-1 (aws-cn ARNs, region-pinned login key)
	wantRows(t, out, smokeChecks, "pass")
	noSmokeLeftovers(t, cnStack)
}

// TestSmokeFailsOnBrokenStack starts the dev stack from mutated templates
// and proves the smoke check names the failing rows and exits 1.
func TestSmokeFailsOnBrokenStack(t *testing.T) {
	ready(t)
	tpl, err := readTemplate(filepath.Join(moduleDir, "test", "testdata", "snapshots", "S3Vend-dev.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		mutate   func(t *testing.T, res map[string]any)
		failRows []string
	}{{
		name: "trust policy of another pool",
		mutate: func(t *testing.T, res map[string]any) {
			st := dig(t, res, "IdentityAuthenticatedRole83AF9BCF", "Properties", "AssumeRolePolicyDocument", "Statement").([]any)[0]
			eq := dig(t, st.(map[string]any), "Condition", "StringEquals").(map[string]any)
			eq["cognito-identity.amazonaws.com:aud"] = "eu-west-1:00000000-0000-4000-8000-000000000000"
		},
		// On AWS, Cognito's GetCredentialsForIdentity fails (it assumes the
		// role with the pool's token). dev's sessions carry session tags (the
		// userQuota tag s3vend-quota), so the stand-ins evaluate the trust
		// policy when they issue the session, as AWS does, and the
		// credential rows fail. Either way the smoke check exits 1.
		failRows: []string{"token + credentials (enhanced flow, user a)", "credentials (basic flow, user a)"},
	}, {
		name: "S3 policy widened to private/*",
		mutate: func(t *testing.T, res map[string]any) {
			b, _ := json.Marshal(res["StorageUserAccess168AE699"])
			s := strings.ReplaceAll(string(b), "/private/${cognito-identity.amazonaws.com:sub}/*", "/private/*")
			if s == string(b) {
				t.Fatal("the user policy has no private/${sub}/* resource to widen")
			}
			var v any
			_ = json.Unmarshal([]byte(s), &v)
			res["StorageUserAccess168AE699"] = v
		},
		failRows: []string{"user b refused reading a's private/", "user b refused writing a's private/"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var m map[string]any
			b, _ := json.Marshal(tpl)
			_ = json.Unmarshal(b, &m)
			c.mutate(t, m["Resources"].(map[string]any))
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			s, err := standin.StartStack(ctx, standin.StackOptions{Template: m, Node: node24, VendorBinary: binaries["tokenvendor"], WorkDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			env, outputs := smokeEnv(t, s, "S3Vend-dev")
			out, exit := runCode(t, env, binaries["s3vend"], "smoke", "--stack", "S3Vend-dev", "--outputs", outputs, "--secrets-file", s.SecretsFile)
			if exit != 1 || !strings.Contains(out, "checks failed (see the table) (smoke_failed)") {
				t.Errorf("exit %d, want 1 with the failure count:\n%s", exit, out)
			}
			wantRows(t, out, c.failRows, "FAIL")
			if got := rows(out)["clean-up"]; got != "pass" {
				t.Errorf("clean-up: %q, want pass (also after failures)\n%s", got, out)
			}
			noSmokeLeftovers(t, s)
		})
	}
}

func dig(t *testing.T, m map[string]any, path ...string) any {
	t.Helper()
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok || mm[p] == nil {
			t.Fatalf("template has no %s", strings.Join(path, "."))
		}
		v = mm[p]
	}
	return v
}

// TestSmokeBadInput: a missing input is one line naming it and how to get
// it, exit 2, no stack trace.
func TestSmokeBadInput(t *testing.T) {
	ready(t)
	env, outputs := smokeEnv(t, devStack, "S3Vend-dev")
	noOutputs := filepath.Join(t.TempDir(), "outputs.json")
	_ = os.WriteFile(noOutputs, []byte(`{"S3Vend-dev": {"TokenEndpoint": "`+devStack.TokenEndpoint()+`", "Region": "`+devStack.Region+`"}}`), 0o600)
	noCreds := []string{"AWS_REGION=eu-west-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull}
	noRegion := []string{"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull}
	cases := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"no stack", env, []string{"--outputs", outputs}, []string{"--stack is required", "make smoke STACK="}},
		{"stack not in the outputs file", env, []string{"--stack", "S3Vend-prod", "--outputs", outputs}, []string{`no stack "S3Vend-prod"`, "S3Vend-dev"}},
		{"no outputs file", env, []string{"--stack", "S3Vend-dev", "--outputs", outputs + ".missing"}, []string{"does not exist", "make deploy"}},
		{"stack without the expected outputs", env, []string{"--stack", "S3Vend-dev", "--outputs", noOutputs, "--secrets-file", devStack.SecretsFile}, []string{"has no BucketName output"}},
		{"no hs256 key", env, []string{"--stack", "S3Vend-dev", "--outputs", outputs}, []string{"VerifierSecretArn", "--secrets-file"}},
		{"no AWS credentials for DescribeStacks", noCreds, []string{"--stack", "S3Vend-dev"}, []string{"no AWS credentials", "AWS_PROFILE", "--outputs"}},
		{"no AWS region for DescribeStacks", noRegion, []string{"--stack", "S3Vend-dev"}, []string{"no AWS region", "AWS_REGION"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, exit := runCode(t, c.env, binaries["s3vend"], append([]string{"smoke"}, c.args...)...)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if exit != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], "s3vend: ") || strings.Contains(out, "goroutine") {
				t.Fatalf("exit %d, want 2 and one line:\n%s", exit, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("%q lacks %q", out, w)
				}
			}
		})
	}
}

// TestSmokeLiveForms: without an outputs file or a key, the smoke check
// reads the stack's outputs with CloudFormation DescribeStacks and the hs256
// key from the VerifierSecretArn secret, with the operator's AWS
// credentials (the stand-ins check their SigV4 signature).
func TestSmokeLiveForms(t *testing.T) {
	ready(t)
	op, err := devStack.StartOperator("S3Vend-dev")
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	env := append(append(devStack.ClientEnv(), op.Env()...), "S3VEND_S3_PATH_STYLE=true",
		"AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull)
	out := run(t, env, false, binaries["s3vend"], "smoke", "--stack", "S3Vend-dev")
	wantRows(t, out, smokeChecks, "pass")
	noSmokeLeftovers(t, devStack)

	// A stack CloudFormation does not have, and credentials it refuses.
	msg, exit := runCode(t, env, binaries["s3vend"], "smoke", "--stack", "S3Vend-gone")
	if exit != 2 || !strings.Contains(msg, "stack S3Vend-gone not found in us-east-1") || strings.Count(strings.TrimSpace(msg), "\n") != 0 {
		t.Errorf("missing stack: exit %d, want 2 and one line:\n%s", exit, msg)
	}
	wrongKey := append(slices.Clone(env), "AWS_SECRET_ACCESS_KEY=not-the-operators")
	msg, exit = runCode(t, wrongKey, binaries["s3vend"], "smoke", "--stack", "S3Vend-dev")
	if exit == 0 || !strings.Contains(msg, "SignatureDoesNotMatch") || strings.Count(strings.TrimSpace(msg), "\n") != 0 {
		t.Errorf("wrong secret key: exit %d, want a failure naming SignatureDoesNotMatch:\n%s", exit, msg)
	}
}
