// Package devlogin mints test logins for the token vendor's hs256 verifier:
// the short-lived JWT a team's backend signs with the shared hs256Key. It is
// for local development and tests (`s3vend dev-login`, the local stand-ins);
// a real backend mints the same token with its own JWT library.
//
// The vendor accepts (lambda/internal/verify/hs256.go): alg HS256 only; iss
// and aud equal to the verifier's issuer and audience; iat and exp required,
// exp-iat at most maxTtlSeconds (default 300 s); sub a non-empty user id
// that becomes the Cognito user id "<verifier name>:<sub>".
package devlogin

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MinKeyBytes is the shortest hs256Key the vendor accepts.
const MinKeyBytes = 32

// Claims are the claims of a test login.
type Claims struct {
	Issuer   string
	Audience string
	Subject  string
	TTL      time.Duration // exp - iat; must not exceed the verifier's maxTtlSeconds
	Now      time.Time     // iat; zero means time.Now()
	// Tenant, with TenantClaim, adds the claim a verifier's tenantClaim
	// names (the {tenant} of access rules): {TenantClaim: Tenant}.
	TenantClaim, Tenant string
}

// Mint signs c with key (the secret's hs256Key, used as raw UTF-8 bytes).
func Mint(key []byte, c Claims) (string, error) {
	switch {
	case len(key) < MinKeyBytes:
		return "", fmt.Errorf("hs256 key: must be at least %d bytes", MinKeyBytes)
	case c.Issuer == "" || c.Audience == "":
		return "", errors.New("issuer and audience are required (the hs256 verifier's issuer and audience)")
	case c.Subject == "":
		return "", errors.New("subject is required (the user id)")
	case c.TTL <= 0 || c.TTL > time.Hour:
		return "", errors.New("ttl must be more than 0 and at most 1h (and within the verifier's maxTtlSeconds)")
	case (c.TenantClaim == "") != (c.Tenant == ""):
		return "", errors.New("tenant and tenant claim go together (the verifier's tenantClaim names the claim)")
	}
	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.Truncate(time.Second)
	claims := jwt.MapClaims{
		"iss": c.Issuer,
		"aud": []string{c.Audience},
		"sub": c.Subject,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(c.TTL).Unix(),
	}
	if c.TenantClaim != "" {
		if _, taken := claims[c.TenantClaim]; taken {
			return "", fmt.Errorf("tenant claim %q is a registered claim", c.TenantClaim)
		}
		claims[c.TenantClaim] = c.Tenant
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
}
