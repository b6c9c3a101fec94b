// Package awsx adapts the aws-sdk-go-v2 Cognito Identity, STS and Secrets
// Manager clients to the core's interfaces and classifies their errors into
// fault kinds without carrying upstream error text.
package awsx

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/vend"
)

// Options tune the SDK configuration.
type Options struct {
	Region      string
	MaxAttempts int           // standard retryer attempts, including the first (default 3)
	MaxBackoff  time.Duration // cap of the jittered exponential backoff (default 1s)
	HTTPClient  aws.HTTPClient
	Credentials aws.CredentialsProvider // default: the SDK's default chain
}

// LoadConfig builds an aws.Config from the environment (including the
// standard AWS_ENDPOINT_URL_* overrides) with a bounded standard retryer.
func LoadConfig(ctx context.Context, o Options) (aws.Config, error) {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
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
			})
		}),
	}
	if o.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(o.HTTPClient))
	}
	if o.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(o.Credentials))
	}
	return config.LoadDefaultConfig(ctx, opts...)
}

// cognitoAPI is the slice of *cognitoidentity.Client that Cognito uses.
type cognitoAPI interface {
	GetOpenIdTokenForDeveloperIdentity(context.Context, *cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput, ...func(*cognitoidentity.Options)) (*cognitoidentity.GetOpenIdTokenForDeveloperIdentityOutput, error)
	GetId(context.Context, *cognitoidentity.GetIdInput, ...func(*cognitoidentity.Options)) (*cognitoidentity.GetIdOutput, error)
	GetOpenIdToken(context.Context, *cognitoidentity.GetOpenIdTokenInput, ...func(*cognitoidentity.Options)) (*cognitoidentity.GetOpenIdTokenOutput, error)
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
)

// Cognito implements vend.Cognito.
type Cognito struct{ api cognitoAPI }

// NewCognito wraps a Cognito Identity client built from cfg.
func NewCognito(cfg aws.Config) *Cognito { return &Cognito{api: cognitoidentity.NewFromConfig(cfg)} }

// DeveloperToken implements vend.Cognito.
func (c *Cognito) DeveloperToken(ctx context.Context, in vend.DeveloperLogin) (vend.IdentityToken, error) {
	out, err := c.api.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: aws.String(in.IdentityPoolID),
		Logins:         map[string]string{in.DeveloperProvider: in.UserID},
		TokenDuration:  aws.Int64(int64(in.TokenDuration / time.Second)),
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

func identityToken(op string, id, token *string) (vend.IdentityToken, error) {
	if aws.ToString(id) == "" || aws.ToString(token) == "" {
		return vend.IdentityToken{}, fault.New(fault.ErrUpstream, op+": empty response", nil)
	}
	return vend.IdentityToken{IdentityID: *id, Token: *token}, nil
}

// STS implements vend.STS.
type STS struct{ api stsAPI }

// NewSTS wraps an STS client built from cfg.
func NewSTS(cfg aws.Config) *STS { return &STS{api: sts.NewFromConfig(cfg)} }

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
	if c == nil || aws.ToString(c.AccessKeyId) == "" || aws.ToString(c.SecretAccessKey) == "" ||
		aws.ToString(c.SessionToken) == "" || c.Expiration == nil {
		return vend.AWSCredentials{}, fault.New(fault.ErrUpstream, "AssumeRoleWithWebIdentity: empty response", nil)
	}
	return vend.AWSCredentials{
		AccessKeyID:     *c.AccessKeyId,
		SecretAccessKey: *c.SecretAccessKey,
		SessionToken:    *c.SessionToken,
		Expiration:      *c.Expiration,
	}, nil
}

// LoadSecret reads the SecretString of arn once (at cold start).
func LoadSecret(ctx context.Context, cfg aws.Config, arn string) ([]byte, error) {
	return loadSecret(ctx, secretsmanager.NewFromConfig(cfg), arn)
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
// operation name and the AWS error code, never the upstream message.
func classify(ctx context.Context, op string, err error) error {
	code := ""
	var ae smithy.APIError
	if errors.As(err, &ae) && codeRE.MatchString(ae.ErrorCode()) {
		code = ae.ErrorCode()
	}
	reason := op
	if code != "" {
		reason += ": " + code
	}
	if _, ok := retry.DefaultThrottleErrorCodes[code]; ok {
		return fault.New(fault.ErrThrottled, reason, err)
	}
	var te interface{ Timeout() bool }
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		(errors.As(err, &te) && te.Timeout()) {
		return fault.New(fault.ErrTimeout, op+": timeout", err)
	}
	switch code {
	case "NotAuthorizedException", "ResourceNotFoundException":
		return fault.New(fault.ErrUpstream, reason, errors.Join(fault.ErrIdentityRejected, err))
	}
	return fault.New(fault.ErrUpstream, reason, err)
}
