package usage_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/s3vend/s3vend/internal/usage"
)

// BenchmarkMeteringThroughput: S3 events per second the metering core
// applies against the engine, in batches of 100 (the event source
// mapping's batch size) over 20 identities and 2,000 keys, one consumer.
// Reported as events/s; the engine (moto, serialized) is the bottleneck
// here, DynamoDB's own latency (single-digit ms per call) in AWS.
func BenchmarkMeteringThroughput(b *testing.B) {
	s := newStore(b)
	rng := rand.New(rand.NewPCG(1, 2))
	var seq uint64
	batch := func() []usage.Change {
		cs := make([]usage.Change, 100)
		for i := range cs {
			seq++
			id := fmt.Sprintf("eu-west-1:%08d-0000-4000-8000-000000000000", rng.IntN(20))
			key := fmt.Sprintf("private/%s/f%d", id, rng.IntN(100))
			cs[i] = usage.Change{IdentityID: id, Key: key, Sequencer: fmt.Sprintf("%X", seq), Present: rng.IntN(4) != 0, Size: rng.Int64N(1 << 20)}
		}
		return cs
	}
	ctx := context.Background()
	events := 0
	start := time.Now()
	b.ResetTimer()
	for b.Loop() {
		cs := batch()
		if _, err := s.Apply(ctx, cs); err != nil {
			b.Fatal(err)
		}
		events += len(cs)
	}
	b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
}
