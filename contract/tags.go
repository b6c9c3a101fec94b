package contract

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Session tags: the principal tags the token vendor attaches to a signed-in
// user's Cognito session, so that access rules can key objects by the app's
// own user id ({userId}) and tenant ({tenant}) through
// ${aws:PrincipalTag/<key>} in the role's policies.
//
// How a tag gets from the vendor to an IAM decision, fact by fact:
//
//  1. The vendor passes the tags as PrincipalTags of
//     GetOpenIdTokenForDeveloperIdentity: "PrincipalTags: Use this operation
//     to configure attribute mappings for custom providers" (Cognito
//     Identity API Reference,
//     https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetOpenIdTokenForDeveloperIdentity.html;
//     the service model bounds it: at most 50 entries, keys 1-128 and values
//     1-256 characters, botocore cognito-identity service-2.json
//     PrincipalTags, PrincipalTagID, PrincipalTagValue).
//  2. Enhanced flow: Cognito assumes the role with those tags as session
//     tags ("Transform user claims into IAM session tags", Amazon Cognito
//     identity pools, https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-identity.html;
//     "Using attributes for access control",
//     https://docs.aws.amazon.com/cognito/latest/developerguide/attributes-for-access-control.html).
//  3. Basic flow: the vendor calls AssumeRoleWithWebIdentity with Cognito's
//     token, and STS takes session tags from the token only: "To pass
//     session tags from OpenID Connect (OIDC), you must include the session
//     tags in the JSON Web Token (JWT) ... in the https://aws.amazon.com/tags
//     namespace" as {"principal_tags": {key: [value]}} (IAM User Guide,
//     "Passing session tags using AssumeRoleWithWebIdentity",
//     https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_adding-assume-role-idp).
//     AWS's documentation does not say that Cognito writes the PrincipalTags
//     into that claim of the token it returns; users report that it does
//     ("the principal tags inside the cognito token are plural",
//     aws/aws-sdk-js-v3#2831). So the vendor does not rely on it: before it
//     calls STS it checks that the token carries exactly the tags it asked
//     for (TokenPrincipalTags) and refuses to vend untagged credentials
//     otherwise, and `make smoke` checks both flows live.
//  4. "When using session tags, trust policies for all roles connected to
//     the identity provider (IdP) that is passing tags must have the
//     sts:TagSession permission" (same IAM page, "Things to know about
//     session tags"), and aws:TagKeys can bound the keys ("This condition
//     key limits the maximum set of session tags that can be passed"). The
//     authenticated role's trust policy allows sts:TagSession for exactly
//     the keys of this table the environment uses.
//  5. IAM then sets aws:PrincipalTag/<key> in the request context of every
//     request signed with the session's credentials (same page).
//
// Adding a tag is one row of SessionTags (and the vendor's value for it,
// vend.Service.sessionTags); the trust policy, the vendor's environment, the
// reuse cache keys, the stand-ins and the access matrix follow the table.

// Tag keys. Tag keys must not start with "aws:" (reserved) and are
// compared case-insensitively by STS ("New session tags override existing
// assumed role or federated user tags with the same tag key, regardless of
// case"), so they are lower-case and distinct.
const (
	TagUser   = "s3vend-user"
	TagTenant = "s3vend-tenant"
	// TagQuota is the user-quota state at token issue: QuotaOver when the
	// identity is at or over userQuota, else QuotaUnder; the authenticated
	// role denies s3:PutObject to sessions tagged QuotaOver
	// (docs/abuse-control.md, "Direct writes").
	TagQuota = "s3vend-quota"
)

// Values of TagQuota.
const (
	QuotaUnder = "under"
	QuotaOver  = "over"
)

// SessionTag is one row of the tag table.
type SessionTag struct {
	Key string
	// Placeholder is the access-rule placeholder whose value the tag
	// carries ("{userId}"); a tag without one is set on every signed-in
	// session of every environment.
	Placeholder string
	Doc         string
}

// SessionTags is the table of every tag the vendor may set.
var SessionTags = []SessionTag{
	{Key: TagUser, Placeholder: PlaceholderUserID, Doc: "the verified, namespaced user id: <verifier>:<escaped id> (UserTagValue)"},
	{Key: TagTenant, Placeholder: PlaceholderTenant, Doc: "the verified, namespaced tenant: <verifier>:<escaped tenantClaim value> (UserTagValue)"},
	{Key: TagQuota, Placeholder: PlaceholderQuota, Doc: "the user-quota state at token issue: under or over (userQuota; over: no direct writes)"},
}

// Access-rule placeholders that session tags carry (the rest of the rule
// language is in access.go).
const (
	PlaceholderIdentityID = "{identityId}"
	PlaceholderUserID     = "{userId}"
	PlaceholderTenant     = "{tenant}"
	// PlaceholderQuota is no access-rule placeholder: the stack adds it to
	// an environment's placeholders when userQuota is on, so its sessions
	// carry TagQuota.
	PlaceholderQuota = "{quota}"
)

// SessionTagNamed is the table's row for key.
func SessionTagNamed(key string) (SessionTag, bool) {
	i := slices.IndexFunc(SessionTags, func(t SessionTag) bool { return t.Key == key })
	if i < 0 {
		return SessionTag{}, false
	}
	return SessionTags[i], true
}

// SessionTagKeys are the keys an environment's sessions carry: the tags of
// the placeholders its access rules use, and every tag without a
// placeholder, in table order.
func SessionTagKeys(placeholders []string) []string {
	var keys []string
	for _, t := range SessionTags {
		if t.Placeholder == "" || slices.Contains(placeholders, t.Placeholder) {
			keys = append(keys, t.Key)
		}
	}
	return keys
}

// PrincipalTagVariable is the IAM policy variable of a session tag, such as
// "${aws:PrincipalTag/s3vend-user}".
func PrincipalTagVariable(key string) string { return "${" + PrincipalTagContextKey(key) + "}" }

// PrincipalTagContextKey is the request-context key of a session tag,
// "aws:PrincipalTag/<key>".
func PrincipalTagContextKey(key string) string { return "aws:PrincipalTag/" + key }

// EnvSessionTags lists the tag keys the vendor sets, comma-separated, in
// table order; unset or empty: none. The stack writes the same list into the
// authenticated role's trust policy.
const EnvSessionTags = "S3VEND_SESSION_TAGS"

// SessionTagsEnv is the EnvSessionTags value of keys.
func SessionTagsEnv(keys []string) string { return strings.Join(keys, ",") }

// ParseSessionTagsEnv reads EnvSessionTags: keys of the table, each once.
func ParseSessionTagsEnv(getenv func(string) string) ([]string, error) {
	raw := getenv(EnvSessionTags)
	if raw == "" {
		return nil, nil
	}
	keys := strings.Split(raw, ",")
	for i, k := range keys {
		if _, ok := SessionTagNamed(k); !ok {
			return nil, fmt.Errorf("%s: %q is not a session tag of this s3vend version (%s)", EnvSessionTags, k, tagKeyList())
		}
		if slices.Contains(keys[:i], k) {
			return nil, fmt.Errorf("%s: %q is listed twice", EnvSessionTags, k)
		}
	}
	return keys, nil
}

func tagKeyList() string {
	keys := make([]string, len(SessionTags))
	for i, t := range SessionTags {
		keys[i] = t.Key
	}
	return strings.Join(keys, ", ")
}

// Limits of session tags. STS: "You can pass up to 50 session tags. The
// plaintext session tag keys can’t exceed 128 characters and the values
// can’t exceed 256 characters" (STS API Reference, AssumeRoleWithWebIdentity,
// "Tags"); the service model's Tag shape adds the character set:
// tagKeyType [\p{L}\p{Z}\p{N}_.:/=+\-@]+, tagValueType
// [\p{L}\p{Z}\p{N}_.:/=+\-@]* (botocore sts service-2.json). Cognito's
// PrincipalTagValue is 1-256 characters, so a value is never empty here.
const (
	MaxSessionTags        = 50
	MaxSessionTagKeyLen   = 128
	MaxSessionTagValueLen = 256
)

var (
	tagKeyRE   = newLazyRegexp(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	tagValueRE = newLazyRegexp(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// CheckSessionTags checks tags against STS's limits and character set, and
// Cognito's non-empty values.
func CheckSessionTags(tags map[string]string) error {
	if len(tags) > MaxSessionTags {
		return fmt.Errorf("%d session tags; at most %d", len(tags), MaxSessionTags)
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		v := tags[k]
		switch {
		case utf8.RuneCountInString(k) > MaxSessionTagKeyLen || !tagKeyRE.MatchString(k):
			return fmt.Errorf("session tag key %q must be 1-%d characters of letters, digits, spaces and _.:/=+-@", k, MaxSessionTagKeyLen)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return fmt.Errorf("session tag key %q: the aws: prefix is reserved", k)
		case v == "" || utf8.RuneCountInString(v) > MaxSessionTagValueLen || !tagValueRE.MatchString(v):
			return fmt.Errorf("session tag %s: the value must be 1-%d characters of letters, digits, spaces and _.:/=+-@", k, MaxSessionTagValueLen)
		}
	}
	return nil
}

// TagSetKey is a canonical, injective text of a tag set (keys sorted), for
// cache keys: two sets have the same text only if they are equal.
func TagSetKey(tags map[string]string) string {
	if len(tags) == 0 {
		return ""
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		// Lengths first: keys and values may contain any separator.
		fmt.Fprintf(&b, "%d:%s%d:%s", len(k), k, len(tags[k]), tags[k])
	}
	return b.String()
}

// ErrTagValueTooLong: a user id or tenant is longer than a session tag value
// may be once escaped (the vendor refuses the login with a 4xx).
var ErrTagValueTooLong = fmt.Errorf("longer than %d characters once escaped (the session tag value limit)", MaxSessionTagValueLen)

// UserTagValue is the session tag value, and the key segment, of a verified
// id (a user id or a tenant) of the named verifier: "<verifier>:<escaped
// id>". It is injective (two different (verifier, id) pairs never give the
// same value, so two users never share a key prefix), its characters are
// ASCII letters, digits and _.@-=: only (no "/": a value is exactly one
// key segment, never "." or ".."), and it is readable for common ids:
//
//   - verifier names are [a-z0-9-]{1,32} (no ":"), so the first ":" ends it;
//   - in the id, ASCII letters, digits and _ . @ - stay as they are, and
//     every other byte (including "=", ":", "/", "|", "+", spaces and the
//     bytes of non-ASCII UTF-8) becomes "=" and two upper-case hex digits,
//     as in quoted-printable: "=" never appears unescaped, so the escaping
//     decodes uniquely.
//
// For example google:1234567890 stays "google:1234567890", auth0's
// "auth0|64f0c1" becomes "idp:auth0=7C64f0c1", "a+b@x.org" becomes
// "idp:a=2Bb@x.org". An escaped value over 256 characters is
// ErrTagValueTooLong: the vendor refuses that login (403
// unsupported_user_id) rather than truncating it into a collision.
func UserTagValue(verifier, id string) (string, error) {
	if !nameRE.MatchString(verifier) {
		return "", fmt.Errorf("verifier name %q is not [a-z0-9-]{1,32}", verifier)
	}
	if id == "" {
		return "", errors.New("empty id")
	}
	var b strings.Builder
	b.WriteString(verifier)
	b.WriteByte(':')
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '.', c == '@', c == '-':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
		if b.Len() > MaxSessionTagValueLen {
			return "", ErrTagValueTooLong
		}
	}
	return b.String(), nil
}

// ParseUserTagValue is UserTagValue's inverse: the verifier name and the id
// of a tag value (a {userId} key segment). The escaping decodes uniquely,
// so two users never parse to one; a value UserTagValue cannot have made
// is an error.
func ParseUserTagValue(v string) (verifier, id string, err error) {
	verifier, esc, ok := strings.Cut(v, ":")
	if !ok || !nameRE.MatchString(verifier) || esc == "" || len(v) > MaxSessionTagValueLen {
		return "", "", fmt.Errorf("user tag value %q is not <verifier>:<id> of at most %d characters", v, MaxSessionTagValueLen)
	}
	var b strings.Builder
	for i := 0; i < len(esc); i++ {
		c := esc[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '.', c == '@', c == '-':
			b.WriteByte(c)
		case c == '=' && i+2 < len(esc) && isUpperHex(esc[i+1]) && isUpperHex(esc[i+2]):
			n, _ := strconv.ParseUint(esc[i+1:i+3], 16, 8)
			if d := byte(n); 'a' <= d && d <= 'z' || 'A' <= d && d <= 'Z' || '0' <= d && d <= '9' || d == '_' || d == '.' || d == '@' || d == '-' {
				return "", "", fmt.Errorf("user tag value %q escapes %q, which UserTagValue keeps", v, d)
			}
			b.WriteByte(byte(n))
			i += 2
		default:
			return "", "", fmt.Errorf("user tag value %q has %q at %d", v, c, len(verifier)+1+i)
		}
	}
	return verifier, b.String(), nil
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

// PrincipalTagsClaim is the JWT claim STS reads session tags from.
const PrincipalTagsClaim = "https://aws.amazon.com/tags"

// PrincipalTagsClaimValue is the claim's value for tags:
// {"principal_tags": {key: [value]}} (one value per key: "Multivalued
// session tags are not supported", IAM User Guide, session tags).
func PrincipalTagsClaimValue(tags map[string]string) map[string]any {
	pt := make(map[string]any, len(tags))
	for k, v := range tags {
		pt[k] = []string{v}
	}
	return map[string]any{"principal_tags": pt}
}

// TokenPrincipalTags reads the session tags that a JWT's
// https://aws.amazon.com/tags claim carries (nil when it has none). It
// decodes the payload without verifying the signature: the vendor uses it
// on a token it just received from Cognito over TLS, and the STS stand-in
// on a token it looked up. A malformed claim is an error.
func TokenPrincipalTags(token string) (map[string]string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a compact JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("JWT payload is not base64url")
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, errors.New("JWT payload is not a JSON object")
	}
	raw, ok := claims[PrincipalTagsClaim]
	if !ok {
		return nil, nil
	}
	var claim struct {
		PrincipalTags map[string][]string `json:"principal_tags"`
	}
	if err := json.Unmarshal(raw, &claim); err != nil {
		return nil, fmt.Errorf("%s claim is not {\"principal_tags\": {key: [value]}}", PrincipalTagsClaim)
	}
	tags := make(map[string]string, len(claim.PrincipalTags))
	for k, vs := range claim.PrincipalTags {
		if len(vs) != 1 {
			return nil, fmt.Errorf("%s: principal tag %q has %d values; session tags take exactly one", PrincipalTagsClaim, k, len(vs))
		}
		tags[k] = vs[0]
	}
	return tags, nil
}
