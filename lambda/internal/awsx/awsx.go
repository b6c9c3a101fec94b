// Package awsx adapts the aws-sdk-go-v2 Cognito Identity, STS and Secrets
// Manager clients to the core's interfaces and classifies their errors into
// fault kinds without carrying upstream error text.
package awsx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/vend"
)

// Options tune the SDK configuration.
type Options struct {
	Region      string
	MaxAttempts int           // standard retryer attempts, including the first (default contract.DefaultMaxAttempts)
	MaxBackoff  time.Duration // cap of the jittered exponential backoff (default 1s)
	HTTPClient  aws.HTTPClient
	Credentials aws.CredentialsProvider // default: the SDK's default chain
}

// LoadConfig builds an aws.Config from the environment (including the
// standard AWS_ENDPOINT_URL_* overrides) with a bounded standard retryer.
func LoadConfig(ctx context.Context, o Options) (aws.Config, error) {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = contract.DefaultMaxAttempts
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Second
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(o.Region),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = o.MaxAttempts
				so.MaxBackoff = o.MaxBackoff
				// First, so it decides before the default list (IsErrorRetryables
				// takes the first answer that is not Unknown).
				so.Retryables = append([]retry.IsErrorRetryable{NoThrottleRetry}, so.Retryables...)
			})
		}),
	}
	if o.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(o.HTTPClient))
	}
	if o.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(o.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, err
	}
	return markCredentials(cfg), nil
}

// NoThrottleRetry refuses to retry a throttling error. The standard retryer
// retries them by default: aws-sdk-go-v2@v1.47.7 aws/retry/standard.go lists
// RetryableErrorCode{Codes: DefaultThrottleErrorCodes} (TooManyRequestsException,
// Throttling, ThrottlingException, ...) in DefaultRetryables, with jittered
// exponential backoff and a per-client retry token bucket (500 tokens, 5 per
// retry). Cognito Identity's quotas are account-wide requests per second:
// retrying inside the same request only spends more of the quota that is
// already exhausted and holds the Lambda instance for the backoff. The vendor
// answers 503 upstream_throttled with Retry-After at once instead, and the
// client retries after it (client/ honours Retry-After). Other errors keep
// the bounded standard retries (S3VEND_MAX_ATTEMPTS).
var NoThrottleRetry = retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		if _, ok := retry.DefaultThrottleErrorCodes[ae.ErrorCode()]; ok {
			return aws.FalseTernary
		}
	}
	return aws.UnknownTernary
})

// markCredentials returns cfg with its credentials provider wrapped so that a
// failure to retrieve credentials is a *credentialsError, which classify
// reports as "no AWS credentials". The SDK does not type this failure: a
// client's GetIdentity middleware returns fmt.Errorf("get identity: %w", err)
// (service/cognitoidentity@v1.34.0 auth.go), aws.CredentialsCache adds
// fmt.Errorf("failed to refresh cached credentials, %w", err)
// (aws-sdk-go-v2@v1.47.7 aws/credential_cache.go), and the inner error of the
// default chain's last resort, the EC2 IMDS provider, is itself a network
// error (credentials/ec2rolecreds "no EC2 IMDS role found, %w") that would
// otherwise read as "connection refused" or "timeout" of the AWS call.
// Idempotent; a nil provider (anonymous) stays nil.
func markCredentials(cfg aws.Config) aws.Config {
	if cfg.Credentials == nil {
		return cfg
	}
	if _, ok := cfg.Credentials.(markedCredentials); ok {
		return cfg
	}
	cfg.Credentials = markedCredentials{cfg.Credentials}
	return cfg
}

// markedCredentials wraps a provider (normally the SDK's *aws.CredentialsCache,
// which keeps caching) and types its failures.
type markedCredentials struct{ p aws.CredentialsProvider }

// credentialsError is a failure of the credentials provider. Its text is the
// SDK's and is never logged (see fault.Error).
type credentialsError struct{ err error }

func (e *credentialsError) Error() string { return "retrieve AWS credentials: " + e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }

// Retrieve implements aws.CredentialsProvider.
func (m markedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := m.p.Retrieve(ctx)
	if err != nil {
		return c, &credentialsError{err}
	}
	return c, nil
}

// IsCredentialsProvider lets aws.IsCredentialsProvider see through the
// wrapper (service clients use it to detect aws.AnonymousCredentials).
func (m markedCredentials) IsCredentialsProvider(target aws.CredentialsProvider) bool {
	return aws.IsCredentialsProvider(m.p, target)
}

// ProviderSources passes the wrapped provider's sources on to the SDK's
// user-agent feature tracking (aws.CredentialProviderSource).
func (m markedCredentials) ProviderSources() []aws.CredentialSource {
	if s, ok := m.p.(aws.CredentialProviderSource); ok {
		return s.ProviderSources()
	}
	return nil
}

// cognitoAPI is the slice of *cognitoidentity.Client that Cognito uses.
type cognitoAPI interface {
	GetOpenIdTokenForDeveloperIdentity(context.Context, *cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput, ...func(*cognitoidentity.Options)) (*cognitoidentity.GetOpenIdTokenForDeveloperIdentityOutput, error)
	GetId(context.Context, *cognitoidentity.GetIdInput, ...func(*cognitoidentity.Options)) (*cognitoidentity.GetIdOutput, error)
	GetOpenIdToken(context.Context, *cognitoidentity.GetOpenIdTokenInput, ...func(*cognitoidentity.Options)) (*cognitoidentity.GetOpenIdTokenOutput, error)
	GetCredentialsForIdentity(context.Context, *cognitoidentity.GetCredentialsForIdentityInput, ...func(*cognitoidentity.Options)) (*cognitoidentity.GetCredentialsForIdentityOutput, error)
}

// stsAPI is the slice of *sts.Client that STS uses.
type stsAPI interface {
	AssumeRoleWithWebIdentity(context.Context, *sts.AssumeRoleWithWebIdentityInput, ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error)
}

// secretsAPI is the slice of *secretsmanager.Client that LoadSecret uses.
type secretsAPI interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var (
	_ cognitoAPI   = (*cognitoidentity.Client)(nil)
	_ stsAPI       = (*sts.Client)(nil)
	_ secretsAPI   = (*secretsmanager.Client)(nil)
	_ vend.Cognito = (*Cognito)(nil)
	_ vend.STS     = (*STS)(nil)

	_ vend.PostSigner = (*S3Post)(nil)
)

// Cognito implements vend.Cognito.
type Cognito struct{ api cognitoAPI }

// NewCognito wraps a Cognito Identity client built from cfg.
func NewCognito(cfg aws.Config) *Cognito {
	return &Cognito{api: cognitoidentity.NewFromConfig(markCredentials(cfg))}
}

// DeveloperToken implements vend.Cognito.
func (c *Cognito) DeveloperToken(ctx context.Context, in vend.DeveloperLogin) (vend.IdentityToken, error) {
	out, err := c.api.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: aws.String(in.IdentityPoolID),
		Logins:         map[string]string{in.DeveloperProvider: in.UserID},
		TokenDuration:  aws.Int64(int64(in.TokenDuration / time.Second)),
		PrincipalTags:  in.PrincipalTags,
	})
	if err != nil {
		return vend.IdentityToken{}, classify(ctx, "GetOpenIdTokenForDeveloperIdentity", err)
	}
	return identityToken("GetOpenIdTokenForDeveloperIdentity", out.IdentityId, out.Token)
}

// GetID implements vend.Cognito.
func (c *Cognito) GetID(ctx context.Context, poolID string) (string, error) {
	out, err := c.api.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(poolID)})
	if err != nil {
		return "", classify(ctx, "GetId", err)
	}
	if aws.ToString(out.IdentityId) == "" {
		return "", fault.New(fault.ErrUpstream, "GetId: empty response", nil)
	}
	return *out.IdentityId, nil
}

// OpenIDToken implements vend.Cognito.
func (c *Cognito) OpenIDToken(ctx context.Context, identityID string) (vend.IdentityToken, error) {
	out, err := c.api.GetOpenIdToken(ctx, &cognitoidentity.GetOpenIdTokenInput{IdentityId: aws.String(identityID)})
	if err != nil {
		return vend.IdentityToken{}, classify(ctx, "GetOpenIdToken", err)
	}
	return identityToken("GetOpenIdToken", out.IdentityId, out.Token)
}

// CredentialsForIdentity implements vend.Cognito (enhanced flow). "This is a
// public API. You do not need any credentials to call this API" (Cognito
// Identity API Reference, GetCredentialsForIdentity), and the SDK sends it
// unsigned (cognitoidentity auth.go: SchemeIDAnonymous for this operation),
// so the function role needs no permission for it.
func (c *Cognito) CredentialsForIdentity(ctx context.Context, identityID string, logins map[string]string) (vend.AWSCredentials, error) {
	out, err := c.api.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{
		IdentityId: aws.String(identityID),
		Logins:     logins,
	})
	if err != nil {
		return vend.AWSCredentials{}, classify(ctx, "GetCredentialsForIdentity", err)
	}
	cr := out.Credentials
	if cr == nil {
		return awsCredentials("GetCredentialsForIdentity", nil, nil, nil, nil)
	}
	return awsCredentials("GetCredentialsForIdentity", cr.AccessKeyId, cr.SecretKey, cr.SessionToken, cr.Expiration)
}

// awsCredentials are the credentials of op's answer; a missing part is an
// upstream error.
func awsCredentials(op string, keyID, secret, token *string, exp *time.Time) (vend.AWSCredentials, error) {
	if aws.ToString(keyID) == "" || aws.ToString(secret) == "" || aws.ToString(token) == "" || exp == nil {
		return vend.AWSCredentials{}, fault.New(fault.ErrUpstream, op+": empty response", nil)
	}
	return vend.AWSCredentials{AccessKeyID: *keyID, SecretAccessKey: *secret, SessionToken: *token, Expiration: *exp}, nil
}

func identityToken(op string, id, token *string) (vend.IdentityToken, error) {
	if aws.ToString(id) == "" || aws.ToString(token) == "" {
		return vend.IdentityToken{}, fault.New(fault.ErrUpstream, op+": empty response", nil)
	}
	return vend.IdentityToken{IdentityID: *id, Token: *token}, nil
}

// STS implements vend.STS.
type STS struct{ api stsAPI }

// NewSTS wraps an STS client built from cfg.
func NewSTS(cfg aws.Config) *STS { return &STS{api: sts.NewFromConfig(markCredentials(cfg))} }

// AssumeRoleWithWebIdentity implements vend.STS.
func (s *STS) AssumeRoleWithWebIdentity(ctx context.Context, in vend.AssumeInput) (vend.AWSCredentials, error) {
	req := &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          aws.String(in.RoleARN),
		RoleSessionName:  aws.String(in.SessionName),
		WebIdentityToken: aws.String(in.Token),
		DurationSeconds:  aws.Int32(int32(in.Duration / time.Second)),
	}
	if in.Policy != "" {
		req.Policy = aws.String(in.Policy)
	}
	out, err := s.api.AssumeRoleWithWebIdentity(ctx, req)
	if err != nil {
		return vend.AWSCredentials{}, classify(ctx, "AssumeRoleWithWebIdentity", err)
	}
	c := out.Credentials
	if c == nil {
		return awsCredentials("AssumeRoleWithWebIdentity", nil, nil, nil, nil)
	}
	return awsCredentials("AssumeRoleWithWebIdentity", c.AccessKeyId, c.SecretAccessKey, c.SessionToken, c.Expiration)
}

// S3Post implements vend.PostSigner with the SDK's presigned POST
// (s3.PresignClient.PresignPostObject): it resolves the bucket's regional
// (or China) endpoint, honours AWS_ENDPOINT_URL_S3, and adds the
// X-Amz-Algorithm, -Credential, -Date, -Security-Token and bucket conditions
// and the signature. It makes no network call.
type S3Post struct{ client *s3.Client }

// NewS3Post builds the S3 client once. With an endpoint override (local
// stand-ins at https://127.0.0.1:PORT) it uses path-style URLs, since the
// bucket cannot be a subdomain of an IP address.
func NewS3Post(cfg aws.Config) *S3Post {
	return &S3Post{client: s3.NewFromConfig(cfg, func(o *s3.Options) {
		if o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
	})}
}

// PresignPost implements vend.PostSigner: conditions exact key, exact
// Content-Type and content-length-range 1..in.MaxBytes, signed with creds.
func (p *S3Post) PresignPost(ctx context.Context, creds vend.AWSCredentials, in vend.PostInput) (vend.PresignedPost, error) {
	provider := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{
			AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken,
			CanExpire: true, Expires: creds.Expiration, Source: "GetCredentialsForIdentity",
		}, nil
	})
	// PresignPostOptions.ClientOptions is not applied by PresignPostObject
	// (s3 presign_post.go uses the presign client's), so set the caller's
	// credentials on a per-request presign client (a cheap options copy).
	pc := s3.NewPresignClient(p.client, func(o *s3.PresignOptions) {
		o.ClientOptions = append(o.ClientOptions, func(o *s3.Options) { o.Credentials = provider })
	})
	out, err := pc.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: aws.String(in.Bucket), Key: aws.String(in.Key)},
		func(o *s3.PresignPostOptions) {
			o.Expires = in.Expires
			o.Conditions = []any{
				[]any{"eq", "$key", in.Key},
				[]any{"eq", "$Content-Type", in.ContentType},
				[]any{"content-length-range", 1, in.MaxBytes},
			}
		})
	if err != nil {
		return vend.PresignedPost{}, fault.New(fault.ErrUpstream, "PresignPostObject: signing failed", err)
	}
	fields := make(map[string]string, len(out.Values)+1)
	for k, v := range out.Values {
		fields[k] = v
	}
	// Every form field but the file must be covered by a condition; this
	// one is, by the "eq $Content-Type" condition above.
	fields["Content-Type"] = in.ContentType
	return vend.PresignedPost{URL: out.URL, Fields: fields}, nil
}

// LoadSecret reads the SecretString of arn once (at cold start).
func LoadSecret(ctx context.Context, cfg aws.Config, arn string) ([]byte, error) {
	return loadSecret(ctx, secretsmanager.NewFromConfig(markCredentials(cfg)), arn)
}

func loadSecret(ctx context.Context, api secretsAPI, arn string) ([]byte, error) {
	out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return nil, classify(ctx, "GetSecretValue", err)
	}
	if out.SecretString == nil {
		return nil, fault.New(fault.ErrUpstream, "GetSecretValue: no SecretString", nil)
	}
	return []byte(*out.SecretString), nil
}

var codeRE = regexp.MustCompile(`^[A-Za-z0-9.]{1,64}$`)

// classify maps an SDK error to a fault kind. The reason carries only the
// operation name and a fixed text chosen here (or the AWS error code), never
// the upstream message, a URL or anything else from the error's text:
//
//	GetOpenIdTokenForDeveloperIdentity: TooManyRequestsException (throttled, 503)
//	GetOpenIdTokenForDeveloperIdentity: no AWS credentials       (502; "(timeout)" and 503 past the deadline)
//	GetOpenIdTokenForDeveloperIdentity: timeout                   (503)
//	GetOpenIdTokenForDeveloperIdentity: connection refused        (502)
//	GetOpenIdTokenForDeveloperIdentity: NotAuthorizedException    (502, identity rejected)
func classify(ctx context.Context, op string, err error) error {
	code := ""
	var ae smithy.APIError
	if errors.As(err, &ae) && codeRE.MatchString(ae.ErrorCode()) {
		code = ae.ErrorCode()
	}
	if _, ok := retry.DefaultThrottleErrorCodes[code]; ok {
		return fault.New(fault.ErrThrottled, op+": "+code, err)
	}
	timedOut := isTimeout(ctx, err)
	var ce *credentialsError
	switch {
	case errors.As(err, &ce) && timedOut:
		return fault.New(fault.ErrTimeout, op+": no AWS credentials (timeout)", err)
	case errors.As(err, &ce):
		return fault.New(fault.ErrUpstream, op+": no AWS credentials", err)
	case timedOut:
		return fault.New(fault.ErrTimeout, op+": timeout", err)
	}
	switch code {
	case "":
	case "NotAuthorizedException", "ResourceNotFoundException":
		return fault.New(fault.ErrUpstream, op+": "+code, errors.Join(fault.ErrIdentityRejected, err))
	default:
		return fault.New(fault.ErrUpstream, op+": "+code, err)
	}
	if r := networkReason(err); r != "" {
		return fault.New(fault.ErrUpstream, op+": "+r, err)
	}
	return fault.New(fault.ErrUpstream, op, err)
}

// isTimeout reports a deadline: the request's own (ctx) or a net/http
// timeout (url.Error and net.Error implement Timeout).
func isTimeout(ctx context.Context, err error) bool {
	var te interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		(errors.As(err, &te) && te.Timeout())
}

// networkReason names a transport failure. The SDK wraps the HTTP client's
// error in *smithyhttp.RequestSendError (smithy-go transport/http/client.go)
// and, after the last attempt, *retry.MaxAttemptsError; both unwrap to
// net/http's *url.Error and on to the net, tls or x509 error matched here.
func networkReason(err error) string {
	var (
		dnsErr     *net.DNSError
		verifyErr  *tls.CertificateVerificationError
		authErr    x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		recordErr  tls.RecordHeaderError
		alertErr   tls.AlertError
		opErr      *net.OpError
	)
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &dnsErr): // first: a resolver's own dial error may unwrap to a syscall error
		return "DNS lookup failed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &authErr):
		return "TLS certificate signed by unknown authority"
	case errors.As(err, &hostErr):
		return "TLS certificate not valid for the host"
	case errors.As(err, &verifyErr), errors.As(err, &invalidErr):
		return "TLS certificate not trusted"
	case errors.Is(err, http.ErrSchemeMismatch): // net/http's replacement of a tls.RecordHeaderError (client.go)
		return "TLS handshake failed (the server speaks plain HTTP)"
	case errors.As(err, &recordErr), errors.As(err, &alertErr):
		return "TLS handshake failed"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "network unreachable"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		// Closed while the request was still being written: the write fails
		// with EPIPE, or with net.ErrClosed once net/http's transport has
		// closed the connection on reading the server's EOF.
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return "connection closed by the server"
	case errors.As(err, &opErr):
		return "network error"
	}
	return ""
}

// WithLatency returns cfg with a middleware that reports the duration of
// every SDK operation (name and time from the start of the Initialize step to
// the result, so retries and backoff are included) to observe. It runs
// after the operation's own Initialize middlewares (middleware.After), since
// APIOptions are applied after them (smithy-go middleware stack, service
// client invokeOperation). The configuration is copied, never mutated.
func WithLatency(cfg aws.Config, observe func(operation string, d time.Duration)) aws.Config {
	cfg = cfg.Copy()
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), func(stack *middleware.Stack) error {
		op := stack.ID() // the operation name, e.g. "GetOpenIdTokenForDeveloperIdentity"
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("S3VendUpstreamLatency",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				start := time.Now()
				out, md, err := next.HandleInitialize(ctx, in)
				observe(op, time.Since(start))
				return out, md, err
			}), middleware.After)
	})
	return cfg
}
