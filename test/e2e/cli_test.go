package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s3vend/s3vend/client"
)

// profile writes an AWS config whose profile "s3vend" gets its credentials
// from the built s3vend binary (credential_process), the way a team would
// set it up, and returns the environment that selects it. The login comes
// from a file through --credential-command, so it never appears in argv.
func profile(t *testing.T, user string, extra string) (env []string, identityID string) {
	t.Helper()
	dir := t.TempDir()
	jwt, err := devStack.MintLogin(user, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	loginFile := filepath.Join(dir, "login.jwt")
	if err := os.WriteFile(loginFile, []byte(jwt), 0o600); err != nil {
		t.Fatal(err)
	}
	outputs := filepath.Join(dir, "outputs.json")
	b, _ := json.Marshal(map[string]map[string]string{"S3Vend-dev": devStack.Outputs()})
	if err := os.WriteFile(outputs, b, 0o600); err != nil {
		t.Fatal(err)
	}
	process := fmt.Sprintf("%s credential-process --outputs %s --stack S3Vend-dev --provider %s --credential-command 'cat %s' --cache-dir %s %s",
		binaries["s3vend"], outputs, devStack.HS256.Name, loginFile, filepath.Join(dir, "cache"), extra)
	config := filepath.Join(dir, "config")
	cfg := fmt.Sprintf("[profile s3vend]\nregion = %s\ncredential_process = %s\ns3 =\n    addressing_style = path\n", devStack.Region, process)
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append(devStack.ClientEnv(),
		"AWS_CONFIG_FILE="+config,
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "no-credentials"),
		"AWS_PROFILE=s3vend",
		"S3VEND_TEST_S3_URL="+devStack.S3URL,
	)
	// The identity id, to build the key: s3vend token prints the vendor's answer.
	out := run(t, env, false, binaries["s3vend"], "token", "--outputs", outputs, "--stack", "S3Vend-dev",
		"--provider", devStack.HS256.Name, "--credential-command", "cat "+loginFile)
	if strings.Contains(out, jwt) {
		t.Fatal("s3vend token printed the login credential")
	}
	var tok struct{ IdentityID string }
	if err := json.Unmarshal([]byte(out), &tok); err != nil || tok.IdentityID == "" {
		t.Fatalf("s3vend token: %v\n%s", err, out)
	}
	return env, tok.IdentityID
}

// TestAWSCLIProfile: the Debian AWS CLI (v2.9, which predates
// AWS_ENDPOINT_URL_<SERVICE>, hence --endpoint-url) copies a file into the
// user's private prefix through a credential_process profile, and is refused
// elsewhere.
func TestAWSCLIProfile(t *testing.T) {
	ready(t)
	aws := needTool(t, "aws")
	env, id := profile(t, "frank", "")
	src := filepath.Join(t.TempDir(), "report.txt")
	if err := os.WriteFile(src, []byte("from the AWS CLI\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := client.PrivateKey(id, "report.txt")
	run(t, env, false, aws, "s3", "cp", src, "s3://"+devStack.BucketName+"/"+key, "--endpoint-url", devStack.S3URL)
	if body, _, ok := devStack.S3.Object(key); !ok || string(body) != "from the AWS CLI\n" {
		t.Fatalf("object %s: %q, %v", key, body, ok)
	}
	out := run(t, env, false, aws, "s3", "ls", "s3://"+devStack.BucketName+"/"+client.PrivateKey(id, ""), "--endpoint-url", devStack.S3URL)
	if !strings.Contains(out, "report.txt") {
		t.Fatalf("aws s3 ls does not list the upload:\n%s", out)
	}
	other := client.PrivateKey(devStack.Region+":bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", "report.txt")
	out = run(t, env, true, aws, "s3", "cp", src, "s3://"+devStack.BucketName+"/"+other, "--endpoint-url", devStack.S3URL)
	if !strings.Contains(out, "AccessDenied") {
		t.Fatalf("upload to another identity's prefix: want AccessDenied, got:\n%s", out)
	}
}

// TestBoto3Profile: boto3 from Debian with the same kind of profile.
func TestBoto3Profile(t *testing.T) {
	ready(t)
	py := needTool(t, "python3-boto3") // a python3 that imports boto3
	env, id := profile(t, "grace", "--flow basic")
	script := filepath.Join(moduleDir, "test", "e2e", "testdata", "boto3_roundtrip.py")
	key := client.PrivateKey(id, "boto3.txt")
	out := run(t, env, false, py, script, "s3vend", devStack.BucketName, key, "ok")
	if !strings.Contains(out, "ok "+key) {
		t.Fatalf("boto3: %s", out)
	}
	if _, _, ok := devStack.S3.Object(key); !ok {
		t.Fatalf("boto3 upload %s not stored", key)
	}
	run(t, env, false, py, script, "s3vend", devStack.BucketName, "public/boto3.txt", "AccessDenied")
}

// TestCredentialProcessExitCodes: a rejected login exits 3 with one line on
// stderr that does not contain the credential.
func TestCredentialProcessExitCodes(t *testing.T) {
	ready(t)
	forged := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.forged-signature"
	cmd := []string{"credential-process", "--endpoint", devStack.TokenEndpoint(), "--provider", devStack.HS256.Name, "--no-cache"}
	out, code := runCode(t, append(devStack.ClientEnv(), "S3VEND_CREDENTIAL="+forged), binaries["s3vend"], cmd...)
	if code != 3 || strings.Contains(out, forged) || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Fatalf("forged login: exit %d, output %q; want exit 3 and one line without the credential", code, out)
	}
}
