package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/s3vend/s3vend/lambda/internal/fakes"
)

func TestTokenMakesExactlyOneAWSCall(t *testing.T) {
	// GIVEN the service with an OIDC verifier
	h := newHarness(t, harnessOpts{})
	// WHEN a valid ID token is exchanged for a Cognito token
	r := h.login("/v1/token", "google", h.idToken(nil))
	// THEN it succeeds with exactly one AWS call, namespaced by verifier
	if r.status != http.StatusOK {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	if n := h.cognito.Total() + h.sts.Total(); n != 1 || h.cognito.Calls("GetOpenIdTokenForDeveloperIdentity") != 1 {
		t.Fatalf("AWS calls = %d, want exactly 1 GetOpenIdTokenForDeveloperIdentity", n)
	}
	in := h.cognito.Last("GetOpenIdTokenForDeveloperIdentity")
	logins, _ := in["Logins"].(map[string]any)
	if logins["login.s3vend.example"] != "google:user-42" || len(logins) != 1 {
		t.Errorf("Logins = %v", logins)
	}
	if in["IdentityPoolId"] != poolID || in["TokenDuration"] != float64(600) {
		t.Errorf("input = %v", in)
	}
	want := map[string]any{
		"identityId": "eu-west-1:11111111-2222-3333-4444-555555555555", "token": "cognito-openid-token",
		"identityPoolId": poolID, "region": region, "loginKey": "cognito-identity.amazonaws.com",
	}
	for k, v := range want {
		if r.json[k] != v {
			t.Errorf("%s = %v, want %v", k, r.json[k], v)
		}
	}
	exp, err := time.Parse(time.RFC3339, r.json["expiresAt"].(string))
	if err != nil || exp.Before(h.now.Add(590*time.Second)) || exp.After(time.Now().Add(601*time.Second)) {
		t.Errorf("expiresAt = %v (%v)", r.json["expiresAt"], err)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", r.header)
	}
}

func TestCredentialsEveryVerifierMakesTwoAWSCalls(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	corp := h.issuer.Sign(jwt.MapClaims{"iss": h.issuer.URL, "aud": []string{"other", "corp-app"}, "email": "a@corp.example",
		"email_verified": true, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	es := fakes.SignWith(jwt.SigningMethodES256, h.issuer.EC, "ec-1", jwt.MapClaims{"iss": h.issuer.URL, "aud": audience,
		"sub": "ec-user", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	cases := []struct{ provider, credential, userID string }{
		{"google", h.idToken(nil), "google:user-42"},
		{"google", es, "google:ec-user"},
		{"corp", corp, "corp:a@corp.example"},
		{"wechat", "good-code", "wechat:o-user-1"},
		{"backend", hsToken(nil), "backend:backend-user-7"},
	}
	for _, c := range cases {
		t.Run(c.userID, func(t *testing.T) {
			h.cognito.Reset()
			h.sts.Reset()
			r := h.login("/v1/credentials", c.provider, c.credential)
			if r.status != http.StatusOK {
				t.Fatalf("status %d body %s", r.status, r.body)
			}
			if h.cognito.Total() != 1 || h.sts.Calls("AssumeRoleWithWebIdentity") != 1 || h.sts.Total() != 1 {
				t.Fatalf("AWS calls: cognito %d sts %d, want 1+1", h.cognito.Total(), h.sts.Total())
			}
			logins, _ := h.cognito.Last("GetOpenIdTokenForDeveloperIdentity")["Logins"].(map[string]any)
			if logins["login.s3vend.example"] != c.userID {
				t.Errorf("Logins = %v", logins)
			}
			in := h.sts.Last("AssumeRoleWithWebIdentity")
			if in["RoleArn"] != authRole || in["DurationSeconds"] != "900" || in["Policy"] != policy ||
				in["WebIdentityToken"] != "cognito-openid-token" || in["RoleSessionName"] != "s3vend-11111111-2222-3333-4444-555555555555" {
				t.Errorf("AssumeRoleWithWebIdentity input = %v", in)
			}
			for _, k := range []string{"identityId", "accessKeyId", "secretAccessKey", "sessionToken", "expiration"} {
				if s, _ := r.json[k].(string); s == "" {
					t.Errorf("missing %s in %s", k, r.body)
				}
			}
		})
	}
	if n := h.secrets.Calls("GetSecretValue"); n != 1 {
		t.Errorf("GetSecretValue calls = %d, want 1 per cold start", n)
	}
}

func TestGuest(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	r := h.do(http.MethodPost, "/v1/guest", "", "")
	if r.status != http.StatusOK || r.json["identityId"] != "eu-west-1:99999999-8888-7777-6666-555555555555" {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	if h.cognito.Calls("GetId") != 1 || h.cognito.Calls("GetOpenIdToken") != 1 || h.sts.Total() != 1 {
		t.Fatalf("calls: GetId %d GetOpenIdToken %d sts %d", h.cognito.Calls("GetId"), h.cognito.Calls("GetOpenIdToken"), h.sts.Total())
	}
	if in := h.sts.Last("AssumeRoleWithWebIdentity"); in["RoleArn"] != unauthRole {
		t.Errorf("role = %v", in["RoleArn"])
	}

	// Reusing a guest identity skips GetId.
	h.cognito.Reset()
	id := "eu-west-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	r = h.do(http.MethodPost, "/v1/guest", "application/json", `{"identityId":"`+id+`"}`)
	if r.status != http.StatusOK || r.json["identityId"] != id || h.cognito.Calls("GetId") != 0 {
		t.Fatalf("reuse: status %d body %s GetId %d", r.status, r.body, h.cognito.Calls("GetId"))
	}
	if r := h.do(http.MethodPost, "/v1/guest", "application/json", `{"identityId":"us-east-1:nope"}`); r.status != http.StatusUnauthorized {
		t.Errorf("malformed identity: %d", r.status)
	}
	h.cognito.Fail("NotAuthorizedException")
	if r := h.do(http.MethodPost, "/v1/guest", "application/json", `{"identityId":"`+id+`"}`); r.status != http.StatusUnauthorized {
		t.Errorf("authenticated identity as guest: %d %s", r.status, r.body)
	}
}

func TestGuestsDisabledIs404(t *testing.T) {
	h := newHarness(t, harnessOpts{env: map[string]string{"S3VEND_GUESTS_ENABLED": "false", "S3VEND_UNAUTH_ROLE_ARN": ""}})
	for _, m := range []string{http.MethodPost, http.MethodGet} {
		if r := h.do(m, "/v1/guest", "", ""); r.status != http.StatusNotFound || r.errCode() != "not_found" {
			t.Errorf("%s: %d %s", m, r.status, r.body)
		}
	}
	if h.cognito.Total() != 0 {
		t.Error("AWS was called")
	}
}

func basicFlowOff() harnessOpts {
	// A session policy is refused at start-up without the basic flow.
	return harnessOpts{env: map[string]string{"S3VEND_BASIC_FLOW": "false", "S3VEND_SESSION_POLICY": ""}}
}

func TestCredentialsWithoutBasicFlowIs404(t *testing.T) {
	// GIVEN a pool that does not allow the basic flow
	h := newHarness(t, basicFlowOff())
	// WHEN credentials are asked for, even with a valid login
	for name, r := range map[string]response{
		"valid login": h.login("/v1/credentials", "backend", hsToken(nil)),
		"GET":         h.do(http.MethodGet, "/v1/credentials", "", ""),
	} {
		// THEN it is a 404 basic_flow_disabled with no upstream call at all
		if r.status != http.StatusNotFound || r.errCode() != "basic_flow_disabled" || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
		if msg, _ := r.json["error"].(map[string]any)["message"].(string); msg == "" {
			t.Errorf("%s: empty message", name)
		}
	}
	if n := h.cognito.Total() + h.sts.Total(); n != 0 {
		t.Fatalf("AWS called %d times", n)
	}
	// /v1/token is unaffected.
	if r := h.login("/v1/token", "backend", hsToken(nil)); r.status != http.StatusOK || h.cognito.Total() != 1 {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
}

func TestGuestWithoutBasicFlowUsesEnhancedFlow(t *testing.T) {
	h := newHarness(t, basicFlowOff())
	r := h.do(http.MethodPost, "/v1/guest", "", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	// Exactly two AWS calls, GetId and GetOpenIdToken; no STS.
	if n := h.cognito.Total() + h.sts.Total(); n != 2 || h.cognito.Calls("GetId") != 1 || h.cognito.Calls("GetOpenIdToken") != 1 {
		t.Fatalf("calls: total %d GetId %d GetOpenIdToken %d sts %d", n, h.cognito.Calls("GetId"), h.cognito.Calls("GetOpenIdToken"), h.sts.Total())
	}
	want := map[string]any{
		"identityId": "eu-west-1:99999999-8888-7777-6666-555555555555", "token": "cognito-guest-token",
		"identityPoolId": poolID, "region": region, "loginKey": "cognito-identity.amazonaws.com",
	}
	if len(r.json) != len(want) {
		t.Errorf("body has fields %v, want exactly %d", r.json, len(want))
	}
	for k, v := range want {
		if r.json[k] != v {
			t.Errorf("%s = %v, want %v", k, r.json[k], v)
		}
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers = %v", r.header)
	}

	// Reusing a guest identity skips GetId: one call.
	h.cognito.Reset()
	id := "eu-west-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	r = h.do(http.MethodPost, "/v1/guest", "application/json", `{"identityId":"`+id+`"}`)
	if r.status != http.StatusOK || r.json["identityId"] != id || h.cognito.Total() != 1 || h.cognito.Calls("GetOpenIdToken") != 1 || h.sts.Total() != 0 {
		t.Fatalf("reuse: status %d body %s cognito %d sts %d", r.status, r.body, h.cognito.Total(), h.sts.Total())
	}
	h.cognito.Fail("NotAuthorizedException")
	if r := h.do(http.MethodPost, "/v1/guest", "application/json", `{"identityId":"`+id+`"}`); r.status != http.StatusUnauthorized {
		t.Errorf("authenticated identity as guest: %d %s", r.status, r.body)
	}
}

func TestChinaRegionLoginKey(t *testing.T) {
	h := newHarness(t, harnessOpts{env: map[string]string{
		"AWS_REGION":              "cn-north-1",
		"S3VEND_IDENTITY_POOL_ID": "cn-north-1:0d4f7c2e-1111-2222-3333-444455556666",
		"S3VEND_AUTH_ROLE_ARN":    "arn:aws-cn:iam::123456789012:role/auth",
		"S3VEND_UNAUTH_ROLE_ARN":  "arn:aws-cn:iam::123456789012:role/unauth",
	}})
	r := h.login("/v1/token", "backend", hsToken(nil))
	if r.status != http.StatusOK || r.json["loginKey"] != "cognito-identity.cn-north-1.amazonaws.com.cn" || r.json["region"] != "cn-north-1" {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
}

func TestErrorStatuses(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	big := `{"provider":"google","credential":"` + strings.Repeat("a", 17<<10) + `"}`
	cases := []struct {
		name, method, path, ct, body string
		status                       int
		code                         string
	}{
		{"malformed json", "POST", "/v1/token", "application/json", `{"provider":`, 400, "malformed_json"},
		{"not an object", "POST", "/v1/token", "application/json", `["google"]`, 400, "malformed_json"},
		{"trailing data", "POST", "/v1/token", "application/json", `{"provider":"google","credential":"x"}{}`, 400, "malformed_json"},
		{"wrong type", "POST", "/v1/token", "application/json", `{"provider":1,"credential":"x"}`, 400, "malformed_json"},
		{"unknown field", "POST", "/v1/token", "application/json", `{"provider":"google","credential":"x","admin":true}`, 400, "unknown_field"},
		{"missing field", "POST", "/v1/credentials", "application/json", `{"provider":"google"}`, 400, "missing_field"},
		{"unknown provider", "POST", "/v1/token", "application/json", `{"provider":"facebook","credential":"x"}`, 400, "unknown_provider"},
		{"rejected", "POST", "/v1/token", "application/json", `{"provider":"google","credential":"not-a-jwt"}`, 401, "invalid_credential"},
		{"unknown route", "GET", "/v1/nope", "", "", 404, "not_found"},
		{"root", "GET", "/", "", "", 404, "not_found"},
		{"wrong method", "GET", "/v1/token", "", "", 405, "method_not_allowed"},
		{"wrong method healthz", "POST", "/healthz", "", "", 405, "method_not_allowed"},
		{"too large", "POST", "/v1/token", "application/json", big, 413, "body_too_large"},
		{"not json", "POST", "/v1/token", "text/plain", `{"provider":"google","credential":"x"}`, 415, "unsupported_media_type"},
		{"no content type", "POST", "/v1/token", "", `{"provider":"google","credential":"x"}`, 415, "unsupported_media_type"},
		{"wechat used code", "POST", "/v1/token", "application/json", `{"provider":"wechat","credential":"used-code"}`, 401, "invalid_credential"},
		{"wechat malformed code", "POST", "/v1/token", "application/json", `{"provider":"wechat","credential":"bad code!"}`, 401, "invalid_credential"},
		{"wechat rate limited", "POST", "/v1/token", "application/json", `{"provider":"wechat","credential":"limited-code"}`, 429, "rate_limited"},
		{"wechat busy", "POST", "/v1/token", "application/json", `{"provider":"wechat","credential":"busy-code"}`, 503, "upstream_throttled"},
		{"wechat config error", "POST", "/v1/token", "application/json", `{"provider":"wechat","credential":"bad-secret"}`, 502, "upstream_error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do(c.method, c.path, c.ct, c.body)
			if r.status != c.status || r.errCode() != c.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, c.status, c.code)
			}
			if msg, _ := r.json["error"].(map[string]any)["message"].(string); msg == "" {
				t.Error("empty message")
			}
			if c.status == 405 && r.header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
			if (c.status == 429 || c.status >= 502) && r.header.Get("Retry-After") == "" {
				t.Error("missing Retry-After")
			}
		})
	}
	if h.cognito.Total()+h.sts.Total() != 0 {
		t.Errorf("AWS called %d times for failed requests", h.cognito.Total()+h.sts.Total())
	}
	if r := h.do("GET", "/healthz", "", ""); r.status != 200 || r.json["status"] != "ok" {
		t.Errorf("healthz: %d %s", r.status, r.body)
	}
}

func TestUpstreamFailures(t *testing.T) {
	cases := []struct {
		name    string
		path    string
		fail    func(h *harness)
		status  int
		code    string
		calls   func(h *harness) int
		attempt int
	}{
		{"cognito throttling", "/v1/token", func(h *harness) { h.cognito.Fail("TooManyRequestsException") }, 503, "upstream_throttled",
			func(h *harness) int { return h.cognito.Calls("GetOpenIdTokenForDeveloperIdentity") }, 1}, // a throttle is not retried (awsx.NoThrottleRetry)
		{"sts throttling", "/v1/credentials", func(h *harness) { h.sts.Fail("Throttling") }, 503, "upstream_throttled",
			func(h *harness) int { return h.sts.Calls("AssumeRoleWithWebIdentity") }, 1},
		{"cognito internal error", "/v1/token", func(h *harness) { h.cognito.Fail("InternalErrorException") }, 502, "upstream_error",
			func(h *harness) int { return h.cognito.Calls("GetOpenIdTokenForDeveloperIdentity") }, 3},
		{"cognito not authorized", "/v1/token", func(h *harness) { h.cognito.Fail("NotAuthorizedException") }, 502, "upstream_error",
			func(h *harness) int { return h.cognito.Calls("GetOpenIdTokenForDeveloperIdentity") }, 1},
		{"sts invalid token", "/v1/credentials", func(h *harness) { h.sts.Fail("InvalidIdentityToken") }, 502, "upstream_error",
			func(h *harness) int { return h.sts.Calls("AssumeRoleWithWebIdentity") }, 1},
	}
	h := newHarness(t, harnessOpts{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.cognito.Reset()
			h.sts.Reset()
			c.fail(h)
			r := h.login(c.path, "backend", hsToken(nil))
			if r.status != c.status || r.errCode() != c.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, c.status, c.code)
			}
			if r.header.Get("Retry-After") == "" {
				t.Error("missing Retry-After")
			}
			if n := c.calls(h); n != c.attempt {
				t.Errorf("attempts seen by the fake = %d, want %d", n, c.attempt)
			}
			if strings.Contains(string(r.body), "fake upstream detail") {
				t.Error("upstream text leaked")
			}
		})
	}
}

func TestUpstreamTimeoutIs503(t *testing.T) {
	h := newHarness(t, harnessOpts{env: map[string]string{"S3VEND_UPSTREAM_TIMEOUT": "300ms"}})
	h.cognito.Delay(5 * time.Second)
	start := time.Now()
	r := h.login("/v1/token", "backend", hsToken(nil))
	if r.status != http.StatusServiceUnavailable || r.errCode() != "upstream_timeout" || r.header.Get("Retry-After") == "" {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v; the deadline did not bound the call", d)
	}
}

func TestRejectedTokensAre401(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&h.issuer.RSA.PublicKey))})
	claims := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": h.issuer.URL, "aud": audience, "sub": "user-42", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
	}
	with := func(k string, v any) jwt.MapClaims { c := claims(); c[k] = v; return c }
	without := func(k string) jwt.MapClaims { c := claims(); delete(c, k); return c }
	none := fakes.SignWith(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "rsa-1", claims())
	hsrs := fakes.SignWith(jwt.SigningMethodHS256, pubPEM, "rsa-1", claims())
	hsrsDER := fakes.SignWith(jwt.SigningMethodHS256, x509.MarshalPKCS1PublicKey(&h.issuer.RSA.PublicKey), "rsa-1", claims())
	valid := h.idToken(nil)
	parts := strings.Split(valid, ".")
	corpEmail := func(verified any) jwt.MapClaims {
		c := jwt.MapClaims{"iss": h.issuer.URL, "aud": "corp-app", "email": "a@corp.example", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
		if verified != nil {
			c["email_verified"] = verified
		}
		return c
	}

	cases := map[string]struct{ provider, token string }{
		"forged signature":   {"google", fakes.SignWith(jwt.SigningMethodRS256, other, "rsa-1", claims())},
		"forged EC":          {"google", fakes.SignWith(jwt.SigningMethodES256, otherEC, "ec-1", claims())},
		"tampered payload":   {"google", parts[0] + "." + strings.Split(h.idToken(func(c jwt.MapClaims) { c["sub"] = "admin" }), ".")[1] + "." + parts[2]},
		"expired":            {"google", h.idToken(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-5 * time.Minute).Unix() })},
		"no exp":             {"google", h.issuer.Sign(without("exp"))},
		"not yet valid":      {"google", h.issuer.Sign(with("nbf", time.Now().Add(10*time.Minute).Unix()))},
		"wrong audience":     {"google", h.issuer.Sign(with("aud", "someone-else"))},
		"wrong issuer":       {"google", h.issuer.Sign(with("iss", "https://evil.example"))},
		"alg none":           {"google", none},
		"HS/RS confusion":    {"google", hsrs},
		"HS/RS DER":          {"google", hsrsDER},
		"alg not allowed":    {"google", fakes.SignWith(jwt.SigningMethodRS512, h.issuer.RSA, "rsa-1", claims())},
		"unknown kid":        {"google", fakes.SignWith(jwt.SigningMethodRS256, other, "nope", claims())},
		"no sub":             {"google", h.issuer.Sign(without("sub"))},
		"garbage":            {"google", "a.b.c"},
		"token for corp aud": {"corp", valid},
		// userClaim "email" needs email_verified: true (issue 9, item 1).
		"corp email unverified":        {"corp", h.issuer.Sign(corpEmail(false))},
		"corp email_verified \"true\"": {"corp", h.issuer.Sign(corpEmail("true"))},
		"corp no email_verified":       {"corp", h.issuer.Sign(corpEmail(nil))},
		"hs wrong key":                 {"backend", fakes.SignWith(jwt.SigningMethodHS256, []byte("another-key-another-key-another-key"), "", jwt.MapClaims{"iss": "https://api.example.com", "aud": "s3vend", "sub": "x", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix()})},
		"hs too long ttl":              {"backend", hsToken(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(time.Hour).Unix() })},
		"hs no iat":                    {"backend", hsToken(func(c jwt.MapClaims) { delete(c, "iat") })},
		"hs expired": {"backend", hsToken(func(c jwt.MapClaims) {
			c["exp"] = time.Now().Add(-2 * time.Minute).Unix()
			c["iat"] = time.Now().Add(-3 * time.Minute).Unix()
		})},
		"hs wrong aud": {"backend", hsToken(func(c jwt.MapClaims) { c["aud"] = "other" })},
		"hs alg none":  {"backend", fakes.SignWith(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", jwt.MapClaims{"iss": "https://api.example.com", "aud": "s3vend", "sub": "x", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix()})},
		"hs as RS256":  {"backend", fakes.SignWith(jwt.SigningMethodRS256, h.issuer.RSA, "", jwt.MapClaims{"iss": "https://api.example.com", "aud": "s3vend", "sub": "x", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix()})},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := h.login("/v1/credentials", c.provider, c.token)
			if r.status != http.StatusUnauthorized || r.errCode() != "invalid_credential" {
				t.Fatalf("got %d %s", r.status, r.body)
			}
		})
	}
	if n := h.cognito.Total() + h.sts.Total(); n != 0 {
		t.Errorf("AWS called %d times for rejected credentials", n)
	}
	// The valid token still works (guards against a vacuous test).
	if r := h.login("/v1/token", "google", valid); r.status != 200 {
		t.Fatalf("valid token: %d %s", r.status, r.body)
	}
}

func TestJWKSOutageUsesCachedKeys(t *testing.T) {
	for _, discover := range []bool{true, false} {
		h := newHarness(t, harnessOpts{noDiscover: !discover})
		if r := h.login("/v1/token", "google", h.idToken(nil)); r.status != 200 {
			t.Fatalf("warm-up: %d %s", r.status, r.body)
		}
		// GIVEN the issuer goes down after the keys were cached
		h.issuer.SetDown(true)
		// WHEN tokens signed with a cached key arrive
		for range 3 {
			if r := h.login("/v1/token", "google", h.idToken(nil)); r.status != 200 {
				t.Fatalf("during outage: %d %s", r.status, r.body)
			}
		}
		// THEN an unknown kid is still rejected quickly, not hung
		start := time.Now()
		if r := h.login("/v1/token", "google", fakes.SignWith(jwt.SigningMethodRS256, h.issuer.RSA, "rsa-9", jwt.MapClaims{"iss": h.issuer.URL, "aud": audience, "sub": "u", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})); r.status != 401 {
			t.Fatalf("unknown kid during outage: %d %s", r.status, r.body)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("unknown kid took %v", d)
		}
		if r := h.login("/v1/token", "google", h.idToken(nil)); r.status != 200 {
			t.Fatalf("after failed refresh: %d %s", r.status, r.body)
		}
	}
}

func TestJWKSRefreshOnUnknownKid(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	if r := h.login("/v1/token", "google", h.idToken(nil)); r.status != 200 {
		t.Fatalf("warm-up: %d %s", r.status, r.body)
	}
	h.issuer.Rotate()
	time.Sleep(60 * time.Millisecond) // let the (test-shortened) unknown-kid limiter refill
	tok := fakes.SignWith(jwt.SigningMethodRS256, h.issuer.RSA, "rsa-2", jwt.MapClaims{"iss": h.issuer.URL, "aud": audience, "sub": "u", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	if r := h.login("/v1/token", "google", tok); r.status != 200 {
		t.Fatalf("rotated key: %d %s", r.status, r.body)
	}
	if n := h.issuer.JWKSFetches(); n != 2 {
		t.Errorf("JWKS fetches = %d, want 2", n)
	}
}

func TestIssuerDownOnFirstUseIsUpstreamError(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.issuer.SetDown(true)
	r := h.login("/v1/token", "google", h.idToken(nil))
	if r.status != http.StatusBadGateway || r.header.Get("Retry-After") == "" {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	h.issuer.SetDown(false)
	time.Sleep(5 * time.Millisecond)
	if r := h.login("/v1/token", "google", h.idToken(nil)); r.status != 200 {
		t.Fatalf("after recovery: %d %s", r.status, r.body)
	}
}

func TestNothingSensitiveInResponsesOrLogs(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	tok := h.idToken(nil)
	hs := hsToken(nil)
	h.login("/v1/credentials", "google", tok)
	h.login("/v1/credentials", "backend", hs)
	h.login("/v1/token", "wechat", "good-code")
	h.login("/v1/token", "wechat", "bad-secret")
	h.login("/v1/token", "google", tok+"x")
	h.cognito.Fail("InternalErrorException")
	r := h.login("/v1/token", "backend", hs)
	h.sts.Fail("InvalidIdentityToken")
	h.cognito.Fail("")
	r2 := h.login("/v1/credentials", "backend", hs)
	logs := h.logs.String()
	for _, secret := range []string{tok[20:60], hs[20:60], "good-code", appSecret, hsKey, "fake upstream detail", "cognito-openid-token", "wJalrXUtnFEMI", "FQoGZXIv"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q", secret)
		}
		if strings.Contains(string(r.body)+string(r2.body), secret) {
			t.Errorf("error response contains %q", secret)
		}
	}
	if !strings.Contains(logs, `"request_id"`) || !strings.Contains(logs, "InternalErrorException") {
		t.Errorf("logs lack request ids or error codes:\n%s", logs)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
