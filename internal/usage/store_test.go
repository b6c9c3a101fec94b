package usage_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/dynamotest"
	"github.com/s3vend/s3vend/internal/usage"
)

var engine *dynamotest.Engine

// The delivery of TestReplayedStreamEndsAtTrueTotals: concurrent consumers
// (Lambda invocations) and the largest batch, the event source mapping's
// BatchSize (infra.MeteringBatchSize).
const (
	consumers = 4
	maxBatch  = 100
)

const streamLen = 10000

// meteringMaxReceives is infra.MeteringMaxReceives (the metering queue's
// maxReceiveCount; this package does not import the CDK).
const meteringMaxReceives = 5

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m, &engine)) }

func newStore(t testing.TB) *usage.Store {
	t.Helper()
	db, name := dynamotest.NewTable(t, engine, "usage")
	return &usage.Store{DB: db, Table: name}
}

const idA = "eu-west-1:11111111-1111-4111-8111-111111111111"

func change(key, seq string, present bool, size int64) usage.Change {
	id := strings.Split(key, "/")[1]
	return usage.Change{IdentityID: id, Key: key, Sequencer: seq, Present: present, Size: size}
}

func totals(t *testing.T, s *usage.Store, id string) usage.Totals {
	t.Helper()
	got, err := s.Usage(context.Background(), id, true)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func apply(t *testing.T, s *usage.Store, cs ...usage.Change) usage.Result {
	t.Helper()
	r, err := s.Apply(context.Background(), cs)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCompareSequencers(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"0055AED6DCD90281E5", "0055AED6DCD90281E5", 0},
		{"FF", "100", -1}, // left-padded: 0FF < 100
		{"100", "FF", 1},
		{"00ff", "FF", 0}, // hexadecimal: case and leading zeros do not matter
		{"0055AED6DCD90281E5", "0055AED6DCD90281E6", -1},
	} {
		if got := usage.CompareSequencers(c.a, c.b); got != c.want {
			t.Errorf("CompareSequencers(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestChangeOf(t *testing.T) {
	rec := func(name, key, seq string, size int64) usage.Record {
		var r usage.Record
		r.EventSource, r.EventName = "aws:s3", name
		r.S3.Object.Key, r.S3.Object.Sequencer, r.S3.Object.Size = key, seq, size
		return r
	}
	key := "private/" + idA + "/my photo+1.jpg"
	c, ok, err := usage.ChangeOf(rec("ObjectCreated:Put", url.QueryEscape(key), "0A", 5), nil)
	if err != nil || !ok || c.Key != key || c.IdentityID != idA || !c.Present || c.Size != 5 {
		t.Fatalf("URL-encoded key: %+v ok=%v err=%v", c, ok, err)
	}
	if _, ok, _ := usage.ChangeOf(rec("ObjectCreated:Put", "public/x", "0A", 5), nil); ok {
		t.Error("public/ keys count against no user")
	}
	if _, ok, _ := usage.ChangeOf(rec("ObjectRestore:Post", url.QueryEscape(key), "0A", 5), nil); ok {
		t.Error("only created and removed events are metered")
	}
	if _, _, err := usage.ChangeOf(rec("ObjectCreated:Put", url.QueryEscape(key), "", 5), nil); err == nil {
		t.Error("a created event without a sequencer is malformed")
	}
	if _, _, err := usage.ChangeOf(rec("ObjectCreated:Put", "private/%zz/x", "0A", 5), nil); err == nil {
		t.Error("an undecodable key is malformed")
	}
	c, ok, _ = usage.ChangeOf(rec("ObjectRemoved:DeleteMarkerCreated", url.QueryEscape(key), "0B", 0), nil)
	if !ok || c.Present || c.VersionDelete {
		t.Errorf("delete marker: %+v", c)
	}
	n, err := usage.ParseNotification([]byte(`{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}`))
	if err != nil || len(n.Records) != 0 {
		t.Errorf("test event: %+v %v", n, err)
	}
}

func TestOverwriteReplacesSize(t *testing.T) {
	s := newStore(t)
	k := "private/" + idA + "/a"
	apply(t, s, change(k, "01", true, 100))
	apply(t, s, change(k, "02", true, 30))
	if got := totals(t, s, idA); got != (usage.Totals{Bytes: 30, Objects: 1}) {
		t.Fatalf("after overwrite: %+v, want 30 bytes in 1 object", got)
	}
}

func TestReorderedDuplicatedDelete(t *testing.T) {
	s := newStore(t)
	k := "protected/" + idA + "/b"
	// The delete (later sequencer) arrives before the create it follows,
	// then the create arrives twice: nothing may count.
	apply(t, s, change(k, "0F", false, 0))
	r := apply(t, s, change(k, "0E", true, 500), change(k, "0E", true, 500))
	if r.Applied != 0 {
		t.Errorf("stale creates applied: %+v", r)
	}
	apply(t, s, change(k, "0E", true, 500))
	if got := totals(t, s, idA); got != (usage.Totals{}) {
		t.Fatalf("after delete-before-create: %+v, want zero", got)
	}
	// A longer sequencer is later (left-padded comparison).
	apply(t, s, change(k, "100", true, 7))
	if got := totals(t, s, idA); got != (usage.Totals{Bytes: 7, Objects: 1}) {
		t.Fatalf("after a longer sequencer: %+v", got)
	}
}

func TestVersionDeleteOfNoncurrentVersionKeepsCurrent(t *testing.T) {
	s := newStore(t)
	k := "private/" + idA + "/v"
	c := change(k, "10", true, 40)
	c.VersionID = "v2"
	apply(t, s, c)
	del := change(k, "11", false, 0)
	del.VersionID, del.VersionDelete = "v1", true // an old version, deleted by the owner
	apply(t, s, del)
	if got := totals(t, s, idA); got != (usage.Totals{Bytes: 40, Objects: 1}) {
		t.Fatalf("noncurrent version deleted: %+v, want the current 40 bytes", got)
	}
	del2 := change(k, "12", false, 0)
	del2.VersionID, del2.VersionDelete = "v2", true // the current version itself
	apply(t, s, del2)
	if got := totals(t, s, idA); got != (usage.Totals{}) {
		t.Fatalf("current version deleted: %+v, want zero", got)
	}
}

// s3Sim is the truth: a bucket's current objects, producing the event
// stream S3 would send (one event per operation, a growing sequencer).
type s3Sim struct {
	seq     uint64
	objects map[string]int64
	events  []usage.Change
}

func (b *s3Sim) next() string {
	b.seq += uint64(rand.IntN(300) + 1)
	return fmt.Sprintf("%X", b.seq) // no padding: lengths grow, as S3's may differ
}

func (b *s3Sim) put(key string, size int64) {
	b.objects[key] = size
	b.events = append(b.events, change(key, b.next(), true, size))
}

func (b *s3Sim) del(key string) {
	delete(b.objects, key)
	b.events = append(b.events, change(key, b.next(), false, 0))
}

func (b *s3Sim) truth() map[string]usage.Totals {
	out := map[string]usage.Totals{}
	for k, size := range b.objects {
		id := strings.Split(k, "/")[1]
		t := out[id]
		t.Bytes += size
		t.Objects++
		out[id] = t
	}
	return out
}

// TestReplayedStreamEndsAtTrueTotals: 10,000 events of random creates,
// overwrites (same key, new size) and deletes over 5 identities and 400
// keys, delivered as SQS would deliver them at its worst: reordered, 25%
// duplicated (some twice), in batches of 1 to 100 (the event source
// mapping's batch size), by 4 concurrent consumers.
// The table must end at exactly the bucket's totals.
func TestReplayedStreamEndsAtTrueTotals(t *testing.T) {
	s := newStore(t)
	rng := rand.New(rand.NewPCG(18, 2026))
	ids := make([]string, 5)
	for i := range ids {
		ids[i] = fmt.Sprintf("eu-west-1:%08d-0000-4000-8000-%012d", i, i)
	}
	b := &s3Sim{objects: map[string]int64{}}
	for len(b.events) < streamLen {
		key := fmt.Sprintf("%s/%s/f%d", []string{"private", "protected"}[rng.IntN(2)], ids[rng.IntN(len(ids))], rng.IntN(40))
		if _, ok := b.objects[key]; ok && rng.IntN(3) == 0 {
			b.del(key)
		} else {
			b.put(key, rng.Int64N(1<<20))
		}
	}
	stream := append([]usage.Change(nil), b.events...)
	for i := range b.events {
		if rng.IntN(4) == 0 {
			stream = append(stream, b.events[i])
		}
		if rng.IntN(20) == 0 {
			stream = append(stream, b.events[i])
		}
	}
	rng.Shuffle(len(stream), func(i, j int) { stream[i], stream[j] = stream[j], stream[i] })

	batches := make(chan []usage.Change)
	var wg sync.WaitGroup
	var applied, retries atomic.Int64
	errs := make(chan error, consumers)
	var redelivered atomic.Int64
	for range consumers {
		wg.Go(func() {
			for batch := range batches {
				// A failed batch comes back, as SQS redelivers it after the
				// visibility timeout, until the queue's maxReceiveCount
				// (infra.MeteringMaxReceives) sends it to the dead letters.
				for receive := 1; ; receive++ {
					r, err := s.Apply(context.Background(), batch)
					applied.Add(int64(r.Applied))
					retries.Add(int64(r.Retries))
					if err == nil {
						break
					}
					if receive == meteringMaxReceives {
						errs <- fmt.Errorf("a batch went to the dead letters after %d receives: %w", receive, err)
						return
					}
					redelivered.Add(1)
				}
			}
		})
	}
	for i := 0; i < len(stream); {
		n := 1 + rng.IntN(maxBatch) // partial batches too, as the batching window closes
		batches <- stream[i:min(i+n, len(stream))]
		i += n
	}
	close(batches)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := b.truth()
	for _, id := range ids {
		if got := totals(t, s, id); got != want[id] {
			t.Errorf("%s: got %+v, want %+v", id, got, want[id])
		}
	}
	t.Logf("%d events (%d delivered), %d state changes applied, %d transactions retried after a race, %d batches redelivered",
		len(b.events), len(stream), applied.Load(), retries.Load(), redelivered.Load())
}

// IdentitiesOf reads the vendor's login links by a {userId} key segment:
// the tag value decodes to the login (an escaped id too), an unlinked user
// is absent, and a segment that is no tag value is an error.
func TestIdentitiesOf(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for login, id := range map[string]string{"backend:alice": "eu-west-1:a", "idp:auth0|64f0": "eu-west-1:b"} {
		if err := s.Link(ctx, login, id); err != nil {
			t.Fatal(err)
		}
	}
	escaped, err := contract.UserTagValue("idp", "auth0|64f0")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.IdentitiesOf(ctx, []string{"backend:alice", escaped, "backend:nobody", "backend:alice"})
	if err != nil || len(got) != 2 || got["backend:alice"] != "eu-west-1:a" || got[escaped] != "eu-west-1:b" {
		t.Fatalf("IdentitiesOf = %v, %v", got, err)
	}
	if _, err := s.IdentitiesOf(ctx, []string{"no tag value"}); err == nil {
		t.Error("a segment that is no tag value must be an error")
	}
}
