package standin_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	cognitotypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/s3vend/s3vend/internal/platform/platformtest"
	"github.com/s3vend/s3vend/internal/standin"
)

var (
	vendorOnce   sync.Once
	vendorBinary string
	vendorErr    error
)

// buildVendor builds the real token vendor once per test binary.
func buildVendor(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: needs the real token vendor binary (make test runs it)")
	}
	vendorOnce.Do(func() {
		dir, err := os.MkdirTemp("", "s3vend-vendor-")
		if err != nil {
			vendorErr = err
			return
		}
		root, err := standin.ModuleRoot(".")
		if err != nil {
			vendorErr = err
			return
		}
		vendorBinary, vendorErr = standin.BuildVendor(context.Background(), root, dir)
	})
	if vendorErr != nil {
		t.Fatal(vendorErr)
	}
	return vendorBinary
}

func nodeBinary(t *testing.T) string { return platformtest.NeedNode24(t, "../..") }

func loadTemplate(t *testing.T, env string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "test", "testdata", "snapshots", "S3Vend-"+env+".template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tmpl map[string]any
	if err := json.Unmarshal(b, &tmpl); err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// startStack runs the stack of a snapshot template for one test.
func startStack(t *testing.T, env string) *standin.Stack {
	t.Helper()
	return startTemplate(t, loadTemplate(t, env))
}

// startTemplate runs the stack of a template for one test.
func startTemplate(t *testing.T, tmpl map[string]any) *standin.Stack {
	t.Helper()
	var log bytes.Buffer
	st, err := standin.StartStack(context.Background(), standin.StackOptions{
		Template: tmpl, Node: nodeBinary(t), VendorBinary: buildVendor(t),
		WorkDir: t.TempDir(), VendorLog: &syncWriter{w: &log},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("vendor log:\n%s", log.String())
		}
	})
	return st
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// awsConfig is an SDK configuration that trusts the stack's CA.
func awsConfig(t *testing.T, st *standin.Stack, creds aws.CredentialsProvider) aws.Config {
	t.Helper()
	ca, err := os.ReadFile(st.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(st.Region), config.WithCustomCABundle(bytes.NewReader(ca)),
		config.WithCredentialsProvider(creds), config.WithRetryMaxAttempts(1),
		config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func cognitoClient(t *testing.T, st *standin.Stack, creds aws.CredentialsProvider) *cognitoidentity.Client {
	return cognitoidentity.NewFromConfig(awsConfig(t, st, creds), func(o *cognitoidentity.Options) { o.BaseEndpoint = aws.String(st.CognitoURL) })
}

func stsClient(t *testing.T, st *standin.Stack) *sts.Client {
	return sts.NewFromConfig(awsConfig(t, st, aws.AnonymousCredentials{}), func(o *sts.Options) { o.BaseEndpoint = aws.String(st.STSURL) })
}

// vend POSTs a login to the vendor through the API Gateway stand-in.
func vend(t *testing.T, st *standin.Stack, path string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	if body == nil {
		b = nil
	}
	resp, err := http.Post(st.VendorURL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return resp.StatusCode, out
}

type vended struct{ identityID, token, loginKey string }

func vendToken(t *testing.T, st *standin.Stack, provider, credential string) vended {
	t.Helper()
	status, out := vend(t, st, "/v1/token", map[string]string{"provider": provider, "credential": credential})
	if status != http.StatusOK {
		t.Fatalf("POST /v1/token: %d %v", status, out)
	}
	v := vended{}
	v.identityID, _ = out["identityId"].(string)
	v.token, _ = out["token"].(string)
	v.loginKey, _ = out["loginKey"].(string)
	return v
}

func mint(t *testing.T, st *standin.Stack, subject string) string {
	t.Helper()
	jwt, err := st.MintLogin(subject, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return jwt
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestStackDev(t *testing.T) {
	st := startStack(t, "dev")
	ctx := context.Background()
	anon := cognitoClient(t, st, aws.AnonymousCredentials{})
	authRole := st.Model.RoleARN("authenticated")

	if st.Region != "us-east-1" || st.Partition != "aws" || st.LoginKey != "cognito-identity.amazonaws.com" || st.HS256 == nil || st.HS256.Name != "backend" {
		t.Fatalf("stack facts: %+v", st)
	}

	t.Run("enhanced flow through the real vendor and SDK", func(t *testing.T) {
		v := vendToken(t, st, "backend", mint(t, st, "alice"))
		if v.loginKey != st.LoginKey {
			t.Fatalf("vendor loginKey %q, stand-in %q", v.loginKey, st.LoginKey)
		}
		out, err := anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{
			IdentityId: &v.identityID, Logins: map[string]string{v.loginKey: v.token},
		})
		if err != nil {
			t.Fatal(err)
		}
		sess, ok := st.Sessions.Lookup(*out.Credentials.AccessKeyId)
		if !ok || sess.RoleARN != authRole || sess.IdentityID != v.identityID || !slices.Equal(sess.Amr, []string{"authenticated", "login.s3vend.dev"}) {
			t.Fatalf("session %+v", sess)
		}
		if d := time.Until(*out.Credentials.Expiration); d < 59*time.Minute || d > time.Hour {
			t.Fatalf("credentials expire in %v, want 1h", d)
		}
		if id, _ := st.Cognito.IdentityOf("backend:alice"); id != v.identityID {
			t.Fatalf("developer user backend:alice -> %q, want %q", id, v.identityID)
		}
	})

	t.Run("same user same identity, other user other identity", func(t *testing.T) {
		a1 := vendToken(t, st, "backend", mint(t, st, "bob"))
		a2 := vendToken(t, st, "backend", mint(t, st, "bob"))
		c := vendToken(t, st, "backend", mint(t, st, "carol"))
		if a1.identityID != a2.identityID || a1.identityID == c.identityID || !strings.HasPrefix(c.identityID, "us-east-1:") {
			t.Fatalf("bob %q, %q; carol %q", a1.identityID, a2.identityID, c.identityID)
		}
	})

	t.Run("a token for identity A is refused for identity B", func(t *testing.T) {
		a := vendToken(t, st, "backend", mint(t, st, "dave"))
		b := vendToken(t, st, "backend", mint(t, st, "erin"))
		_, err := anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{
			IdentityId: &b.identityID, Logins: map[string]string{a.loginKey: a.token},
		})
		var na *cognitotypes.NotAuthorizedException
		if !errors.As(err, &na) {
			t.Fatalf("got %v, want NotAuthorizedException", err)
		}
		_, err = anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{
			IdentityId: &a.identityID, Logins: map[string]string{"cognito-identity.cn-north-1.amazonaws.com.cn": a.token},
		})
		if !errors.As(err, &na) {
			t.Fatalf("wrong login key: got %v, want NotAuthorizedException", err)
		}
		_, err = anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: &a.identityID})
		if !errors.As(err, &na) {
			t.Fatalf("authenticated identity without logins: got %v, want NotAuthorizedException", err)
		}
	})

	t.Run("GetOpenIdTokenForDeveloperIdentity needs the developer's signature", func(t *testing.T) {
		in := &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
			IdentityPoolId: &st.IdentityPoolID, Logins: map[string]string{"login.s3vend.dev": "backend:mallory"},
		}
		// Unsigned.
		body, _ := json.Marshal(map[string]any{"IdentityPoolId": st.IdentityPoolID, "Logins": in.Logins})
		req, _ := http.NewRequest(http.MethodPost, st.CognitoURL+"/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService.GetOpenIdTokenForDeveloperIdentity")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := caClient(t, st).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode < 400 || e["__type"] == "" {
			t.Fatalf("unsigned: %d %v", resp.StatusCode, e)
		}
		// A known key id with a wrong secret.
		dev := devKey(t, st)
		_, err = cognitoClient(t, st, credentials.NewStaticCredentialsProvider(dev, "wrong-secret", "")).GetOpenIdTokenForDeveloperIdentity(ctx, in)
		if err == nil || apiCode(err) == "" {
			t.Fatalf("wrong secret: %v", err)
		}
		// Role credentials from the pool.
		v := vendToken(t, st, "backend", mint(t, st, "frank"))
		out, err := anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: &v.identityID, Logins: map[string]string{v.loginKey: v.token}})
		if err != nil {
			t.Fatal(err)
		}
		c := out.Credentials
		_, err = cognitoClient(t, st, credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretKey, *c.SessionToken)).GetOpenIdTokenForDeveloperIdentity(ctx, in)
		if apiCode(err) != "AccessDeniedException" {
			t.Fatalf("role credentials: %v", err)
		}
		if _, ok := st.Cognito.IdentityOf("backend:mallory"); ok {
			t.Fatal("a refused call created an identity")
		}
	})

	t.Run("basic flow", func(t *testing.T) {
		vendOwnSession(t, st, "/v1/credentials", "alice")
	})

	t.Run("guest flow", func(t *testing.T) {
		status, out := vend(t, st, "/v1/guest", nil)
		if status != http.StatusOK {
			t.Fatalf("%d %v", status, out)
		}
		akid, _ := out["accessKeyId"].(string)
		sess, _ := st.Sessions.Lookup(akid)
		if sess.RoleARN != st.Model.RoleARN("unauthenticated") || !slices.Equal(sess.Amr, []string{"unauthenticated"}) {
			t.Fatalf("guest session %+v", sess)
		}
		// Enhanced guest flow straight through the SDK.
		id, err := anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &st.IdentityPoolID})
		if err != nil {
			t.Fatal(err)
		}
		c, err := anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: id.IdentityId})
		if err != nil {
			t.Fatal(err)
		}
		if sess, _ := st.Sessions.Lookup(*c.Credentials.AccessKeyId); sess.RoleARN != st.Model.RoleARN("unauthenticated") {
			t.Fatalf("guest session %+v", sess)
		}
	})

	t.Run("STS refuses the wrong role, session policies and long sessions", func(t *testing.T) {
		v := vendToken(t, st, "backend", mint(t, st, "alice"))
		s := stsClient(t, st)
		in := func() *sts.AssumeRoleWithWebIdentityInput {
			return &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(authRole), RoleSessionName: aws.String("s3vend"), WebIdentityToken: &v.token}
		}
		if _, err := s.AssumeRoleWithWebIdentity(ctx, in()); err != nil {
			t.Fatal(err)
		}
		wrong := in()
		wrong.RoleArn = aws.String(st.Model.RoleARN("unauthenticated"))
		if _, err := s.AssumeRoleWithWebIdentity(ctx, wrong); apiCode(err) != "AccessDenied" || !strings.Contains(err.Error(), "Not authorized to perform sts:AssumeRoleWithWebIdentity") {
			t.Fatalf("wrong role: %v", err)
		}
		pol := in()
		pol.Policy = aws.String(`{"Version":"2012-10-17","Statement":[]}`)
		var mp *ststypes.MalformedPolicyDocumentException
		if _, err := s.AssumeRoleWithWebIdentity(ctx, pol); !errors.As(err, &mp) {
			t.Fatalf("policy: %v", err)
		}
		long := in()
		long.DurationSeconds = aws.Int32(7200)
		if _, err := s.AssumeRoleWithWebIdentity(ctx, long); apiCode(err) != "ValidationError" {
			t.Fatalf("7200 s over MaxSessionDuration 3600: %v", err)
		}
		bad := in()
		bad.WebIdentityToken = aws.String("not-a-token")
		var it *ststypes.InvalidIdentityTokenException
		if _, err := s.AssumeRoleWithWebIdentity(ctx, bad); !errors.As(err, &it) {
			t.Fatalf("bad token: %v", err)
		}
	})

	t.Run("FailNext and Calls", func(t *testing.T) {
		before := st.Cognito.Calls(standin.OpGetOpenIDTokenForDeveloperIdentity)
		st.Cognito.FailNext(standin.OpGetOpenIDTokenForDeveloperIdentity, "TooManyRequestsException", 10)
		defer st.Cognito.FailNext(standin.OpGetOpenIDTokenForDeveloperIdentity, "", 0)
		// A user not vended before: the vendor's reuse cache has nothing for it.
		status, out := vend(t, st, "/v1/token", map[string]string{"provider": "backend", "credential": mint(t, st, "throttled-user")})
		errObj, _ := out["error"].(map[string]any)
		if status != http.StatusServiceUnavailable || errObj["code"] != "upstream_throttled" {
			t.Fatalf("%d %v", status, out)
		}
		if n := st.Cognito.Calls(standin.OpGetOpenIDTokenForDeveloperIdentity) - before; n != 1 {
			t.Fatalf("vendor made %d attempts, want 1 (a throttle is answered at once, not retried)", n)
		}
	})

	t.Run("Cognito CORS as the real endpoint", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, st.CognitoURL+"/", nil)
		req.Header.Set("Origin", "http://localhost:3000")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,x-amz-target,x-amz-user-agent,amz-sdk-invocation-id,amz-sdk-request")
		resp, err := caClient(t, st).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "x-amz-target") || h.Get("Access-Control-Allow-Methods") != "POST" {
			t.Fatalf("%d %v", resp.StatusCode, h)
		}
	})

	t.Run("public object, outputs and client env", func(t *testing.T) {
		resp, err := caClient(t, st).Get(st.S3URL + "/" + st.BucketName + "/public/hello.txt")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "hello from s3vend" {
			t.Fatalf("anonymous GET public/hello.txt: %d %q", resp.StatusCode, b)
		}
		// The API Gateway stand-in answers preflights with the template's CORS.
		pre, _ := http.NewRequest(http.MethodOptions, st.VendorURL+"/v1/token", nil)
		pre.Header.Set("Origin", "http://localhost:3000")
		pre.Header.Set("Access-Control-Request-Method", "POST")
		pre.Header.Set("Access-Control-Request-Headers", "content-type")
		presp, err := http.DefaultClient.Do(pre)
		if err != nil {
			t.Fatal(err)
		}
		presp.Body.Close()
		if got := presp.Header.Get("Access-Control-Allow-Origin"); got != "http://localhost:3000" {
			t.Fatalf("API preflight: %d, Access-Control-Allow-Origin %q", presp.StatusCode, got)
		}
		o := st.Outputs()
		if o["TokenEndpoint"] != st.VendorURL+"/v1/token" || o["IdentityPoolId"] != st.IdentityPoolID || o["AuthenticatedRoleArn"] != authRole || o["DeveloperProviderName"] != "login.s3vend.dev" || o["BucketName"] != "s3vend-test-bucket" {
			t.Fatalf("outputs %v", o)
		}
		for _, kv := range st.ClientEnv() {
			if strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID") || strings.HasPrefix(kv, "AWS_SECRET") {
				t.Fatalf("ClientEnv leaks %s", kv)
			}
		}
	})
}

func TestStackProdCN(t *testing.T) {
	st := startStack(t, "prod-cn")
	ctx := context.Background()
	if st.Region != "cn-north-1" || st.Partition != "aws-cn" || st.LoginKey != "cognito-identity.cn-north-1.amazonaws.com.cn" || st.WeChatProvider != "wechat" {
		t.Fatalf("stack facts: region %s partition %s loginKey %s wechat %q", st.Region, st.Partition, st.LoginKey, st.WeChatProvider)
	}
	code, err := st.WeChatCode("o-user-1")
	if err != nil {
		t.Fatal(err)
	}
	v := vendToken(t, st, "wechat", code)
	if v.loginKey != st.LoginKey {
		t.Fatalf("vendor loginKey %q", v.loginKey)
	}
	// prod-cn reads the unionid (idField), which the stand-in derives.
	if id, _ := st.Cognito.IdentityOf("wechat:union_o-user-1"); id != v.identityID || !strings.HasPrefix(id, "cn-north-1:") {
		t.Fatalf("identity %q, vendor %q", id, v.identityID)
	}
	out, err := cognitoClient(t, st, aws.AnonymousCredentials{}).GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{
		IdentityId: &v.identityID, Logins: map[string]string{v.loginKey: v.token},
	})
	if err != nil {
		t.Fatal(err)
	}
	if sess, _ := st.Sessions.Lookup(*out.Credentials.AccessKeyId); !strings.HasPrefix(sess.RoleARN, "arn:aws-cn:iam::") {
		t.Fatalf("session %+v", sess)
	}
	// A used code is refused (WeChat 40163 -> 401).
	status, body := vend(t, st, "/v1/token", map[string]string{"provider": "wechat", "credential": code})
	if status != http.StatusUnauthorized {
		t.Fatalf("reused code: %d %v", status, body)
	}
}

func caClient(t *testing.T, st *standin.Stack) *http.Client {
	t.Helper()
	ca, err := os.ReadFile(st.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("CA file holds no certificate")
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
}

// devKey is the vendor's developer access key id.
func devKey(t *testing.T, st *standin.Stack) string {
	t.Helper()
	if st.DeveloperAccessKeyID == "" {
		t.Fatal("no developer key")
	}
	return st.DeveloperAccessKeyID
}

// TestStackRelativeWorkDir: `make local` passes -dir .build/local. The CA and
// secrets paths end up in the vendor's environment, and the vendor runs in
// another directory, so a relative WorkDir must still start a working stack.
func TestStackRelativeWorkDir(t *testing.T) {
	tmpl, node, vendor := loadTemplate(t, "dev"), nodeBinary(t), buildVendor(t)
	t.Chdir(t.TempDir())
	st, err := standin.StartStack(context.Background(), standin.StackOptions{
		Template: tmpl, Node: node, VendorBinary: vendor, WorkDir: filepath.Join("build", "local"), VendorLog: io.Discard,
	})
	if err != nil {
		t.Fatalf("relative WorkDir: %v", err)
	}
	defer st.Close()
	if !filepath.IsAbs(st.CAFile) || !filepath.IsAbs(st.SecretsFile) {
		t.Errorf("CAFile %q and SecretsFile %q must be absolute", st.CAFile, st.SecretsFile)
	}
}

// TestStackShortLifetimes: StackOptions.TokenDuration reaches the vendor
// (its tokens and expiresAt) and CredentialLifetime the Cognito stand-in's
// credentials, so a client test can outlive both in seconds; an expired
// token is refused as Cognito refuses it.
func TestStackShortLifetimes(t *testing.T) {
	st, err := standin.StartStack(context.Background(), standin.StackOptions{
		Template: loadTemplate(t, "dev"), Node: nodeBinary(t), VendorBinary: buildVendor(t), WorkDir: t.TempDir(),
		VendorLog: io.Discard, TokenDuration: 2 * time.Second, CredentialLifetime: 15 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	status, out := vend(t, st, "/v1/token", map[string]string{"provider": "backend", "credential": mint(t, st, "shorty")})
	if status != http.StatusOK {
		t.Fatalf("POST /v1/token: %d %v", status, out)
	}
	exp, err := time.Parse(time.RFC3339, fmt.Sprint(out["expiresAt"]))
	if d := exp.Sub(start); err != nil || d < time.Second || d > 3*time.Second {
		t.Fatalf("expiresAt %v is %v after the call, want 2s", out["expiresAt"], d)
	}
	id, tok := fmt.Sprint(out["identityId"]), fmt.Sprint(out["token"])
	info, ok := st.Cognito.Token(tok)
	if !ok || info.Expiration.Sub(start) > 3*time.Second {
		t.Fatalf("token info %+v: want a 2-second token", info)
	}
	anon := cognitoClient(t, st, aws.AnonymousCredentials{})
	in := &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: &id, Logins: map[string]string{st.LoginKey: tok}}
	creds, err := anon.GetCredentialsForIdentity(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(*creds.Credentials.Expiration); d < 13*time.Second || d > 15*time.Second {
		t.Fatalf("credentials expire in %v, want 15s", d)
	}
	time.Sleep(time.Until(info.Expiration) + 50*time.Millisecond)
	_, err = anon.GetCredentialsForIdentity(context.Background(), in)
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NotAuthorizedException" || !strings.HasPrefix(ae.ErrorMessage(), "Invalid login token. Token expired: ") {
		t.Fatalf("expired token: %v, want NotAuthorizedException Token expired", err)
	}
}

// TestStackSessionEnhancedFlow: POST /v1/session on a pool without the
// basic flow (the dev template with AllowClassicFlow false, and the vendor
// told so) answers the identity's own credentials from
// GetCredentialsForIdentity, exchanged on the vendor's side, while
// /v1/credentials answers 404 and STS is never asked.
func TestStackSessionEnhancedFlow(t *testing.T) {
	tmpl := loadTemplate(t, "dev")
	for _, r := range tmpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		props, _ := res["Properties"].(map[string]any)
		switch res["Type"] {
		case "AWS::Cognito::IdentityPool":
			props["AllowClassicFlow"] = false
		case "AWS::Lambda::Function":
			env, _ := props["Environment"].(map[string]any)
			if vars, ok := env["Variables"].(map[string]any); ok && vars["S3VEND_VERIFIERS"] != nil {
				vars["S3VEND_BASIC_FLOW"] = "false"
				delete(vars, "S3VEND_SESSION_POLICY") // basic flow only
			}
		}
	}
	st := startTemplate(t, tmpl)
	if sess := vendOwnSession(t, st, "/v1/session", "carol"); !slices.Contains(sess.Amr, "authenticated") {
		t.Fatalf("amr %v", sess.Amr)
	}
	if n := st.Cognito.Calls("GetCredentialsForIdentity"); n != 1 {
		t.Errorf("GetCredentialsForIdentity calls = %d, want 1", n)
	}
	if status, out := vend(t, st, "/v1/credentials", map[string]string{"provider": "backend", "credential": mint(t, st, "carol")}); status != http.StatusNotFound {
		t.Errorf("/v1/credentials without the basic flow: %d %v", status, out)
	}
}

// vendOwnSession posts user's hs256 login to route (/v1/credentials or
// /v1/session) and checks the answer: the credentials act as the
// authenticated role for user's own identity.
func vendOwnSession(t *testing.T, st *standin.Stack, route, user string) standin.Session {
	t.Helper()
	status, out := vend(t, st, route, map[string]string{"provider": "backend", "credential": mint(t, st, user)})
	if status != http.StatusOK {
		t.Fatalf("%s: %d %v", route, status, out)
	}
	akid, _ := out["accessKeyId"].(string)
	sess, ok := st.Sessions.Lookup(akid)
	id, _ := st.Cognito.IdentityOf("backend:" + user)
	if !ok || sess.RoleARN != st.Model.RoleARN("authenticated") || sess.IdentityID != id || out["identityId"] != id {
		t.Fatalf("%s: session %+v, response %v", route, sess, out)
	}
	return sess
}
