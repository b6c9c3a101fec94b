package contract

import (
	"fmt"
	"slices"
	"strings"
)

// UserClaims are the only OIDC claims a verifier may take the user id from.
// The value becomes the Cognito developer user id, i.e. the identity that owns
// private/<identityId>/, so it must never move from one person to another:
//
//   - "sub": with "iss", the only claims OpenID Connect Core 1.0 §5.7 lets a
//     relying party rely on as a stable identifier ("locally unique and never
//     reassigned").
//   - "oid": Microsoft Entra ID's immutable object id of the user, the same
//     for every application (Entra ID token claims reference). Entra's "sub"
//     is pairwise per application, so "oid" is what two apps share.
//   - "email": only when the same token carries "email_verified": true (the
//     JSON boolean); OIDC verifiers enforce that on every token. A verified
//     address still names whoever controls it now, and providers can reassign
//     addresses (a deleted and re-created account, a Google username change),
//     so use it only with a directory that never reuses addresses, and prefer
//     "sub".
//
// Any other claim (preferred_username, upn, name, phone_number, custom
// claims) is refused at synth and at start-up.
var UserClaims = []string{"sub", "oid", "email"}

// UserClaimNeedsVerifiedEmail reports whether tokens must also carry
// "email_verified": true for claim to be used as the user id.
func UserClaimNeedsVerifiedEmail(claim string) bool { return claim == "email" }

func checkUserClaim(claim string) error {
	if slices.Contains(UserClaims, claim) {
		return nil
	}
	return fmt.Errorf("%q is not an immutable user id; use one of %s (\"sub\" unless the provider documents another immutable id, such as Entra ID's \"oid\")",
		claim, strings.Join(UserClaims, ", "))
}

// tenantClaimRE: a JWT claim name (a JSON object key) kept to what claim
// names look like in practice: "org_id", "tid", "custom:tenant",
// "https://example.com/tenant".
var tenantClaimRE = newLazyRegexp(`^[A-Za-z0-9_:./-]{1,128}$`)

// tenantRefused are claims that say nothing about a tenant, or that anyone
// who can sign in chooses.
var tenantRefused = []string{"iss", "aud", "exp", "iat", "nbf", "jti", "azp", "nonce", PrincipalTagsClaim}

// CheckTenantClaim checks a verifier's tenantClaim: the claim whose value
// (a string of 1-255 printable ASCII characters) names the caller's tenant,
// such as Auth0's "org_id" or Entra ID's "tid". The claim must be one the
// identity provider sets and users cannot: an organisation or directory id,
// never a self-service profile field.
func CheckTenantClaim(claim string) error {
	switch {
	case !tenantClaimRE.MatchString(claim):
		return fmt.Errorf("%q must be a claim name of 1-128 characters of letters, digits and _:./-", claim)
	case slices.Contains(tenantRefused, claim):
		return fmt.Errorf("%q is not a tenant claim; use the claim your identity provider sets to the user's organisation (e.g. \"org_id\", \"tid\")", claim)
	}
	return nil
}
