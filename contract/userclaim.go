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
