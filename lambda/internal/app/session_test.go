package app_test

import (
	"net/http"
	"testing"
	"time"
)

// POST /v1/session answers the identity id and the identity's own
// credentials in one round trip, through the basic flow when the pool
// allows it and GetCredentialsForIdentity (enhanced flow) when not.
func TestSessionEitherFlow(t *testing.T) {
	for _, c := range []struct {
		name       string
		basic      string
		wantSTS    int // AssumeRoleWithWebIdentity calls
		wantCognit int // GetCredentialsForIdentity calls
	}{
		{"basic flow", "true", 1, 0},
		{"enhanced flow", "false", 0, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			// GIVEN a vendor whose pool does (or does not) allow the basic flow, cache on
			env := map[string]string{"S3VEND_BASIC_FLOW": c.basic, "S3VEND_CACHE_ENABLED": "true"}
			if c.basic == "false" {
				env["S3VEND_SESSION_POLICY"] = "" // basic flow only
			}
			h := newHarness(t, harnessOpts{env: env})
			// WHEN one user asks for a session twice
			first := h.login("/v1/session", "backend", hsToken(nil))
			second := h.login("/v1/session", "backend", hsToken(nil))
			// THEN both answer identity id and credentials, the second from the cache
			for _, r := range []response{first, second} {
				if r.status != http.StatusOK {
					t.Fatalf("status %d %s", r.status, r.body)
				}
				for _, k := range []string{"identityId", "accessKeyId", "secretAccessKey", "sessionToken", "expiration"} {
					if s, _ := r.json[k].(string); s == "" {
						t.Fatalf("no %s in %s", k, r.body)
					}
				}
				if _, err := time.Parse(time.RFC3339, r.json["expiration"].(string)); err != nil {
					t.Errorf("expiration: %v", err)
				}
			}
			if first.json["accessKeyId"] != second.json["accessKeyId"] || first.json["expiration"] != second.json["expiration"] {
				t.Errorf("not reused: %s then %s", first.body, second.body)
			}
			if n := h.sts.Calls("AssumeRoleWithWebIdentity"); n != c.wantSTS {
				t.Errorf("AssumeRoleWithWebIdentity calls = %d, want %d", n, c.wantSTS)
			}
			if n := h.cognito.Calls("GetCredentialsForIdentity"); n != c.wantCognit {
				t.Errorf("GetCredentialsForIdentity calls = %d, want %d", n, c.wantCognit)
			}
			if n := h.cognito.Calls("GetOpenIdTokenForDeveloperIdentity"); n != 1 {
				t.Errorf("developer-token calls = %d, want 1", n)
			}
			// A bad login is refused before any AWS call.
			if r := h.login("/v1/session", "backend", "not-a-jwt"); r.status != http.StatusUnauthorized || r.errCode() != "invalid_credential" {
				t.Errorf("bad login: %d %s", r.status, r.body)
			}
		})
	}
}

// The session route shares its cache entries with the route of the same
// credentials: /v1/credentials (basic flow) and /v1/upload's signing
// credentials (enhanced flow), so a mini-program that signs in and then
// asks for an upload form costs one exchange.
func TestSessionSharesCacheEntries(t *testing.T) {
	h := newHarness(t, harnessOpts{env: map[string]string{"S3VEND_BASIC_FLOW": "false", "S3VEND_SESSION_POLICY": "", "S3VEND_CACHE_ENABLED": "true"}})
	s := h.login("/v1/session", "backend", hsToken(nil))
	u := h.upload(map[string]any{"name": "a.png"})
	if s.status != 200 || u.status != 200 {
		t.Fatalf("session %d %s, upload %d %s", s.status, s.body, u.status, u.body)
	}
	if n := h.cognito.Calls("GetCredentialsForIdentity"); n != 1 {
		t.Errorf("GetCredentialsForIdentity calls = %d, want 1 (shared entry)", n)
	}
	if s.json["identityId"] != u.json["identityId"] {
		t.Errorf("identities differ: %s vs %s", s.body, u.body)
	}
}
