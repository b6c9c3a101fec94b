package app_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/golang-jwt/jwt/v5"

	"github.com/s3vend/s3vend/lambda/internal/app"
	"github.com/s3vend/s3vend/lambda/internal/awsx"
	"github.com/s3vend/s3vend/lambda/internal/config"
	"github.com/s3vend/s3vend/lambda/internal/fakes"
	"github.com/s3vend/s3vend/lambda/internal/httpapi"
	"github.com/s3vend/s3vend/lambda/internal/verify"
)

const (
	region     = "eu-west-1"
	poolID     = "eu-west-1:0d4f7c2e-1111-2222-3333-444455556666"
	authRole   = "arn:aws:iam::123456789012:role/s3vend-auth"
	unauthRole = "arn:aws:iam::123456789012:role/s3vend-unauth"
	hsKey      = "0123456789abcdef0123456789abcdef-test-key"
	appSecret  = "wechat-app-secret-value"
	audience   = "client-123"
	testBucket = "s3vend-test-bucket"
	policy     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${cognito-identity.amazonaws.com:sub}/*"}]}`
)

// harness runs the real wiring against wire-level fakes.
type harness struct {
	t       testing.TB
	cognito *fakes.Cognito
	sts     *fakes.STS
	secrets *fakes.Secrets
	issuer  *fakes.Issuer
	wechat  *fakes.WeChat
	logs    *bytes.Buffer
	metrics *bytes.Buffer // EMF records (only with S3VEND_METRICS_STACK set)
	handler *httpapi.Handler
	now     time.Time
}

type harnessOpts struct {
	env        map[string]string // overrides
	quietLogs  bool
	noDiscover bool
	inProcess  bool             // SDK and verifiers reach the fakes without sockets (benchmarks)
	secret     string           // SecretString of the fake secret; "" for the complete default
	startErr   *error           // when set, app.New's error is stored here instead of failing the test
	now        func() time.Time // app.Deps.Now (default time.Now)
	metricsOut io.Writer        // app.Deps.Metrics (default the harness's metrics buffer)
	// shed keeps the vendor's shedding window after a throttle; without
	// it every request reaches the fakes (most tests count those calls).
	shed       bool
	shedWindow time.Duration // with shed: the window (0: the default)
	// cognito, when set, is shared with another harness (several vendor
	// instances in front of one Cognito).
	cognito *fakes.Cognito
}

// inProcessTransport dispatches requests to handlers by host, in memory.
type inProcessTransport map[string]http.Handler

func (t inProcessTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h, ok := t[r.URL.Host]
	if !ok {
		return http.DefaultTransport.RoundTrip(r)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

func serve(t testing.TB, h http.Handler) string {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	if routes != nil {
		routes[strings.TrimPrefix(s.URL, "http://")] = h
	}
	return s.URL
}

// routes collects fake servers for inProcessTransport while a harness is built.
var routes inProcessTransport

func newHarness(t testing.TB, o harnessOpts) *harness {
	t.Helper()
	h := &harness{
		t:       t,
		cognito: &fakes.Cognito{},
		sts:     &fakes.STS{},
		secrets: &fakes.Secrets{SecretString: `{"wechatAppSecret":"` + appSecret + `","hs256Key":"` + hsKey + `"}`},
		issuer:  fakes.NewIssuer(),
		wechat: &fakes.WeChat{AppID: "wx123", AppSecret: appSecret, Responses: map[string]string{
			"good-code":    `{"openid":"o-user-1","session_key":"sk","unionid":"u-1"}`,
			"used-code":    `{"errcode":40163,"errmsg":"code been used"}`,
			"limited-code": `{"errcode":45011,"errmsg":"api minute-quota reach limit"}`,
			"busy-code":    `{"errcode":-1,"errmsg":"system error"}`,
			"bad-secret":   `{"errcode":40125,"errmsg":"invalid appsecret"}`,
		}},
		logs:    &bytes.Buffer{},
		metrics: &bytes.Buffer{},
	}
	if o.secret != "" {
		h.secrets.SecretString = o.secret
	}
	if o.cognito != nil {
		h.cognito = o.cognito
	}
	routes = inProcessTransport{}
	defer func() { routes = nil }()
	h.issuer.URL = serve(t, h.issuer.Handler())
	wechatURL := serve(t, h.wechat.Handler())

	// The real SDK clients find the fakes through the standard overrides.
	t.Setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY", serve(t, h.cognito.Handler()))
	t.Setenv("AWS_ENDPOINT_URL_STS", serve(t, h.sts.Handler()))
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", serve(t, h.secrets.Handler()))
	// A path that cannot exist (a fixed one such as /nonexistent may: it
	// is the home directory of system users, and a go command run with that
	// HOME creates /nonexistent/.config).
	noFile := filepath.Join(t.TempDir(), "absent")
	t.Setenv("AWS_CONFIG_FILE", noFile)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", noFile)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CA_BUNDLE", "") // the fakes are plain http; a host CA bundle needs a buildable client

	oidc := map[string]any{"name": "google", "issuer": h.issuer.URL, "audiences": []string{audience}, "algorithms": []string{"RS256", "ES256"}}
	if o.noDiscover {
		oidc["jwksUrl"] = h.issuer.URL + "/jwks"
	}
	verifiers, _ := json.Marshal(map[string]any{
		"oidc":   []any{oidc, map[string]any{"name": "corp", "issuer": h.issuer.URL, "audiences": []string{"corp-app"}, "userClaim": "email", "jwksUrl": h.issuer.URL + "/jwks"}},
		"wechat": map[string]any{"name": "wechat", "appId": "wx123", "baseUrl": wechatURL},
		"hs256":  map[string]any{"name": "backend", "issuer": "https://api.example.com", "audience": "s3vend", "maxTtlSeconds": 300},
	})
	env := map[string]string{
		"AWS_REGION":                         region,
		"S3VEND_IDENTITY_POOL_ID":            poolID,
		"S3VEND_DEVELOPER_PROVIDER":          "login.s3vend.example",
		"S3VEND_AUTH_ROLE_ARN":               authRole,
		"S3VEND_UNAUTH_ROLE_ARN":             unauthRole,
		"S3VEND_GUESTS_ENABLED":              "true",
		"S3VEND_TOKEN_DURATION_SECONDS":      "600",
		"S3VEND_CREDENTIAL_DURATION_SECONDS": "900",
		"S3VEND_SESSION_POLICY":              policy,
		"S3VEND_VERIFIERS":                   string(verifiers),
		"S3VEND_SECRET_ARN":                  "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s3vend-AbCdEf",
		"S3VEND_UPSTREAM_TIMEOUT":            "2s",
		"S3VEND_BUCKET":                      testBucket,
		// Most tests count upstream calls per request; the cache tests
		// (cache_test.go) turn it on.
		"S3VEND_CACHE_ENABLED": "false",
	}
	for k, v := range o.env {
		env[k] = v
	}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var client *http.Client
	if o.inProcess {
		client = &http.Client{Transport: routes}
	}
	awsOpts := awsx.Options{
		Region:      cfg.Region,
		MaxAttempts: cfg.MaxAttempts,
		MaxBackoff:  5 * time.Millisecond,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret", ""),
	}
	if client != nil {
		awsOpts.HTTPClient = client
	}
	awsCfg, err := awsx.LoadConfig(ctx, awsOpts)
	if err != nil {
		t.Fatalf("aws config: %v", err)
	}
	var logw io.Writer = h.logs
	if o.quietLogs {
		logw = io.Discard
	}
	shed := time.Duration(-1)
	if o.shed {
		shed = o.shedWindow // 0: the default
	}
	handler, err := app.New(ctx, cfg, app.Deps{
		ShedWindow: shed,
		AWS:        awsCfg,
		HTTPClient: client,
		Logger:     slog.New(slog.NewJSONHandler(logw, nil)),
		OIDC:       verify.OIDCOptions{UnknownKIDInterval: 50 * time.Millisecond, RetryAfterFailure: time.Millisecond},
		Now:        o.now,
		Metrics:    cmp.Or[io.Writer](o.metricsOut, h.metrics),
	})
	if o.startErr != nil {
		*o.startErr = err
	} else if err != nil {
		t.Fatalf("app: %v", err)
	}
	h.handler = handler
	h.now = time.Now()
	return h
}

type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func (r response) errCode() string {
	e, _ := r.json["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (h *harness) do(method, path, contentType, body string) response {
	h.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	r := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	_ = json.Unmarshal(r.body, &r.json)
	return r
}

func (h *harness) login(path, provider, credential string) response {
	h.t.Helper()
	b, _ := json.Marshal(map[string]string{"provider": provider, "credential": credential})
	return h.do(http.MethodPost, path, "application/json", string(b))
}

// idToken is a valid token of the fake issuer for the "google" verifier.
func (h *harness) idToken(mut func(jwt.MapClaims)) string {
	c := jwt.MapClaims{
		"iss": h.issuer.URL, "aud": audience, "sub": "user-42",
		"iat": time.Now().Add(-time.Minute).Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	}
	if mut != nil {
		mut(c)
	}
	return h.issuer.Sign(c)
}

func hsToken(mut func(jwt.MapClaims)) string {
	now := time.Now()
	c := jwt.MapClaims{
		"iss": "https://api.example.com", "aud": "s3vend", "sub": "backend-user-7",
		"iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
	}
	if mut != nil {
		mut(c)
	}
	return fakes.SignWith(jwt.SigningMethodHS256, []byte(hsKey), "", c)
}
