package vend

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/lambda/internal/fault"
)

// The reuse cache. Cognito's account-wide quotas (50 requests per second
// for GetOpenIdTokenForDeveloperIdentity by default), not the vendor's CPU,
// bound how many logins a deployment serves; most of those logins are the
// same users opening the app again while their last token is still valid.
//
// What is cached, per Lambda instance, keyed by the kind, the namespaced
// verified user id (UserID(provider, sub)) and the session tags the
// verification produced (contract.TagSetKey), and nothing else:
//
//	kindToken        GetOpenIdTokenForDeveloperIdentity's identity id and token
//	kindCredentials  basic-flow credentials (AssumeRoleWithWebIdentity on the
//	                 authenticated role with the session policy): /v1/credentials,
//	                 and /v1/session when the pool allows the basic flow
//	kindIdentity     the identity's own credentials from GetCredentialsForIdentity
//	                 (enhanced flow): they sign upload forms (each form is still
//	                 signed per request), and /v1/session answers them when the
//	                 pool does not allow the basic flow
//
// The pool, developer provider, token duration, roles and session policy
// are constant per instance (environment variables), so they need not be
// part of the key. The login is verified on every request before the cache
// is consulted: a hit only ever returns what the same verified user already
// received within its lifetime, never something of another user, and with
// its original expiry (expiresAt/expiration stay truthful). An entry is
// served only while it stays valid for at least MinRemaining; errors are
// never cached. A user disabled at the login provider can no longer pass
// verification; a token or credentials already handed out stay valid until
// they expire, cached or not.
//
// Guests are not cached: a guest is identified by the identity id it sends
// back, which is not a verified user, and the per-instance new-guest cap
// already bounds GetId.
type cacheKind uint8

const (
	kindToken cacheKind = iota + 1
	kindCredentials
	kindIdentity
)

type cacheKey struct {
	kind cacheKind
	user string // UserID(provider, verified id): printable ASCII
	tags string // contract.TagSetKey of the session tags
}

type cacheEntry struct {
	it      IdentityToken
	expires time.Time      // the token's expiry (kindToken)
	creds   AWSCredentials // kindCredentials, kindIdentity
}

// reuse is the cache and the single-flight group that makes concurrent
// misses for one key share one upstream call.
type reuse struct {
	entries      *lru.Cache[cacheKey, cacheEntry]
	minRemaining time.Duration
	group        singleflight.Group
}

func newReuse(c contract.CacheSettings) *reuse {
	if c.Disabled {
		return nil
	}
	c, err := c.Normalize()
	if err != nil { // config validated it; fall back to the defaults
		c, _ = contract.CacheSettings{}.Normalize()
	}
	entries, _ := lru.New[cacheKey, cacheEntry](c.MaxEntries) // errors only for size <= 0
	return &reuse{entries: entries, minRemaining: c.MinRemaining}
}

// get returns the entry for k if it stays valid for at least minRemaining
// (plus extra) after now; an entry that does not is dropped.
func (r *reuse) get(k cacheKey, now time.Time, extra time.Duration) (cacheEntry, bool) {
	e, ok := r.entries.Get(k)
	if !ok {
		return cacheEntry{}, false
	}
	if e.expiry(k.kind).Sub(now) < r.minRemaining+extra {
		r.entries.Remove(k)
		return cacheEntry{}, false
	}
	return e, true
}

func (e cacheEntry) expiry(k cacheKind) time.Time {
	if k == kindToken {
		return e.expires
	}
	return e.creds.Expiration
}

// cached serves k from the cache or calls fill once for all concurrent
// callers of k, storing a successful result that is worth reusing. hit
// reports whether the value came from the cache (or from a call another
// request made), that is, whether this request cost no AWS call.
func (s *Service) cached(ctx context.Context, k cacheKey, extra time.Duration, fill func(context.Context) (cacheEntry, error)) (e cacheEntry, hit bool, err error) {
	r := s.reuse
	if r == nil {
		e, err = fill(ctx)
		return e, false, err
	}
	if e, ok := r.get(k, s.cfg.Now(), extra); ok {
		return e, true, nil
	}
	var filled atomic.Bool
	// The shared call serves every caller that joins it, so it must not
	// run under the first caller's context: that caller's cancellation (a
	// client that went away, its own deadline) would fail the others. It
	// runs detached (context.WithoutCancel keeps the values, such as the
	// request's logger, and drops cancellation and deadline) with a deadline
	// of its own, and each caller waits for it only as long as its own
	// context allows.
	ch := r.group.DoChan(string(rune('0'+k.kind))+k.user+"\x00"+k.tags, func() (any, error) {
		fillCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.FillTimeout)
		defer cancel()
		e, err := fill(fillCtx)
		if err != nil {
			return cacheEntry{}, err
		}
		filled.Store(true)
		if e.expiry(k.kind).Sub(s.cfg.Now()) >= r.minRemaining+extra {
			r.entries.Add(k, e)
		}
		return e, nil
	})
	select {
	case <-ctx.Done():
		return cacheEntry{}, false, fault.New(fault.ErrTimeout, "waiting for a shared upstream call", ctx.Err())
	case res := <-ch:
		if res.Err != nil {
			return cacheEntry{}, false, res.Err
		}
		return res.Val.(cacheEntry), res.Shared && !filled.Load(), nil
	}
}

// CacheLen is the number of entries in the reuse cache (0 when it is off).
func (s *Service) CacheLen() int {
	if s.reuse == nil {
		return 0
	}
	return s.reuse.entries.Len()
}

// DefaultShedWindow is how long an instance refuses new
// GetOpenIdTokenForDeveloperIdentity calls after Cognito throttled one
// (cache hits are still served). A throttle means the account's per-second
// budget is spent; calling on regardless multiplies the calls Cognito
// refuses (the load model without a window: 247 calls/s against a 50 RPS
// quota). A whole second (the advertised Retry-After) also refuses misses
// the refilling bucket would have served: with the cache off, 62 instead
// of 74 successful vends/s. 250 ms kept every successful vend of the
// no-window run (74/s) at 77 calls/s (docs/quotas-and-cache.md#shedding).
const DefaultShedWindow = 250 * time.Millisecond

// shedder remembers until when developer-token calls are refused. It runs on
// the wall clock (monotonic), not Config.Now: Cognito's quota is per real
// second.
type shedder struct {
	window time.Duration
	epoch  time.Time    // monotonic reference
	until  atomic.Int64 // nanoseconds since epoch
}

func newShedder(window time.Duration) *shedder { return &shedder{window: window, epoch: time.Now()} }

func (sh *shedder) shedding() bool {
	return int64(time.Since(sh.epoch)) < sh.until.Load()
}

// observe starts a shedding window when err is a throttle.
func (sh *shedder) observe(err error) {
	if errors.Is(err, fault.ErrThrottled) {
		sh.until.Store(int64(time.Since(sh.epoch) + sh.window))
	}
}
