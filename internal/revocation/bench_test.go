package revocation_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/s3vend/s3vend/internal/revocation"
)

// BenchmarkRevocationCheck is the latency the check adds to a vend, as
// the vendor runs it: a View over the real table (engine) with 200
// revoked users, refreshed every 15 s on a clock that advances 1 ms per
// check, so one check in 15,000 pays the generation read. Reported: p50
// and p99 of one Check in ns, and the refresh's own latency (the table
// read) in ms.
func BenchmarkRevocationCheck(b *testing.B) {
	dynamotestNeed(b)
	s := newStoreB(b)
	ctx := context.Background()
	for i := range 200 {
		if err := s.Revoke(ctx, revocation.Record{Subject: fmt.Sprintf("%sbackend:user-%d", revocation.UserPrefix, i), By: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	v := revocation.NewView(s, revocation.ViewOptions{Refresh: 15 * time.Second, Now: func() time.Time { return now }, Timeout: time.Minute})
	if err := v.Check(ctx, "backend:warm"); err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		now = now.Add(time.Millisecond)
		t0 := time.Now()
		err := v.Check(ctx, fmt.Sprintf("backend:user-%d", i%2000))
		d := time.Since(t0)
		lat = append(lat, d)
		if err != nil && i%2000 >= 200 {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	// The refresh itself, measured directly: a consistent GetItem of the
	// generation (and a Scan when it moved).
	var gets []time.Duration
	for range 50 {
		t0 := time.Now()
		if _, err := s.Generation(ctx); err != nil {
			b.Fatal(err)
		}
		gets = append(gets, time.Since(t0))
	}
	slices.Sort(gets)
	b.ReportMetric(float64(gets[len(gets)/2].Microseconds())/1000, "refresh-p50-ms")
	b.ReportMetric(float64(gets[len(gets)*99/100].Microseconds())/1000, "refresh-p99-ms")
}
