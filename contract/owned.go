package contract

import (
	"encoding/json"
	"slices"
	"strings"
)

// A user's objects, for `s3vend admin revoke --delete-objects`: the objects
// under the rules that key them by the user (Owned), at the user's own
// values. The operator policy (infra.NewAbuseControl) may list and delete
// under those rules' bases and nowhere else.

// Owned reports whether each object under the rule belongs to one user:
// the owner has grants and the path binds the user by {identityId} or
// {userId}. A rule keyed by {tenant} alone, or open to every signed-in
// user, holds objects no single user owns.
func (r Rule) Owned() bool {
	return len(r.Owner) > 0 && (r.Uses(PlaceholderIdentityID) || r.Uses(PlaceholderUserID))
}

// OwnedBy is where the user with values v keeps objects under an owned
// rule: a listing prefix (the path up to its first segment v does not fix:
// {tenant}, which whoever revokes a user does not know, is any one
// segment) and a match for each listed key. ok is false when the rule is
// not owned or v lacks a value the rule binds the user by (no user id for
// a {userId} rule): nothing of v's can be found under it.
func (r Rule) OwnedBy(v KeyValues) (prefix string, match func(key string) bool, ok bool) {
	if !r.Owned() {
		return "", nil, false
	}
	segs := r.Segments()
	var b strings.Builder
	fixed := true
	for _, s := range segs {
		val := s.Literal
		if s.Placeholder != "" {
			val = v.of(s.Placeholder)
			if s.Placeholder == PlaceholderTenant {
				fixed = false
			} else if val == "" || strings.Contains(val, "/") {
				return "", nil, false
			}
		}
		if fixed {
			b.WriteString(val + "/")
		}
	}
	match = func(key string) bool {
		got, ok := r.Match(key)
		return ok && (!r.Uses(PlaceholderIdentityID) || got.IdentityID == v.IdentityID) && (!r.Uses(PlaceholderUserID) || got.UserID == v.UserID)
	}
	return b.String(), match, true
}

// OwnedBases are the bases (Rule.Base) of the owned rules, sorted and
// unique, such as "private/" and "protected/" for the default layout: what
// the operator may list and delete under.
func (rs Rules) OwnedBases() []string {
	var out []string
	for _, r := range rs {
		if r.Owned() {
			out = append(out, r.Base())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// SharedWritable are the names of the rules a signed-in user may put under
// that are not owned: their objects belong to a tenant or to every user,
// so revoking one user leaves them.
func (rs Rules) SharedWritable() []string {
	var out []string
	for _, r := range rs {
		if !r.Owned() && r.SignedInMayPut() {
			out = append(out, r.Name)
		}
	}
	return out
}

// Match reports whether key lies under the rule's path, with the values of
// its placeholders: each a non-empty segment, followed by a non-empty rest
// (a key at the prefix itself is no object of the rule's).
func (r Rule) Match(key string) (KeyValues, bool) {
	segs := r.Segments()
	parts := strings.SplitN(key, "/", len(segs)+1)
	if len(parts) != len(segs)+1 || parts[len(segs)] == "" {
		return KeyValues{}, false
	}
	var v KeyValues
	for i, s := range segs {
		switch s.Placeholder {
		case "":
			if parts[i] != s.Literal {
				return KeyValues{}, false
			}
			continue
		case PlaceholderIdentityID:
			v.IdentityID = parts[i]
		case PlaceholderUserID:
			v.UserID = parts[i]
		case PlaceholderTenant:
			v.Tenant = parts[i]
		}
		if parts[i] == "" {
			return KeyValues{}, false
		}
	}
	return v, true
}

// Metered reports whether a user quota counts the rule's objects against
// their owner: the rule is owned and the owner may put (objects only the
// backend writes, such as an inbox, are not the user's to be limited by).
func (r Rule) Metered() bool { return r.Owned() && r.Allows(SubjectOwner, ActionPut) }

// MeteredRules are the metered rules' names and paths: what the metering
// function reads (EnvMeteredRules) and the bucket notifications' prefixes
// (their bases).
func (rs Rules) MeteredRules() []UploadRule { return rs.paths(Rule.Metered) }

// MeteredBases are the bases of the metered rules, sorted and unique: the
// prefixes of the bucket notifications that feed the metering function.
func MeteredBases(rules []UploadRule) []string {
	var out []string
	for _, u := range rules {
		out = append(out, u.Rule().Base())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// EnvMeteredRules holds the metering function's rules (MeteredRules, as
// compact JSON of name and path); unset: the default layout's.
const EnvMeteredRules = "S3VEND_METERED_RULES"

// MeteredRulesEnv is the EnvMeteredRules value of the rules.
func (rs Rules) MeteredRulesEnv() string {
	b, _ := json.Marshal(rs.MeteredRules())
	return string(b)
}

// ParseMeteredRulesEnv reads EnvMeteredRules; unset: the default layout's.
func ParseMeteredRulesEnv(getenv func(string) string) ([]UploadRule, error) {
	return parseRulePaths(EnvMeteredRules, getenv(EnvMeteredRules), DefaultRules().MeteredRules())
}

// OwnerOf is whose quota an object key counts against, under the metered
// rules: the identity id of a rule keyed by {identityId}, else the user id
// (the {userId} segment, a UserTagValue) of one keyed by {userId}. ok is
// false for a key under no metered rule (public/, a tenant's, the
// backend's), which no user quota counts. Rules never overlap
// (Rules.Check), so at most one matches.
func OwnerOf(rules []UploadRule, key string) (identityID, userID string, ok bool) {
	for _, u := range rules {
		r := u.Rule()
		v, match := r.Match(key)
		switch {
		case !match:
			continue
		case r.Uses(PlaceholderIdentityID):
			return v.IdentityID, "", true
		case r.Uses(PlaceholderUserID):
			return "", v.UserID, true
		}
	}
	return "", "", false
}
