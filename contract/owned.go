package contract

import (
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
		parts := strings.SplitN(key, "/", len(segs)+1)
		if len(parts) != len(segs)+1 || parts[len(segs)] == "" {
			return false
		}
		for i, s := range segs {
			switch {
			case s.Placeholder == PlaceholderTenant:
				if parts[i] == "" {
					return false
				}
			case s.Placeholder != "":
				if parts[i] != v.of(s.Placeholder) {
					return false
				}
			case parts[i] != s.Literal:
				return false
			}
		}
		return true
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
		if !r.Owned() && (r.Allows(SubjectAuthenticated, ActionPut) || r.Allows(SubjectTenant, ActionPut) || r.Allows(SubjectOwner, ActionPut)) {
			out = append(out, r.Name)
		}
	}
	return out
}
