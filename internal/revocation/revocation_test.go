package revocation_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/s3vend/s3vend/internal/dynamotest"
	"github.com/s3vend/s3vend/internal/revocation"
)

var engine *dynamotest.Engine

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m, &engine)) }

func newStore(t *testing.T) *revocation.Store { return newStoreB(t) }

func dynamotestNeed(t testing.TB) { dynamotest.Need(t, engine) }

func newStoreB(t testing.TB) *revocation.Store {
	t.Helper()
	db, name := dynamotest.NewTable(t, engine, "revocations")
	return &revocation.Store{DB: db, Table: name}
}

const (
	alice   = "backend:alice"
	aliceID = "eu-west-1:aaaaaaaa-0000-4000-8000-000000000001"
)

func TestStoreRevokeListUnrevoke(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if g, err := s.Generation(ctx); err != nil || g != 0 {
		t.Fatalf("empty table: generation %d, %v", g, err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	err := s.Revoke(ctx, revocation.Record{
		Subject: revocation.UserPrefix + alice, IdentityIDs: []string{aliceID},
		Reason: "uploads illegal content", By: "arn:aws:iam::111122223333:user/op", At: at, DenyUntil: at.Add(2 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx, false)
	if err != nil || len(list) != 1 {
		t.Fatalf("List: %+v, %v", list, err)
	}
	r := list[0]
	if r.User() != alice || r.Status != revocation.StatusRevoked || r.Reason != "uploads illegal content" ||
		!r.At.Equal(at) || !r.DenyUntil.Equal(at.Add(2*time.Hour)) || len(r.IdentityIDs) != 1 || r.IdentityIDs[0] != aliceID {
		t.Fatalf("record: %+v", r)
	}
	if g, _ := s.Generation(ctx); g != 1 {
		t.Fatalf("generation after a revocation: %d, want 1", g)
	}
	old, err := s.Unrevoke(ctx, revocation.UserPrefix+alice, "arn:aws:iam::111122223333:user/op2", "appeal granted")
	if err != nil || old.Status != revocation.StatusRevoked {
		t.Fatalf("Unrevoke: %+v, %v", old, err)
	}
	if _, err := s.Unrevoke(ctx, revocation.UserPrefix+alice, "x", ""); !errors.Is(err, revocation.ErrNotRevoked) {
		t.Fatalf("second Unrevoke: %v, want ErrNotRevoked", err)
	}
	if list, _ := s.List(ctx, false); len(list) != 0 {
		t.Fatalf("revoked after unrevoke: %+v", list)
	}
	all, _ := s.List(ctx, true)
	if len(all) != 1 || all[0].Status != revocation.StatusRestored || all[0].RestoredBy != "arn:aws:iam::111122223333:user/op2" {
		t.Fatalf("history: %+v", all)
	}
	events, err := s.Events(ctx, revocation.UserPrefix+alice)
	if err != nil || len(events) != 2 || events[0]["action"] != "revoke" || events[1]["action"] != "unrevoke" ||
		events[1]["reason"] != "appeal granted" || events[0]["by"] != "arn:aws:iam::111122223333:user/op" {
		t.Fatalf("audit trail: %+v, %v", events, err)
	}
	if g, _ := s.Generation(ctx); g != 2 {
		t.Fatalf("generation: %d, want 2", g)
	}
}

// fakeSource counts reads and can fail.
type fakeSource struct {
	mu          sync.Mutex
	gen         int64
	records     []revocation.Record
	fail        bool
	gens, lists int
}

func (f *fakeSource) Generation(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gens++
	if f.fail {
		return 0, errors.New("unreachable")
	}
	return f.gen, nil
}

func (f *fakeSource) List(context.Context, bool) ([]revocation.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	if f.fail {
		return nil, errors.New("unreachable")
	}
	return append([]revocation.Record(nil), f.records...), nil
}

func (f *fakeSource) revoke(r revocation.Record) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records = append(f.records, r)
	f.gen++
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestViewBoundedStaleness(t *testing.T) {
	src := &fakeSource{}
	c := &clock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	v := revocation.NewView(src, revocation.ViewOptions{Refresh: 15 * time.Second, MaxStale: 5 * time.Minute, Now: c.now})
	var dropped []string
	v.OnRevoked(func(users []string) { dropped = append(dropped, users...) })
	ctx := context.Background()
	if err := v.Check(ctx, alice); err != nil {
		t.Fatalf("first check: %v", err)
	}
	src.revoke(revocation.Record{Subject: revocation.UserPrefix + alice, Status: revocation.StatusRevoked})
	c.advance(14 * time.Second)
	if err := v.Check(ctx, alice); err != nil {
		t.Fatalf("within the interval the copy serves: %v", err)
	}
	c.advance(time.Second) // 15 s: the interval has passed
	if err := v.Check(ctx, alice); !errors.Is(err, revocation.ErrRevoked) {
		t.Fatalf("after the interval: %v, want ErrRevoked", err)
	}
	if len(dropped) != 1 || dropped[0] != alice {
		t.Fatalf("OnRevoked: %v", dropped)
	}
	if err := v.Check(ctx, "backend:bob"); err != nil {
		t.Fatalf("another user: %v", err)
	}
	lists := src.lists
	c.advance(time.Minute)
	_ = v.Check(ctx, "backend:bob")
	if src.lists != lists {
		t.Fatal("an unchanged generation must not re-read the list")
	}
	// An identity subject.
	src.revoke(revocation.Record{Subject: revocation.IdentityPrefix + aliceID, Status: revocation.StatusRevoked})
	c.advance(15 * time.Second)
	if err := v.Check(ctx, "", aliceID); !errors.Is(err, revocation.ErrRevoked) {
		t.Fatalf("identity: %v, want ErrRevoked", err)
	}
}

func TestViewFailsClosedAfterMaxStale(t *testing.T) {
	src := &fakeSource{fail: true}
	c := &clock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	v := revocation.NewView(src, revocation.ViewOptions{Refresh: 15 * time.Second, MaxStale: 5 * time.Minute, Now: c.now})
	ctx := context.Background()
	if err := v.Check(ctx, alice); !errors.Is(err, revocation.ErrUnavailable) {
		t.Fatalf("never read: %v, want ErrUnavailable (fail closed)", err)
	}
	src.fail = false
	src.revoke(revocation.Record{Subject: revocation.UserPrefix + alice, Status: revocation.StatusRevoked})
	if err := v.Check(ctx, "backend:bob"); err != nil {
		t.Fatal(err)
	}
	src.fail = true
	c.advance(4 * time.Minute)
	if err := v.Check(ctx, "backend:bob"); err != nil {
		t.Fatalf("within MaxStale the last good copy serves: %v", err)
	}
	if err := v.Check(ctx, alice); !errors.Is(err, revocation.ErrRevoked) {
		t.Fatalf("a user revoked before the outage stays refused: %v", err)
	}
	c.advance(61 * time.Second)
	if err := v.Check(ctx, "backend:bob"); !errors.Is(err, revocation.ErrUnavailable) {
		t.Fatalf("past MaxStale: %v, want ErrUnavailable", err)
	}
}

func TestViewOneRefreshForConcurrentChecks(t *testing.T) {
	src := &fakeSource{}
	v := revocation.NewView(src, revocation.ViewOptions{})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { _ = v.Check(context.Background(), alice) })
	}
	wg.Wait()
	if src.gens != 1 {
		t.Fatalf("%d generation reads for 50 concurrent first checks, want 1", src.gens)
	}
}
