package revocation

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/s3vend/s3vend/contract"
)

// Errors of View.Check.
var (
	// ErrRevoked: the operator revoked this login or identity.
	ErrRevoked = errors.New("revoked")
	// ErrUnavailable: the table could not be read for longer than MaxStale
	// (or ever, on this instance): the vendor fails closed.
	ErrUnavailable = errors.New("revocation table unavailable")
)

// Source is what a View reads: Store, or a fake in unit tests.
type Source interface {
	Generation(ctx context.Context) (int64, error)
	List(ctx context.Context, all bool) ([]Record, error)
}

// ViewOptions configure NewView.
type ViewOptions struct {
	Refresh  time.Duration    // default contract.DefaultRevocationRefresh
	MaxStale time.Duration    // default contract.RevocationMaxStale
	Now      func() time.Time // default time.Now
	// Timeout bounds one refresh (the generation read and, when it
	// moved, the scan); default 3 s, inside the vendor's upstream deadline.
	Timeout time.Duration
}

// View is one vendor instance's copy of the revoked subjects.
//
// Staleness is bounded: a check uses the copy only while it was confirmed
// current (the generation read back unchanged, or the list re-read) less
// than Refresh ago; otherwise the check itself refreshes first, one
// refresh for all concurrent checks. In Lambda there is no background
// work between invocations, so refreshing on the request path is what
// makes the bound hold on every instance: a revocation is seen by every
// instance's next check after Refresh (plus the read). The price is one
// consistent GetItem per instance per Refresh on some request, and a Scan
// only when the generation moved.
//
// Fail closed, with a grace: when the table cannot be read, the last good
// copy serves for up to MaxStale (a short DynamoDB hiccup does not stop
// the app, and subjects revoked before it stay refused); past MaxStale, or
// on an instance that never read the table, every check fails with
// ErrUnavailable. Failing open would let a revoked user, whose identity
// the revocation unlinked, get a fresh identity that no IAM deny names.
type View struct {
	src      Source
	refresh  time.Duration
	maxStale time.Duration
	timeout  time.Duration
	now      func() time.Time

	mu         sync.RWMutex
	gen        int64
	loaded     bool
	confirmed  time.Time // when the copy was last known current
	users      map[string]bool
	identities map[string]bool
	group      singleflight.Group
	onRevoked  func(users []string) // called with newly revoked users after a reload
}

// NewView returns a view that has not read the table yet (its first check
// reads it).
func NewView(src Source, o ViewOptions) *View {
	if o.Refresh <= 0 {
		o.Refresh = contract.DefaultRevocationRefresh
	}
	if o.MaxStale <= 0 {
		o.MaxStale = contract.RevocationMaxStale
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	return &View{src: src, refresh: o.Refresh, maxStale: o.MaxStale, now: o.Now, timeout: o.Timeout}
}

// OnRevoked registers f, called after a reload with the users that became
// revoked (the vendor drops their cached entries).
func (v *View) OnRevoked(f func(users []string)) { v.onRevoked = f }

// Check returns nil, ErrRevoked when user (provider:sub) or any of
// identityIDs is revoked, or ErrUnavailable.
func (v *View) Check(ctx context.Context, user string, identityIDs ...string) error {
	if err := v.ensure(ctx); err != nil {
		return err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	if user != "" && v.users[user] {
		return ErrRevoked
	}
	for _, id := range identityIDs {
		if v.identities[id] {
			return ErrRevoked
		}
	}
	return nil
}

func (v *View) ensure(ctx context.Context) error {
	now := v.now()
	v.mu.RLock()
	fresh := v.loaded && now.Sub(v.confirmed) < v.refresh
	v.mu.RUnlock()
	if fresh {
		return nil
	}
	_, err, _ := v.group.Do("refresh", func() (any, error) {
		// A check that found the view stale while another flight was
		// finishing starts its own flight after that one: the view is
		// fresh again by then, and reading the table again would be waste.
		v.mu.RLock()
		fresh := v.loaded && v.now().Sub(v.confirmed) < v.refresh
		v.mu.RUnlock()
		if fresh {
			return nil, nil
		}
		// The refresh is shared by concurrent checks; it must not be cut
		// short because the first caller's request ended.
		return nil, v.reload(context.WithoutCancel(ctx), now)
	})
	if err == nil {
		return nil
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.loaded && now.Sub(v.confirmed) <= v.maxStale {
		return nil // the last good copy, within the grace
	}
	return ErrUnavailable
}

func (v *View) reload(ctx context.Context, now time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	gen, err := v.src.Generation(ctx)
	if err != nil {
		return err
	}
	v.mu.RLock()
	same := v.loaded && gen == v.gen
	v.mu.RUnlock()
	if same {
		v.mu.Lock()
		v.confirmed = now
		v.mu.Unlock()
		return nil
	}
	records, err := v.src.List(ctx, false)
	if err != nil {
		return err
	}
	users, ids := map[string]bool{}, map[string]bool{}
	for _, r := range records {
		if u := r.User(); u != "" {
			users[u] = true
		}
		if id, ok := strings.CutPrefix(r.Subject, IdentityPrefix); ok && id != "" {
			ids[id] = true
		}
		for _, id := range r.IdentityIDs {
			ids[id] = true
		}
	}
	v.mu.Lock()
	var added []string
	for u := range users {
		if !v.users[u] {
			added = append(added, u)
		}
	}
	v.gen, v.loaded, v.confirmed, v.users, v.identities = gen, true, now, users, ids
	f := v.onRevoked
	v.mu.Unlock()
	if f != nil && len(added) > 0 {
		f(added)
	}
	return nil
}

// Len is the number of revoked users and identities in the copy.
func (v *View) Len() (users, identities int) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.users), len(v.identities)
}
