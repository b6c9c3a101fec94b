package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/smithy-go"

	"github.com/s3vend/s3vend/client"
	"github.com/s3vend/s3vend/client/clienttest"
	"github.com/s3vend/s3vend/contract"
)

const secretLogin = "jwt-of-alice-SECRET"

func login(ctx context.Context) (string, string, error) { return "backend", secretLogin, nil }

// fakes starts a vendor and a Cognito fake, closed at the end of the test.
func fakes(t *testing.T) (*clienttest.Vendor, *clienttest.Cognito) {
	t.Helper()
	v := clienttest.NewVendor(secretLogin)
	c := clienttest.NewCognito()
	t.Cleanup(v.Close)
	t.Cleanup(c.Close)
	return v, c
}

// realCognito is the SDK's Cognito Identity client pointed at the fake.
func realCognito(c *clienttest.Cognito) *cognitoidentity.Client {
	return cognitoidentity.New(cognitoidentity.Options{Region: "eu-west-1", BaseEndpoint: aws.String(c.URL())})
}

func newCreds(t *testing.T, v *clienttest.Vendor, c *clienttest.Cognito, fn func(*client.Options)) *client.Credentials {
	t.Helper()
	creds, err := client.New(v.TokenEndpoint(), login, func(o *client.Options) {
		o.Cognito = realCognito(c)
		if fn != nil {
			fn(o)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

// isolateSDKConfig keeps the developer's ~/.aws and AWS_* variables out of a test.
func isolateSDKConfig(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
}

func TestEnhancedFlowThroughDefaultConfig(t *testing.T) {
	// GIVEN the Cognito endpoint set only through the standard SDK variable,
	// and static AWS keys in the environment that must not be used
	isolateSDKConfig(t)
	v, c := fakes(t)
	t.Setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY", c.URL())
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIASHOULDNOTSIGN")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "x")
	creds, err := client.New(v.TokenEndpoint(), login)
	if err != nil {
		t.Fatal(err)
	}
	// WHEN
	start := time.Now()
	got, err := creds.Cache().Retrieve(context.Background())
	// THEN one /v1/token call, one unsigned GetCredentialsForIdentity
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessKeyID != "ASIACOGNITO1" || got.SecretAccessKey != "cognito-secret" || got.SessionToken != "cognito-session" || !got.CanExpire {
		t.Fatalf("credentials = %+v", got)
	}
	// Expires is Cognito's expiration (1 h) minus the 5 min window, minus up to 20 % jitter of it.
	lo, hi := start.Add(time.Hour-client.DefaultExpiryWindow-time.Second), start.Add(time.Hour-4*time.Minute+2*time.Second)
	if got.Expires.Before(lo) || got.Expires.After(hi) {
		t.Fatalf("Expires = %v, want in [%v, %v]", got.Expires, lo, hi)
	}
	if v.Calls("/v1/token") != 1 || c.Calls() != 1 || c.Signed() != 0 {
		t.Fatalf("token calls %d, cognito calls %d, signed %d; want 1, 1, 0", v.Calls("/v1/token"), c.Calls(), c.Signed())
	}
	id, err := creds.IdentityID(context.Background())
	if want := v.IdentityID("backend:alice"); err != nil || id != want {
		t.Fatalf("IdentityID = %q, %v; want %q", id, err, want)
	}
	info, _ := creds.Identity(context.Background())
	if info.Region != "eu-west-1" || info.LoginKey != "cognito-identity.amazonaws.com" || info.IdentityPoolID != v.PoolID {
		t.Fatalf("Identity = %+v", info)
	}
	if v.Calls("/v1/token") != 1 {
		t.Fatal("IdentityID after Retrieve called the vendor again")
	}
}

func TestIdentityIDRetrievesWhenUnknown(t *testing.T) {
	v, c := fakes(t)
	creds := newCreds(t, v, c, nil)
	id, err := creds.IdentityID(context.Background())
	if err != nil || id != v.IdentityID("backend:alice") {
		t.Fatalf("IdentityID = %q, %v", id, err)
	}
	if v.Calls("/v1/token") != 1 || c.Calls() != 1 {
		t.Fatalf("calls: token %d cognito %d", v.Calls("/v1/token"), c.Calls())
	}
}

func TestBasicFlow(t *testing.T) {
	v, c := fakes(t)
	creds := newCreds(t, v, c, func(o *client.Options) { o.Flow = client.FlowBasic; o.ExpiryWindow = -1 })
	got, err := creds.Cache().Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.SecretAccessKey != "basic-secret" || got.SessionToken != "basic-session" || !got.CanExpire {
		t.Fatalf("credentials = %+v", got)
	}
	// ExpiryWindow < 0: Expires is the vendor's expiration itself (RFC 3339, whole seconds).
	if d := time.Until(got.Expires); d < time.Hour-2*time.Second || d > time.Hour {
		t.Fatalf("Expires in %v, want the vendor's 1h", d)
	}
	if v.Calls("/v1/credentials") != 1 || v.Calls("/v1/token") != 0 || c.Calls() != 0 {
		t.Fatalf("calls: credentials %d token %d cognito %d", v.Calls("/v1/credentials"), v.Calls("/v1/token"), c.Calls())
	}
	if id, _ := creds.IdentityID(context.Background()); id != v.IdentityID("backend:alice") {
		t.Fatalf("IdentityID = %q", id)
	}
}

func TestGuestEnhancedReusesIdentity(t *testing.T) {
	// GIVEN a pool with the basic flow off: /v1/guest returns a token
	v, c := fakes(t)
	creds := newCreds(t, v, c, func(o *client.Options) { o.Guest = true })
	first, err := creds.Cache().Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	id1, _ := creds.IdentityID(context.Background())
	// WHEN refreshing
	creds.Invalidate()
	second, err := creds.Cache().Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// THEN the second /v1/guest call sent the first identity id, and Cognito was called twice
	bodies := v.Bodies()
	if len(bodies) != 2 || bodies[0]["identityId"] != nil || bodies[1]["identityId"] != id1 {
		t.Fatalf("guest bodies = %v, want {} then {identityId: %s}", bodies, id1)
	}
	if c.Calls() != 2 || first.AccessKeyID == second.AccessKeyID {
		t.Fatalf("cognito calls %d; keys %s %s", c.Calls(), first.AccessKeyID, second.AccessKeyID)
	}
	if id2, _ := creds.IdentityID(context.Background()); id2 != id1 {
		t.Fatalf("identity changed: %s -> %s", id1, id2)
	}
}

func TestGuestForgottenIdentityStartsAnew(t *testing.T) {
	v, c := fakes(t)
	v.Fail = func(route string, n int) *clienttest.Reply {
		if n == 2 { // the reuse of the first identity
			return &clienttest.Reply{Status: 401, Code: "invalid_credential", Message: "not a guest"}
		}
		return nil
	}
	creds := newCreds(t, v, c, func(o *client.Options) { o.Guest = true })
	if _, err := creds.Cache().Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	creds.Invalidate()
	if _, err := creds.Cache().Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b := v.Bodies(); len(b) != 3 || b[2]["identityId"] != nil {
		t.Fatalf("bodies = %v, want a third call without identityId", b)
	}
}

func TestGuestBasicFlowCredentialsDirect(t *testing.T) {
	v, c := fakes(t)
	v.BasicFlow = true
	creds, err := client.New(v.TokenEndpoint(), nil, func(o *client.Options) { o.Guest = true; o.Cognito = realCognito(c) })
	if err != nil {
		t.Fatal(err)
	}
	got, err := creds.Cache().Retrieve(context.Background())
	if err != nil || got.SecretAccessKey != "basic-secret" {
		t.Fatalf("Retrieve = %+v, %v", got, err)
	}
	if c.Calls() != 0 || v.Calls("/v1/guest") != 1 {
		t.Fatalf("cognito calls %d, guest calls %d", c.Calls(), v.Calls("/v1/guest"))
	}
}

func TestConcurrentCallersShareOneRefresh(t *testing.T) {
	// GIVEN a fresh provider and a slow vendor, so that every caller arrives during the refresh
	v, c := fakes(t)
	v.Delay = 100 * time.Millisecond
	creds := newCreds(t, v, c, nil)
	const callers = 100
	keys := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		wg.Go(func() {
			<-start
			got, err := creds.Cache().Retrieve(context.Background())
			keys[i], errs[i] = got.AccessKeyID, err
		})
	}
	// WHEN they all call Retrieve at once
	close(start)
	wg.Wait()
	// THEN one vendor call and one Cognito call served all of them
	for i := range callers {
		if errs[i] != nil || keys[i] != "ASIACOGNITO1" {
			t.Fatalf("caller %d: %q, %v", i, keys[i], errs[i])
		}
	}
	if v.TotalCalls() != 1 || c.Calls() != 1 {
		t.Fatalf("vendor calls %d, cognito calls %d; want 1 and 1", v.TotalCalls(), c.Calls())
	}
	t.Logf("vendor calls for %d concurrent callers: %d", callers, v.TotalCalls())
}

// TestRefreshesAheadOfExpiry: credentials are refreshed while still valid,
// once what is left of their lifetime is inside the expiry window. Nothing
// waits for time to pass (no sleep, no skip on a slow machine): the fake
// issues credentials with their remaining lifetime on either side of the
// window, 5 minutes away from its edge, and the SDK's cache (handed to the
// SDK as is, so its own clock decides) compares that with the window.
func TestRefreshesAheadOfExpiry(t *testing.T) {
	// GIVEN a 5-minute window without jitter and credentials valid for 10 minutes
	v, c := fakes(t)
	c.Lifetime = 10 * time.Minute
	creds := newCreds(t, v, c, func(o *client.Options) { o.ExpiryWindow = 5 * time.Minute; o.ExpiryWindowJitterFrac = -1 })
	ctx := context.Background()
	start := time.Now()
	first, err := creds.Cache().Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// THEN the cache holds them until the window: their expiry less 5 minutes
	if due := first.Expires.Sub(start); due < 4*time.Minute || due > 5*time.Minute+time.Second {
		t.Fatalf("credentials valid 10 minutes are due in %v, want 5 minutes (the window)", due)
	}
	if again, err := creds.Cache().Retrieve(ctx); err != nil || c.Calls() != 1 || again.AccessKeyID != first.AccessKeyID {
		t.Fatalf("Retrieve outside the window refreshed (cognito calls %d, %q, %v)", c.Calls(), again.AccessKeyID, err)
	}
	// WHEN the next credentials have 4 minutes left: valid, but inside the window
	c.Lifetime = 4 * time.Minute
	creds.Invalidate()
	second, err := creds.Cache().Retrieve(ctx)
	if err != nil || c.Calls() != 2 || second.AccessKeyID != "ASIACOGNITO2" {
		t.Fatalf("after Invalidate: %q, %v; cognito calls %d", second.AccessKeyID, err, c.Calls())
	}
	third, err := creds.Cache().Retrieve(ctx)
	// THEN the next Retrieve refreshes at once, minutes before they expire
	if err != nil || c.Calls() != 3 || v.Calls("/v1/token") != 3 || third.AccessKeyID != "ASIACOGNITO3" {
		t.Fatalf("credentials 4 minutes from expiry inside a 5-minute window were not refreshed: %q, %v; cognito calls %d", third.AccessKeyID, err, c.Calls())
	}
	if !time.Now().Before(start.Add(4 * time.Minute)) {
		t.Fatal("the test took minutes: the refresh above is no longer ahead of expiry")
	}
}

func TestRetriesServiceUnavailableHonouringRetryAfter(t *testing.T) {
	v, c := fakes(t)
	v.Fail = func(route string, n int) *clienttest.Reply {
		if n == 1 {
			return &clienttest.Reply{Status: 503, Code: "upstream_throttled", Message: "upstream throttled", RetryAfter: "1"}
		}
		return nil
	}
	creds := newCreds(t, v, c, nil)
	start := time.Now()
	if _, err := creds.Cache().Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < time.Second {
		t.Fatalf("retried after %v, before Retry-After: 1", el)
	}
	if v.Calls("/v1/token") != 2 {
		t.Fatalf("token calls %d, want 2", v.Calls("/v1/token"))
	}
}

func TestRateLimitedExhaustsAttempts(t *testing.T) {
	v, c := fakes(t)
	v.Fail = func(string, int) *clienttest.Reply {
		return &clienttest.Reply{Status: 429, Code: "rate_limited", Message: "rate limited", RetryAfter: "1"}
	}
	creds := newCreds(t, v, c, func(o *client.Options) { o.MaxAttempts = 3; o.MaxBackoff = 20 * time.Millisecond })
	start := time.Now()
	_, err := creds.Cache().Retrieve(context.Background())
	var ve *client.VendorError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a *VendorError", err)
	}
	want := client.VendorError{Status: 429, Code: "rate_limited", Message: "rate limited", RequestID: "req-3", RetryAfter: time.Second}
	if *ve != want {
		t.Fatalf("VendorError = %+v, want %+v", *ve, want)
	}
	if !ve.Retryable() || ve.Rejected() {
		t.Fatal("429 must be retryable and not a rejection")
	}
	if v.Calls("/v1/token") != 3 {
		t.Fatalf("token calls %d, want MaxAttempts 3", v.Calls("/v1/token"))
	}
	if el := time.Since(start); el > 900*time.Millisecond {
		t.Fatalf("took %v: MaxBackoff must cap Retry-After", el)
	}
}

func TestRejectedLoginIsNotRetried(t *testing.T) {
	v, c := fakes(t)
	wrong := "forged-jwt-SECRET-XYZ"
	creds, err := client.New(v.TokenEndpoint(), func(context.Context) (string, string, error) { return "backend", wrong, nil },
		func(o *client.Options) { o.Cognito = realCognito(c) })
	if err != nil {
		t.Fatal(err)
	}
	_, err = creds.Cache().Retrieve(context.Background())
	var ve *client.VendorError
	if !errors.As(err, &ve) || ve.Status != 401 || ve.Code != "invalid_credential" || ve.RequestID != "req-1" || !ve.Rejected() {
		t.Fatalf("err = %#v", err)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Fatalf("error text contains the credential: %s", err)
	}
	if v.Calls("/v1/token") != 1 || c.Calls() != 0 {
		t.Fatalf("token calls %d, cognito calls %d; want 1 and 0", v.Calls("/v1/token"), c.Calls())
	}
}

func TestAPIGatewayErrorBody(t *testing.T) {
	v, c := fakes(t)
	v.Fail = func(string, int) *clienttest.Reply { return &clienttest.Reply{Status: 429} } // {"message":"Too Many Requests"}
	creds := newCreds(t, v, c, func(o *client.Options) { o.MaxAttempts = 1 })
	_, err := creds.Cache().Retrieve(context.Background())
	var ve *client.VendorError
	if !errors.As(err, &ve) || ve.Code != "http_429" || ve.Message != "Too Many Requests" || ve.RetryAfter != 0 {
		t.Fatalf("err = %v", err)
	}
}

func TestNetworkErrorIsRetried(t *testing.T) {
	// GIVEN a vendor whose first connection is dropped without a response
	v, c := fakes(t)
	var mu sync.Mutex
	dropped := 0
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		drop := dropped == 0
		dropped++
		mu.Unlock()
		if drop {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		v.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	creds, err := client.New(proxy.URL+"/v1/token", login, func(o *client.Options) { o.Cognito = realCognito(c) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := creds.Cache().Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	if dropped != 2 || v.Calls("/v1/token") != 1 {
		t.Fatalf("requests %d, served %d", dropped, v.Calls("/v1/token"))
	}
}

func TestUnreachableVendorFailsAfterAttempts(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	creds, err := client.New(url+"/v1/token", login, func(o *client.Options) { o.MaxAttempts = 2; o.MaxBackoff = time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	_, err = creds.Cache().Retrieve(context.Background())
	var ve *client.VendorError
	if err == nil || errors.As(err, &ve) || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("err = %v, want a transport error", err)
	}
}

func TestContextCancelReturnsPromptly(t *testing.T) {
	v, c := fakes(t)
	v.Delay = 3 * time.Second
	// The cache runs a refresh without the caller's cancellation; Timeout ends it.
	creds := newCreds(t, v, c, func(o *client.Options) { o.Timeout = 200 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := creds.Cache().Retrieve(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("returned after %v", el)
	}
}

func TestRefreshTimeoutBoundsRetries(t *testing.T) {
	v, c := fakes(t)
	v.Fail = func(string, int) *clienttest.Reply {
		return &clienttest.Reply{Status: 503, Code: "upstream_timeout", Message: "upstream timeout", RetryAfter: "5"}
	}
	creds := newCreds(t, v, c, func(o *client.Options) { o.Timeout = 300 * time.Millisecond })
	start := time.Now()
	_, err := creds.Cache().Retrieve(context.Background())
	var ve *client.VendorError
	if !errors.As(err, &ve) || ve.Status != 503 || time.Since(start) > 2*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

func TestLoginCallbackError(t *testing.T) {
	v, c := fakes(t)
	boom := errors.New("no session")
	creds, _ := client.New(v.TokenEndpoint(), func(context.Context) (string, string, error) { return "", "", boom },
		func(o *client.Options) { o.Cognito = realCognito(c) })
	_, err := creds.Cache().Retrieve(context.Background())
	if !errors.Is(err, client.ErrLogin) || !errors.Is(err, boom) || v.TotalCalls() != 0 {
		t.Fatalf("err = %v, vendor calls %d", err, v.TotalCalls())
	}
}

func TestEmptyCredentialRefusedLocally(t *testing.T) {
	v, c := fakes(t)
	creds, _ := client.New(v.TokenEndpoint(), func(context.Context) (string, string, error) { return "backend", "", nil },
		func(o *client.Options) { o.Cognito = realCognito(c) })
	if _, err := creds.Cache().Retrieve(context.Background()); err == nil || !strings.Contains(err.Error(), "credential is empty") || v.TotalCalls() != 0 {
		t.Fatalf("err = %v, vendor calls %d", err, v.TotalCalls())
	}
}

func TestCognitoErrorIsWrapped(t *testing.T) {
	v, c := fakes(t)
	c.Fail = func(int) *clienttest.Reply {
		return &clienttest.Reply{Status: 400, Code: "NotAuthorizedException", Message: "Token is expired"}
	}
	creds := newCreds(t, v, c, nil)
	_, err := creds.Cache().Retrieve(context.Background())
	var api smithy.APIError
	if !errors.Is(err, client.ErrCognito) || !errors.As(err, &api) || api.ErrorCode() != "NotAuthorizedException" {
		t.Fatalf("err = %v", err)
	}
}

func TestNewValidatesArguments(t *testing.T) {
	for _, tc := range []struct {
		endpoint string
		login    client.LoginFunc
		opt      func(*client.Options)
		want     string
	}{
		{"", login, nil, "empty"},
		{"ftp://x/v1/token", login, nil, "http(s) URL"},
		{"https://u:p@x/v1/token", login, nil, "user info"},
		{"https://x/v1/token", nil, nil, "LoginFunc is required"},
		{"https://x/v1/token", login, func(o *client.Options) { o.Flow = 7 }, "unknown Flow(7)"},
	} {
		opts := []func(*client.Options){}
		if tc.opt != nil {
			opts = append(opts, tc.opt)
		}
		_, err := client.New(tc.endpoint, tc.login, opts...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q): err = %v, want %q", tc.endpoint, err, tc.want)
		}
	}
	if _, err := client.New("https://x/v1/token", nil, func(o *client.Options) { o.Guest = true }); err != nil {
		t.Errorf("guest without login: %v", err)
	}
}

func TestAPIBase(t *testing.T) {
	for in, want := range map[string]string{
		"https://abc.execute-api.eu-west-1.amazonaws.com/v1/token": "https://abc.execute-api.eu-west-1.amazonaws.com/v1/guest",
		"https://api.example.com/prod/v1/token/":                   "https://api.example.com/prod/v1/guest",
		"http://127.0.0.1:8080":                                    "http://127.0.0.1:8080/v1/guest",
		"http://127.0.0.1:8080/":                                   "http://127.0.0.1:8080/v1/guest",
	} {
		v, err := client.NewVendor(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := v.Endpoint(client.RouteGuest); got != want {
			t.Errorf("%s: guest endpoint %s, want %s", in, got, want)
		}
	}
}

func TestParseFlow(t *testing.T) {
	if f, err := client.ParseFlow("basic"); err != nil || f != client.FlowBasic || f.String() != "basic" {
		t.Fatal(f, err)
	}
	if f, err := client.ParseFlow("enhanced"); err != nil || f != client.FlowEnhanced {
		t.Fatal(f, err)
	}
	if _, err := client.ParseFlow("classic"); err == nil {
		t.Fatal("classic accepted")
	}
}

func TestKeys(t *testing.T) {
	id := "eu-west-1:1234"
	if got := client.PrivateKey(id, "/a/b.txt"); got != "private/eu-west-1:1234/a/b.txt" {
		t.Error(got)
	}
	if got := client.ProtectedKey(id, "b.txt"); got != "protected/eu-west-1:1234/b.txt" {
		t.Error(got)
	}
	if got := client.PublicKey("c"); got != "public/c" {
		t.Error(got)
	}
}

func TestLoadOutputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	one := write("one.json", `{"S3Vend-dev":{"Region":"eu-west-1","BucketName":"b","TokenEndpoint":"https://x/v1/token","IdentityPoolId":"eu-west-1:p","LoginKey":"cognito-identity.amazonaws.com","DeveloperProviderName":"login.example"}}`)
	o, err := client.LoadOutputs(one, "")
	if err != nil {
		t.Fatal(err)
	}
	if o.Stack != "S3Vend-dev" || o.Region != "eu-west-1" || o.BucketName != "b" || o.TokenEndpoint != "https://x/v1/token" ||
		o.IdentityPoolID != "eu-west-1:p" || o.LoginKey != "cognito-identity.amazonaws.com" || o.All["DeveloperProviderName"] != "login.example" {
		t.Fatalf("outputs = %+v", o)
	}
	two := write("two.json", `{"S3Vend-dev":{"TokenEndpoint":"https://x/v1/token"},"S3Vend-prod":{"TokenEndpoint":"https://y/v1/token"}}`)
	if o, err := client.LoadOutputs(two, "S3Vend-prod"); err != nil || o.TokenEndpoint != "https://y/v1/token" {
		t.Fatalf("prod: %+v %v", o, err)
	}
	for _, tc := range []struct{ path, stack, want string }{
		{two, "", "choose one with --stack"},
		{two, "S3Vend-test", `no stack "S3Vend-test"`},
		{write("bad.json", `[1]`), "", "not a cdk --outputs-file document"},
		{write("noep.json", `{"S3Vend-dev":{"Region":"eu-west-1"}}`), "", "no TokenEndpoint"},
		{filepath.Join(dir, "missing.json"), "", "no such file"},
	} {
		if _, err := client.LoadOutputs(tc.path, tc.stack); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: err = %v, want %q", filepath.Base(tc.path), tc.stack, err, tc.want)
		}
	}
}

// OutputsFrom is the mapping both sources of outputs share (the outputs
// file above, CloudFormation DescribeStacks in s3vend smoke and admin).
func TestOutputsFrom(t *testing.T) {
	o, err := client.OutputsFrom("S3Vend-prod", map[string]string{"TokenEndpoint": "https://y/v1/token", "IdentityPoolId": "p", "Extra": "e"})
	if err != nil || o.Stack != "S3Vend-prod" || o.TokenEndpoint != "https://y/v1/token" || o.IdentityPoolID != "p" || o.All["Extra"] != "e" {
		t.Fatalf("%+v %v", o, err)
	}
	for _, tc := range []struct {
		all  map[string]string
		want string
	}{
		{map[string]string{"Region": "eu-west-1"}, "stack S3Vend-prod has no TokenEndpoint output"},
		{map[string]string{"TokenEndpoint": "https://y/v1/token", contract.OutputAccessRules: "{"}, contract.OutputAccessRules},
	} {
		if _, err := client.OutputsFrom("S3Vend-prod", tc.all); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.all, err, tc.want)
		}
	}
}

func TestRequestUpload(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/prod/v1/upload" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewDecoder(r.Body).Decode(&got)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"url":"https://b.s3.amazonaws.com/","fields":{"key":"private/id/a.txt","policy":"p"},"key":"private/id/a.txt","identityId":"id","expiresAt":"2030-01-01T00:00:00Z"}`)
	}))
	defer srv.Close()
	v, err := client.NewVendor(srv.URL + "/prod/v1/token")
	if err != nil {
		t.Fatal(err)
	}
	up, err := v.RequestUpload(context.Background(), "backend", secretLogin, client.UploadRequest{Name: "a.txt", Size: 3, ContentType: "text/plain", Visibility: "private"})
	if err != nil {
		t.Fatal(err)
	}
	if up.Key != "private/id/a.txt" || up.Fields["policy"] != "p" || up.IdentityID != "id" || up.ExpiresAt.Year() != 2030 {
		t.Fatalf("upload = %+v", up)
	}
	want := map[string]any{"provider": "backend", "credential": secretLogin, "name": "a.txt", "size": 3.0, "contentType": "text/plain", "visibility": "private"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("request body = %v, want %v", got, want)
	}
	if _, err := v.RequestUpload(context.Background(), "backend", secretLogin, client.UploadRequest{}); err == nil {
		t.Fatal("empty name accepted")
	}
}

func BenchmarkCachedRetrieve(b *testing.B) {
	v := clienttest.NewVendor(secretLogin)
	defer v.Close()
	c := clienttest.NewCognito()
	defer c.Close()
	creds, err := client.New(v.TokenEndpoint(), login, func(o *client.Options) { o.Cognito = realCognito(c) })
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := creds.Cache().Retrieve(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := creds.Cache().Retrieve(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if v.TotalCalls() != 1 {
		b.Fatalf("vendor calls %d", v.TotalCalls())
	}
}

// LoadOutputs exposes the AccessRules output; Key builds a rule's key for
// the caller from the values the vendor returned.
func TestAccessRulesOutputAndKey(t *testing.T) {
	rules := contract.Rules{
		{Name: "avatars", Path: "avatars/{userId}/*", Owner: []contract.Action{contract.ActionPut}},
		{Name: "teams", Path: "teams/{tenant}/*", Tenant: []contract.Action{contract.ActionGet}},
	}
	doc, _ := json.Marshal(map[string]map[string]string{"S3Vend-x": {"TokenEndpoint": "https://x/v1/token", contract.OutputAccessRules: rules.JSON()}})
	path := filepath.Join(t.TempDir(), "out.json")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := client.LoadOutputs(path, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := o.Rules()
	if err != nil || got.JSON() != rules.JSON() {
		t.Fatalf("rules %v %v", got, err)
	}
	who := client.Identity{IdentityID: "eu-west-1:abc", UserID: "google:42", Tenant: "idp:acme"}
	for rule, want := range map[string]string{"avatars": "avatars/google:42/me.jpg", "teams": "teams/idp:acme/me.jpg"} {
		if k, err := client.Key(got, rule, who, "me.jpg"); err != nil || k != want {
			t.Errorf("%s: %q %v", rule, k, err)
		}
	}
	if _, err := client.Key(got, "nope", who, "x"); err == nil {
		t.Error("unknown rule accepted")
	}
	if _, err := client.Key(got, "teams", client.Identity{UserID: "google:42"}, "x"); err == nil {
		t.Error("a tenant key without a tenant")
	}
	// A stack from before access rules has the default layout.
	if def, err := (client.Outputs{}).Rules(); err != nil || def.JSON() != contract.DefaultRules().JSON() {
		t.Errorf("default: %v", err)
	}
	bad, _ := json.Marshal(map[string]map[string]string{"S3Vend-x": {"TokenEndpoint": "https://x/v1/token", contract.OutputAccessRules: `{"x":1}`}})
	_ = os.WriteFile(path, bad, 0o600)
	if _, err := client.LoadOutputs(path, ""); err == nil || !strings.Contains(err.Error(), contract.OutputAccessRules) {
		t.Errorf("bad AccessRules output: %v", err)
	}
}
