package verify_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/s3vend/s3vend/lambda/internal/config"
	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/verify"
)

// TestFailedJWKSLoadsLeakNoGoroutines: each failed first JWKS load used to
// leave the library's background refresher running (issue 9, item 2).
func TestFailedJWKSLoadsLeakNoGoroutines(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v := verify.NewOIDC(ctx, config.OIDC{Name: "idp", Issuer: "https://issuer.example", Audiences: []string{"aud"},
		JWKSURL: srv.URL, UserClaim: "sub", Algorithms: []string{"RS256"}},
		verify.OIDCOptions{HTTPClient: client, RetryAfterFailure: time.Nanosecond, Logger: slog.New(slog.DiscardHandler)})
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": "https://issuer.example", "aud": "aud", "sub": "s",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	tok.Header["kid"] = "k"
	token, _ := tok.SignedString(key)

	// One load first, so lazily started runtime/net goroutines are counted.
	if _, err := v.Verify(ctx, token); !errors.Is(err, fault.ErrUpstream) {
		t.Fatalf("first load: %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	before := runtime.NumGoroutine()
	const n = 50
	for i := range n {
		time.Sleep(time.Millisecond) // past RetryAfterFailure: every call loads again
		if _, err := v.Verify(ctx, token); !errors.Is(err, fault.ErrUpstream) {
			t.Fatalf("load %d: %v", i, err)
		}
	}
	if after := settledGoroutines(before); after > before+2 {
		t.Errorf("%d failed JWKS loads left %d extra goroutines", n, after-before)
	}
}

// settledGoroutines waits up to 2 s for the goroutine count to fall to want.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(2 * time.Second); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	return n
}
