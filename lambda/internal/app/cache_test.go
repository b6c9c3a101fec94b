package app_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/s3vend/s3vend/contract"
)

func TestCacheThroughTheWiring(t *testing.T) {
	// GIVEN the vendor with the reuse cache on (S3VEND_CACHE_ENABLED=true)
	h := newHarness(t, harnessOpts{env: map[string]string{"S3VEND_CACHE_ENABLED": "true"}})
	// WHEN one user vends a token twice, and credentials twice
	first := h.login("/v1/token", "backend", hsToken(nil))
	second := h.login("/v1/token", "backend", hsToken(nil))
	// THEN the second answer is the first one, with no AWS call
	if first.status != 200 || second.status != 200 || h.cognito.Calls("GetOpenIdTokenForDeveloperIdentity") != 1 {
		t.Fatalf("%d %d, %d calls", first.status, second.status, h.cognito.Calls("GetOpenIdTokenForDeveloperIdentity"))
	}
	if first.json["token"] != second.json["token"] || first.json["expiresAt"] != second.json["expiresAt"] {
		t.Errorf("first %s second %s", first.body, second.body)
	}
	if _, leaked := second.json["cached"]; leaked {
		t.Error("the Cached flag is in the body")
	}
	for range 2 {
		if r := h.login("/v1/credentials", "backend", hsToken(nil)); r.status != 200 {
			t.Fatalf("credentials %d %s", r.status, r.body)
		}
	}
	if n := h.sts.Calls("AssumeRoleWithWebIdentity"); n != 1 {
		t.Errorf("AssumeRoleWithWebIdentity calls = %d, want 1", n)
	}
	// Upload: the identity's credentials are reused, each form is its own.
	u1 := h.upload(map[string]any{"name": "a.png"})
	u2 := h.upload(map[string]any{"name": "b.png"})
	if u1.status != 200 || u2.status != 200 || h.cognito.Calls("GetCredentialsForIdentity") != 1 {
		t.Fatalf("uploads %d %d, %d GetCredentialsForIdentity calls", u1.status, u2.status, h.cognito.Calls("GetCredentialsForIdentity"))
	}
	if u1.json["key"] == u2.json["key"] {
		t.Errorf("same form twice: %s", u2.body)
	}
	if n := h.cognito.Calls("GetOpenIdTokenForDeveloperIdentity"); n != 1 {
		t.Errorf("developer-token calls = %d, want 1 for one user", n)
	}
	// Another user is never served from this user's entries.
	if r := h.login("/v1/token", "google", h.idToken(nil)); r.status != 200 || h.cognito.Calls("GetOpenIdTokenForDeveloperIdentity") != 2 {
		t.Errorf("second user: %d, %d calls", r.status, h.cognito.Calls("GetOpenIdTokenForDeveloperIdentity"))
	}
}

func TestThrottleShedsWithRetryAfter(t *testing.T) {
	// GIVEN Cognito throttles developer tokens, and the shedding window is on
	h := newHarness(t, harnessOpts{shed: true, shedWindow: time.Minute}) // long: the machine may be slow
	h.cognito.FailOp("GetOpenIdTokenForDeveloperIdentity", "TooManyRequestsException")
	// WHEN two logins arrive
	r1 := h.login("/v1/token", "backend", hsToken(nil))
	h.cognito.FailOp("GetOpenIdTokenForDeveloperIdentity", "") // Cognito would answer again
	r2 := h.login("/v1/token", "google", h.idToken(nil))
	// THEN both get 503 upstream_throttled with Retry-After; one call, no retry,
	// and the second is shed without reaching Cognito
	for _, r := range []response{r1, r2} {
		if r.status != http.StatusServiceUnavailable || r.errCode() != "upstream_throttled" || r.header.Get("Retry-After") != "1" {
			t.Fatalf("got %d %s Retry-After %q", r.status, r.body, r.header.Get("Retry-After"))
		}
	}
	if n := h.cognito.Calls("GetOpenIdTokenForDeveloperIdentity"); n != 1 {
		t.Errorf("developer-token calls = %d, want 1 (no retry, then shed)", n)
	}
}

// A vend served from the cache is counted as a cache hit in the EMF metrics,
// with no upstream-latency record (no AWS call).
func TestCacheHitMetric(t *testing.T) {
	h := newHarness(t, harnessOpts{env: map[string]string{"S3VEND_CACHE_ENABLED": "true", contract.EnvMetricsStack: "S3Vend-test"}})
	for _, path := range []string{"/v1/token", "/v1/credentials"} {
		if r := h.login(path, "backend", hsToken(nil)); r.status != http.StatusOK {
			t.Fatalf("first %s: %d %s", path, r.status, r.body)
		}
		h.metrics.Reset()
		if r := h.login(path, "backend", hsToken(nil)); r.status != http.StatusOK {
			t.Fatalf("second %s: %d %s", path, r.status, r.body)
		}
		recs := h.emf()
		if len(recs) != 1 || recs[0]["CacheHits"] != 1.0 || recs[0]["Vends"] != 1.0 {
			t.Errorf("%s: records %v, want one request record with CacheHits 1", path, recs)
		}
	}
}
