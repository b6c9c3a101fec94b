package app_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/contract/wire"
)

// emf decodes the harness's EMF records.
func (h *harness) emf() []map[string]any {
	h.t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(h.metrics)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			h.t.Fatalf("EMF line is not JSON: %v: %s", err, sc.Bytes())
		}
		if _, ok := rec["_aws"]; !ok {
			h.t.Fatalf("EMF line without _aws: %s", sc.Bytes())
		}
		out = append(out, rec)
	}
	return out
}

// The real wiring emits one record per request with the outcome's metrics,
// and one per AWS operation with its latency; a forged provider never
// becomes a dimension value.
func TestMetricsThroughTheHandler(t *testing.T) {
	h := newHarness(t, harnessOpts{env: map[string]string{contract.EnvMetricsStack: "S3Vend-test"}})
	h.metrics.Reset() // the secret read at start-up
	if r := h.login("/v1/token", "google", h.idToken(nil)); r.status != http.StatusOK {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	recs := h.emf()
	if len(recs) != 2 {
		t.Fatalf("%d records, want the upstream call and the request: %v", len(recs), recs)
	}
	up, req := recs[0], recs[1]
	if up["Operation"] != "GetOpenIdTokenForDeveloperIdentity" || up["Stack"] != "S3Vend-test" {
		t.Errorf("upstream record %v", up)
	}
	if _, ok := up[contract.MetricUpstreamLatency].(float64); !ok {
		t.Errorf("no latency value: %v", up)
	}
	if req["Route"] != "token" || req["Provider"] != "google" || req["Vends"] != 1.0 || req["CacheHits"] != 0.0 || req["Requests"] != 1.0 {
		t.Errorf("request record %v", req)
	}

	if r := h.login("/v1/token", "google", "not-a-jwt"); r.status != http.StatusUnauthorized {
		t.Fatalf("bad login: %d", r.status)
	}
	if r := h.login("/v1/token", `evil","Stack":"S3Vend-prod`, "x"); r.status != http.StatusBadRequest {
		t.Fatalf("forged provider: %d", r.status)
	}
	h.cognito.Fail("TooManyRequestsException")
	if r := h.login("/v1/token", "backend", hsToken(nil)); r.errCode() != wire.CodeUpstreamThrottled {
		t.Fatalf("throttled: %d %s", r.status, r.body)
	}
	var errs []map[string]any
	for _, rec := range h.emf() {
		if rec["Stack"] != "S3Vend-test" {
			t.Errorf("Stack = %v", rec["Stack"])
		}
		if p, ok := rec["Provider"]; ok && p != "google" && p != "backend" {
			t.Errorf("Provider = %v", p)
		}
		if _, ok := rec["Errors"]; ok {
			errs = append(errs, rec)
		}
	}
	want := []struct{ class, code string }{
		{contract.ClassClient, wire.CodeInvalidCredential},
		{contract.ClassClient, "unknown_provider"},
		{contract.ClassServer, wire.CodeUpstreamThrottled},
	}
	if len(errs) != len(want) {
		t.Fatalf("%d error records, want %d: %v", len(errs), len(want), errs)
	}
	for i, w := range want {
		if errs[i]["StatusClass"] != w.class || errs[i]["Code"] != w.code {
			t.Errorf("error %d: %v/%v, want %s/%s", i, errs[i]["StatusClass"], errs[i]["Code"], w.class, w.code)
		}
	}
}

// Without S3VEND_METRICS_STACK (local mode) nothing is written.
func TestNoMetricsWithoutStack(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.login("/v1/token", "google", h.idToken(nil))
	if h.metrics.Len() != 0 {
		t.Errorf("metrics written: %s", h.metrics)
	}
}
