package client

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":          0,
		"0":         0,
		"-3":        0,
		"7":         7 * time.Second,
		" 2 ":       2 * time.Second,
		"soon":      0,
		"999999999": 24 * time.Hour,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestBackoffIsJitteredAndCapped(t *testing.T) {
	v := &Vendor{maxBackoff: 2 * time.Second}
	seen := map[time.Duration]bool{}
	for range 200 {
		d := v.backoff(1, 0)
		if d < 0 || d > baseBackoff {
			t.Fatalf("attempt 1 backoff %v outside [0, %v]", d, baseBackoff)
		}
		seen[d] = true
		if d := v.backoff(1, time.Second); d < time.Second || d > time.Second+baseBackoff {
			t.Fatalf("backoff with Retry-After 1s = %v", d)
		}
		if d := v.backoff(30, 10*time.Second); d != 2*time.Second {
			t.Fatalf("capped backoff = %v, want 2s", d)
		}
	}
	if len(seen) < 100 {
		t.Fatalf("only %d distinct delays: not jittered", len(seen))
	}
}

func TestOneLine(t *testing.T) {
	if got := oneLine("a\nb\x1bc", 10); got != "a b c" {
		t.Errorf("oneLine = %q", got)
	}
	if got := oneLine("ééééé", 3); got != "ééé…" {
		t.Errorf("oneLine = %q", got)
	}
}
