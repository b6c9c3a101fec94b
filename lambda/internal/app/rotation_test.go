package app_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/s3vend/s3vend/lambda/internal/app"
	"github.com/s3vend/s3vend/lambda/internal/fakes"
)

// TestSecretRotationWithoutRestart: a warm instance picks up a changed
// secret within DefaultSecretRefresh, reading it once per interval and not
// per request, accepts current and next HS256 keys during a rotation, and
// keeps the previous secret when a re-read fails (issue 9, item 9).
func TestSecretRotationWithoutRestart(t *testing.T) {
	var offset atomic.Int64
	base := time.Now()
	now := func() time.Time { return base.Add(time.Duration(offset.Load())) }
	advance := func(d time.Duration) { offset.Add(int64(d)) }
	// GIVEN the secret as first deployed: one HS256 key, no WeChat secret
	h := newHarness(t, harnessOpts{now: now, quietLogs: true, secret: `{"wechatAppSecret":"","hs256Key":"` + hsKey + `"}`})
	const nextKey = "the-next-hs256-key-the-next-hs256-key"
	signed := func(key string) string {
		at := now()
		return fakes.SignWith(jwt.SigningMethodHS256, []byte(key), "", jwt.MapClaims{
			"iss": "https://api.example.com", "aud": "s3vend", "sub": "backend-user-7",
			"iat": at.Unix(), "exp": at.Add(2 * time.Minute).Unix()})
	}
	reads := func() int { return h.secrets.Calls("GetSecretValue") }
	expect := func(step, provider, credential string, status int) {
		t.Helper()
		if r := h.login("/v1/token", provider, credential); r.status != status {
			t.Fatalf("%s: %s login: %d %s, want %d", step, provider, r.status, r.body, status)
		}
	}
	startReads := reads()
	expect("start", "backend", signed(hsKey), http.StatusOK)
	expect("start", "backend", signed(nextKey), http.StatusUnauthorized)
	expect("start", "wechat", "good-code", http.StatusServiceUnavailable)

	// WHEN the operator sets wechatAppSecret and adds hs256NextKey
	h.secrets.Put(`{"wechatAppSecret":"` + appSecret + `","hs256Key":"` + hsKey + `","hs256NextKey":"` + nextKey + `"}`)
	// THEN within the interval the instance keeps the secret it read, without reading it per request
	advance(app.DefaultSecretRefresh - time.Second)
	for range 10 {
		expect("within the interval", "backend", signed(nextKey), http.StatusUnauthorized)
	}
	if n := reads() - startReads; n != 0 {
		t.Fatalf("%d secret reads within the interval, want 0", n)
	}
	// AND after it, one read switches to the new secret: both keys and WeChat work
	advance(2 * time.Second)
	for range 5 {
		expect("rotation", "backend", signed(nextKey), http.StatusOK)
		expect("rotation", "backend", signed(hsKey), http.StatusOK)
		expect("rotation", "wechat", "good-code", http.StatusOK)
	}
	if n := reads() - startReads; n != 1 {
		t.Fatalf("%d secret reads after one interval, want 1", n)
	}

	// WHEN the rotation ends (the next key becomes the only key)
	h.secrets.Put(`{"wechatAppSecret":"` + appSecret + `","hs256Key":"` + nextKey + `"}`)
	advance(app.DefaultSecretRefresh + time.Second)
	// THEN the old key is refused
	expect("after rotation", "backend", signed(hsKey), http.StatusUnauthorized)
	expect("after rotation", "backend", signed(nextKey), http.StatusOK)

	// WHEN Secrets Manager fails or the secret turns invalid, the previous secret stays in use
	h.secrets.Fail("InternalServiceError")
	advance(app.DefaultSecretRefresh + time.Second)
	expect("read failure", "backend", signed(nextKey), http.StatusOK)
	h.secrets.Fail("")
	h.secrets.Put(`{"hs256Key":"short"}`)
	advance(app.DefaultSecretRefresh + time.Second)
	expect("invalid secret", "backend", signed(nextKey), http.StatusOK)
	expect("invalid secret", "wechat", "good-code", http.StatusOK)
}
