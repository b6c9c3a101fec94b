package vend

import (
	"context"
	"errors"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/revocation"
	"github.com/s3vend/s3vend/internal/usage"
	"github.com/s3vend/s3vend/lambda/internal/fault"
)

// Admission is the revocation check (revocation.View): nil error, or
// revocation.ErrRevoked, or revocation.ErrUnavailable.
type Admission interface {
	Check(ctx context.Context, user string, identityIDs ...string) error
}

// Usage is what the vendor reads and writes of the usage table (usage.Store).
type Usage interface {
	Usage(ctx context.Context, identityID string, consistent bool) (usage.Totals, error)
	Object(ctx context.Context, identityID, key string) (size int64, present bool, err error)
	// IdentityOf and Link are the login -> identity map the quota tag needs
	// before GetOpenIdTokenForDeveloperIdentity names the identity.
	IdentityOf(ctx context.Context, user string) (identityID string, ok bool, err error)
	Link(ctx context.Context, user, identityID string) error
}

// AbuseConfig is the core's slice of abuse control (docs/abuse-control.md).
type AbuseConfig struct {
	Admission Admission // nil: no revocation check
	Usage     Usage     // nil: no quota
	Quota     contract.UserQuota
}

// admit is the one revocation check every vend passes through: every route
// that verifies a login calls it from verifyUser with the verified user,
// before the reuse cache is consulted (so a cached entry of a revoked user
// is never served), and again with the identity id once it is known (a
// revocation by --identity, and guests). A route added later gets the
// check by verifying its login with verifyUser.
func (s *Service) admit(ctx context.Context, user string, identityIDs ...string) error {
	a := s.cfg.Abuse.Admission
	if a == nil {
		return nil
	}
	switch err := a.Check(ctx, user, identityIDs...); {
	case err == nil:
		return nil
	case errors.Is(err, revocation.ErrRevoked):
		return fault.New(fault.ErrRevoked, "the login or identity is revoked", nil)
	default:
		return fault.New(fault.ErrRevocationUnavailable, "the revocation table could not be read", err)
	}
}

// dropCached removes every reuse-cache entry of users (called when the
// revocation view learns of new revocations): nothing of theirs stays in
// memory to be served, even if a later check were skipped.
func (s *Service) dropCached(users []string) {
	if s.reuse == nil {
		return
	}
	revoked := make(map[string]bool, len(users))
	for _, u := range users {
		revoked[u] = true
	}
	// Entries are keyed by kind, user and tag set: one pass over the keys
	// (revocations are rare; the cache holds at most MaxCacheMaxEntries).
	for _, k := range s.reuse.entries.Keys() {
		if revoked[k.user] {
			s.reuse.entries.Remove(k)
		}
	}
}

// checkQuota refuses an upload form that would take identityID over the
// quota: the recorded totals, minus the object the form replaces (an
// overwrite replaces its size, it does not add), plus the declared size.
// The totals lag uploads by the metering delay (seconds): forms signed
// within that window can overshoot by at most their declared sizes.
func (s *Service) checkQuota(ctx context.Context, identityID, key string, size int64) error {
	q, u := s.cfg.Abuse.Quota, s.cfg.Abuse.Usage
	if u == nil || !q.Enabled() {
		return nil
	}
	t, err := u.Usage(ctx, identityID, false)
	if err != nil {
		return fault.New(fault.ErrUpstream, "usage table: GetItem", err)
	}
	oldSize, present, err := u.Object(ctx, identityID, key)
	if err != nil {
		return fault.New(fault.ErrUpstream, "usage table: GetItem", err)
	}
	bytes, objects := t.Bytes+size, t.Objects+1
	if present {
		bytes, objects = bytes-oldSize, objects-1
	}
	if (q.MaxBytes > 0 && bytes > q.MaxBytes) || (q.MaxObjects > 0 && objects > q.MaxObjects) {
		return fault.New(fault.ErrQuotaExceeded, "the upload would exceed the user quota", nil)
	}
	return nil
}

// quotaState is the TagQuota value of user's next token: QuotaOver when
// the identity the user had at their last vend is at or over the quota.
// The tag is set at token issue, so direct writes stop for a user over
// quota once the credentials they hold expire: at most the credential
// lifetime (basic flow) or the token lifetime plus Cognito's one hour
// (enhanced flow) after the metering function recorded the upload that
// crossed the limit (docs/abuse-control.md, "Direct writes"). A user whose
// identity is not known yet (first vend) stores nothing yet: under. A
// failed read is under too: the upload route and the next vend still
// check, and refusing every write because DynamoDB hiccupped would hurt
// every user.
func (s *Service) quotaState(ctx context.Context, user string) string {
	q, u := s.cfg.Abuse.Quota, s.cfg.Abuse.Usage
	if u == nil || !q.Enabled() {
		return contract.QuotaUnder
	}
	id, ok := s.linked.Get(user)
	if !ok {
		var err error
		if id, ok, err = u.IdentityOf(ctx, user); err != nil || !ok {
			return contract.QuotaUnder
		}
		s.linked.Add(user, id)
	}
	t, err := u.Usage(ctx, id, false)
	if err != nil || !t.Over(q) {
		return contract.QuotaUnder
	}
	return contract.QuotaOver
}

// link records user -> identityID once per instance (a write only when the
// instance has not seen the pair); best effort: a failed write is retried
// on the user's next vend.
func (s *Service) link(ctx context.Context, user, identityID string) {
	u := s.cfg.Abuse.Usage
	if u == nil || identityID == "" || !s.cfg.Abuse.Quota.Enabled() {
		return
	}
	if id, ok := s.linked.Get(user); ok && id == identityID {
		return
	}
	if err := u.Link(ctx, user, identityID); err == nil {
		s.linked.Add(user, identityID)
	}
}
