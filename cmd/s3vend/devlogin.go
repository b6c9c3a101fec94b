package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/s3vend/s3vend/client/devlogin"
)

type devLoginFlags struct {
	secretsFile, keyEnv       string
	issuer, audience, subject string
	tenantClaim, tenant       string
	ttl                       time.Duration
}

func newDevLoginFlags(f *devLoginFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("dev-login", flag.ContinueOnError)
	fs.StringVar(&f.secretsFile, "secrets-file", os.Getenv("S3VEND_SECRETS_FILE"), "verifier secret `file` {\"hs256Key\": ...} (the vendor's local S3VEND_SECRETS_FILE) [$S3VEND_SECRETS_FILE]")
	fs.StringVar(&f.keyEnv, "key-env", "", "name of the environment `variable` holding the hs256Key (wins over --secrets-file)")
	fs.StringVar(&f.issuer, "issuer", "", "`iss`: the hs256 verifier's issuer (required)")
	fs.StringVar(&f.audience, "audience", "", "`aud`: the hs256 verifier's audience (required)")
	fs.StringVar(&f.subject, "subject", "", "`sub`: the user id (required)")
	fs.StringVar(&f.tenantClaim, "tenant-claim", "", "`claim` the hs256 verifier's tenantClaim names (with --tenant)")
	fs.StringVar(&f.tenant, "tenant", "", "the user's `tenant`, the {tenant} of access rules (with --tenant-claim)")
	fs.DurationVar(&f.ttl, "ttl", 5*time.Minute, "lifetime; at most the verifier's maxTtlSeconds (default 300s)")
	return fs
}

func devLogin(args []string, stdout io.Writer) error {
	var f devLoginFlags
	if err := parseFlags(newDevLoginFlags(&f), args, stdout); err != nil {
		return err
	}
	key, err := f.key()
	if err != nil {
		return err
	}
	jwt, err := devlogin.Mint(key, devlogin.Claims{Issuer: f.issuer, Audience: f.audience, Subject: f.subject, TTL: f.ttl,
		TenantClaim: f.tenantClaim, Tenant: f.tenant})
	if err != nil {
		return &usageError{"dev-login: " + err.Error()}
	}
	_, err = fmt.Fprintln(stdout, jwt)
	return err
}

func (f *devLoginFlags) key() ([]byte, error) {
	switch {
	case f.keyEnv != "": // wins over a --secrets-file defaulted from $S3VEND_SECRETS_FILE
		k := os.Getenv(f.keyEnv)
		if k == "" {
			return nil, usageErrorf("dev-login: $%s is empty", f.keyEnv)
		}
		return []byte(k), nil
	case f.secretsFile != "":
		data, err := os.ReadFile(f.secretsFile)
		if err != nil {
			return nil, fmt.Errorf("dev-login: %w", err)
		}
		var doc struct {
			HS256Key string `json:"hs256Key"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("dev-login: %s is not the verifier secret JSON: %w", f.secretsFile, err)
		}
		if doc.HS256Key == "" {
			return nil, fmt.Errorf("dev-login: %s has no hs256Key", f.secretsFile)
		}
		return []byte(doc.HS256Key), nil
	}
	return nil, usageErrorf("dev-login: set --secrets-file or --key-env")
}
