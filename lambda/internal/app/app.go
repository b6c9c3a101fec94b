// Package app assembles the token vendor from a validated configuration:
// secrets, verifiers, AWS adapters, core and HTTP handler. main and the
// integration tests share it, so the tests exercise the real wiring.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/s3vend/s3vend/internal/revocation"
	"github.com/s3vend/s3vend/internal/usage"

	"github.com/s3vend/s3vend/lambda/internal/awsx"
	"github.com/s3vend/s3vend/lambda/internal/config"
	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/httpapi"
	"github.com/s3vend/s3vend/lambda/internal/metrics"
	"github.com/s3vend/s3vend/lambda/internal/vend"
	"github.com/s3vend/s3vend/lambda/internal/verify"
)

// Deps are the outside-world dependencies; zero values get defaults.
type Deps struct {
	AWS        aws.Config   // SDK configuration (region, endpoints, retryer)
	HTTPClient *http.Client // for OIDC discovery/JWKS and WeChat
	Logger     *slog.Logger
	Now        func() time.Time
	// OIDC overrides the OIDC verifiers' tuning (tests shorten intervals).
	OIDC verify.OIDCOptions
	// RetryAfter is advertised on 429/502/503 (default 1s).
	RetryAfter time.Duration
	// Metrics receives the EMF metric records (os.Stdout in Lambda); nil,
	// or an empty S3VEND_METRICS_STACK, records none.
	Metrics io.Writer
	// ShedWindow is how long developer-token calls are refused after Cognito
	// throttled one (default vend.DefaultShedWindow; negative: no window,
	// every request calls Cognito).
	ShedWindow time.Duration
	// SecretRefresh is how long a warm instance keeps the secret before
	// reading it again (default DefaultSecretRefresh; negative: never).
	SecretRefresh time.Duration
}

// New builds the HTTP handler. It reads the secret when a verifier needs it,
// then again at most once per Deps.SecretRefresh; ctx bounds the first read
// and ends background JWKS refreshes.
func New(ctx context.Context, cfg config.Config, d Deps) (*httpapi.Handler, error) {
	d = d.withDefaults(cfg)
	rec := metrics.New(d.Metrics, metrics.Options{Stack: cfg.MetricsStack, Providers: cfg.Verifiers.Names(), Now: d.Now})
	if rec != nil {
		d.AWS = awsx.WithLatency(d.AWS, rec.Upstream)
	}
	var secrets config.Secrets
	if cfg.NeedsSecrets() {
		var err error
		if secrets, err = startupSecrets(ctx, cfg, d); err != nil {
			return nil, err
		}
	}
	verifiers := Verifiers(ctx, cfg, secrets, d)
	if cfg.NeedsSecrets() {
		verifiers = withSecretRefresh(ctx, cfg, d, verifiers)
	}
	var posts vend.PostSigner
	if cfg.Bucket != "" {
		posts = awsx.NewS3Post(d.AWS)
	}
	svc := vend.New(vendConfig(cfg, d), verifiers, awsx.NewCognito(d.AWS), awsx.NewSTS(d.AWS), posts)
	return httpapi.New(svc, httpapi.Options{
		Timeout:    cfg.UpstreamTimeout,
		RetryAfter: d.RetryAfter,
		Logger:     d.Logger,
		Metrics:    rec,
	}), nil
}

// withDefaults fills the dependencies left unset: the default logger, the
// wall clock, and an HTTP client bounded by the upstream timeout.
func (d Deps) withDefaults(cfg config.Config) Deps {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.HTTPClient == nil {
		d.HTTPClient = &http.Client{Timeout: cfg.UpstreamTimeout}
	}
	return d
}

// startupSecrets reads the secret at start-up. Fields the verifiers need
// but the secret lacks are not fatal (the other verifiers keep working):
// they are logged as a warning, names only, never values.
func startupSecrets(ctx context.Context, cfg config.Config, d Deps) (config.Secrets, error) {
	secrets, err := LoadSecrets(ctx, cfg, d.AWS)
	if err != nil {
		return secrets, err
	}
	if missing := secrets.Missing(cfg.Verifiers); len(missing) > 0 {
		fields := make([]string, len(missing))
		names := make([]string, len(missing))
		for i, m := range missing {
			fields[i], names[i] = m.Field, m.Verifier
		}
		d.Logger.Warn("secret incomplete: verifiers unavailable (503) until the secret is set (it is re-read every few minutes)",
			"missing_secret_fields", fields, "verifiers", names)
	}
	return secrets, nil
}

// vendConfig is the core's configuration: the validated service
// configuration, the clock, the shed window and abuse control.
func vendConfig(cfg config.Config, d Deps) vend.Config {
	return vend.Config{
		IdentityPoolID:     cfg.IdentityPoolID,
		DeveloperProvider:  cfg.DeveloperProvider,
		Region:             cfg.Region,
		LoginKey:           cfg.LoginKey(),
		AuthRoleARN:        cfg.AuthRoleARN,
		UnauthRoleARN:      cfg.UnauthRoleARN,
		GuestsEnabled:      cfg.GuestsEnabled,
		BasicFlow:          cfg.BasicFlow,
		TokenDuration:      cfg.TokenDuration,
		CredentialLifetime: cfg.CredentialLifetime,
		SessionPolicy:      cfg.SessionPolicy,
		Upload:             vend.UploadConfig{Bucket: cfg.Bucket, Limits: cfg.Upload, Rules: cfg.UploadRules},
		Now:                d.Now,
		Cache:              cfg.Cache,
		ShedWindow:         cmp.Or(d.ShedWindow, vend.DefaultShedWindow),
		Abuse:              abuseConfig(cfg, d),
		FillTimeout:        cfg.UpstreamTimeout,
		SessionTags:        cfg.SessionTags,
	}
}

// abuseConfig wires the revocation view and the usage table
// (docs/abuse-control.md) from the configuration's table names.
func abuseConfig(cfg config.Config, d Deps) vend.AbuseConfig {
	var a vend.AbuseConfig
	if cfg.RevocationsTable == "" && cfg.UsageTable == "" {
		return a
	}
	db := dynamodb.NewFromConfig(d.AWS)
	if cfg.RevocationsTable != "" {
		a.Admission = revocation.NewView(&revocation.Store{DB: db, Table: cfg.RevocationsTable},
			revocation.ViewOptions{Refresh: cfg.RevocationRefresh, Now: d.Now})
	}
	if cfg.UsageTable != "" {
		a.Usage, a.Quota = &usage.Store{DB: db, Table: cfg.UsageTable, Now: d.Now}, cfg.Quota
	}
	return a
}

// Verifiers builds the configured verifiers. A wechat or hs256 verifier whose
// secret field is empty becomes a verify.Unavailable of the same name.
func Verifiers(ctx context.Context, cfg config.Config, s config.Secrets, d Deps) []verify.Verifier {
	var out []verify.Verifier
	for _, o := range cfg.Verifiers.OIDC {
		opts := d.OIDC
		if opts.HTTPClient == nil {
			opts.HTTPClient = d.HTTPClient
		}
		if opts.FetchTimeout <= 0 {
			opts.FetchTimeout = min(cfg.UpstreamTimeout/2, 3*time.Second)
		}
		if opts.Now == nil {
			opts.Now = d.Now
		}
		if opts.Logger == nil {
			opts.Logger = d.Logger
		}
		opts.AllowLoopbackHTTP = !cfg.InLambda
		out = append(out, verify.NewOIDC(ctx, o, opts))
	}
	// A verifier whose secret field is still empty answers 503 instead.
	if w := cfg.Verifiers.WeChat; w != nil {
		if s.WeChatAppSecret == "" {
			out = append(out, verify.NewUnavailable(w.Name, "secret lacks "+config.SecretFieldWeChat))
		} else {
			out = append(out, verify.NewWeChat(*w, s.WeChatAppSecret, d.HTTPClient))
		}
	}
	if h := cfg.Verifiers.HS256; h != nil {
		if s.HS256Key == "" {
			out = append(out, verify.NewUnavailable(h.Name, "secret lacks "+config.SecretFieldHS256))
		} else {
			out = append(out, verify.NewHS256Keys(*h, s.HS256Keys(), d.Now))
		}
	}
	return out
}

// LoadSecrets reads the secret document from Secrets Manager, or in local
// mode from S3VEND_SECRETS_FILE (config refuses that file inside Lambda).
func LoadSecrets(ctx context.Context, cfg config.Config, awsCfg aws.Config) (config.Secrets, error) {
	var raw []byte
	switch {
	case cfg.SecretARN != "":
		ctx, cancel := context.WithTimeout(ctx, cfg.UpstreamTimeout)
		defer cancel()
		b, err := awsx.LoadSecret(ctx, awsCfg, cfg.SecretARN)
		if err != nil {
			return config.Secrets{}, fmt.Errorf("%s: %s", config.EnvSecretARN, fault.Describe(err))
		}
		raw = b
	case cfg.SecretsFile != "" && !cfg.InLambda:
		b, err := os.ReadFile(cfg.SecretsFile)
		if err != nil {
			return config.Secrets{}, fmt.Errorf("%s: cannot read the file", config.EnvSecretsFile)
		}
		raw = b
	default:
		return config.Secrets{}, errors.New("no secret source configured: " + config.SecretSourceHelp)
	}
	s, err := config.ParseSecrets(raw, cfg.Verifiers)
	if err != nil {
		return config.Secrets{}, fmt.Errorf("secret: %w", err)
	}
	return s, nil
}
