package verify

import (
	"context"

	"github.com/s3vend/s3vend/lambda/internal/fault"
)

// Unavailable stands in for a configured verifier that cannot work yet,
// because the secret field it needs is still empty (the secret is completed
// by hand after the first deploy). It answers fault.ErrVerifierUnavailable
// without looking at the credential or calling anything.
type Unavailable struct {
	name   string
	reason string
}

var _ Verifier = (*Unavailable)(nil)

// NewUnavailable returns a verifier named name that always fails with
// fault.ErrVerifierUnavailable; reason must be fixed, log-safe text.
func NewUnavailable(name, reason string) *Unavailable {
	return &Unavailable{name: name, reason: reason}
}

// Name implements Verifier.
func (u *Unavailable) Name() string { return u.name }

// Verify implements Verifier.
func (u *Unavailable) Verify(context.Context, string) (Identity, error) {
	return Identity{}, fault.New(fault.ErrVerifierUnavailable, u.reason, nil)
}
