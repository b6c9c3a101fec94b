package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// isolate clears every AWS setting the SDK reads, points the shared config
// files at an empty directory and turns IMDS off, so nothing leaves the
// machine and the developer's own ~/.aws cannot make a test pass.
func isolate(t *testing.T) string {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("HOME", dir)
	return dir
}

// fixture is a cdk.json with an environment-agnostic environment (dev) and
// one with its own region (prod-cn).
const fixture = `{"context": {"s3vend": {"environments": {
  "dev": {"cors": {"allowedOrigins": ["https://dev.example.com"]}, "developerProviderName": "login.dev",
          "verifiers": {"hs256": {"name": "backend", "issuer": "https://api.example.com", "audience": "s3vend"}}},
  "prod-cn": {"region": "cn-north-1", "cors": {"allowedOrigins": ["https://app.example.cn"]}, "developerProviderName": "login.cn",
          "verifiers": {"wechat": {"name": "wechat", "appId": "wx0123456789abcdef"}}}}}}}`

func preflight(t *testing.T, args ...string) (int, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cdk.json")
	if err := os.WriteFile(path, []byte(fixture), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	args = append([]string{"-cdk-json", path, "-timeout", "10s"}, args...)
	start := time.Now()
	code := run(context.Background(), args, &stderr)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("preflight took %s without credentials; it must not wait on the network", d)
	}
	return code, stderr.String()
}

func oneLineMessage(t *testing.T, out string) string {
	t.Helper()
	if strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "s3vend: ") {
		t.Fatalf("want one line \"s3vend: ...\", got %q", out)
	}
	return out
}

func TestNoCredentials(t *testing.T) {
	isolate(t)
	code, out := preflight(t, "-action", "deploy", "-stacks", "S3Vend-prod-cn")
	if code != exitNoCreds {
		t.Fatalf("exit %d, want %d; %s", code, exitNoCreds, out)
	}
	msg := oneLineMessage(t, out)
	for _, want := range []string{
		"no AWS credentials for make deploy of S3Vend-prod-cn (the account of your credentials, region cn-north-1)",
		"AWS_PROFILE=", "aws sso login --profile", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "IMDS") {
		t.Errorf("message shows the SDK's last-provider error instead of what to do: %s", msg)
	}
}

func TestUnknownProfile(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_PROFILE", "team-dev")
	code, out := preflight(t, "-action", "diff-live", "-stacks", "S3Vend-dev")
	msg := oneLineMessage(t, out)
	if code != exitNoCreds || !strings.Contains(msg, `profile "team-dev"`) || !strings.Contains(msg, "aws sso login --profile team-dev") {
		t.Fatalf("exit %d: %s", code, msg)
	}
}

func TestProfileFromSharedFiles(t *testing.T) {
	dir := isolate(t)
	os.WriteFile(filepath.Join(dir, "credentials"), []byte("[team]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "config"), []byte("[profile team]\nregion = eu-west-1\n"), 0o600)
	t.Setenv("AWS_PROFILE", "team")
	if code, out := preflight(t, "-stacks", "S3Vend-dev"); code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
}

func TestEnvironmentCredentials(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "token")

	// An environment-agnostic stack takes its region from the credentials.
	code, out := preflight(t, "-stacks", "S3Vend-dev")
	if code != exitNoCreds || !strings.Contains(oneLineMessage(t, out), "no AWS region for make deploy of S3Vend-dev") ||
		!strings.Contains(out, "AWS_REGION=") {
		t.Fatalf("exit %d: %s", code, out)
	}
	// A stack with its own region does not need one.
	if code, out := preflight(t, "-stacks", "S3Vend-prod-cn"); code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	t.Setenv("AWS_REGION", "eu-west-1")
	code, out = preflight(t, "-stacks", "S3Vend-dev")
	if code != exitOK || !strings.Contains(out, "EnvConfigCredentials") {
		t.Fatalf("exit %d: %s", code, out)
	}
}

func TestBadInput(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	code, out := preflight(t, "-stacks", "S3Vend-staging")
	if code != exitBadInput || !strings.Contains(oneLineMessage(t, out), `no stack "S3Vend-staging"`) ||
		!strings.Contains(out, "S3Vend-dev, S3Vend-prod-cn") {
		t.Fatalf("exit %d: %s", code, out)
	}
	// deploy and destroy name their stacks: no accidental prod deploy.
	code, out = preflight(t, "-action", "destroy", "-require-stacks", "-stacks", "")
	if code != exitBadInput || oneLineMessage(t, out) != "s3vend: make destroy needs STACK=<stack> (comma-separated for several), one of S3Vend-dev, S3Vend-prod-cn\n" {
		t.Fatalf("exit %d: %q", code, out)
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-cdk-json", filepath.Join(t.TempDir(), "cdk.json")}, &stderr); code != exitBadInput ||
		!strings.Contains(stderr.String(), "cannot read") {
		t.Fatalf("missing cdk.json: exit %d: %s", code, stderr.String())
	}
}
