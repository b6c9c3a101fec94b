package awsx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/vend"
)

func TestClassify(t *testing.T) {
	ctx := context.Background()
	api := func(code string) error {
		return &smithy.GenericAPIError{Code: code, Message: "upstream text must not leak"}
	}
	cases := []struct {
		err      error
		kind     error
		rejected bool
	}{
		{api("TooManyRequestsException"), fault.ErrThrottled, false},
		{api("Throttling"), fault.ErrThrottled, false},
		{context.DeadlineExceeded, fault.ErrTimeout, false},
		{api("NotAuthorizedException"), fault.ErrUpstream, true},
		{api("InvalidIdentityToken"), fault.ErrUpstream, false},
		{errors.New("dial tcp: refused"), fault.ErrUpstream, false},
	}
	for _, c := range cases {
		got := classify(ctx, "Op", c.err)
		if !errors.Is(got, c.kind) || errors.Is(got, fault.ErrIdentityRejected) != c.rejected {
			t.Errorf("%v: %v", c.err, got)
		}
		if msg := got.Error(); len(msg) > 80 || errors.Is(got, c.err) == false {
			t.Errorf("%v: message %q or cause lost", c.err, msg)
		}
		for _, s := range []string{"must not leak", "refused"} {
			if contains(got.Error(), s) {
				t.Errorf("leaked %q", s)
			}
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// Wire-level classification: the real SDK clients against closed ports,
// httptest servers and an empty credential chain. Each case checks the kind
// (and so the client-facing status), the exact log-safe reason, and that the
// message carries nothing of the endpoint, the upstream text or a secret.

const upstreamText = "upstream-text-must-not-leak"

// clearAWSEnv empties the SDK's credential chain: no environment keys, no
// shared files, no web identity or container credentials, and IMDS (the
// chain's last resort) disabled, or pointed at imds when it is not empty.
func clearAWSEnv(t *testing.T, imds string) {
	t.Helper()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY",
		"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SECRETS_MANAGER"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	if imds == "" {
		t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	} else {
		t.Setenv("AWS_EC2_METADATA_DISABLED", "false")
		t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds)
	}
}

var staticCreds = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret-key-must-not-leak", "")

// hangingServer answers no request until the test ends.
func hangingServer(t *testing.T) *httptest.Server {
	t.Helper()
	stop := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(stop) }) // runs first
	return s
}

// awsConfig is LoadConfig with one attempt (no backoff in tests) against
// endpoint. AWS_CA_BUNDLE is cleared: the SDK refuses it with a custom
// *http.Client, and the TLS cases need the system roots only.
func awsConfig(t *testing.T, endpoint string, o Options) aws.Config {
	t.Helper()
	t.Setenv("AWS_CA_BUNDLE", "")
	o.Region = "eu-west-1"
	o.MaxAttempts = 1
	cfg, err := LoadConfig(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseEndpoint = aws.String(endpoint)
	return cfg
}

// closedURL is a loopback URL on which nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/?X-Amz-Signature=query-must-not-leak"
}

// countingServer answers every request with status and body, counting them.
func countingServer(t *testing.T, tls bool, status int, body string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		io.WriteString(w, body)
	})
	var s *httptest.Server
	if tls {
		s = httptest.NewTLSServer(h)
	} else {
		s = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s, &n
}

func developerToken(ctx context.Context, cfg aws.Config) error {
	_, err := NewCognito(cfg).DeveloperToken(ctx, vend.DeveloperLogin{
		IdentityPoolID: "eu-west-1:01234567-89ab-cdef-0123-456789abcdef", DeveloperProvider: "login.example",
		UserID: "backend:alice", TokenDuration: time.Minute,
	})
	return err
}

// checkFault asserts kind, the exact Describe text, and that nothing leaks.
func checkFault(t *testing.T, err error, kind error, want string, leaks ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if !errors.Is(err, kind) {
		t.Errorf("kind: %v, want %v", err, kind)
	}
	if got := fault.Describe(err); got != want {
		t.Errorf("Describe = %q, want %q (cause: %v)", got, want, errors.Unwrap(err))
	}
	for _, s := range append(leaks, upstreamText, "must-not-leak", "127.0.0.1", "http", "AKIDEXAMPLE") {
		if strings.Contains(err.Error(), s) {
			t.Errorf("message %q leaks %q", err.Error(), s)
		}
	}
}

func TestNoCredentials(t *testing.T) {
	srv, calls := countingServer(t, false, 200, `{}`)
	t.Run("empty chain", func(t *testing.T) {
		// GIVEN no credentials anywhere and IMDS disabled
		clearAWSEnv(t, "")
		cfg := awsConfig(t, srv.URL, Options{})
		// WHEN the signed Cognito call is made
		err := developerToken(context.Background(), cfg)
		// THEN it is a 502 naming the missing credentials, and nothing was sent
		checkFault(t, err, fault.ErrUpstream, "upstream failure: GetOpenIdTokenForDeveloperIdentity: no AWS credentials")
		if errors.Is(err, fault.ErrIdentityRejected) {
			t.Error("no credentials is not a rejected identity")
		}
	})
	t.Run("IMDS refuses", func(t *testing.T) {
		// GIVEN the chain's last resort, IMDS, on a closed port: the inner
		// error is a refused connection, but the call itself never left
		clearAWSEnv(t, strings.TrimSuffix(closedURL(t), "/?X-Amz-Signature=query-must-not-leak"))
		cfg := awsConfig(t, srv.URL, Options{})
		err := developerToken(context.Background(), cfg)
		checkFault(t, err, fault.ErrUpstream, "upstream failure: GetOpenIdTokenForDeveloperIdentity: no AWS credentials")
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("cause lost: %v", errors.Unwrap(err))
		}
	})
	t.Run("IMDS hangs past the deadline", func(t *testing.T) {
		clearAWSEnv(t, hangingServer(t).URL)
		cfg := awsConfig(t, srv.URL, Options{})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		err := developerToken(ctx, cfg)
		checkFault(t, err, fault.ErrTimeout, "upstream timeout: GetOpenIdTokenForDeveloperIdentity: no AWS credentials (timeout)")
	})
	t.Run("secret", func(t *testing.T) {
		clearAWSEnv(t, "")
		_, err := LoadSecret(context.Background(), awsConfig(t, srv.URL, Options{}), "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x")
		checkFault(t, err, fault.ErrUpstream, "upstream failure: GetSecretValue: no AWS credentials", "secretsmanager")
	})
	if n := calls.Load(); n != 0 {
		t.Errorf("%d requests reached the endpoint without credentials", n)
	}
	t.Run("unsigned calls need none", func(t *testing.T) {
		// GetId is anonymous: it reaches the endpoint with an empty chain.
		clearAWSEnv(t, "")
		srv, calls := countingServer(t, false, 200, `{"IdentityId":"eu-west-1:01234567-89ab-cdef-0123-456789abcdef"}`)
		if _, err := NewCognito(awsConfig(t, srv.URL, Options{})).GetID(context.Background(), "eu-west-1:01234567-89ab-cdef-0123-456789abcdef"); err != nil || calls.Load() != 1 {
			t.Errorf("GetId: %v, calls %d", err, calls.Load())
		}
	})
}

func TestCredentialsWrapperKeepsSDKBehaviour(t *testing.T) {
	cfg := markCredentials(aws.Config{Credentials: aws.NewCredentialsCache(aws.AnonymousCredentials{})})
	if !aws.IsCredentialsProvider(cfg.Credentials, (*aws.AnonymousCredentials)(nil)) {
		t.Error("anonymous credentials hidden by the wrapper")
	}
	if again := markCredentials(cfg); again.Credentials != cfg.Credentials {
		t.Error("markCredentials is not idempotent")
	}
	if markCredentials(aws.Config{}).Credentials != nil {
		t.Error("nil provider wrapped")
	}
}

func TestNetworkFailures(t *testing.T) {
	tlsSrv, _ := countingServer(t, true, 200, `{}`)
	plainSrv, _ := countingServer(t, false, 200, `{}`)
	hangSrv := hangingServer(t)
	closeSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the whole request first: closing with unread input makes the
		// kernel answer RST (a "connection reset") instead of a clean close.
		_, _ = io.Copy(io.Discard, r.Body)
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			c.Close()
		}
	}))
	t.Cleanup(closeSrv.Close)
	// A resolver that cannot reach any DNS server, so the test needs no network.
	noDNS := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{Resolver: &net.Resolver{
		PreferGo: true,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("no DNS server in this test")
		},
	}}).DialContext}}

	cases := []struct {
		name, endpoint string
		client         aws.HTTPClient
		timeout        time.Duration
		kind           error
		want           string
	}{
		{"refused", closedURL(t), nil, 0, fault.ErrUpstream, "upstream failure: GetOpenIdTokenForDeveloperIdentity: connection refused"},
		{"dns", "http://cognito.s3vend.invalid/?X-Amz-Signature=query-must-not-leak", noDNS, 0, fault.ErrUpstream, "upstream failure: GetOpenIdTokenForDeveloperIdentity: DNS lookup failed"},
		{"unknown authority", tlsSrv.URL, nil, 0, fault.ErrUpstream, "upstream failure: GetOpenIdTokenForDeveloperIdentity: TLS certificate signed by unknown authority"},
		{"hostname", strings.Replace(tlsSrv.URL, "127.0.0.1", "localhost", 1), tlsSrv.Client(), 0, fault.ErrUpstream, "upstream failure: GetOpenIdTokenForDeveloperIdentity: TLS certificate not valid for the host"},
		{"https to plain http", strings.Replace(plainSrv.URL, "http:", "https:", 1), nil, 0, fault.ErrUpstream, "upstream failure: GetOpenIdTokenForDeveloperIdentity: TLS handshake failed (the server speaks plain HTTP)"},
		{"deadline", hangSrv.URL, nil, 200 * time.Millisecond, fault.ErrTimeout, "upstream timeout: GetOpenIdTokenForDeveloperIdentity: timeout"},
		{"client timeout", hangSrv.URL, &http.Client{Timeout: 200 * time.Millisecond}, 0, fault.ErrTimeout, "upstream timeout: GetOpenIdTokenForDeveloperIdentity: timeout"},
		{"closed", closeSrv.URL, nil, 0, fault.ErrUpstream, "upstream failure: GetOpenIdTokenForDeveloperIdentity: connection closed by the server"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			if c.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.timeout)
				defer cancel()
			}
			err := developerToken(ctx, awsConfig(t, c.endpoint, Options{Credentials: staticCreds, HTTPClient: c.client}))
			checkFault(t, err, c.kind, c.want, "localhost", "invalid", "x509")
		})
	}
}

func TestAWSErrorCodes(t *testing.T) {
	cases := []struct {
		status   int
		body     string
		kind     error
		want     string
		rejected bool
	}{
		{400, `{"__type":"NotAuthorizedException","message":"` + upstreamText + `"}`, fault.ErrUpstream,
			"upstream failure: GetOpenIdTokenForDeveloperIdentity: NotAuthorizedException", true},
		{400, `{"__type":"com.amazonaws.cognito.identity#TooManyRequestsException","message":"` + upstreamText + `"}`, fault.ErrThrottled,
			"upstream throttled: GetOpenIdTokenForDeveloperIdentity: TooManyRequestsException", false},
		{400, `{"__type":"UnrecognizedClientException","message":"` + upstreamText + `"}`, fault.ErrUpstream,
			"upstream failure: GetOpenIdTokenForDeveloperIdentity: UnrecognizedClientException", false},
	}
	for _, c := range cases {
		srv, calls := countingServer(t, false, c.status, c.body)
		err := developerToken(context.Background(), awsConfig(t, srv.URL, Options{Credentials: staticCreds}))
		checkFault(t, err, c.kind, c.want)
		if errors.Is(err, fault.ErrIdentityRejected) != c.rejected || calls.Load() != 1 {
			t.Errorf("%s: rejected=%v calls=%d", c.want, errors.Is(err, fault.ErrIdentityRejected), calls.Load())
		}
	}
}

func TestSTSRefused(t *testing.T) {
	_, err := NewSTS(awsConfig(t, closedURL(t), Options{Credentials: staticCreds})).AssumeRoleWithWebIdentity(context.Background(), vend.AssumeInput{
		RoleARN: "arn:aws:iam::123456789012:role/auth", SessionName: "s", Token: "token-must-not-leak", Duration: time.Hour,
	})
	checkFault(t, err, fault.ErrUpstream, "upstream failure: AssumeRoleWithWebIdentity: connection refused")
}

// Reasons that are hard to provoke on the wire, from the error values the
// transport produces (wrapped as the SDK wraps them).
func TestNetworkReasons(t *testing.T) {
	send := func(err error) error {
		return &smithy.OperationError{ServiceID: "Cognito Identity", OperationName: "Op", Err: &smithyhttp.RequestSendError{
			Err: &url.Error{Op: "Post", URL: "https://h.example/?X-Amz-Signature=query-must-not-leak", Err: err}}}
	}
	opErr := func(err error) error {
		return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}
	}
	cases := []struct {
		err  error
		kind error
		want string
	}{
		{send(opErr(syscall.ECONNRESET)), fault.ErrUpstream, "upstream failure: Op: connection reset"},
		{send(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}), fault.ErrUpstream, "upstream failure: Op: network unreachable"},
		{send(opErr(syscall.EPIPE)), fault.ErrUpstream, "upstream failure: Op: connection closed by the server"},
		{send(&net.OpError{Op: "write", Net: "tcp", Err: net.ErrClosed}), fault.ErrUpstream, "upstream failure: Op: connection closed by the server"},
		{send(opErr(syscall.EPROTO)), fault.ErrUpstream, "upstream failure: Op: network error"},
		{send(tls.AlertError(40)), fault.ErrUpstream, "upstream failure: Op: TLS handshake failed"},
		{send(&tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Reason: x509.Expired}}), fault.ErrUpstream, "upstream failure: Op: TLS certificate not trusted"},
		{&smithy.CanceledError{Err: context.Canceled}, fault.ErrUpstream, "upstream failure: Op: canceled"},
		{&credentialsError{errors.New("no EC2 IMDS role found")}, fault.ErrUpstream, "upstream failure: Op: no AWS credentials"},
		{errors.New("something else " + upstreamText), fault.ErrUpstream, "upstream failure: Op"},
	}
	for _, c := range cases {
		checkFault(t, classify(context.Background(), "Op", c.err), c.kind, c.want, "h.example")
	}
}

// WithLatency reports each operation once, by name, including the time of
// every retry (3 throttled attempts here), and also for failed calls.
func TestWithLatency(t *testing.T) {
	srv, calls := countingServer(t, false, 400, `{"__type":"TooManyRequestsException","message":"slow down"}`)
	base := awsConfig(t, srv.URL, Options{Credentials: staticCreds})
	base.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 20 * time.Millisecond, nil })
		})
	}
	type obs struct {
		op string
		d  time.Duration
	}
	var got []obs
	cfg := WithLatency(base, func(op string, d time.Duration) { got = append(got, obs{op, d}) })
	if len(base.APIOptions) != 0 {
		t.Fatal("WithLatency changed its argument")
	}
	err := developerToken(context.Background(), cfg)
	checkFault(t, err, fault.ErrThrottled, "upstream throttled: GetOpenIdTokenForDeveloperIdentity: TooManyRequestsException")
	if calls.Load() != 3 {
		t.Fatalf("%d attempts, want 3", calls.Load())
	}
	if len(got) != 1 || got[0].op != "GetOpenIdTokenForDeveloperIdentity" || got[0].d < 40*time.Millisecond {
		t.Errorf("observed %+v, want one GetOpenIdTokenForDeveloperIdentity of at least 40ms (two backoffs)", got)
	}
	got = nil
	_ = developerToken(context.Background(), base)
	if len(got) != 0 {
		t.Errorf("the original configuration reports too: %+v", got)
	}
}
