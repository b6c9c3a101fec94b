package verify_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/s3vend/s3vend/lambda/internal/config"
	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/verify"
)

// malleate flips the unused low bits of the signature's last base64url
// character: lenient decoders read the same signature bytes.
func malleate(token string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, token[len(token)-1])
	return token[:len(token)-1] + string(alphabet[i^1])
}

// hsSigned is a token of hsVerifier's backend with claims changed by mut.
func hsSigned(mut func(jwt.MapClaims)) string {
	c := jwt.MapClaims{"iss": "https://api.example.com", "aud": "s3vend", "sub": "user-1",
		"iat": fixedNow.Unix(), "exp": fixedNow.Add(time.Minute).Unix()}
	mut(c)
	s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(testHSKey))
	return s
}

// oidcFixture is an OIDC verifier with a JWKS server and a signer for it.
func oidcFixture(t testing.TB, mutCfg func(*config.OIDC)) (*verify.OIDC, func(mut func(jwt.MapClaims)) string) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	srv := jwksServer(t, &key.PublicKey)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg := config.OIDC{Name: "idp", Issuer: "https://issuer.example", Audiences: []string{"aud"},
		JWKSURL: srv.URL, UserClaim: "sub", Algorithms: []string{"RS256"}}
	if mutCfg != nil {
		mutCfg(&cfg)
	}
	v := verify.NewOIDC(ctx, cfg, verify.OIDCOptions{Now: func() time.Time { return fixedNow }, UnknownKIDInterval: time.Hour})
	return v, func(mut func(jwt.MapClaims)) string {
		c := jwt.MapClaims{"iss": "https://issuer.example", "aud": "aud", "sub": "s",
			"iat": fixedNow.Unix(), "exp": fixedNow.Add(time.Hour).Unix()}
		if mut != nil {
			mut(c)
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tok.Header["kid"] = "k"
		s, _ := tok.SignedString(key)
		return s
	}
}

// checkCanonical asserts what an accepted token must satisfy (issue 9, item
// 5): its signature has one encoding, and exp/nbf/iat are real times.
func checkCanonical(t *testing.T, token string) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("accepted a token with %d parts", len(parts))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || base64.RawURLEncoding.EncodeToString(sig) != parts[2] {
		t.Fatalf("accepted a non-canonical signature encoding %q", parts[2])
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	for _, k := range []string{"exp", "nbf", "iat"} {
		if f, ok := claims[k].(float64); ok && (f < 0 || f > 253402300799) {
			t.Fatalf("accepted %s = %g", k, f)
		}
	}
}

func TestStrictSignatureEncoding(t *testing.T) {
	hs := hsVerifier()
	if _, err := hs.Verify(context.Background(), malleate(hsValid())); !errors.Is(err, fault.ErrInvalidCredential) {
		t.Errorf("hs256: malleated signature: %v", err)
	}
	v, sign := oidcFixture(t, nil)
	valid := sign(nil)
	if _, err := v.Verify(context.Background(), valid); err != nil {
		t.Fatalf("oidc: valid: %v", err)
	}
	if _, err := v.Verify(context.Background(), malleate(valid)); !errors.Is(err, fault.ErrInvalidCredential) {
		t.Errorf("oidc: malleated signature: %v", err)
	}
	// Go's base64 decoders skip \r and \n, even strict ones: a newline inside
	// any part (found by FuzzHS256Verify) is a second encoding of the token.
	for name, tok := range map[string]string{"hs256": hsValid(), "oidc": valid} {
		verifier := map[string]interface {
			Verify(context.Context, string) (verify.Identity, error)
		}{"hs256": hs, "oidc": v}[name]
		for _, nl := range []string{"\n", "\r", "\r\n"} {
			for _, at := range []int{10, strings.Index(tok, ".") + 5, strings.LastIndex(tok, ".") + 5} {
				bad := tok[:at] + nl + tok[at:]
				if _, err := verifier.Verify(context.Background(), bad); !errors.Is(err, fault.ErrInvalidCredential) {
					t.Errorf("%s: %q inserted at %d accepted: %v", name, nl, at, err)
				}
			}
		}
	}
}

func TestAbsurdTimesRejected(t *testing.T) {
	v, sign := oidcFixture(t, nil)
	for _, k := range []string{"exp", "nbf", "iat"} {
		for _, val := range []float64{1e300, -1e300, -1, 1e12} {
			set := func(c jwt.MapClaims) { c[k] = val }
			if _, err := hsVerifier().Verify(context.Background(), hsSigned(set)); !errors.Is(err, fault.ErrInvalidCredential) {
				t.Errorf("hs256 %s=%g: %v", k, val, err)
			}
			if _, err := v.Verify(context.Background(), sign(set)); !errors.Is(err, fault.ErrInvalidCredential) {
				t.Errorf("oidc %s=%g: %v", k, val, err)
			}
		}
	}
}

func TestOIDCMaxTokenAge(t *testing.T) {
	v, sign := oidcFixture(t, func(c *config.OIDC) { c.MaxTokenAgeSeconds = 300 })
	for age, ok := range map[time.Duration]bool{0: true, 5 * time.Minute: true, 6 * time.Minute: true /* skew */, 7 * time.Minute: false, time.Hour: false} {
		_, err := v.Verify(context.Background(), sign(func(c jwt.MapClaims) { c["iat"] = fixedNow.Add(-age).Unix() }))
		if ok != (err == nil) {
			t.Errorf("iat %v ago: %v", age, err)
		}
	}
	if _, err := v.Verify(context.Background(), sign(func(c jwt.MapClaims) { delete(c, "iat") })); !errors.Is(err, fault.ErrInvalidCredential) {
		t.Errorf("no iat with maxTokenAgeSeconds: %v", err)
	}
	// Without the option, an old iat is fine while exp holds.
	v, sign = oidcFixture(t, nil)
	if _, err := v.Verify(context.Background(), sign(func(c jwt.MapClaims) { c["iat"] = fixedNow.Add(-time.Hour).Unix() })); err != nil {
		t.Errorf("no limit: %v", err)
	}
}

func TestHS256CurrentAndNextKey(t *testing.T) {
	cfg := config.HS256{Name: "backend", Issuer: "https://api.example.com", Audience: "s3vend", MaxTTLSeconds: 300}
	next := "next-key-next-key-next-key-next-key"
	v := verify.NewHS256Keys(cfg, [][]byte{[]byte(testHSKey), []byte(next)}, func() time.Time { return fixedNow })
	sign := func(key string) string {
		s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "https://api.example.com", "aud": "s3vend", "sub": "user-1",
			"iat": fixedNow.Unix(), "exp": fixedNow.Add(time.Minute).Unix()}).SignedString([]byte(key))
		return s
	}
	for key, ok := range map[string]bool{testHSKey: true, next: true, "another-key-another-key-another-key": false} {
		id, err := v.Verify(context.Background(), sign(key))
		if ok != (err == nil) || (ok && id.ID != "user-1") {
			t.Errorf("key %.8s: %q %v", key, id, err)
		}
		if !ok && !errors.Is(err, fault.ErrInvalidCredential) {
			t.Errorf("key %.8s: %v", key, err)
		}
	}
}
