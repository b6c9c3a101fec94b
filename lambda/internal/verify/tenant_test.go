package verify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/s3vend/s3vend/lambda/internal/config"
	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/verify"
)

// A verifier with a tenantClaim returns the claim's value as the tenant and
// rejects a token that lacks it or carries something else than a printable
// string; without a tenantClaim the tenant is empty whatever the token says.
func TestTenantClaim(t *testing.T) {
	ctx := context.Background()
	oidc, sign := oidcFixture(t, func(c *config.OIDC) { c.TenantClaim = "org_id" })
	hs := verify.NewHS256(config.HS256{Name: "backend", Issuer: "https://api.example.com", Audience: "s3vend", MaxTTLSeconds: 300, TenantClaim: "tenant"},
		[]byte(testHSKey), func() time.Time { return fixedNow })
	for name, c := range map[string]struct {
		v     verify.Verifier
		token func(func(jwt.MapClaims)) string
		claim string
	}{
		"oidc":  {oidc, sign, "org_id"},
		"hs256": {hs, hsSigned, "tenant"},
	} {
		id, err := c.v.Verify(ctx, c.token(func(m jwt.MapClaims) { m[c.claim] = "acme-7" }))
		if err != nil || id.Tenant != "acme-7" || id.ID == "" {
			t.Errorf("%s: %+v %v", name, id, err)
		}
		for what, val := range map[string]any{"missing": nil, "number": 7, "empty": "", "space": "a b", "too long": strings.Repeat("t", 256), "list": []string{"a"}} {
			tok := c.token(func(m jwt.MapClaims) {
				if val != nil {
					m[c.claim] = val
				}
			})
			if _, err := c.v.Verify(ctx, tok); !errors.Is(err, fault.ErrInvalidCredential) {
				t.Errorf("%s: tenant claim %s accepted: %v", name, what, err)
			}
		}
	}
	plain, signPlain := oidcFixture(t, nil)
	id, err := plain.Verify(ctx, signPlain(func(m jwt.MapClaims) { m["org_id"] = "acme" }))
	if err != nil || id.Tenant != "" {
		t.Errorf("no tenantClaim: %+v %v", id, err)
	}
}
