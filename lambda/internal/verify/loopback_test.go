package verify_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/s3vend/s3vend/lambda/internal/config"
	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/verify"
)

// TestDiscoveredLoopbackJWKSOnlyInLocalMode: an https issuer whose discovery
// document points jwks_uri at a plain http loopback URL is refused unless
// AllowLoopbackHTTP (local mode) is set (issue 9, item 8).
func TestDiscoveredLoopbackJWKSOnlyInLocalMode(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	jwks := jwksServer(t, &key.PublicKey) // plain http on 127.0.0.1
	issuer := httptest.NewTLSServer(nil)
	defer issuer.Close()
	issuer.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": issuer.URL, "jwks_uri": jwks.URL})
	})
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": issuer.URL, "aud": "aud", "sub": "s",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	tok.Header["kid"] = "k"
	token, _ := tok.SignedString(key)

	for _, local := range []bool{true, false} {
		ctx, cancel := context.WithCancel(context.Background())
		v := verify.NewOIDC(ctx, config.OIDC{Name: "idp", Issuer: issuer.URL, Audiences: []string{"aud"}, UserClaim: "sub", Algorithms: []string{"RS256"}},
			verify.OIDCOptions{HTTPClient: issuer.Client(), AllowLoopbackHTTP: local, Logger: slog.New(slog.DiscardHandler)})
		id, err := v.Verify(ctx, token)
		cancel()
		if local && (err != nil || id.ID != "s") {
			t.Errorf("local mode: %q %v", id, err)
		}
		if !local && !errors.Is(err, fault.ErrUpstream) {
			t.Errorf("in Lambda: a loopback http jwks_uri was used: %q %v", id, err)
		}
	}
}
