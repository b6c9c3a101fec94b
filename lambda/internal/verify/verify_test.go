package verify_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/s3vend/s3vend/lambda/internal/config"
	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/verify"
)

var fixedNow = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

const testHSKey = "fuzz-test-key-fuzz-test-key-fuzz-test-key"

func hsVerifier() *verify.HS256 {
	return verify.NewHS256(config.HS256{Name: "backend", Issuer: "https://api.example.com", Audience: "s3vend", MaxTTLSeconds: 300},
		[]byte(testHSKey), func() time.Time { return fixedNow })
}

func hsValid() string {
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": "https://api.example.com", "aud": "s3vend", "sub": "user-1",
		"iat": fixedNow.Unix(), "exp": fixedNow.Add(time.Minute).Unix(),
	})
	s, _ := t.SignedString([]byte(testHSKey))
	return s
}

// checkResult asserts the verifier contract: either a printable id, or an
// error that is a *fault.Error of a known kind.
func checkResult(t *testing.T, id string, err error) {
	t.Helper()
	if err == nil {
		if id == "" || len(id) > 255 || strings.ContainsAny(id, " \n\t\x00") {
			t.Fatalf("accepted with bad id %q", id)
		}
		return
	}
	var fe *fault.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error is not a *fault.Error: %T", err)
	}
	for _, k := range []error{fault.ErrInvalidCredential, fault.ErrUpstream, fault.ErrTimeout, fault.ErrThrottled, fault.ErrRateLimited} {
		if errors.Is(err, k) {
			return
		}
	}
	t.Fatalf("unexpected error kind: %v", err)
}

func TestHS256(t *testing.T) {
	v := hsVerifier()
	id, err := v.Verify(context.Background(), hsValid())
	if err != nil || id.ID != "user-1" {
		t.Fatalf("valid: %q %v", id, err)
	}
	for _, bad := range []string{"", "x", hsValid() + "x", strings.Repeat("a", verify.MaxTokenBytes+1)} {
		if _, err := v.Verify(context.Background(), bad); !errors.Is(err, fault.ErrInvalidCredential) {
			t.Errorf("%.20q: %v", bad, err)
		}
	}
}

func FuzzHS256Verify(f *testing.F) {
	f.Add(hsValid())
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	f.Add("a.b.c")
	f.Add("")
	// Issue 9, item 5: one signature encoding; real times only.
	f.Add(malleate(hsValid()))
	f.Add(hsSigned(func(c jwt.MapClaims) { c["nbf"] = 1e300 }))
	f.Add(hsSigned(func(c jwt.MapClaims) { c["nbf"] = -1e300 }))
	v := hsVerifier()
	f.Fuzz(func(t *testing.T, token string) {
		id, err := v.Verify(context.Background(), token)
		checkResult(t, id.ID, err)
		if err == nil {
			checkCanonical(t, token)
		}
	})
}

// jwksServer publishes key under kid "k".
func jwksServer(t testing.TB, key *rsa.PublicKey) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": "k", "alg": "RS256", "use": "sig",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func FuzzOIDCVerify(f *testing.F) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	srv := jwksServer(f, &key.PublicKey)
	ctx, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	v := verify.NewOIDC(ctx, config.OIDC{Name: "idp", Issuer: "https://issuer.example", Audiences: []string{"aud"},
		JWKSURL: srv.URL, UserClaim: "sub", Algorithms: []string{"RS256"}},
		verify.OIDCOptions{Now: func() time.Time { return fixedNow }, UnknownKIDInterval: time.Hour})
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": "https://issuer.example", "aud": "aud", "sub": "s",
		"iat": fixedNow.Unix(), "exp": fixedNow.Add(time.Hour).Unix()})
	tok.Header["kid"] = "k"
	valid, _ := tok.SignedString(key)
	if id, err := v.Verify(ctx, valid); err != nil || id.ID != "s" {
		f.Fatalf("valid token: %q %v", id, err)
	}
	f.Add(valid)
	parts := strings.Split(valid, ".")
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add("eyJhbGciOiJIUzI1NiIsImtpZCI6ImsifQ." + parts[1] + "." + parts[2])
	f.Add("eyJhbGciOiJub25lIn0." + parts[1] + ".")
	// Issue 9, item 5: one signature encoding; real times only.
	f.Add(malleate(valid))
	for _, k := range []string{"iat", "nbf"} {
		for _, val := range []float64{1e300, -1e300} {
			c := jwt.MapClaims{"iss": "https://issuer.example", "aud": "aud", "sub": "s", "iat": fixedNow.Unix(), "exp": fixedNow.Add(time.Hour).Unix(), k: val}
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
			tok.Header["kid"] = "k"
			s, _ := tok.SignedString(key)
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, token string) {
		id, err := v.Verify(ctx, token)
		checkResult(t, id.ID, err)
		if err == nil {
			checkCanonical(t, token)
		}
	})
}

func TestParseDiscovery(t *testing.T) {
	u, err := verify.ParseDiscovery([]byte(`{"issuer":"https://i.example","jwks_uri":"https://i.example/keys"}`), "https://i.example")
	if err != nil || u != "https://i.example/keys" {
		t.Fatalf("%q %v", u, err)
	}
	for _, doc := range []string{`{"issuer":"https://evil.example","jwks_uri":"https://i.example/keys"}`,
		`{"issuer":"https://i.example","jwks_uri":"http://i.example/keys"}`, `[]`, ``} {
		if _, err := verify.ParseDiscovery([]byte(doc), "https://i.example"); err == nil {
			t.Errorf("accepted %s", doc)
		}
	}
}

func FuzzParseDiscovery(f *testing.F) {
	f.Add([]byte(`{"issuer":"https://i.example","jwks_uri":"https://i.example/keys"}`))
	f.Add([]byte(`{"issuer":"https://i.example","jwks_uri":"javascript:alert(1)"}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		u, err := verify.ParseDiscovery(doc, "https://i.example")
		if err == nil && config.CheckURL(u) != nil {
			t.Fatalf("accepted bad jwks_uri %q", u)
		}
	})
}

func TestWeChatSessionErrors(t *testing.T) {
	cases := map[string]error{
		`{"openid":"o"}`:                nil,
		`{"errcode":40029}`:             fault.ErrInvalidCredential,
		`{"errcode":40163}`:             fault.ErrInvalidCredential,
		`{"errcode":45011}`:             fault.ErrRateLimited,
		`{"errcode":-1}`:                fault.ErrThrottled,
		`{"errcode":40125,"errmsg":""}`: fault.ErrUpstream,
	}
	for body, want := range cases {
		s, err := verify.ParseSession([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Err(); (want == nil) != (got == nil) || (want != nil && !errors.Is(got, want)) {
			t.Errorf("%s: %v, want %v", body, got, want)
		}
	}
}

func FuzzWeChatSession(f *testing.F) {
	f.Add([]byte(`{"openid":"o-1","session_key":"k","unionid":"u-1"}`))
	f.Add([]byte(`{"errcode":40029,"errmsg":"invalid code"}`))
	f.Add([]byte(`{"errcode":"1"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := verify.ParseSession(body)
		if err != nil {
			return
		}
		if e := s.Err(); e != nil {
			checkResult(t, "", e)
		}
	})
}

func FuzzWeChatVerify(f *testing.F) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("js_code") == "good" {
			_, _ = w.Write([]byte(`{"openid":"o-1","session_key":"k"}`))
			return
		}
		_, _ = w.Write([]byte(`{"errcode":40029}`))
	}))
	f.Cleanup(srv.Close)
	v := verify.NewWeChat(config.WeChat{Name: "wechat", AppID: "wx1", BaseURL: srv.URL, IDField: "openid"}, "s", srv.Client())
	f.Add("good")
	f.Add("081abcDEF_-")
	f.Add("a&secret=x")
	f.Add("")
	f.Fuzz(func(t *testing.T, code string) {
		id, err := v.Verify(context.Background(), code)
		checkResult(t, id.ID, err)
		if err == nil && code != "good" {
			t.Fatalf("accepted %q", code)
		}
	})
}
