package vend_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/vend"
	"github.com/s3vend/s3vend/lambda/internal/verify"
)

// cacheRig is a Service whose verifier maps a credential "user-N" to the
// user id "N", whose Cognito issues a distinct token per call, and whose
// clock the test moves.
type cacheRig struct {
	svc   *vend.Service
	now   atomic.Int64          // unix nanoseconds
	dev   atomic.Int64          // DeveloperToken calls
	sts   atomic.Int64          // AssumeRoleWithWebIdentity calls
	creds atomic.Int64          // CredentialsForIdentity calls
	fail  atomic.Pointer[error] // DeveloperToken's error, or nil
	gate  chan struct{}
}

func newCacheRig(t *testing.T, c contract.CacheSettings, shed time.Duration) *cacheRig {
	t.Helper()
	r := &cacheRig{}
	r.now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, r.now.Load()).UTC() }
	r.svc = vend.New(vend.Config{
		IdentityPoolID: "eu-west-1:p", DeveloperProvider: "dev", Region: "eu-west-1", LoginKey: "k",
		AuthRoleARN: "auth", TokenDuration: 15 * time.Minute, CredentialLifetime: time.Hour, BasicFlow: true,
		Now: clock, Cache: c, ShedWindow: shed,
	}, []verify.Verifier{
		fnVerifier{"p", func(cred string) (string, error) {
			if cred == "bad" {
				return "", fault.New(fault.ErrInvalidCredential, "bad", nil)
			}
			return cred, nil
		}},
	}, fnCognito{
		dev: func(in vend.DeveloperLogin) (vend.IdentityToken, error) {
			if r.gate != nil {
				<-r.gate
			}
			n := r.dev.Add(1)
			if err := r.fail.Load(); err != nil {
				return vend.IdentityToken{}, *err
			}
			return vend.IdentityToken{IdentityID: "eu-west-1:" + in.UserID, Token: fmt.Sprintf("tok-%s-%d", in.UserID, n)}, nil
		},
		creds: func(id string, _ map[string]string) (vend.AWSCredentials, error) {
			r.creds.Add(1)
			return vend.AWSCredentials{AccessKeyID: "ASIA" + id, Expiration: clock().Add(time.Hour)}, nil
		},
	}, fnSTS(func(in vend.AssumeInput) (vend.AWSCredentials, error) {
		n := r.sts.Add(1)
		return vend.AWSCredentials{AccessKeyID: fmt.Sprintf("ASIA-%s-%d", in.SessionName, n), Expiration: clock().Add(in.Duration)}, nil
	}), nil)
	return r
}

func (r *cacheRig) advance(d time.Duration) { r.now.Add(int64(d)) }

func TestCacheSecondVendMakesNoAWSCall(t *testing.T) {
	r := newCacheRig(t, contract.CacheSettings{}, 0)
	ctx := context.Background()
	first, err := r.svc.Token(ctx, "p", "alice")
	if err != nil || first.Cached {
		t.Fatalf("first: %+v %v", first, err)
	}
	r.advance(time.Minute)
	second, err := r.svc.Token(ctx, "p", "alice")
	if err != nil || !second.Cached || r.dev.Load() != 1 {
		t.Fatalf("second: %+v %v, %d calls", second, err, r.dev.Load())
	}
	// The same token with its original, truthful expiry.
	if second.Token != first.Token || !second.ExpiresAt.Equal(first.ExpiresAt) {
		t.Errorf("cached %+v, first %+v", second, first)
	}
	// Credentials: one developer token (cached already) and one STS call, then none.
	c1, err := r.svc.Credentials(ctx, "p", "alice")
	if err != nil || c1.Cached || r.sts.Load() != 1 || r.dev.Load() != 1 {
		t.Fatalf("credentials: %+v %v sts=%d dev=%d", c1, err, r.sts.Load(), r.dev.Load())
	}
	c2, err := r.svc.Credentials(ctx, "p", "alice")
	if err != nil || !c2.Cached || c2.AccessKeyID != c1.AccessKeyID || !c2.Expiration.Equal(c1.Expiration) || r.sts.Load() != 1 {
		t.Fatalf("credentials again: %+v %v sts=%d", c2, err, r.sts.Load())
	}
	// A bad credential is refused even though the cache holds an entry.
	if _, err := r.svc.Token(ctx, "p", "bad"); !errors.Is(err, fault.ErrInvalidCredential) {
		t.Errorf("bad credential: %v", err)
	}
}

func TestCacheNeverSharedAcrossUsers(t *testing.T) {
	r := newCacheRig(t, contract.CacheSettings{}, 0)
	ctx := context.Background()
	a, _ := r.svc.Token(ctx, "p", "alice")
	b, err := r.svc.Token(ctx, "p", "bob")
	if err != nil || b.Cached || b.IdentityID == a.IdentityID || b.Token == a.Token || r.dev.Load() != 2 {
		t.Fatalf("bob got %+v (alice %+v), %d calls", b, a, r.dev.Load())
	}
	a2, _ := r.svc.Token(ctx, "p", "alice")
	b2, _ := r.svc.Token(ctx, "p", "bob")
	if a2.Token != a.Token || b2.Token != b.Token {
		t.Errorf("mixed up: alice %s/%s bob %s/%s", a.Token, a2.Token, b.Token, b2.Token)
	}
}

func TestCacheNeverReturnsExpiringSoon(t *testing.T) {
	r := newCacheRig(t, contract.CacheSettings{MinRemaining: 5 * time.Minute}, 0)
	ctx := context.Background()
	first, _ := r.svc.Token(ctx, "p", "alice") // valid 15 minutes
	r.advance(10 * time.Minute)                // exactly 5 minutes left: still served
	if t2, _ := r.svc.Token(ctx, "p", "alice"); !t2.Cached || t2.Token != first.Token {
		t.Fatalf("at the margin: %+v", t2)
	}
	r.advance(time.Second) // less than 5 minutes left
	t3, err := r.svc.Token(ctx, "p", "alice")
	if err != nil || t3.Cached || t3.Token == first.Token || r.dev.Load() != 2 {
		t.Fatalf("expiring soon was served: %+v %v", t3, err)
	}
	if !t3.ExpiresAt.Equal(time.Unix(0, r.now.Load()).Add(15 * time.Minute).UTC().Truncate(time.Second)) {
		t.Errorf("new token's expiry %s", t3.ExpiresAt)
	}
}

func TestCacheEvictionBound(t *testing.T) {
	r := newCacheRig(t, contract.CacheSettings{MaxEntries: 2}, 0)
	ctx := context.Background()
	for _, u := range []string{"u1", "u2", "u3"} {
		if _, err := r.svc.Token(ctx, "p", u); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.svc.CacheLen(); n != 2 {
		t.Fatalf("cache holds %d entries, want the cap 2", n)
	}
	// u1, least recently used, was evicted; u3 was not.
	if tok, _ := r.svc.Token(ctx, "p", "u3"); !tok.Cached {
		t.Error("u3 evicted")
	}
	if tok, _ := r.svc.Token(ctx, "p", "u1"); tok.Cached {
		t.Error("u1 still cached past the cap")
	}
}

func TestCacheOffSwitch(t *testing.T) {
	r := newCacheRig(t, contract.CacheSettings{Disabled: true}, 0)
	ctx := context.Background()
	for range 3 {
		if tok, err := r.svc.Token(ctx, "p", "alice"); err != nil || tok.Cached {
			t.Fatalf("%+v %v", tok, err)
		}
	}
	if r.dev.Load() != 3 || r.svc.CacheLen() != 0 {
		t.Errorf("%d calls, %d entries; want 3 and 0", r.dev.Load(), r.svc.CacheLen())
	}
}

func TestCacheErrorsNotCachedAndShedding(t *testing.T) {
	r := newCacheRig(t, contract.CacheSettings{}, time.Second)
	ctx := context.Background()
	if _, err := r.svc.Token(ctx, "p", "cached-user"); err != nil {
		t.Fatal(err)
	}
	throttled := fault.New(fault.ErrThrottled, "GetOpenIdTokenForDeveloperIdentity: TooManyRequestsException", nil)
	r.fail.Store(&throttled)
	if _, err := r.svc.Token(ctx, "p", "alice"); !errors.Is(err, fault.ErrThrottled) || r.dev.Load() != 2 {
		t.Fatalf("throttled: %v, %d calls", err, r.dev.Load())
	}
	r.fail.Store(nil) // a later call would succeed...
	// ...but within the window the instance sheds at once, without a call,
	_, err := r.svc.Token(ctx, "p", "alice")
	if !errors.Is(err, fault.ErrThrottled) || r.dev.Load() != 2 {
		t.Fatalf("within the window: %v, %d calls", err, r.dev.Load())
	}
	// while a cached user is still served.
	if tok, err := r.svc.Token(ctx, "p", "cached-user"); err != nil || !tok.Cached {
		t.Fatalf("cache hit during shedding: %+v %v", tok, err)
	}
	// After the window (wall clock), the error was not cached: a fresh call.
	time.Sleep(1100 * time.Millisecond)
	if tok, err := r.svc.Token(ctx, "p", "alice"); err != nil || tok.Cached || r.dev.Load() != 3 {
		t.Fatalf("after the window: %+v %v, %d calls", tok, err, r.dev.Load())
	}
}

func TestCacheSingleFlight(t *testing.T) {
	r := newCacheRig(t, contract.CacheSettings{}, 0)
	r.gate = make(chan struct{})
	ctx := context.Background()
	const n = 20
	var wg sync.WaitGroup
	tokens := make([]vend.Token, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tokens[i], _ = r.svc.Token(ctx, "p", "alice")
		}()
	}
	time.Sleep(50 * time.Millisecond) // let them queue on the one call
	close(r.gate)
	wg.Wait()
	misses := 0
	for _, tok := range tokens {
		if tok.Token != tokens[0].Token {
			t.Fatalf("different tokens: %s %s", tok.Token, tokens[0].Token)
		}
		if !tok.Cached {
			misses++
		}
	}
	if r.dev.Load() != 1 || misses != 1 {
		t.Errorf("%d upstream calls, %d uncached answers; want 1 and 1", r.dev.Load(), misses)
	}
}

// gatedCognito's DeveloperToken waits for release or for its context, as a
// real SDK call does, and records whether that context had a deadline.
type gatedCognito struct {
	fnCognito
	started     chan struct{}
	release     chan struct{}
	hadDeadline atomic.Bool
	calls       atomic.Int64
}

func (c *gatedCognito) DeveloperToken(ctx context.Context, in vend.DeveloperLogin) (vend.IdentityToken, error) {
	c.calls.Add(1)
	_, ok := ctx.Deadline()
	c.hadDeadline.Store(ok)
	c.started <- struct{}{}
	select {
	case <-ctx.Done():
		return vend.IdentityToken{}, fault.New(fault.ErrTimeout, "GetOpenIdTokenForDeveloperIdentity: cancelled", ctx.Err())
	case <-c.release:
		return vend.IdentityToken{IdentityID: "eu-west-1:" + in.UserID, Token: "tok-" + in.UserID}, nil
	}
}

// Issue 16, item 7: concurrent misses for one user share one upstream call,
// but that call must not run under the first caller's context: the first
// caller giving up (a client disconnect, its own deadline) must not fail
// the others waiting for the same call. It runs detached, with its own
// deadline, and each caller still returns on its own cancellation.
func TestCacheSharedCallIsDetachedFromTheFirstCaller(t *testing.T) {
	cog := &gatedCognito{started: make(chan struct{}, 1), release: make(chan struct{})}
	svc := vend.New(vend.Config{
		IdentityPoolID: "eu-west-1:p", DeveloperProvider: "dev", Region: "eu-west-1", LoginKey: "k",
		AuthRoleARN: "auth", TokenDuration: 15 * time.Minute, CredentialLifetime: time.Hour,
		FillTimeout: 5 * time.Second,
	}, []verify.Verifier{fnVerifier{"p", func(cred string) (string, error) { return cred, nil }}}, cog, nil, nil)

	first, cancelFirst := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := svc.Token(first, "p", "alice")
		firstErr <- err
	}()
	<-cog.started // the shared call is in flight under the first caller
	secondRes := make(chan vend.Token, 1)
	secondErr := make(chan error, 1)
	go func() {
		tok, err := svc.Token(context.Background(), "p", "alice")
		secondRes <- tok
		secondErr <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the second caller join the call
	cancelFirst()
	// The first caller returns at once with its own cancellation...
	select {
	case err := <-firstErr:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("first caller: err %v, want its own context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Error("first caller still waiting after its context was cancelled")
	}
	// ...while the shared call goes on for the second.
	close(cog.release)
	if err := <-secondErr; err != nil {
		t.Fatalf("second caller got the first one's cancellation: %v", err)
	}
	if tok := <-secondRes; tok.Token != "tok-p:alice" || cog.calls.Load() != 1 {
		t.Fatalf("second caller: %+v after %d calls", tok, cog.calls.Load())
	}
	if !cog.hadDeadline.Load() {
		t.Error("the detached call has no deadline of its own")
	}
}
