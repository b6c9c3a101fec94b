package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/s3vend/s3vend/client/clienttest"
	"github.com/s3vend/s3vend/contract/wire"
)

const secret = "jwt-of-alice-SECRET-42"

var binary string

// TestMain builds the binary once; the tests run it as the AWS CLI would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "s3vend-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "s3vend")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type env struct {
	t        testing.TB
	vendor   *clienttest.Vendor
	cognito  *clienttest.Cognito
	home     string
	cacheDir string
	vars     []string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	v := clienttest.NewVendor(secret)
	c := clienttest.NewCognito()
	t.Cleanup(v.Close)
	t.Cleanup(c.Close)
	home := t.TempDir()
	e := &env{t: t, vendor: v, cognito: c, home: home, cacheDir: filepath.Join(home, "cache", "s3vend")}
	// A hermetic environment: no AWS_* or S3VEND_* of the developer.
	e.vars = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"AWS_CONFIG_FILE=" + filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "aws-credentials"),
	}
	return e
}

type result struct {
	code           int
	stdout, stderr string
}

func (e *env) run(extraEnv []string, args ...string) result {
	e.t.Helper()
	cmd := exec.Command(binary, args...)
	// The Cognito fake starts here, after the test configured it.
	cmd.Env = slices.Concat(e.vars, []string{"AWS_ENDPOINT_URL_COGNITO_IDENTITY=" + e.cognito.URL()}, extraEnv)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	r := result{code, out.String(), errb.String()}
	if strings.Contains(r.stderr, secret) || strings.Contains(r.stderr, "token.") {
		e.t.Fatalf("stderr contains the credential or a token: %q", r.stderr)
	}
	return r
}

func (e *env) process(extraEnv []string, args ...string) result {
	e.t.Helper()
	base := []string{"credential-process", "--endpoint", e.vendor.TokenEndpoint()}
	return e.run(extraEnv, append(base, args...)...)
}

type processJSON struct {
	Version         int
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	SessionToken    string
	Expiration      string
}

func decodeProcess(t *testing.T, r result) processJSON {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	var p processJSON
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("stdout %q: %v", r.stdout, err)
	}
	return p
}

func TestCredentialProcessEnhancedIsCached(t *testing.T) {
	e := newEnv(t)
	login := []string{"S3VEND_CREDENTIAL=" + secret}
	// WHEN called twice, as the AWS CLI does
	first := decodeProcess(t, e.process(login, "--provider", "backend"))
	second := decodeProcess(t, e.process(login, "--provider", "backend"))
	// THEN the JSON is credential_process version 1 with an RFC 3339 expiration
	exp, err := time.Parse(time.RFC3339, first.Expiration)
	if err != nil || first.Version != 1 || first.AccessKeyID != "ASIACOGNITO1" || first.SecretAccessKey != "cognito-secret" || first.SessionToken != "cognito-session" {
		t.Fatalf("output = %+v (%v)", first, err)
	}
	if d := time.Until(exp); d < 59*time.Minute || d > time.Hour {
		t.Fatalf("Expiration in %v, want Cognito's 1h (not shortened by a window)", d)
	}
	// AND the second call came from the cache, with the same credentials
	if second != first {
		t.Fatalf("second = %+v, want %+v", second, first)
	}
	if e.vendor.TotalCalls() != 1 || e.cognito.Calls() != 1 || e.cognito.Signed() != 0 {
		t.Fatalf("vendor calls %d, cognito calls %d (signed %d); want 1, 1, 0", e.vendor.TotalCalls(), e.cognito.Calls(), e.cognito.Signed())
	}
	// AND the cache is private
	st, err := os.Stat(e.cacheDir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("cache dir %v: %v", st.Mode(), err)
	}
	files, _ := filepath.Glob(filepath.Join(e.cacheDir, "*"))
	if len(files) != 1 {
		t.Fatalf("cache files %v, want 1", files)
	}
	st, _ = os.Stat(files[0])
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("cache file mode %v, want 0600", st.Mode())
	}
	data, _ := os.ReadFile(files[0])
	if strings.Contains(string(data), secret) || strings.Contains(filepath.Base(files[0]), secret) {
		t.Fatal("cache holds the login credential")
	}
	// AND a different credential (another user) does not hit the cache
	e.vendor.AddUser("jwt-of-bob", "bob")
	decodeProcess(t, e.process([]string{"S3VEND_CREDENTIAL=jwt-of-bob"}, "--provider", "backend"))
	if e.vendor.TotalCalls() != 2 {
		t.Fatalf("another credential was served from the cache (vendor calls %d)", e.vendor.TotalCalls())
	}
}

func TestCredentialProcessRefreshesInsideBotocoreWindow(t *testing.T) {
	// GIVEN credentials with 10 minutes left: inside botocore's 15-minute advisory window
	e := newEnv(t)
	e.cognito.Lifetime = 10 * time.Minute
	login := []string{"S3VEND_CREDENTIAL=" + secret}
	decodeProcess(t, e.process(login, "--provider", "backend"))
	decodeProcess(t, e.process(login, "--provider", "backend"))
	if e.cognito.Calls() != 2 {
		t.Fatalf("cognito calls %d: credentials with 10m left were reused", e.cognito.Calls())
	}
	decodeProcess(t, e.process(login, "--provider", "backend", "--min-remaining", "5m"))
	if e.cognito.Calls() != 2 {
		t.Fatalf("cognito calls %d: --min-remaining 5m did not reuse", e.cognito.Calls())
	}
}

func TestCredentialProcessIgnoresUnsafeCacheFile(t *testing.T) {
	e := newEnv(t)
	login := []string{"S3VEND_CREDENTIAL=" + secret}
	decodeProcess(t, e.process(login, "--provider", "backend"))
	files, _ := filepath.Glob(filepath.Join(e.cacheDir, "*"))
	if err := os.Chmod(files[0], 0o644); err != nil {
		t.Fatal(err)
	}
	decodeProcess(t, e.process(login, "--provider", "backend"))
	if e.vendor.TotalCalls() != 2 {
		t.Fatal("a group-readable cache file was trusted")
	}
	if st, _ := os.Stat(files[0]); st.Mode().Perm() != 0o600 {
		t.Fatalf("rewritten cache file mode %v", st.Mode())
	}
}

func TestCredentialProcessNoCache(t *testing.T) {
	e := newEnv(t)
	login := []string{"S3VEND_CREDENTIAL=" + secret}
	decodeProcess(t, e.process(login, "--provider", "backend", "--no-cache"))
	decodeProcess(t, e.process(login, "--provider", "backend", "--no-cache"))
	if e.vendor.TotalCalls() != 2 {
		t.Fatalf("vendor calls %d, want 2", e.vendor.TotalCalls())
	}
	if _, err := os.Stat(e.cacheDir); !os.IsNotExist(err) {
		t.Fatalf("cache dir created with --no-cache: %v", err)
	}
}

func TestCredentialProcessBasicAndGuest(t *testing.T) {
	e := newEnv(t)
	p := decodeProcess(t, e.process([]string{"S3VEND_CREDENTIAL=" + secret, "S3VEND_FLOW=basic"}, "--provider", "backend"))
	if p.SecretAccessKey != "basic-secret" || e.vendor.Calls("/v1/credentials") != 1 || e.cognito.Calls() != 0 {
		t.Fatalf("basic: %+v; calls %d %d", p, e.vendor.Calls("/v1/credentials"), e.cognito.Calls())
	}
	g := decodeProcess(t, e.process(nil, "--guest"))
	if g.SecretAccessKey != "cognito-secret" || e.vendor.Calls("/v1/guest") != 1 || e.cognito.Calls() != 1 {
		t.Fatalf("guest: %+v", g)
	}
}

func TestCredentialProcessFromOutputsFile(t *testing.T) {
	e := newEnv(t)
	outputs := filepath.Join(e.home, "outputs.json")
	doc := fmt.Sprintf(`{"S3Vend-dev":{"Region":"eu-west-1","TokenEndpoint":%q}}`, e.vendor.TokenEndpoint())
	if err := os.WriteFile(outputs, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	decodeProcess(t, e.run([]string{"S3VEND_CREDENTIAL=" + secret},
		"credential-process", "--outputs", outputs, "--stack", "S3Vend-dev", "--provider", "backend"))
	r := e.run(nil, "credential-process", "--outputs", outputs, "--stack", "S3Vend-prod", "--guest")
	if r.code != exitUsage || !strings.Contains(r.stderr, `no stack "S3Vend-prod"`) {
		t.Fatalf("missing stack: %+v", r)
	}
}

func TestCredentialCommand(t *testing.T) {
	e := newEnv(t)
	marker := filepath.Join(e.home, "ran")
	cmd := fmt.Sprintf("touch %s; printf '  %%s\\n' %s", marker, secret)
	decodeProcess(t, e.process(nil, "--provider", "backend", "--credential-command", cmd))
	if _, err := os.Stat(marker); err != nil {
		t.Fatal("command did not run")
	}
	os.Remove(marker)
	// A cache hit runs the command (its output is the key) but not the vendor.
	decodeProcess(t, e.process(nil, "--provider", "backend", "--credential-command", cmd))
	if _, err := os.Stat(marker); err != nil || e.vendor.TotalCalls() != 1 {
		t.Fatalf("cache hit did not run the command, or called the vendor (%d)", e.vendor.TotalCalls())
	}
	// --cache-key is refused without a command.
	if r := e.process([]string{"S3VEND_CREDENTIAL=" + secret}, "--provider", "backend", "--cache-key", "x"); r.code != exitUsage ||
		!strings.Contains(r.stderr, "--cache-key applies to --credential-command only") {
		t.Fatalf("--cache-key with a static credential: %+v", r)
	}
	// A failing command: exit 1, one line.
	r := e.process(nil, "--provider", "backend", "--credential-command", "exit 7", "--no-cache")
	if r.code != exitOther || r.stderr != "s3vend: credential command failed: exit status 7 (credential_command)\n" {
		t.Fatalf("failing command: %+v", r)
	}
	r = e.process(nil, "--provider", "backend", "--credential-command", "sleep 5", "--credential-timeout", "100ms", "--no-cache")
	if r.code != exitOther || !strings.Contains(r.stderr, "timed out after 100ms") {
		t.Fatalf("slow command: %+v", r)
	}
}

func TestExitCodesAndOneLineErrors(t *testing.T) {
	e := newEnv(t)
	e.vendor.Fail = func(route string, n int) *clienttest.Reply {
		if route == "/v1/guest" {
			return &clienttest.Reply{Status: 503, Code: "upstream_throttled", Message: "upstream throttled", RetryAfter: "0"}
		}
		return nil
	}
	dead := "http://127.0.0.1:1/v1/token"
	login := []string{"S3VEND_CREDENTIAL=" + secret}
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"no command", nil, nil, exitUsage, "missing command"},
		{"unknown command", nil, []string{"fetch"}, exitUsage, `unknown command "fetch"`},
		{"unknown flag", login, []string{"credential-process", "--bogus"}, exitUsage, "flag provided but not defined: -bogus (usage)"},
		{"no endpoint", login, []string{"credential-process", "--provider", "backend"}, exitUsage, "no token endpoint"},
		{"no provider", login, []string{"credential-process", "--endpoint", e.vendor.TokenEndpoint()}, exitUsage, "--provider"},
		{"no credential", nil, []string{"credential-process", "--endpoint", e.vendor.TokenEndpoint(), "--provider", "backend"}, exitUsage, "no login credential"},
		{"bad flow", login, []string{"credential-process", "--endpoint", e.vendor.TokenEndpoint(), "--provider", "backend", "--flow", "classic"}, exitUsage, "--flow"},
		{"bad endpoint", login, []string{"credential-process", "--endpoint", "ftp://x", "--provider", "backend", "--no-cache"}, exitUsage, "http(s) URL"},
		{"rejected", []string{"S3VEND_CREDENTIAL=wrong-" + secret}, []string{"credential-process", "--endpoint", e.vendor.TokenEndpoint(), "--provider", "backend"}, exitRejected, "rejected by the token vendor: " + wire.ErrInvalidCredential.Message + ", request id req-"},
		{"unknown provider", login, []string{"token", "--endpoint", e.vendor.TokenEndpoint(), "--provider", "github"}, exitRejected, "(unknown_provider)"},
		{"unavailable", nil, []string{"credential-process", "--endpoint", e.vendor.TokenEndpoint(), "--guest", "--no-cache"}, exitUnavailable, "token vendor unavailable: upstream throttled"},
		{"unreachable", login, []string{"credential-process", "--endpoint", dead, "--provider", "backend", "--no-cache", "--timeout", "2s"}, exitUnavailable, "(unreachable)"},
		{"admin without subcommand", nil, []string{"admin"}, exitUsage, "admin: missing subcommand"},
		{"admin unknown subcommand", nil, []string{"admin", "ban"}, exitUsage, `admin: unknown subcommand "ban"`},
		{"admin without stack", nil, []string{"admin", "revoke", "--user", "backend:alice"}, exitUsage, "--stack is required"},
		{"admin user and identity", nil, []string{"admin", "revoke", "--stack", "S3Vend-dev", "--user", "backend:a", "--identity", "eu-west-1:0a"}, exitUsage, "exactly one of --user"},
		{"admin user without provider", nil, []string{"admin", "unrevoke", "--stack", "S3Vend-dev", "--user", "alice"}, exitUsage, "must be <provider>:<user id>"},
		{"admin identity not an id", nil, []string{"admin", "revoke", "--stack", "S3Vend-dev", "--identity", "eu-west-1:../../x"}, exitUsage, "is not a Cognito identity id"},
		{"admin identity too long", nil, []string{"admin", "usage", "--stack", "S3Vend-dev", "--identity", "eu-west-1:" + strings.Repeat("a", 46)}, exitUsage, "is not a Cognito identity id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run(tc.env, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
				t.Fatalf("exit %d stderr %q stdout %q; want exit %d and %q", r.code, r.stderr, r.stdout, tc.code, tc.want)
			}
			if !strings.HasPrefix(r.stderr, "s3vend: ") || strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, ")\n") {
				t.Fatalf("stderr is not one line \"s3vend: <what> (<code>)\": %q", r.stderr)
			}
		})
	}
}

func TestCognitoFailureIsUnavailable(t *testing.T) {
	e := newEnv(t)
	e.cognito.Fail = func(int) *clienttest.Reply {
		return &clienttest.Reply{Status: 400, Code: "ResourceNotFoundException", Message: "pool " + secret}
	}
	r := e.process([]string{"S3VEND_CREDENTIAL=" + secret}, "--provider", "backend")
	if r.code != exitUnavailable || r.stderr != "s3vend: cognito GetCredentialsForIdentity failed (ResourceNotFoundException)\n" {
		t.Fatalf("%+v", r)
	}
}

func TestTokenCommand(t *testing.T) {
	e := newEnv(t)
	r := e.run([]string{"S3VEND_ENDPOINT=" + e.vendor.TokenEndpoint(), "S3VEND_PROVIDER=backend"}, "token", "--credential", secret)
	var tok struct{ IdentityID, Token, Region, LoginKey, IdentityPoolID string }
	if err := json.Unmarshal([]byte(r.stdout), &tok); r.code != 0 || err != nil {
		t.Fatalf("%+v %v", r, err)
	}
	id := e.vendor.IdentityID("backend:alice")
	if tok.IdentityID != id || tok.Token != clienttest.TokenFor(id) || tok.Region != "eu-west-1" || tok.LoginKey == "" || tok.IdentityPoolID == "" {
		t.Fatalf("token output %+v", tok)
	}
	r = e.run(nil, "token", "--endpoint", e.vendor.TokenEndpoint(), "--guest")
	if r.code != 0 || !strings.Contains(r.stdout, `"token": "token.`) {
		t.Fatalf("guest token: %+v", r)
	}
}

func TestDevLogin(t *testing.T) {
	e := newEnv(t)
	key := strings.Repeat("k", 32)
	secrets := filepath.Join(e.home, "secrets.json")
	if err := os.WriteFile(secrets, []byte(`{"hs256Key":"`+key+`","wechatAppSecret":""}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, src := range [][]string{{"--secrets-file", secrets}, {"--key-env", "MY_KEY"}} {
		args := append([]string{"dev-login", "--issuer", "https://api.example.com", "--audience", "s3vend", "--subject", "alice", "--ttl", "2m"}, src...)
		r := e.run([]string{"MY_KEY=" + key}, args...)
		if r.code != 0 {
			t.Fatalf("%v: %+v", src, r)
		}
		claims := jwt.RegisteredClaims{}
		_, err := jwt.ParseWithClaims(strings.TrimSpace(r.stdout), &claims, func(*jwt.Token) (any, error) { return []byte(key), nil },
			jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer("https://api.example.com"), jwt.WithAudience("s3vend"), jwt.WithSubject("alice"))
		if err != nil || claims.ExpiresAt.Sub(claims.IssuedAt.Time) != 2*time.Minute {
			t.Fatalf("%v: %v %+v", src, err, claims)
		}
	}
	r := e.run(nil, "dev-login", "--issuer", "i", "--audience", "a", "--subject", "s")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--secrets-file or --key-env") {
		t.Fatalf("%+v", r)
	}
	r = e.run([]string{"MY_KEY=short"}, "dev-login", "--key-env", "MY_KEY", "--issuer", "i", "--audience", "a", "--subject", "s")
	if r.code != exitUsage || !strings.Contains(r.stderr, "at least 32 bytes") {
		t.Fatalf("%+v", r)
	}
	// The tenant of access rules, in the claim the verifier's tenantClaim names.
	r = e.run([]string{"MY_KEY=" + key}, "dev-login", "--key-env", "MY_KEY", "--issuer", "i", "--audience", "a", "--subject", "s", "--tenant-claim", "org", "--tenant", "acme")
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(strings.TrimSpace(r.stdout), claims, func(*jwt.Token) (any, error) { return []byte(key), nil }); err != nil || claims["org"] != "acme" {
		t.Fatalf("tenant claim: %v %v %+v", err, claims, r)
	}
	r = e.run([]string{"MY_KEY=" + key}, "dev-login", "--key-env", "MY_KEY", "--issuer", "i", "--audience", "a", "--subject", "s", "--tenant", "acme")
	if r.code != exitUsage || !strings.Contains(r.stderr, "tenant and tenant claim go together") {
		t.Fatalf("tenant without its claim: %+v", r)
	}
}

func TestHelpAndVersion(t *testing.T) {
	e := newEnv(t)
	if r := e.run(nil, "help"); r.code != 0 || !strings.Contains(r.stdout, "Exit codes") {
		t.Fatalf("%+v", r)
	}
	if r := e.run(nil, "credential-process", "-h"); r.code != 0 || !strings.Contains(r.stdout, "VISIBLE TO OTHER USERS") {
		t.Fatalf("%+v", r)
	}
	if r := e.run(nil, "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "s3vend ") {
		t.Fatalf("%+v", r)
	}
}

func BenchmarkCredentialProcessCached(b *testing.B) {
	e := newEnv(b)
	args := []string{"credential-process", "--endpoint", e.vendor.TokenEndpoint(), "--provider", "backend"}
	run := func() {
		cmd := exec.Command(binary, args...)
		cmd.Env = slices.Concat(e.vars, []string{"AWS_ENDPOINT_URL_COGNITO_IDENTITY=" + e.cognito.URL(), "S3VEND_CREDENTIAL=" + secret})
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
	run()
	for b.Loop() {
		run()
	}
	if e.vendor.TotalCalls() != 1 {
		b.Fatalf("vendor calls %d, want 1", e.vendor.TotalCalls())
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/exec")
}

// BenchmarkCredentialProcessCachedInProcess is the same cache hit without
// the process: flags, cache key, directory and file checks, read, decode and
// output. Against BenchmarkCredentialProcessCached it separates the work of
// credential-process from the cost of starting the binary (package
// initialization, mostly the AWS SDK's; docs/benchmarks.md).
func BenchmarkCredentialProcessCachedInProcess(b *testing.B) {
	e := newEnv(b)
	b.Setenv(envCredential, secret)
	b.Setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY", e.cognito.URL())
	args := []string{"credential-process", "--endpoint", e.vendor.TokenEndpoint(), "--provider", "backend", "--cache-dir", e.cacheDir}
	run := func() {
		var out, errb bytes.Buffer
		if code := run(b.Context(), args, &out, &errb); code != 0 || !strings.Contains(out.String(), `"AccessKeyId"`) {
			b.Fatalf("exit %d: %s", code, errb.String())
		}
	}
	run()
	for b.Loop() {
		run()
	}
	if e.vendor.TotalCalls() != 1 {
		b.Fatalf("vendor calls %d, want 1", e.vendor.TotalCalls())
	}
}

// basicKeyOf is the fake vendor's basic-flow access key id for user.
func basicKeyOf(v *clienttest.Vendor, user string) string {
	id := v.IdentityID("backend:" + user)
	return "ASIABASIC" + id[len(id)-4:]
}

// Issue 16, item 1: a --credential-command whose output depends on the
// environment (the pattern make smoke uses) must never hand one user's
// cached credentials to another user on the same host and cache directory.
func TestCredentialProcessCacheTwoUsersOneCommand(t *testing.T) {
	e := newEnv(t)
	e.vendor.AddUser("cred-of-alice", "alice")
	e.vendor.AddUser("cred-of-bob", "bob")
	cmd := `printf '%s\n' "cred-of-$APP_USER"`
	as := func(user string, args ...string) processJSON {
		t.Helper()
		env := []string{"APP_USER=" + user, "S3VEND_FLOW=basic"}
		return decodeProcess(t, e.process(env, append([]string{"--provider", "backend", "--credential-command", cmd}, args...)...))
	}
	// WHEN alice, then bob, run the same profile
	alice := as("alice")
	bob := as("bob")
	// THEN each gets their own identity's credentials
	if alice.AccessKeyID != basicKeyOf(e.vendor, "alice") || bob.AccessKeyID != basicKeyOf(e.vendor, "bob") {
		t.Fatalf("SECURITY: alice got %s (want %s), bob got %s (want %s)", alice.AccessKeyID, basicKeyOf(e.vendor, "alice"),
			bob.AccessKeyID, basicKeyOf(e.vendor, "bob"))
	}
	// AND a second call of each is served from the cache (the command runs,
	// the vendor is not called): the key is the login the command printed.
	calls := e.vendor.TotalCalls()
	if again := as("alice"); again != alice || e.vendor.TotalCalls() != calls {
		t.Fatalf("alice again: %+v (vendor calls %d -> %d)", again, calls, e.vendor.TotalCalls())
	}
	if again := as("bob"); again != bob || e.vendor.TotalCalls() != calls {
		t.Fatalf("bob again: %+v (vendor calls %d -> %d)", again, calls, e.vendor.TotalCalls())
	}

	// --cache-key names what determines the login: the command does not run
	// on a hit, and another key is another entry.
	marker := filepath.Join(e.home, "ran")
	keyed := "touch " + marker + "; " + cmd
	run := func(user string) (processJSON, bool) {
		t.Helper()
		os.Remove(marker)
		env := []string{"APP_USER=" + user, "S3VEND_FLOW=basic"}
		p := decodeProcess(t, e.process(env, "--provider", "backend", "--credential-command", keyed, "--cache-key", "user="+user))
		_, err := os.Stat(marker)
		return p, err == nil
	}
	a1, ran1 := run("alice")
	a2, ran2 := run("alice")
	b1, _ := run("bob")
	if !ran1 || ran2 || a1 != a2 || a1.AccessKeyID != basicKeyOf(e.vendor, "alice") {
		t.Fatalf("--cache-key: first ran %v, second ran %v, %+v vs %+v", ran1, ran2, a1, a2)
	}
	if b1.AccessKeyID != basicKeyOf(e.vendor, "bob") {
		t.Fatalf("SECURITY: --cache-key user=bob got %s", b1.AccessKeyID)
	}
}

// Issue 16, item 3: the cache directory is trusted only when it is a real
// directory of the current user that nobody else can use; s3vend refuses
// one it did not create rather than chmod-ing it.
func TestCredentialProcessRefusesUnsafeCacheDir(t *testing.T) {
	login := []string{"S3VEND_CREDENTIAL=" + secret}
	refused := func(t *testing.T, e *env, dir, want string) {
		t.Helper()
		r := e.process(login, "--provider", "backend", "--cache-dir", dir)
		if r.code != exitOther || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "--no-cache") {
			t.Fatalf("cache dir %s: %+v, want exit %d naming %q and the fix", dir, r, exitOther, want)
		}
		if e.vendor.TotalCalls() != 0 {
			t.Fatalf("vendor called with an unsafe cache dir")
		}
	}
	t.Run("group and other bits", func(t *testing.T) {
		e := newEnv(t)
		dir := filepath.Join(e.home, "shared")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, 0o755) // whatever the umask
		refused(t, e, dir, "accessible to group or others")
		if st, _ := os.Stat(dir); st.Mode().Perm() != 0o755 {
			t.Fatalf("s3vend changed the mode of a directory it did not create: %v", st.Mode())
		}
	})
	t.Run("symlink", func(t *testing.T) {
		e := newEnv(t)
		target := filepath.Join(e.home, "target")
		if err := os.Mkdir(target, 0o700); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(e.home, "link")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		refused(t, e, link, "symbolic link")
	})
	t.Run("not a directory", func(t *testing.T) {
		e := newEnv(t)
		file := filepath.Join(e.home, "file")
		os.WriteFile(file, nil, 0o600)
		refused(t, e, file, "not a directory")
	})
	t.Run("another owner", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root to give a directory to another user")
		}
		e := newEnv(t)
		dir := filepath.Join(e.home, "theirs")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		refused(t, e, dir, "not owned by the current user")
	})
	t.Run("created here", func(t *testing.T) {
		e := newEnv(t)
		dir := filepath.Join(e.home, "new", "cache")
		decodeProcess(t, e.process(login, "--provider", "backend", "--cache-dir", dir))
		if st, err := os.Lstat(dir); err != nil || st.Mode().Perm() != 0o700 {
			t.Fatalf("created cache dir: %v %v", st, err)
		}
	})
}

// Issue 16, item 3: cache entries are capped in size, must be the user's own
// private regular files, and may not claim an expiry later than the longest
// credential lifetime after the file was written.
func TestCredentialProcessIgnoresImplausibleCacheEntries(t *testing.T) {
	login := []string{"S3VEND_CREDENTIAL=" + secret}
	for _, c := range []struct {
		name   string
		tamper func(t *testing.T, file string, entry map[string]any)
	}{
		{"expiry beyond the longest lifetime", func(t *testing.T, file string, entry map[string]any) {
			entry["Expiration"] = time.Now().Add(13 * time.Hour).UTC().Format(time.RFC3339)
			writeEntry(t, file, entry, 0)
		}},
		{"oversized", func(t *testing.T, file string, entry map[string]any) {
			writeEntry(t, file, entry, 64<<10+1)
		}},
		{"symlink", func(t *testing.T, file string, entry map[string]any) {
			other := file + ".real"
			writeEntry(t, other, entry, 0)
			os.Remove(file)
			if err := os.Symlink(other, file); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			decodeProcess(t, e.process(login, "--provider", "backend"))
			files, _ := filepath.Glob(filepath.Join(e.cacheDir, "*.json"))
			if len(files) != 1 {
				t.Fatalf("cache files %v", files)
			}
			var entry map[string]any
			data, _ := os.ReadFile(files[0])
			if err := json.Unmarshal(data, &entry); err != nil {
				t.Fatal(err)
			}
			entry["AccessKeyId"] = "ASIAPLANTED"
			c.tamper(t, files[0], entry)
			p := decodeProcess(t, e.process(login, "--provider", "backend"))
			if p.AccessKeyID == "ASIAPLANTED" || e.vendor.TotalCalls() != 2 {
				t.Fatalf("a tampered entry was served: %+v (vendor calls %d)", p, e.vendor.TotalCalls())
			}
		})
	}
	// The control: the same planted entry, plausible, is served.
	e := newEnv(t)
	decodeProcess(t, e.process(login, "--provider", "backend"))
	files, _ := filepath.Glob(filepath.Join(e.cacheDir, "*.json"))
	var entry map[string]any
	data, _ := os.ReadFile(files[0])
	json.Unmarshal(data, &entry)
	entry["AccessKeyId"] = "ASIAPLANTED"
	writeEntry(t, files[0], entry, 0)
	if p := decodeProcess(t, e.process(login, "--provider", "backend")); p.AccessKeyID != "ASIAPLANTED" {
		t.Fatalf("control: a plausible entry was not served: %+v", p)
	}
}

// writeEntry writes a 0600 cache entry, padded with spaces to at least pad bytes.
func writeEntry(t *testing.T, file string, entry map[string]any, pad int) {
	t.Helper()
	b, err := json.Marshal(entry)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < pad {
		b = append(b, bytes.Repeat([]byte(" "), pad-len(b))...)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
