package fakes

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"sync"

	"github.com/golang-jwt/jwt/v5"

	"github.com/s3vend/s3vend/internal/wechatfake"
)

// Issuer is a fake OpenID Connect issuer: discovery document, JWKS and a
// token signer. URL must be set to the server's base URL before use.
type Issuer struct {
	URL string
	RSA *rsa.PrivateKey
	EC  *ecdsa.PrivateKey

	mu          sync.Mutex
	down        bool
	jwksFetches int
	rotated     bool
}

// NewIssuer generates the issuer's keys (kid "rsa-1" and "ec-1").
func NewIssuer() *Issuer {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return &Issuer{RSA: rk, EC: ek}
}

// SetDown makes discovery and JWKS answer 503 (an outage).
func (i *Issuer) SetDown(down bool) { i.mu.Lock(); i.down = down; i.mu.Unlock() }

// Rotate adds kid "rsa-2" (same key material) to the published set.
func (i *Issuer) Rotate() { i.mu.Lock(); i.rotated = true; i.mu.Unlock() }

// JWKSFetches is how many times the JWKS was served.
func (i *Issuer) JWKSFetches() int { i.mu.Lock(); defer i.mu.Unlock(); return i.jwksFetches }

// Handler serves /.well-known/openid-configuration and /jwks.
func (i *Issuer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if i.isDown() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": i.URL, "jwks_uri": i.URL + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		i.mu.Lock()
		down, rotated := i.down, i.rotated
		if !down {
			i.jwksFetches++
		}
		i.mu.Unlock()
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		keys := []map[string]string{i.rsaJWK("rsa-1"), i.ecJWK("ec-1")}
		if rotated {
			keys = append(keys, i.rsaJWK("rsa-2"))
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	})
	return mux
}

func (i *Issuer) isDown() bool { i.mu.Lock(); defer i.mu.Unlock(); return i.down }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (i *Issuer) rsaJWK(kid string) map[string]string {
	return map[string]string{
		"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64(i.RSA.N.Bytes()), "e": b64(big.NewInt(int64(i.RSA.E)).Bytes()),
	}
}

func (i *Issuer) ecJWK(kid string) map[string]string {
	pub, err := i.EC.PublicKey.ECDH()
	if err != nil {
		panic(err)
	}
	raw := pub.Bytes() // 0x04 || X || Y
	return map[string]string{
		"kty": "EC", "kid": kid, "use": "sig", "alg": "ES256", "crv": "P-256",
		"x": b64(raw[1:33]), "y": b64(raw[33:]),
	}
}

// Sign signs claims with the issuer's RSA key as RS256 under kid "rsa-1".
func (i *Issuer) Sign(claims jwt.MapClaims) string {
	return SignWith(jwt.SigningMethodRS256, i.RSA, "rsa-1", claims)
}

// SignWith signs claims with any method, key and kid ("" for none).
func SignWith(m jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t := jwt.NewWithClaims(m, claims)
	if kid != "" {
		t.Header["kid"] = kid
	}
	s, err := t.SignedString(key)
	if err != nil {
		panic(fmt.Sprintf("sign: %v", err))
	}
	return s
}

// WeChat is a fake of api.weixin.qq.com/sns/jscode2session: Responses map
// codes to raw JSON answers; unknown codes get errcode 40029. It is
// wechatfake.Endpoint, which the stand-in serves too.
type WeChat = wechatfake.Endpoint
