package metrics_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/contract/wire"
	"github.com/s3vend/s3vend/lambda/internal/metrics"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func newRecorder(buf *bytes.Buffer) *metrics.Recorder {
	return metrics.New(buf, metrics.Options{Stack: "S3Vend-dev", Providers: []string{"google", "backend"}, Now: func() time.Time { return t0 }})
}

// emfUnits are the units the specification allows (CloudWatch StandardUnit).
var emfUnits = map[string]bool{
	"Seconds": true, "Microseconds": true, "Milliseconds": true, "Bytes": true, "Kilobytes": true, "Megabytes": true,
	"Gigabytes": true, "Terabytes": true, "Bits": true, "Kilobits": true, "Megabits": true, "Gigabits": true, "Terabits": true,
	"Percent": true, "Count": true, "Bytes/Second": true, "Kilobytes/Second": true, "Megabytes/Second": true,
	"Gigabytes/Second": true, "Terabytes/Second": true, "Bits/Second": true, "Kilobits/Second": true,
	"Megabits/Second": true, "Gigabits/Second": true, "Terabits/Second": true, "Count/Second": true, "None": true,
}

// validate checks one line against the EMF specification's rules
// (CloudWatch_Embedded_Metric_Format_Specification.html) and against the
// contract, and returns its root members.
func validate(t *testing.T, line []byte) map[string]any {
	t.Helper()
	var root map[string]any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&root); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, line)
	}
	if dec.More() {
		t.Fatalf("data after the JSON object: %s", line)
	}
	aws, ok := root["_aws"].(map[string]any)
	if !ok {
		t.Fatalf("no _aws object: %s", line)
	}
	for k := range aws {
		if k != "Timestamp" && k != "CloudWatchMetrics" {
			t.Errorf("_aws has unexpected member %q", k)
		}
	}
	ts, ok := aws["Timestamp"].(json.Number)
	if n, err := ts.Int64(); !ok || err != nil || n != t0.UnixMilli() {
		t.Errorf("Timestamp = %v, want %d (integer milliseconds)", aws["Timestamp"], t0.UnixMilli())
	}
	dirs, ok := aws["CloudWatchMetrics"].([]any)
	if !ok || len(dirs) == 0 {
		t.Fatalf("CloudWatchMetrics must be a non-empty array: %s", line)
	}
	for _, d := range dirs {
		dir := d.(map[string]any)
		if len(dir) != 3 {
			t.Errorf("directive members: %v, want Namespace, Dimensions, Metrics", dir)
		}
		if dir["Namespace"] != contract.MetricNamespace {
			t.Errorf("Namespace = %v", dir["Namespace"])
		}
		var sets [][]string
		for _, s := range dir["Dimensions"].([]any) {
			names := s.([]any)
			if len(names) == 0 || len(names) > metrics.MaxDimensionsPerSet {
				t.Errorf("dimension set of %d names (1..%d)", len(names), metrics.MaxDimensionsPerSet)
			}
			var set []string
			for _, n := range names {
				name := n.(string)
				v, ok := root[name].(string)
				if !ok || v == "" || len(v) > 1024 || strings.TrimSpace(v) == "" {
					t.Errorf("dimension %q: root member %v must be a non-blank string of at most 1024 characters", name, root[name])
				}
				for _, r := range v {
					if r < 0x20 || r > 0x7e {
						t.Errorf("dimension %q value %q: ASCII without control characters only", name, v)
					}
				}
				set = append(set, name)
			}
			sets = append(sets, set)
		}
		defs := dir["Metrics"].([]any)
		if len(defs) == 0 || len(defs) > metrics.MaxMetricsPerDirective {
			t.Errorf("%d metric definitions (1..%d)", len(defs), metrics.MaxMetricsPerDirective)
		}
		for _, m := range defs {
			def := m.(map[string]any)
			name, _ := def["Name"].(string)
			if _, ok := root[name].(json.Number); !ok {
				t.Errorf("metric %q: root member %v is not a number", name, root[name])
			}
			if unit := def["Unit"].(string); !emfUnits[unit] || unit != contract.MetricUnits[name] {
				t.Errorf("metric %q unit %q", name, unit)
			}
			if want := contract.MetricDimensionSets[name]; !slices.EqualFunc(sets, want, slices.Equal) {
				t.Errorf("metric %q dimension sets %v, contract says %v", name, sets, want)
			}
		}
	}
	return root
}

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(buf)
	for sc.Scan() {
		out = append(out, validate(t, sc.Bytes()))
	}
	return out
}

func metricNames(root map[string]any) []string {
	var names []string
	for _, d := range root["_aws"].(map[string]any)["CloudWatchMetrics"].([]any) {
		for _, m := range d.(map[string]any)["Metrics"].([]any) {
			names = append(names, m.(map[string]any)["Name"].(string))
		}
	}
	slices.Sort(names)
	return names
}

func TestRequestRecords(t *testing.T) {
	cases := []struct {
		name    string
		req     metrics.Request
		metrics []string
		members map[string]string // expected string members
		values  map[string]string // expected numeric members
	}{
		{
			name:    "vend from cache",
			req:     metrics.Request{Route: "token", Provider: "google", Status: 200, CacheHit: true},
			metrics: []string{"CacheHits", "Requests", "Vends"},
			members: map[string]string{"Stack": "S3Vend-dev", "Route": "token", "Provider": "google"},
			values:  map[string]string{"Requests": "1", "Vends": "1", "CacheHits": "1"},
		},
		{
			name:    "vend without cache",
			req:     metrics.Request{Route: "credentials", Provider: "backend", Status: 200},
			metrics: []string{"CacheHits", "Requests", "Vends"},
			members: map[string]string{"Route": "credentials", "Provider": "backend"},
			values:  map[string]string{"CacheHits": "0"},
		},
		{
			name:    "guest vend has no provider",
			req:     metrics.Request{Route: "guest", Status: 200},
			metrics: []string{"CacheHits", "Requests", "Vends"},
			members: map[string]string{"Provider": contract.ProviderNone},
		},
		{
			name:    "healthz is a request, not a vend",
			req:     metrics.Request{Route: "healthz", Status: 200},
			metrics: []string{"Requests"},
			members: map[string]string{"Route": "healthz"},
		},
		{
			name:    "rejected login",
			req:     metrics.Request{Route: "token", Provider: "google", Status: 401, Code: wire.CodeInvalidCredential},
			metrics: []string{"Errors", "Requests"},
			members: map[string]string{"StatusClass": "4xx", "Code": "invalid_credential"},
			values:  map[string]string{"Errors": "1"},
		},
		{
			name:    "throttled upstream",
			req:     metrics.Request{Route: "token", Provider: "google", Status: 503, Code: wire.CodeUpstreamThrottled},
			metrics: []string{"Errors", "Requests"},
			members: map[string]string{"StatusClass": "5xx", "Code": "upstream_throttled"},
		},
		{
			name:    "a code outside the pattern is not written",
			req:     metrics.Request{Route: "token", Status: 500, Code: "Internal Error\n"},
			metrics: []string{"Errors", "Requests"},
			members: map[string]string{"Code": "unknown"},
		},
		{
			name:    "an odd route is other",
			req:     metrics.Request{Route: "/v1/../x", Status: 404, Code: "not_found"},
			metrics: []string{"Errors", "Requests"},
			members: map[string]string{"Route": "other"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			newRecorder(&buf).Request(tc.req)
			recs := lines(t, &buf)
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			root := recs[0]
			if got := metricNames(root); !slices.Equal(got, tc.metrics) {
				t.Errorf("metrics %v, want %v", got, tc.metrics)
			}
			for k, v := range tc.members {
				if root[k] != v {
					t.Errorf("%s = %v, want %q", k, root[k], v)
				}
			}
			for k, v := range tc.values {
				if fmt.Sprint(root[k]) != v {
					t.Errorf("%s = %v, want %s", k, root[k], v)
				}
			}
		})
	}
}

// A provider name that is not configured must never become a dimension
// value: each distinct value is a new billed metric, and a crafted one could
// break the record's JSON or a dashboard.
func TestForgedProviderIsNotADimension(t *testing.T) {
	var buf bytes.Buffer
	r := newRecorder(&buf)
	forged := []string{"attacker-1", "Google", `x","Stack":"S3Vend-prod`, strings.Repeat("a", 2000), "goo\ngle", "google "}
	for _, p := range forged {
		r.Request(metrics.Request{Route: "token", Provider: p, Status: 200})
	}
	for i, root := range lines(t, &buf) {
		if root["Provider"] != contract.ProviderUnknown {
			t.Errorf("provider %q recorded as %v, want %q", forged[i], root["Provider"], contract.ProviderUnknown)
		}
		if root["Stack"] != "S3Vend-dev" {
			t.Errorf("Stack = %v", root["Stack"])
		}
	}
}

func TestUpstreamLatency(t *testing.T) {
	var buf bytes.Buffer
	r := newRecorder(&buf)
	r.Upstream("GetOpenIdTokenForDeveloperIdentity", 12345*time.Microsecond)
	r.Upstream("Bad Op", time.Millisecond)
	recs := lines(t, &buf)
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	if recs[0]["Operation"] != "GetOpenIdTokenForDeveloperIdentity" || fmt.Sprint(recs[0]["UpstreamLatency"]) != "12.345" {
		t.Errorf("record %v", recs[0])
	}
	if recs[1]["Operation"] != "other" {
		t.Errorf("operation %v, want other", recs[1]["Operation"])
	}
}

// The metering function's record: both counts, with the contract's
// dimension sets and units (validate checks them).
func TestMeteringRecord(t *testing.T) {
	var buf bytes.Buffer
	newRecorder(&buf).Metering(3, 1)
	recs := lines(t, &buf)
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	if r["Stack"] != "S3Vend-dev" || fmt.Sprint(r[contract.MetricMeteredEvents]) != "3" || fmt.Sprint(r[contract.MetricStaleEvents]) != "1" {
		t.Errorf("record %v", r)
	}
}

func TestOffWithoutStack(t *testing.T) {
	var buf bytes.Buffer
	r := metrics.New(&buf, metrics.Options{})
	if r != nil {
		t.Fatal("New without a stack must return nil")
	}
	r.Request(metrics.Request{Route: "token", Status: 200})
	r.Upstream("GetId", time.Millisecond)
	r.Metering(1, 0)
	if buf.Len() != 0 {
		t.Errorf("wrote %q", buf.String())
	}
}

// Lines of concurrent requests (the local server) never interleave.
func TestConcurrentLines(t *testing.T) {
	var buf bytes.Buffer
	r := newRecorder(&buf)
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			r.Request(metrics.Request{Route: "token", Provider: "google", Status: 200 + 200*(i%2), Code: "invalid_request"})
			r.Upstream("GetId", time.Millisecond)
		})
	}
	wg.Wait()
	if n := len(lines(t, &buf)); n != 128 {
		t.Errorf("%d records, want 128", n)
	}
}
