package contract_test

import (
	"strings"
	"testing"

	"github.com/s3vend/s3vend/contract"
)

func TestNormalizeAppliesDefaultsWithoutMutating(t *testing.T) {
	in := contract.Verifiers{
		OIDC:   []contract.OIDC{{Name: "idp", Issuer: "https://idp.example.com", Audiences: []string{"app"}}},
		WeChat: &contract.WeChat{Name: "wechat", AppID: "wx1"},
		HS256:  &contract.HS256{Name: "backend", Issuer: "https://api.example.com", Audience: "s3vend"},
	}
	out, err := in.Normalize(false)
	if err != nil {
		t.Fatal(err)
	}
	if out.OIDC[0].UserClaim != "sub" || out.OIDC[0].Algorithms[0] != "RS256" ||
		out.WeChat.BaseURL != contract.DefaultWeChatBaseURL || out.WeChat.IDField != "openid" ||
		out.HS256.MaxTTL() != contract.DefaultHS256MaxTTL {
		t.Errorf("defaults not applied: %+v %+v %+v", out.OIDC[0], *out.WeChat, *out.HS256)
	}
	if in.OIDC[0].UserClaim != "" || in.WeChat.BaseURL != "" || in.HS256.MaxTTLSeconds != 0 {
		t.Error("Normalize mutated its input")
	}
	if !out.NeedsSecret() || out.Count() != 3 {
		t.Errorf("NeedsSecret=%v Count=%d", out.NeedsSecret(), out.Count())
	}
}

func TestLoopbackHTTPOnlyWhenAllowed(t *testing.T) {
	v := contract.Verifiers{OIDC: []contract.OIDC{{Name: "local", Issuer: "http://127.0.0.1:9000", Audiences: []string{"a"}}}}
	if _, err := v.Normalize(true); err != nil {
		t.Errorf("local mode must accept a loopback issuer: %v", err)
	}
	_, err := v.Normalize(false)
	if err == nil || !strings.HasPrefix(err.Error(), "oidc[0].issuer: ") {
		t.Errorf("a deployed stack must refuse http issuers with the field named, got %v", err)
	}
}

func TestEveryErrorNamesItsField(t *testing.T) {
	v := contract.Verifiers{
		OIDC:   []contract.OIDC{{Name: "X", Issuer: "ftp://x", Algorithms: []string{"HS256"}, UserClaim: "a b"}},
		WeChat: &contract.WeChat{Name: "X", IDField: "email"},
		HS256:  &contract.HS256{Name: "h", MaxTTLSeconds: 7200},
	}
	_, err := v.Normalize(false)
	if err == nil {
		t.Fatal("want errors")
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		field, _, ok := strings.Cut(line, ": ")
		if !ok || strings.Contains(field, " ") {
			t.Errorf("error line does not start with its field: %q", line)
		}
	}
}

func TestUserClaimMustBeImmutable(t *testing.T) {
	for claim, ok := range map[string]bool{
		"": true, "sub": true, "oid": true, "email": true,
		"preferred_username": false, "upn": false, "name": false, "phone_number": false,
		"email_verified": false, "custom:tenant": false, "Sub": false,
	} {
		v := contract.Verifiers{OIDC: []contract.OIDC{{Name: "idp", Issuer: "https://idp.example", Audiences: []string{"a"}, UserClaim: claim}}}
		_, err := v.Normalize(false)
		if ok && err != nil {
			t.Errorf("userClaim %q refused: %v", claim, err)
		}
		if !ok && (err == nil || !strings.HasPrefix(err.Error(), "oidc[0].userClaim: ") || !strings.Contains(err.Error(), `"sub"`)) {
			t.Errorf("userClaim %q: want an error naming oidc[0].userClaim and the fix, got %v", claim, err)
		}
	}
}

func TestOIDCMaxTokenAgeRange(t *testing.T) {
	for secs, ok := range map[int]bool{0: true, 60: true, 3600: true, 86400: true, 59: false, -1: false, 86401: false} {
		v := contract.Verifiers{OIDC: []contract.OIDC{{Name: "idp", Issuer: "https://idp.example", Audiences: []string{"a"}, MaxTokenAgeSeconds: secs}}}
		_, err := v.Normalize(false)
		if ok != (err == nil) || (err != nil && !strings.HasPrefix(err.Error(), "oidc[0].maxTokenAgeSeconds: ")) {
			t.Errorf("maxTokenAgeSeconds %d: %v", secs, err)
		}
	}
}

func TestTenantClaim(t *testing.T) {
	v := contract.Verifiers{
		OIDC:  []contract.OIDC{{Name: "idp", Issuer: "https://idp.example.com", Audiences: []string{"app"}, TenantClaim: "org_id"}},
		HS256: &contract.HS256{Name: "backend", Issuer: "https://api.example.com", Audience: "s3vend", TenantClaim: "https://example.com/tenant"},
	}
	if _, err := v.Normalize(false); err != nil || !v.Tenants() {
		t.Fatalf("%v, Tenants()=%v", err, v.Tenants())
	}
	if (contract.Verifiers{OIDC: []contract.OIDC{{Name: "idp"}}}).Tenants() {
		t.Error("Tenants() without a tenantClaim")
	}
	for _, bad := range []string{"aud", "iss", "has space", contract.PrincipalTagsClaim, strings.Repeat("c", 129)} {
		v.OIDC[0].TenantClaim = bad
		if _, err := v.Normalize(false); err == nil || !strings.HasPrefix(err.Error(), "oidc[0].tenantClaim: ") {
			t.Errorf("tenantClaim %q: %v", bad, err)
		}
	}
}
