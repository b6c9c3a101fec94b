// Package vendorenv runs the token vendor's own start-up checks for code
// outside lambda/ (lambda/internal is importable only from here down): the
// CDK tests feed every synthesized function environment and verifier secret
// through them, so a stack that would deploy a vendor that cannot start
// fails `make test` (test/drift_test.go).
package vendorenv

import (
	"fmt"
	"time"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/lambda/internal/config"
)

// Loaded is what the vendor would run with.
type Loaded struct {
	Verifiers       contract.Verifiers
	UpstreamTimeout time.Duration
	NeedsSecret     bool
	SecretARN       string
}

// Load runs the vendor's configuration loader (internal/config.FromEnv, as
// main does at cold start) on getenv.
func Load(getenv func(string) string) (Loaded, error) {
	c, err := config.FromEnv(getenv)
	if err != nil {
		return Loaded{}, err
	}
	return Loaded{
		Verifiers: c.Verifiers, UpstreamTimeout: c.UpstreamTimeout,
		NeedsSecret: c.NeedsSecrets(), SecretARN: c.SecretARN,
	}, nil
}

// CheckSecret runs the vendor's secret parser on a SecretString for the
// verifiers v, and reports the verifiers that would answer 503 for want of
// a field (the WeChat app secret is filled in by hand after deploy).
func CheckSecret(secretString []byte, v contract.Verifiers) (missing []string, err error) {
	s, err := config.ParseSecrets(secretString, v)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	for _, m := range s.Missing(v) {
		missing = append(missing, m.Field)
	}
	return missing, nil
}
