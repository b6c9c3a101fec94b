package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/s3vend/s3vend/client"
	"github.com/s3vend/s3vend/client/devlogin"
	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/smoke"
)

type smokeFlags struct {
	outputs, stack, cdkJSON      string
	provider, command            string
	secretsFile, keyEnv, subject string
	publicKey                    string
	pathStyle                    bool
	timeout, commandTimeout, ttl time.Duration
}

func newSmokeFlags(f *smokeFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("smoke", flag.ContinueOnError)
	fs.StringVar(&f.stack, "stack", os.Getenv(envStack), "`stack` to check, e.g. S3Vend-dev (required) [$"+envStack+"]")
	fs.StringVar(&f.outputs, "outputs", os.Getenv(envOutputs), "`file` written by cdk deploy --outputs-file; empty reads the stack's outputs with CloudFormation DescribeStacks (AWS credentials and region from the default chain) [$"+envOutputs+"]")
	fs.StringVar(&f.cdkJSON, "cdk-json", "cdk.json", "`file` whose context.s3vend.environments.<env>.verifiers name the hs256 verifier (issuer, audience)")
	fs.StringVar(&f.provider, "provider", os.Getenv(envProvider), "login `provider` for --credential-command (a verifier's name) [$"+envProvider+"]")
	fs.StringVar(&f.command, "credential-command", os.Getenv(envCredentialCommand), "`command` run with /bin/sh -c for each login; $S3VEND_SMOKE_USER is a, b or c (different users; with a {tenant} access rule a and b share a tenant and c has another); its stdout is a fresh credential (ID token, wx.login code) [$"+envCredentialCommand+"]")
	fs.StringVar(&f.secretsFile, "secrets-file", os.Getenv("S3VEND_SECRETS_FILE"), "verifier secret `file` {\"hs256Key\": ...} instead of reading the VerifierSecretArn output from Secrets Manager [$S3VEND_SECRETS_FILE]")
	fs.StringVar(&f.keyEnv, "key-env", "", "name of the environment `variable` holding the hs256Key (wins over --secrets-file)")
	fs.StringVar(&f.subject, "subject", "s3vend-smoke", "hs256 `sub` prefix of the two test users (<prefix>-a, <prefix>-b)")
	fs.StringVar(&f.publicKey, "public-key", "", "an existing public/ object `key` for the anonymous and guest reads (default: the first key listed under public/)")
	fs.BoolVar(&f.pathStyle, "path-style", os.Getenv("S3VEND_S3_PATH_STYLE") == "true", "path-style S3 addressing (local stand-ins) [$S3VEND_S3_PATH_STYLE=true]")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Minute, "time limit of the whole check")
	fs.DurationVar(&f.commandTimeout, "credential-timeout", 30*time.Second, "time limit of each --credential-command run")
	fs.DurationVar(&f.ttl, "ttl", 0, "hs256 login lifetime; 0 is the verifier's maxTtlSeconds")
	return fs
}

// smokeFailedError: the checks ran and at least one failed (exit 1).
type smokeFailedError struct{ failed, total int }

func (e *smokeFailedError) Error() string {
	return fmt.Sprintf("smoke: %d of %d checks failed (see the table)", e.failed, e.total)
}

// missingInputError is a missing input of the smoke check (exit 2, like a
// usage error): the line says what is missing and how to get it.
type missingInputError struct{ msg string }

func (e *missingInputError) Error() string { return e.msg }

func setupErrorf(format string, a ...any) error {
	return &missingInputError{fmt.Sprintf(format, a...)}
}

func smokeCmd(ctx context.Context, args []string, stdout io.Writer) error {
	var f smokeFlags
	if err := parseFlags(newSmokeFlags(&f), args, stdout); err != nil {
		return err
	}
	if f.stack == "" {
		return usageErrorf("smoke: --stack is required, e.g. --stack S3Vend-dev (make smoke STACK=S3Vend-dev [OUTPUTS=file])")
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	out, err := f.loadOutputs(ctx)
	if err != nil {
		return err
	}
	for _, k := range []string{"Region", "BucketName", "TokenEndpoint"} {
		if out.All[k] == "" {
			return setupErrorf("smoke: stack %s has no %s output: deploy the current s3vend version (make deploy STACK=%s)", f.stack, k, f.stack)
		}
	}
	login, err := f.login(ctx, out)
	if err != nil {
		return err
	}
	rs := smoke.Run(ctx, smoke.Config{Outputs: out, Login: login, PathStyle: f.pathStyle, PublicKey: f.publicKey})
	fmt.Fprintf(stdout, "s3vend smoke: %s (%s, bucket %s)\n", f.stack, out.Region, out.BucketName)
	fmt.Fprint(stdout, smoke.Table(rs))
	if n := smoke.Failed(rs); n > 0 {
		return &smokeFailedError{n, len(rs)}
	}
	fmt.Fprintf(stdout, "all %d checks passed or skipped\n", len(rs))
	return nil
}

// loadOutputs reads the outputs file, or DescribeStacks.
func (f *smokeFlags) loadOutputs(ctx context.Context) (client.Outputs, error) {
	if f.outputs != "" {
		o, err := client.LoadOutputs(f.outputs, f.stack)
		if errors.Is(err, os.ErrNotExist) {
			return o, setupErrorf("smoke: outputs file %s does not exist: write it with make deploy (cdk deploy --outputs-file), or leave OUTPUTS empty to ask CloudFormation", f.outputs)
		}
		if err != nil {
			return o, setupErrorf("smoke: %v", err)
		}
		return o, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return client.Outputs{}, setupErrorf("smoke: AWS configuration: %v", err)
	}
	if cfg.Region == "" {
		return client.Outputs{}, setupErrorf("smoke: no AWS region to find stack %s in: set AWS_REGION (or AWS_PROFILE with a region), or pass --outputs <cdk deploy --outputs-file file>", f.stack)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return client.Outputs{}, setupErrorf("smoke: no AWS credentials to read stack %s with CloudFormation DescribeStacks: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or pass --outputs <cdk deploy --outputs-file file>", f.stack)
	}
	res, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: &f.stack})
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "ValidationError" {
		// CloudFormation answers a missing stack with ValidationError
		// "Stack with id <name> does not exist".
		return client.Outputs{}, setupErrorf("smoke: stack %s not found in %s (CloudFormation: %s): deploy it (make deploy STACK=%s) or set AWS_REGION to its region", f.stack, cfg.Region, oneLine(api.ErrorMessage()), f.stack)
	}
	if err != nil {
		return client.Outputs{}, fmt.Errorf("smoke: CloudFormation DescribeStacks %s: %s", f.stack, errorCode(err))
	}
	if len(res.Stacks) != 1 {
		return client.Outputs{}, setupErrorf("smoke: stack %s not found in %s", f.stack, cfg.Region)
	}
	all := map[string]string{}
	for _, o := range res.Stacks[0].Outputs {
		all[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	o, err := client.OutputsFrom(f.stack, all)
	if err != nil {
		return client.Outputs{}, setupErrorf("smoke: CloudFormation DescribeStacks: %v", err)
	}
	return o, nil
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return oneLine(err.Error())
}

// login returns the two test users' logins: --credential-command, or hs256
// assertions signed with the verifier secret's key.
func (f *smokeFlags) login(ctx context.Context, out client.Outputs) (smoke.LoginFor, error) {
	if f.command != "" {
		if f.provider == "" {
			return nil, usageErrorf("smoke: --credential-command needs --provider (the name of the verifier its credential is for)")
		}
		return func(user string) client.LoginFunc {
			return func(ctx context.Context) (string, string, error) {
				cred, err := runCredentialCommand(ctx, f.command, f.commandTimeout, "S3VEND_SMOKE_USER="+user)
				return f.provider, cred, err
			}
		}, nil
	}
	h, err := f.hs256Verifier()
	if err != nil {
		return nil, err
	}
	key, err := f.hs256Key(ctx, out)
	if err != nil {
		return nil, err
	}
	ttl := f.ttl
	if ttl <= 0 {
		ttl = h.MaxTTL()
		if ttl <= 0 {
			ttl = contract.DefaultHS256MaxTTL
		}
	}
	return func(user string) client.LoginFunc {
		return func(context.Context) (string, string, error) {
			c := devlogin.Claims{Issuer: h.Issuer, Audience: h.Audience, Subject: f.subject + "-" + user, TTL: ttl}
			if h.TenantClaim != "" {
				// Users a and b share a tenant, c has another (smoke.LoginFor).
				c.TenantClaim, c.Tenant = h.TenantClaim, f.subject+"-tenant-1"
				if user == "c" {
					c.Tenant = f.subject + "-tenant-2"
				}
			}
			jwt, err := devlogin.Mint(key, c)
			return h.Name, jwt, err
		}
	}, nil
}

// hs256Verifier reads the stack's hs256 verifier from cdk.json.
func (f *smokeFlags) hs256Verifier() (*contract.HS256, error) {
	env := strings.TrimPrefix(f.stack, "S3Vend-")
	data, err := os.ReadFile(f.cdkJSON)
	if err != nil {
		return nil, setupErrorf("smoke: no login: %s not readable (%v); run in the s3vend checkout (or --cdk-json), or pass --provider and --credential-command", f.cdkJSON, errors.Unwrap(err))
	}
	var doc struct {
		Context struct {
			S3vend struct {
				Environments map[string]struct {
					Verifiers *contract.Verifiers `json:"verifiers"`
				} `json:"environments"`
			} `json:"s3vend"`
		} `json:"context"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, setupErrorf("smoke: %s: %v", f.cdkJSON, err)
	}
	e, ok := doc.Context.S3vend.Environments[env]
	if !ok {
		return nil, setupErrorf("smoke: %s has no environment %q (context.s3vend.environments) for stack %s; pass --provider and --credential-command", f.cdkJSON, env, f.stack)
	}
	if e.Verifiers == nil || e.Verifiers.HS256 == nil {
		return nil, setupErrorf("smoke: environment %s has no hs256 verifier to mint test logins: pass --provider <verifier> and --credential-command '<prints a fresh login for user $S3VEND_SMOKE_USER>' (e.g. a wx.login code, an ID token)", env)
	}
	return e.Verifiers.HS256, nil
}

// hs256Key: --key-env, --secrets-file, or the VerifierSecretArn output
// read from Secrets Manager with the default credential chain.
func (f *smokeFlags) hs256Key(ctx context.Context, out client.Outputs) ([]byte, error) {
	d := devLoginFlags{secretsFile: f.secretsFile, keyEnv: f.keyEnv}
	if f.keyEnv != "" || f.secretsFile != "" {
		k, err := d.key()
		if err != nil {
			return nil, setupErrorf("smoke: hs256 key: %s", strings.TrimPrefix(err.Error(), "dev-login: "))
		}
		return k, nil
	}
	secretARN := out.All["VerifierSecretArn"]
	a, err := arn.Parse(secretARN)
	if err != nil {
		return nil, setupErrorf("smoke: stack %s has no VerifierSecretArn output (a Secrets Manager ARN) to read the hs256 key from: pass --secrets-file or --key-env", f.stack)
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(a.Region))
	if err != nil {
		return nil, setupErrorf("smoke: AWS configuration: %v", err)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return nil, setupErrorf("smoke: no AWS credentials to read the hs256 key (secretsmanager:GetSecretValue on the VerifierSecretArn output): set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or pass --secrets-file or --key-env")
	}
	res, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &secretARN})
	if err != nil {
		return nil, fmt.Errorf("smoke: Secrets Manager GetSecretValue of VerifierSecretArn: %s", errorCode(err))
	}
	var doc struct {
		HS256Key string `json:"hs256Key"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(res.SecretString)), &doc); err != nil || doc.HS256Key == "" {
		return nil, setupErrorf("smoke: the verifier secret has no hs256Key field: set it (see docs/configuration.md#the-verifier-secret) or pass --key-env")
	}
	return []byte(doc.HS256Key), nil
}
