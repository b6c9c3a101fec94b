package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkHandler measures the service's own overhead per request: the SDK
// and verifiers reach the fakes through an in-memory transport, so no socket
// or fake latency is included. p50/p99 are reported as custom metrics.
func BenchmarkHandler(b *testing.B) {
	h := newHarness(b, harnessOpts{quietLogs: true, inProcess: true})
	bodies := map[string]func() string{
		"token-hs256": func() string { return loginBody("backend", hsToken(nil)) },
		"credentials-hs256": func() string {
			return loginBody("backend", hsToken(nil))
		},
		"token-oidc-rs256": func() string { return loginBody("google", h.idToken(nil)) },
		// 2 AWS calls (GetOpenIdTokenForDeveloperIdentity, GetCredentialsForIdentity) + local POST signing.
		"upload-hs256": func() string {
			b, _ := json.Marshal(map[string]any{"provider": "backend", "credential": hsToken(nil),
				"name": "photos/cat.png", "size": 1 << 20, "contentType": "image/jpeg"})
			return string(b)
		},
	}
	paths := map[string]string{"token-hs256": "/v1/token", "credentials-hs256": "/v1/credentials", "token-oidc-rs256": "/v1/token",
		"upload-hs256": "/v1/upload"}
	for _, name := range []string{"token-hs256", "credentials-hs256", "token-oidc-rs256", "upload-hs256"} {
		body := bodies[name]() // one valid credential, reused
		for _, conc := range []int{1, 100} {
			b.Run(name+"/conc="+itoa(conc), func(b *testing.B) {
				run(b, h, paths[name], body, conc)
			})
		}
	}
}

func loginBody(provider, credential string) string {
	b, _ := json.Marshal(map[string]string{"provider": provider, "credential": credential})
	return string(b)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func run(b *testing.B, h *harness, path, body string, conc int) {
	b.ReportAllocs()
	lat := make([][]time.Duration, conc)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				start := time.Now()
				h.handler.ServeHTTP(rec, req)
				lat[w] = append(lat[w], time.Since(start))
				if rec.Code != http.StatusOK {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d requests failed", n)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(all[min(len(all)-1, len(all)*99/100)].Microseconds()), "p99-µs")
}

// BenchmarkHandlerMetrics is the token-hs256 request of BenchmarkHandler
// with and without EMF metrics (two records per request: the request and
// the GetOpenIdTokenForDeveloperIdentity latency), written to io.Discard.
func BenchmarkHandlerMetrics(b *testing.B) {
	for _, on := range []bool{false, true} {
		env := map[string]string{}
		if on {
			env["S3VEND_METRICS_STACK"] = "S3Vend-bench"
		}
		h := newHarness(b, harnessOpts{quietLogs: true, inProcess: true, env: env, metricsOut: io.Discard})
		body := loginBody("backend", hsToken(nil))
		b.Run("metrics="+strconv.FormatBool(on), func(b *testing.B) { run(b, h, "/v1/token", body, 1) })
	}
}
