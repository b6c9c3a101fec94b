package standin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/s3vend/s3vend/client/devlogin"
	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/contract/wire"
	"github.com/s3vend/s3vend/internal/accessmatrix"
)

// StackOptions configures StartStack.
type StackOptions struct {
	Template     map[string]any // a synthesized S3Vend-<env> template
	Node         string         // Node 24 binary, for the S3 stand-in's IAM evaluator
	VendorBinary string         // the token vendor for this host; "" builds it into WorkDir
	WorkDir      string         // CA, secrets file; "" is a temporary directory removed by Close
	VendorLog    io.Writer      // the vendor's JSON logs; nil discards them
	// DynamoDB is a DynamoDB-compatible engine's endpoint (internal/dynamotest)
	// for the template's tables (abuse.go); "" runs without abuse control.
	DynamoDB string
	// MeteringBinary is the metering function for this host; "" builds it.
	MeteringBinary string
	// TablePrefix prefixes the names of the template's tables in the engine,
	// so that two stacks of one template share an engine without sharing
	// tables.
	TablePrefix string
	// IAM is a real IAM engine's endpoint (moto's server) where policies
	// attached to the pool's roles outside the template live (the
	// revocation deny); the S3 stand-in applies them. "": none.
	IAM string
	// RevocationRefresh overrides the vendor's revocation refresh interval
	// (S3VEND_REVOCATION_REFRESH_SECONDS; tests use 1 s).
	RevocationRefresh time.Duration
	// Short lifetimes, so a test can outlive a token and then credentials
	// without waiting an hour: TokenDuration replaces the template's
	// S3VEND_TOKEN_DURATION_SECONDS (whole seconds, 1 s to 24 h: the
	// vendor's own check applies), CredentialLifetime the one hour of the
	// Cognito stand-in's GetCredentialsForIdentity. Zero keeps the
	// template's and Cognito's.
	TokenDuration      time.Duration
	CredentialLifetime time.Duration
}

// HS256Login is the template's hs256 verifier and its local key.
type HS256Login struct {
	Name, Issuer, Audience string
	TenantClaim            string // "" without one
	Key                    []byte
	MaxTTL                 time.Duration
}

// Stack is a template's s3vend stack running locally: the stand-ins of S3,
// Cognito Identity, STS and WeChat, and the real token vendor behind an API
// Gateway stand-in (the template's CORS).
type Stack struct {
	Model    *accessmatrix.Model
	Sessions *Sessions
	S3       *S3
	Cognito  *Cognito
	STS      *STS
	WeChat   *WeChat
	SQS      *SQS         // the template's queues (abuse.go)
	IAM      *IAMPolicies // nil without StackOptions.IAM

	Region, Partition, BucketName, IdentityPoolID, LoginKey string
	// Service URLs, without a trailing slash. S3 is path-style
	// (S3URL/<bucket>/<key>); VendorURL is the API Gateway stand-in, so the
	// token endpoint is VendorURL + "/v1/token".
	S3URL, CognitoURL, STSURL, WeChatURL, VendorURL, SQSURL string
	// AbuseControl: the vendor checks revocations (and quotas) against the
	// engine's tables, named in Tables; false without StackOptions.DynamoDB.
	AbuseControl bool
	Tables       []string

	CAFile               string
	DeveloperAccessKeyID string      // the vendor's static developer key (its secret stays inside)
	SecretsFile          string      // the vendor's S3VEND_SECRETS_FILE
	HS256                *HS256Login // nil when the template has no hs256 verifier
	WeChatProvider       string      // the wechat verifier's name; "" when none

	ca            *CA
	servers       []*Server
	vendor        *vendorProcess
	metering      *vendorProcess
	meteringQueue string
	// calls authorizes requests to SQS and CloudWatch (IAM, with the S3
	// stand-in's evaluator).
	calls       *callAuthorizer
	tablePrefix string
	tmpDir      string
}

// StartStack starts every stand-in and the vendor; Close stops them.
func StartStack(ctx context.Context, o StackOptions) (_ *Stack, err error) {
	if o.Template == nil {
		return nil, errors.New("standin: StackOptions.Template is required")
	}
	m, err := accessmatrix.Load(o.Template)
	if err != nil {
		return nil, fmt.Errorf("standin: loading the template: %w", err)
	}
	s := &Stack{
		Model: m, Sessions: &Sessions{},
		Region: m.Region(), Partition: m.Partition(), BucketName: m.BucketName(),
		IdentityPoolID: m.IdentityPoolID(), LoginKey: LoginKey(m.Region()),
	}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	if err := s.workDir(o.WorkDir); err != nil {
		return nil, err
	}
	if err := s.startServices(o); err != nil {
		return nil, err
	}
	if o.DynamoDB != "" {
		s.tablePrefix = o.TablePrefix
		if err := s.createTables(ctx, o.DynamoDB); err != nil {
			return nil, err
		}
		s.AbuseControl = true
		if vars, queue, role, ok := meteringFunction(s.Model.Template()); ok {
			s.meteringQueue = queue
			if err := s.startMetering(ctx, o, vars, queue, role); err != nil {
				return nil, err
			}
		}
	}
	if err := s.startVendor(ctx, o); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Stack) workDir(dir string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "s3vend-local-")
		if err != nil {
			return err
		}
		s.tmpDir, dir = tmp, tmp
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// Absolute: the CA and secrets paths go into the vendor's and the
	// clients' environments, and those processes run in other directories.
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	ca, err := NewCA(dir)
	if err != nil {
		return err
	}
	s.ca, s.CAFile = ca, ca.CAFile
	s.SecretsFile = filepath.Join(dir, "secrets.local.json")
	return nil
}

// startServices starts the Cognito, STS and S3 stand-ins over TLS and the
// WeChat one over plain HTTP.
func (s *Stack) startServices(o StackOptions) error {
	var err error
	// S3 first: its IAM evaluator also decides, for Cognito and STS, whether
	// a trust policy allows a session's tags. S3 sends the template's event
	// notifications to the SQS stand-in's queues.
	s.SQS = NewSQS(s.Sessions, s.Region, s.Model.Account(), SQSQueuesFromTemplate(s.Model.Template()))
	s3o := S3Options{Model: s.Model, Sessions: s.Sessions, Node: o.Node, SendEvent: s.SQS.Send}
	if o.IAM != "" {
		s.IAM = NewIAMPolicies(o.IAM, s.Region)
		if err := s.IAM.EnsureRoles(context.Background(), s.Model.RoleARN("authenticated"), s.Model.RoleARN("unauthenticated")); err != nil {
			return err
		}
		s3o.Attached = s.IAM.Attached
	}
	if s.S3, err = NewS3(s3o); err != nil {
		return err
	}
	s.calls = newCallAuthorizer(s.Model, s.S3.az)
	if err := s.SQS.authorizeWith(s.calls, s.Model); err != nil {
		return err
	}
	if s.Cognito, err = NewCognito(CognitoOptions{Model: s.Model, Sessions: s.Sessions, CredentialLifetime: o.CredentialLifetime, Trust: s.S3.Trust()}); err != nil {
		return err
	}
	if s.STS, err = NewSTS(STSOptions{Model: s.Model, Sessions: s.Sessions, Cognito: s.Cognito, Trust: s.S3.Trust()}); err != nil {
		return err
	}
	s.S3.PutObject("public/hello.txt", []byte("hello from s3vend"), "text/plain")
	for _, svc := range []struct {
		h   http.Handler
		url *string
	}{{s.Cognito, &s.CognitoURL}, {s.STS, &s.STSURL}, {s.S3, &s.S3URL}, {s.SQS, &s.SQSURL}} {
		srv, err := ServeTLS(svc.h, s.ca)
		if err != nil {
			return err
		}
		s.servers = append(s.servers, srv)
		*svc.url = srv.URL
	}
	s.SQS.URL = s.SQSURL
	return nil
}

// startVendor writes the secrets file, starts the WeChat stand-in (with the
// file's app secret) and the vendor, and puts the API Gateway stand-in in
// front of it.
func (s *Stack) startVendor(ctx context.Context, o StackOptions) error {
	cfg, err := s.startLogins()
	if err != nil {
		return err
	}
	env := s.vendorEnv(cfg.env, o)
	binary, err := s.localBinary(ctx, o.VendorBinary, "./lambda/cmd/tokenvendor")
	if err != nil {
		return err
	}
	if s.vendor, err = startVendor(ctx, binary, env, o.VendorLog); err != nil {
		return err
	}
	return s.startAPIGateway()
}

// localBinary is the given binary, or else pkg (a main package of the
// module) built for this host into the work directory.
func (s *Stack) localBinary(ctx context.Context, given, pkg string) (string, error) {
	if given != "" {
		return given, nil
	}
	root, err := ModuleRoot(".")
	if err != nil {
		return "", err
	}
	return BuildCommand(ctx, root, filepath.Dir(s.SecretsFile), pkg)
}

// startLogins writes the secrets file and starts the WeChat stand-in, then
// reads the vendor's local configuration and sets up the logins it names
// (the WeChat app id, the HS256 signer). The WeChat stand-in's URL goes
// into that configuration, so it starts first.
func (s *Stack) startLogins() (vendorConfig, error) {
	secrets := secretsFile{WeChatAppSecret: randomHex(16), HS256Key: randomHex(32)}
	b, _ := json.Marshal(secrets)
	if err := os.WriteFile(s.SecretsFile, b, 0o600); err != nil {
		return vendorConfig{}, fmt.Errorf("standin: writing the secrets file: %w", err)
	}
	s.WeChat = NewWeChat("", secrets.WeChatAppSecret, nil)
	wsrv, err := ServePlain(s.WeChat)
	if err != nil {
		return vendorConfig{}, err
	}
	s.servers = append(s.servers, wsrv)
	s.WeChatURL = wsrv.URL
	cfg, err := localVendorConfig(s.Model, s.SecretsFile, s.WeChatURL)
	if err != nil {
		return vendorConfig{}, err
	}
	if w := cfg.verifiers.WeChat; w != nil {
		s.WeChat.AppID, s.WeChatProvider = w.AppID, w.Name
	}
	if h := cfg.verifiers.HS256; h != nil {
		s.HS256 = &HS256Login{Name: h.Name, Issuer: h.Issuer, Audience: h.Audience, TenantClaim: h.TenantClaim, Key: []byte(secrets.HS256Key), MaxTTL: h.MaxTTL()}
	}
	return cfg, nil
}

// vendorEnv completes the vendor's environment: static developer
// credentials (an IAM user's long-term key: no role, no session token, no
// expiry), as the vendor's Lambda role stands for, the stand-ins'
// endpoints, and the abuse-control tables when there is an engine for
// them. No shared config or credentials files: the environment is the
// whole configuration.
func (s *Stack) vendorEnv(env map[string]string, o StackOptions) map[string]string {
	dev := Session{AccessKeyID: "AKIA" + strings.ToUpper(randomHex(8)), SecretAccessKey: randomHex(20)}
	s.Sessions.Put(dev)
	s.DeveloperAccessKeyID = dev.AccessKeyID
	if o.TokenDuration > 0 {
		env[contract.EnvTokenDuration] = strconv.Itoa(int(o.TokenDuration / time.Second))
	}
	env["AWS_REGION"] = s.Region
	env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = dev.AccessKeyID, dev.SecretAccessKey
	env["AWS_ENDPOINT_URL_COGNITO_IDENTITY"], env["AWS_ENDPOINT_URL_STS"], env["AWS_ENDPOINT_URL_S3"] = s.CognitoURL, s.STSURL, s.S3URL
	env["AWS_CA_BUNDLE"] = s.CAFile
	env["AWS_EC2_METADATA_DISABLED"] = "true"
	if s.AbuseControl {
		s.renameTables(env)
		env["AWS_ENDPOINT_URL_DYNAMODB"] = o.DynamoDB
		if o.RevocationRefresh > 0 {
			env[contract.EnvRevocationRefresh] = fmt.Sprint(int(o.RevocationRefresh / time.Second))
		}
	} else {
		// No engine for the tables: the vendor would fail closed on every
		// login. Run it without abuse control instead.
		for _, k := range []string{contract.EnvRevocationsTable, contract.EnvUsageTable, contract.EnvQuotaMaxBytes, contract.EnvQuotaMaxObjects} {
			delete(env, k)
		}
	}
	env["AWS_CONFIG_FILE"], env["AWS_SHARED_CREDENTIALS_FILE"] = os.DevNull, os.DevNull
	return env
}

// startAPIGateway serves a reverse proxy to the vendor, wrapped with the
// template's HTTP API CORS configuration.
func (s *Stack) startAPIGateway() error {
	cors, err := APIGatewayCORSFromTemplate(s.Model.Template())
	if err != nil {
		return fmt.Errorf("standin: the HTTP API's CORS configuration: %w", err)
	}
	target, err := url.Parse(s.vendor.URL)
	if err != nil {
		return err
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) {
		// API Gateway's answer when the integration fails.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"message":"Internal Server Error"}`))
	}
	srv, err := ServePlain(cors.Wrap(proxy))
	if err != nil {
		return err
	}
	s.servers = append(s.servers, srv)
	s.VendorURL = srv.URL
	return nil
}

// Close stops the vendor and every stand-in, and removes a temporary WorkDir.
func (s *Stack) Close() error {
	s.vendor.stop()
	s.metering.stop()
	var errs []error
	for _, srv := range s.servers {
		errs = append(errs, srv.Close())
	}
	if s.S3 != nil {
		errs = append(errs, s.S3.Close())
	}
	if s.tmpDir != "" {
		errs = append(errs, os.RemoveAll(s.tmpDir))
	}
	return errors.Join(errs...)
}

// TokenEndpoint is the vendor's POST /v1/token URL.
func (s *Stack) TokenEndpoint() string { return s.VendorURL + wire.RouteToken }

// ClientEnv is the environment a client needs to reach the stack with the
// standard AWS SDK settings; it never holds AWS keys.
func (s *Stack) ClientEnv() []string {
	env := []string{
		"AWS_REGION=" + s.Region,
		"AWS_ENDPOINT_URL_S3=" + s.S3URL,
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY=" + s.CognitoURL,
		"AWS_ENDPOINT_URL_STS=" + s.STSURL,
		"AWS_CA_BUNDLE=" + s.CAFile,
		"NODE_EXTRA_CA_CERTS=" + s.CAFile,
		"S3VEND_ENDPOINT=" + s.VendorURL,
		"S3VEND_BUCKET=" + s.BucketName,
		"AWS_EC2_METADATA_DISABLED=true",
	}
	if s.WeChatProvider != "" {
		// The WeChat stand-in's code minter, for the mini-program shim's wx.login.
		env = append(env, "WECHAT_CODES_URL="+s.WeChatURL+"/dev/code")
	}
	return env
}

// MintLogin signs an hs256 login for subject with the stack's key; ttl 0 is
// the verifier's maximum (default 300 s).
func (s *Stack) MintLogin(subject string, ttl time.Duration) (string, error) {
	if s.HS256 == nil {
		return "", errors.New("standin: the template has no hs256 verifier")
	}
	if ttl <= 0 {
		ttl = s.HS256.MaxTTL
		if ttl <= 0 {
			ttl = 300 * time.Second
		}
	}
	return devlogin.Mint(s.HS256.Key, devlogin.Claims{Issuer: s.HS256.Issuer, Audience: s.HS256.Audience, Subject: subject, TTL: ttl})
}

// MintTenantLogin is MintLogin with the tenant in the claim the hs256
// verifier's tenantClaim names.
func (s *Stack) MintTenantLogin(subject, tenant string, ttl time.Duration) (string, error) {
	if s.HS256 == nil || s.HS256.TenantClaim == "" {
		return "", errors.New("standin: the template's hs256 verifier has no tenantClaim")
	}
	if ttl <= 0 {
		ttl = s.HS256.MaxTTL
	}
	return devlogin.Mint(s.HS256.Key, devlogin.Claims{Issuer: s.HS256.Issuer, Audience: s.HS256.Audience, Subject: subject, TTL: ttl,
		TenantClaim: s.HS256.TenantClaim, Tenant: tenant})
}

// WeChatCode is a fresh wx.login code for openid (unionid "union_"+openid).
func (s *Stack) WeChatCode(openid string) (string, error) {
	if s.WeChatProvider == "" {
		return "", errors.New("standin: the template has no wechat verifier")
	}
	if openid == "" {
		return "", errors.New("standin: openid is required")
	}
	return s.WeChat.MintCode(openid, ""), nil
}

// Outputs are the stack's CloudFormation outputs with local values: the
// template's output keys resolved with the model's test values, TokenEndpoint
// the local API, VerifierSecretArn the local secrets file, and LoginKey
// always present.
func (s *Stack) Outputs() map[string]string {
	out := map[string]string{}
	outputs, _ := s.Model.Template()["Outputs"].(map[string]any)
	for k, v := range outputs {
		o, _ := v.(map[string]any)
		r, err := s.Model.Resolve(o["Value"])
		if str, ok := r.(string); err == nil && ok {
			out[k] = str
		}
	}
	out["Region"], out["BucketName"], out["IdentityPoolId"] = s.Region, s.BucketName, s.IdentityPoolID
	out["TokenEndpoint"], out["LoginKey"] = s.TokenEndpoint(), s.LoginKey
	out["DeveloperProviderName"] = s.Cognito.Pool.DeveloperProvider
	s.renameTables(out)
	if _, ok := out["VerifierSecretArn"]; ok {
		out["VerifierSecretArn"] = s.SecretsFile
	}
	return out
}
