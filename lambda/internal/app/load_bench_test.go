package app_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkLoadModel is issue 10's load model: N users, each opening the app
// k times per token lifetime, arrive at a steady rate against the real
// handler whose Cognito fake enforces the default account quota of
// GetOpenIdTokenForDeveloperIdentity as a token bucket (50 requests per
// second, burst 50; beyond it TooManyRequestsException). It reports, over
// the measured window:
//
//	vends/s          successful (200) vends per second
//	503/op           share of requests answered 503 (all upstream_throttled with Retry-After, or the run fails)
//	cognito-calls/s  GetOpenIdTokenForDeveloperIdentity calls per second, refused ones included
//	other-5xx        any other 5xx (must be 0)
//
// Time is compressed: the vendor's clock (tokens' lifetimes, the cache's
// margin, login verification) runs `scale` times faster than the wall
// clock, while the Cognito quota and the arrival rate are in real seconds.
// With the cache on, the run starts in steady state: every user vended once
// before, at an age spread evenly over the reuse window (a real morning ramp
// fills the cache over minutes; this model does not cover a cold fleet).
// instances=I runs I vendor instances (each its own cache) in front of one
// Cognito, each request routed to a random one: the per-instance cache then
// reuses less (docs/quotas-and-cache.md#load-model-and-sizing).
//
// persist=true models clients that keep their token across app opens, as
// @s3vend/client does with options.storage (js/client): an open calls the
// vendor only when the stored token has less than min(30 s, T/5) left, else
// it costs no vendor call (and, as every open, one GetCredentialsForIdentity
// by the client, not counted here). It reports besides:
//
//	offered/s        app opens per second
//	vendor-calls/s   opens that reached the vendor
func BenchmarkLoadModel(b *testing.B) {
	const (
		rps      = 250.0           // arrivals per real second (5x the quota)
		tokenTTL = time.Hour       // S3VEND_TOKEN_DURATION_SECONDS
		margin   = 5 * time.Minute // S3VEND_CACHE_MIN_REMAINING_SECONDS (the default)
		opens    = 12              // k: app opens per user per token lifetime (every 5 minutes)
		wall     = 2 * time.Second // measured wall time per run
		scale    = 1800            // virtual seconds per real second: 2s real = 1h virtual
		quota    = 50.0            // Cognito's default GetOpenIdTokenForDeveloperIdentity RPS
	)
	// N users so that N*k opens per token lifetime arrive at rps.
	users := int(rps * tokenTTL.Seconds() / scale / opens)
	for _, r := range []struct {
		cache, persist bool
		instances      int
	}{{false, false, 1}, {true, false, 1}, {true, false, 2}, {true, false, 10}, {true, true, 1}, {true, true, 10}} {
		b.Run(fmt.Sprintf("cache=%t/persist=%t/instances=%d/users=%d/opens=%d", r.cache, r.persist, r.instances, users, opens), func(b *testing.B) {
			for range b.N {
				loadRun(b, loadModel{cache: r.cache, persist: r.persist, instances: r.instances, rps: rps, users: users, opens: opens, tokenTTL: tokenTTL,
					margin: margin, wall: wall, scale: scale, quota: quota})
			}
		})
	}
}

type loadModel struct {
	cache, persist         bool
	instances              int
	rps                    float64
	users, opens           int
	tokenTTL, margin, wall time.Duration
	scale                  float64
	quota                  float64
}

func loadRun(b *testing.B, m loadModel) {
	base := time.Now()
	var virt atomic.Int64 // virtual now, unix nanoseconds
	virt.Store(base.UnixNano())
	clock := func() time.Time { return time.Unix(0, virt.Load()) }
	opts := harnessOpts{quietLogs: true, inProcess: true, shed: true, now: clock, env: map[string]string{
		"S3VEND_CACHE_ENABLED":               fmt.Sprint(m.cache),
		"S3VEND_TOKEN_DURATION_SECONDS":      fmt.Sprint(int(m.tokenTTL.Seconds())),
		"S3VEND_CACHE_MIN_REMAINING_SECONDS": fmt.Sprint(int(m.margin.Seconds())),
		// Logins live an hour of virtual time (2 s real at the default
		// scale), so a request delayed on a busy machine is not a 401.
		"S3VEND_VERIFIERS": `{"hs256":{"name":"backend","issuer":"https://api.example.com","audience":"s3vend","maxTtlSeconds":3600}}`,
	}}
	h := newHarness(b, opts)
	handlers := []http.Handler{h.handler}
	for range m.instances - 1 {
		opts.cognito = h.cognito
		handlers = append(handlers, newHarness(b, opts).handler)
	}
	var route atomic.Uint64 // a fixed pseudo-random routing
	pick := func() http.Handler {
		n := route.Add(1)
		return handlers[int((n*0x9E3779B97F4A7C15)>>33)%len(handlers)]
	}
	login := func(user int) string {
		now := clock()
		return loginBody("backend", hsToken(func(c jwt.MapClaims) {
			c["sub"] = fmt.Sprintf("user-%d", user)
			c["iat"], c["exp"] = now.Unix(), now.Add(time.Hour).Unix()
		}))
	}
	do := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		pick().ServeHTTP(rec, req)
		return rec
	}
	// stored[u] is user u's persisted token expiry (virtual unix ns; 0: none).
	stored := make([]atomic.Int64, m.users)
	clientMargin := min(30*time.Second, m.tokenTTL/5) // @s3vend/client's token margin
	var vendorCalls atomic.Int64
	// open is one app open: from storage when persisting clients hold a
	// token with more than the margin left, else a vendor call. It returns
	// nil for an open served from storage.
	open := func(user int) *httptest.ResponseRecorder {
		if m.persist {
			if exp := stored[user].Load(); exp != 0 && time.Unix(0, exp).Sub(clock()) > clientMargin {
				return nil
			}
		}
		vendorCalls.Add(1)
		rec := do(login(user))
		if m.persist && rec.Code == http.StatusOK {
			var body struct {
				ExpiresAt time.Time `json:"expiresAt"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.ExpiresAt.IsZero() {
				b.Errorf("no expiresAt in %s", rec.Body)
			}
			stored[user].Store(body.ExpiresAt.UnixNano())
		}
		return rec
	}
	window := m.tokenTTL - m.margin // how long an entry is reused
	if m.cache {
		// Steady state: user i last opened the app window*i/users ago
		// (virtual), and before that every period through the last window,
		// each time on a random instance.
		period := m.tokenTTL / time.Duration(m.opens)
		for i := range m.users {
			last := -window * time.Duration(i) / time.Duration(m.users)
			for at := last - window + period; at <= last; at += period {
				virt.Store(base.Add(at).UnixNano())
				if rec := open(i); rec != nil && rec.Code != http.StatusOK {
					b.Fatalf("warm-up: %d %s", rec.Code, rec.Body)
				}
			}
		}
	}
	vendorCalls.Store(0)
	h.cognito.Reset()
	h.cognito.Limit("GetOpenIdTokenForDeveloperIdentity", m.quota, int(m.quota))

	// Each user opens the app every period (virtual) from a random phase.
	period := time.Duration(float64(m.tokenTTL) / float64(m.opens) / m.scale) // real
	type event struct {
		at   time.Duration
		user int
	}
	var events []event
	rng := rand.New(rand.NewPCG(1, 2))
	for u := range m.users {
		for at := time.Duration(rng.Int64N(int64(period))); at < m.wall; at += period {
			events = append(events, event{at, u})
		}
	}
	slices.SortFunc(events, func(a, b event) int { return cmp.Compare(a.at, b.at) })

	var ok, fromStorage, shed, other5xx, noRetryAfter, other atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	stop := make(chan struct{})
	go func() { // the virtual clock
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				virt.Store(base.Add(time.Duration(float64(now.Sub(start)) * m.scale)).UnixNano())
			}
		}
	}()
	b.ResetTimer()
	for _, e := range events {
		if d := time.Until(start.Add(e.at)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func(user int) {
			defer wg.Done()
			rec := open(user)
			switch {
			case rec == nil:
				fromStorage.Add(1)
			case rec.Code == http.StatusOK:
				ok.Add(1)
			case rec.Code == http.StatusServiceUnavailable && strings.Contains(rec.Body.String(), `"upstream_throttled"`):
				shed.Add(1)
				if rec.Header().Get("Retry-After") == "" {
					noRetryAfter.Add(1)
				}
			case rec.Code >= 500:
				other5xx.Add(1)
			default:
				other.Add(1)
				b.Logf("unexpected answer %d %s", rec.Code, rec.Body)
			}
		}(e.user)
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(stop)
	total := float64(len(events))
	b.ReportMetric(float64(ok.Load())/elapsed.Seconds(), "vends/s")
	b.ReportMetric(float64(ok.Load()+fromStorage.Load())/elapsed.Seconds(), "served/s")
	b.ReportMetric(float64(vendorCalls.Load())/elapsed.Seconds(), "vendor-calls/s")
	b.ReportMetric(float64(shed.Load())/total, "503/op")
	b.ReportMetric(float64(h.cognito.Calls("GetOpenIdTokenForDeveloperIdentity"))/elapsed.Seconds(), "cognito-calls/s")
	b.ReportMetric(float64(other5xx.Load()), "other-5xx")
	b.ReportMetric(total/elapsed.Seconds(), "offered/s")
	if other5xx.Load() > 0 || noRetryAfter.Load() > 0 || other.Load() > 0 {
		b.Fatalf("%d other 5xx, %d 503 without Retry-After, %d other failures", other5xx.Load(), noRetryAfter.Load(), other.Load())
	}
}
