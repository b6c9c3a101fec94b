package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Access rules: the bucket's key layout as data (cdk.json
// environments.<env>.access, docs/access-rules.md). The stack compiles them
// to IAM (infra/accesspolicy), the vendor builds upload keys with them, and
// clients learn them from the stack's AccessRules output; all three read
// them through this file.
//
// A rule is a named path pattern and who may do what under it:
//
//	{"name": "avatars", "path": "avatars/{userId}/*", "owner": ["get","put","delete"], "anonymous": ["get"]}
//
// Path: literal segments and placeholders, each a whole segment, separated
// by "/" and ending in "/*" (any key below). The first segment is literal.
// Placeholders: {identityId} (the Cognito identity id), {userId} (the
// vendor-verified user id, a session tag) and {tenant} (a tenant from a
// verifier's tenantClaim, a session tag); each at most once. A placeholder
// value never contains "/" (identity ids are "<region>:<uuid>", tag values
// are UserTagValue), so it is always exactly one segment.
//
// Subjects: anonymous (no credentials: the bucket policy), guest
// (unauthenticated identities), authenticated (any signed-in identity),
// owner (the path's placeholders are the caller's own), tenant (the path's
// {tenant} is the caller's tenant). Actions: get, list, put (including
// multipart uploads), delete.

// Action is what a rule lets a subject do.
type Action string

// The actions.
const (
	ActionGet    Action = "get"
	ActionList   Action = "list"
	ActionPut    Action = "put"
	ActionDelete Action = "delete"
)

// Actions are every action, in the order the compiler and messages use.
var Actions = []Action{ActionGet, ActionList, ActionPut, ActionDelete}

// Writes reports whether a changes objects.
func (a Action) Writes() bool { return a == ActionPut || a == ActionDelete }

// Subject is who a grant is for.
type Subject string

// The subjects.
const (
	SubjectAnonymous     Subject = "anonymous"
	SubjectGuest         Subject = "guest"
	SubjectAuthenticated Subject = "authenticated"
	SubjectOwner         Subject = "owner"
	SubjectTenant        Subject = "tenant"
)

// Subjects are every subject, in the order of the JSON fields.
var Subjects = []Subject{SubjectAnonymous, SubjectGuest, SubjectAuthenticated, SubjectOwner, SubjectTenant}

// SignedIn reports whether the subject's requests come from the
// authenticated role.
func (s Subject) SignedIn() bool {
	return s == SubjectAuthenticated || s == SubjectOwner || s == SubjectTenant
}

// Binds reports whether the subject's grants substitute placeholder p with
// the caller's own value (otherwise p matches any value).
func (s Subject) Binds(p string) bool {
	switch s {
	case SubjectOwner:
		return true
	case SubjectTenant:
		return p == PlaceholderTenant
	}
	return false
}

// Rule is one access rule.
type Rule struct {
	Name          string   `json:"name"`
	Path          string   `json:"path"`
	Anonymous     []Action `json:"anonymous,omitempty"`
	Guest         []Action `json:"guest,omitempty"`
	Authenticated []Action `json:"authenticated,omitempty"`
	Owner         []Action `json:"owner,omitempty"`
	Tenant        []Action `json:"tenant,omitempty"`
	// AcknowledgeUnconfinedWrites lets "authenticated" put or delete: every
	// signed-in user may then overwrite or delete every key under the
	// path, whoever wrote it. Without it such a rule is refused.
	AcknowledgeUnconfinedWrites bool `json:"acknowledgeUnconfinedWrites,omitempty"`
}

// Grants are the rule's actions for subject s.
func (r Rule) Grants(s Subject) []Action {
	switch s {
	case SubjectAnonymous:
		return r.Anonymous
	case SubjectGuest:
		return r.Guest
	case SubjectAuthenticated:
		return r.Authenticated
	case SubjectOwner:
		return r.Owner
	case SubjectTenant:
		return r.Tenant
	}
	return nil
}

// Allows reports whether subject s may do a under the rule.
func (r Rule) Allows(s Subject, a Action) bool { return slices.Contains(r.Grants(s), a) }

// Segment is one segment of a rule's path: a literal, or a placeholder.
type Segment struct {
	Literal     string
	Placeholder string // PlaceholderIdentityID, PlaceholderUserID or PlaceholderTenant
}

// Segments are the path's segments without the final "*" (a valid path).
func (r Rule) Segments() []Segment {
	parts := strings.Split(strings.TrimSuffix(r.Path, "/*"), "/")
	out := make([]Segment, len(parts))
	for i, p := range parts {
		if isPlaceholder(p) {
			out[i] = Segment{Placeholder: p}
		} else {
			out[i] = Segment{Literal: p}
		}
	}
	return out
}

// Placeholders are the placeholders of the rule's path, in path order.
func (r Rule) Placeholders() []string {
	var out []string
	for _, s := range r.Segments() {
		if s.Placeholder != "" {
			out = append(out, s.Placeholder)
		}
	}
	return out
}

// Uses reports whether the rule's path has placeholder p.
func (r Rule) Uses(p string) bool { return slices.Contains(r.Placeholders(), p) }

// Base is the path's leading literal segments with a trailing "/", such as
// "teams/" for "teams/{tenant}/*".
func (r Rule) Base() string {
	var b strings.Builder
	for _, s := range r.Segments() {
		if s.Placeholder != "" {
			break
		}
		b.WriteString(s.Literal + "/")
	}
	return b.String()
}

// KeyValues are a caller's placeholder values: the identity id and the
// vendor's session tag values (the token and credentials responses'
// userId and tenant).
type KeyValues struct {
	IdentityID string
	UserID     string
	Tenant     string
}

func (v KeyValues) of(p string) string {
	switch p {
	case PlaceholderIdentityID:
		return v.IdentityID
	case PlaceholderUserID:
		return v.UserID
	case PlaceholderTenant:
		return v.Tenant
	}
	return ""
}

// Prefix is the rule's prefix for the caller v: the path with every
// placeholder replaced by v's value and without the final "*", such as
// "avatars/google:123/". A placeholder v has no value for, or a value that
// is not one key segment, is an error.
func (r Rule) Prefix(v KeyValues) (string, error) {
	var b strings.Builder
	for _, s := range r.Segments() {
		seg := s.Literal
		if s.Placeholder != "" {
			seg = v.of(s.Placeholder)
			switch {
			case seg == "":
				return "", fmt.Errorf("access rule %q: no value for %s (%s)", r.Name, s.Placeholder, placeholderSource(s.Placeholder))
			case strings.Contains(seg, "/") || seg == "." || seg == "..":
				return "", fmt.Errorf("access rule %q: the value for %s is not one key segment", r.Name, s.Placeholder)
			}
		}
		b.WriteString(seg + "/")
	}
	return b.String(), nil
}

// Key is Prefix followed by name (leading slashes removed).
func (r Rule) Key(v KeyValues, name string) (string, error) {
	p, err := r.Prefix(v)
	if err != nil {
		return "", err
	}
	name = strings.TrimLeft(name, "/")
	if name == "" {
		return "", fmt.Errorf("access rule %q: empty object name", r.Name)
	}
	return p + name, nil
}

func placeholderSource(p string) string {
	switch p {
	case PlaceholderUserID:
		return "the vendor's userId"
	case PlaceholderTenant:
		return "the vendor's tenant: the login's verifier needs a tenantClaim"
	}
	return "the identity id"
}

// Rules are an environment's access rules, in order.
type Rules []Rule

// Named is the rule called name.
func (rs Rules) Named(name string) (Rule, bool) {
	i := slices.IndexFunc(rs, func(r Rule) bool { return r.Name == name })
	if i < 0 {
		return Rule{}, false
	}
	return rs[i], true
}

// Placeholders are the placeholders any rule uses, in the order
// {identityId}, {userId}, {tenant}.
func (rs Rules) Placeholders() []string {
	var out []string
	for _, p := range []string{PlaceholderIdentityID, PlaceholderUserID, PlaceholderTenant} {
		if slices.ContainsFunc(rs, func(r Rule) bool { return r.Uses(p) }) {
			out = append(out, p)
		}
	}
	return out
}

// SessionTagKeys are the session tags the rules need (SessionTagKeys).
func (rs Rules) SessionTagKeys() []string { return SessionTagKeys(rs.Placeholders()) }

// DefaultRules are s3vend's layout when an environment sets no "access":
// the Amplify storage convention it has always had.
//
//   - public/*: anyone reads; signed-in users also list; only the bucket
//     owner writes.
//   - protected/<identityId>/*: the identity reads, writes, deletes and
//     lists its own; every signed-in user reads and lists all of protected/.
//   - private/<identityId>/*: the identity alone.
//
// The compiled statements are byte for byte the ones s3vend granted before
// access rules existed (test/access_test.go compares them).
func DefaultRules() Rules {
	all := []Action{ActionGet, ActionPut, ActionDelete, ActionList}
	return Rules{
		{Name: "public", Path: PublicPrefix + "*", Anonymous: []Action{ActionGet}, Guest: []Action{ActionGet}, Authenticated: []Action{ActionGet, ActionList}},
		{Name: "protected", Path: ProtectedPrefix + PlaceholderIdentityID + "/*", Authenticated: []Action{ActionGet, ActionList}, Owner: all},
		{Name: "private", Path: PrivatePrefix + PlaceholderIdentityID + "/*", Owner: slices.Clone(all)},
	}
}

// Limits of the rule language: few enough rules that the compiled policies
// stay far inside IAM's size limits (infra/accesspolicy checks the exact
// size), and short enough paths to leave room for object names in S3's
// 1,024-byte keys.
const (
	MaxRules      = 20
	MaxPathLength = 128
)

var (
	ruleNameRE = newLazyRegexp(`^[a-z][a-z0-9]*(-[a-z][a-z0-9]*)*$`)
	// literalRE: S3's "safe characters" for key names (S3 User Guide,
	// "Naming Amazon S3 objects": 0-9 a-z A-Z ! - _ . * ' ( )) without "*",
	// which is IAM's wildcard.
	literalRE = newLazyRegexp(`^[A-Za-z0-9!_.'()-]+$`)
)

func isPlaceholder(s string) bool {
	return s == PlaceholderIdentityID || s == PlaceholderUserID || s == PlaceholderTenant
}

// RuleError is a refused rule: the rule's index and name and what to fix.
type RuleError struct {
	Index int
	Name  string
	Msg   string
}

func (e *RuleError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("access[%d]: %s", e.Index, e.Msg)
	}
	return fmt.Sprintf("access[%d] (%s): %s", e.Index, e.Name, e.Msg)
}

// ParseRules decodes an access document strictly: a JSON array of rules
// whose unknown fields are errors naming the rule and the valid subjects.
// It does not validate; see Rules.Check.
func ParseRules(raw []byte) (Rules, error) {
	var items []json.RawMessage
	if err := DecodeStrict(raw, &items); err != nil {
		return nil, fmt.Errorf("access: must be a JSON array of rules: %w", err)
	}
	rules := make(Rules, len(items))
	var errs []error
	for i, item := range items {
		if err := DecodeStrict(item, &rules[i]); err != nil {
			var name struct {
				Name string `json:"name"`
			}
			_ = json.Unmarshal(item, &name)
			msg := err.Error()
			if ke, ok := errors.AsType[*KeyError](err); ok && !ke.Duplicate {
				msg = fmt.Sprintf("unknown field %q: a rule has name, path, acknowledgeUnconfinedWrites and the subjects %s", ke.Path, subjectList())
			} else if strings.Contains(msg, "cannot unmarshal") {
				msg = "a rule is an object of name and path (strings) and subjects with lists of actions (" + actionList() + ")"
			}
			errs = append(errs, &RuleError{Index: i, Name: name.Name, Msg: msg})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rules, nil
}

func subjectList() string { return joinNames(Subjects) }

func actionList() string { return joinNames(Actions) }

// joinNames joins names with ", ", for messages.
func joinNames[T ~string](names []T) string {
	s := make([]string, len(names))
	for i, x := range names {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

// CheckOptions are what Check needs to know of the environment.
type CheckOptions struct {
	// Verifiers decide which placeholders can have values: {userId} needs a
	// verifier, {tenant} one with a tenantClaim.
	Verifiers Verifiers
}

// Check validates the rules: each error names the rule (access[i] (name))
// and the fix; all are reported, one per line. Refused: bad names and
// paths, unknown or repeated actions, a rule granting nothing, writes by
// anonymous or guest, writes by authenticated without
// acknowledgeUnconfinedWrites, owner without an owner placeholder, tenant
// without {tenant}, placeholders no verifier can supply, and rules whose
// paths overlap (one rule's keys could also be another's). Guest grants
// apply when the environment has guests.
func (rs Rules) Check(o CheckOptions) error {
	var errs []error
	bad := func(i int, r Rule, format string, args ...any) {
		errs = append(errs, &RuleError{Index: i, Name: r.Name, Msg: fmt.Sprintf(format, args...)})
	}
	if len(rs) == 0 {
		return errors.New("access: lists no rule; leave \"access\" out for the default layout (public/, protected/, private/)")
	}
	if len(rs) > MaxRules {
		errs = append(errs, fmt.Errorf("access: %d rules; at most %d", len(rs), MaxRules))
	}
	for i, r := range rs {
		switch {
		case !ruleNameRE.MatchString(r.Name) || len(r.Name) > 32:
			bad(i, r, "name %q must be 1-32 characters: lower-case letters and digits, words joined by single hyphens, each word starting with a letter (such as \"team-docs\")", r.Name)
		case slices.ContainsFunc(rs[:i], func(o Rule) bool { return o.Name == r.Name }):
			bad(i, r, "name %q is used by an earlier rule; rule names must be unique", r.Name)
		}
		if err := checkPath(r.Path); err != nil {
			bad(i, r, "path %q: %v", r.Path, err)
			continue
		}
		rs.checkGrants(i, r, o, bad)
	}
	for i, r := range rs {
		for j := range i {
			if checkPath(r.Path) == nil && checkPath(rs[j].Path) == nil && pathsOverlap(rs[j], r) {
				bad(i, r, "path %q overlaps %q of rule %q (access[%d]): some key would match both, so which rule applies would depend on the key; give each rule its own literal prefix", r.Path, rs[j].Path, rs[j].Name, j)
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

func (rs Rules) checkGrants(i int, r Rule, o CheckOptions, bad func(int, Rule, string, ...any)) {
	granted := false
	for _, s := range Subjects {
		acts := r.Grants(s)
		for k, a := range acts {
			switch {
			case !slices.Contains(Actions, a):
				bad(i, r, "%s: unknown action %q; use %s", s, a, actionList())
			case slices.Contains(acts[:k], a):
				bad(i, r, "%s: %q is listed twice", s, a)
			}
		}
		if len(acts) == 0 {
			continue
		}
		granted = true
		writes := slices.ContainsFunc(acts, Action.Writes)
		switch {
		case (s == SubjectAnonymous || s == SubjectGuest) && writes:
			bad(i, r, "%s may only get and list: writes without a signed-in identity would let anyone overwrite or delete the objects", s)
		case s == SubjectAuthenticated && writes && !r.AcknowledgeUnconfinedWrites:
			bad(i, r, "authenticated may put or delete only with \"acknowledgeUnconfinedWrites\": true, since no placeholder confines the writes: any signed-in user could overwrite or delete anyone's objects under %s; confine them with owner or tenant instead", r.Base())
		case s == SubjectOwner && !r.Uses(PlaceholderIdentityID) && !r.Uses(PlaceholderUserID):
			bad(i, r, "owner needs {identityId} or {userId} in the path: it means \"the caller's own\"")
		case s == SubjectTenant && !r.Uses(PlaceholderTenant):
			bad(i, r, "tenant needs {tenant} in the path: it means \"the caller's tenant\"")
		}
	}
	if !granted {
		bad(i, r, "grants nothing: give at least one subject (%s) an action", subjectList())
	}
	if r.AcknowledgeUnconfinedWrites && !slices.ContainsFunc(r.Authenticated, Action.Writes) {
		bad(i, r, "acknowledgeUnconfinedWrites without an authenticated put or delete: remove it")
	}
	if r.Uses(PlaceholderUserID) && o.Verifiers.Count() == 0 {
		bad(i, r, "{userId} needs a verifier (oidc, wechat or hs256): guests have no user id")
	}
	if r.Uses(PlaceholderTenant) && !o.Verifiers.Tenants() {
		bad(i, r, "{tenant} needs a verifier with a tenantClaim (verifiers.oidc[].tenantClaim or verifiers.hs256.tenantClaim), such as \"org_id\"")
	}
}

// checkPath checks a path's syntax.
func checkPath(p string) error {
	if len(p) > MaxPathLength {
		return fmt.Errorf("must be at most %d characters", MaxPathLength)
	}
	body, ok := strings.CutSuffix(p, "/*")
	if !ok || body == "" {
		return errors.New(`must end in "/*" (any key below it), such as "avatars/{userId}/*"`)
	}
	var seen []string
	for i, seg := range strings.Split(body, "/") {
		switch {
		case isPlaceholder(seg):
			if i == 0 {
				return errors.New("must start with a literal segment, such as \"users/{userId}/*\"")
			}
			if slices.Contains(seen, seg) {
				return fmt.Errorf("%s appears twice", seg)
			}
			seen = append(seen, seg)
		case strings.ContainsAny(seg, "{}"):
			return fmt.Errorf("segment %q: the placeholders are %s, %s and %s, each a whole segment", seg, PlaceholderIdentityID, PlaceholderUserID, PlaceholderTenant)
		case seg == "" || seg == "." || seg == "..":
			return fmt.Errorf("no empty, \".\" or \"..\" segment")
		case !literalRE.MatchString(seg):
			return fmt.Errorf("segment %q may contain only letters, digits and !_.'()- (S3's safe characters without *)", seg)
		}
	}
	return nil
}

// pathsOverlap reports whether some key matches both rules' paths. A
// placeholder matches any one segment, so two paths overlap when, over the
// shorter one's segments, every position is equal literals or has a
// placeholder on either side (the shorter path's "*" covers the rest).
func pathsOverlap(a, b Rule) bool {
	sa, sb := a.Segments(), b.Segments()
	for i := range min(len(sa), len(sb)) {
		if sa[i].Placeholder == "" && sb[i].Placeholder == "" && sa[i].Literal != sb[i].Literal {
			return false
		}
	}
	return true
}

// JSON is the rules' compact JSON document: the stack's AccessRules output.
func (rs Rules) JSON() string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(rs) // plain strings and slices: cannot fail
	return strings.TrimSuffix(b.String(), "\n")
}

// OutputAccessRules is the stack output holding Rules.JSON, which clients
// read (client.LoadOutputs) to build keys for a rule.
const OutputAccessRules = "AccessRules"

// Upload route: the rules the vendor can sign POST forms for, those that
// let a signed-in subject put, go to the vendor as compact JSON of name and
// path (EnvAccessRules); Lambda allows 4 KB of environment in total.
const EnvAccessRules = "S3VEND_ACCESS_RULES"

// UploadRule is a rule's name and path, as the vendor's upload route
// (EnvAccessRules) and the metering function (EnvMeteredRules) know it.
type UploadRule struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

// Rule is the rule of that name and path (no grants: the vendor does not
// decide access, IAM does).
func (u UploadRule) Rule() Rule { return Rule{Name: u.Name, Path: u.Path} }

// SignedInMayPut reports whether some signed-in subject (owner, tenant or
// any authenticated user) may put under the rule.
func (r Rule) SignedInMayPut() bool {
	return r.Allows(SubjectOwner, ActionPut) || r.Allows(SubjectTenant, ActionPut) || r.Allows(SubjectAuthenticated, ActionPut)
}

// UploadRules are the rules a signed-in subject may put under.
func (rs Rules) UploadRules() []UploadRule { return rs.paths(Rule.SignedInMayPut) }

// paths are the names and paths of the rules keep keeps, in order.
func (rs Rules) paths(keep func(Rule) bool) []UploadRule {
	var out []UploadRule
	for _, r := range rs {
		if keep(r) {
			out = append(out, UploadRule{Name: r.Name, Path: r.Path})
		}
	}
	return out
}

// UploadRulesEnv is the EnvAccessRules value of the rules.
func (rs Rules) UploadRulesEnv() string {
	b, _ := json.Marshal(rs.UploadRules())
	return string(b)
}

// ParseUploadRulesEnv reads EnvAccessRules; unset: the default layout's.
func ParseUploadRulesEnv(getenv func(string) string) ([]UploadRule, error) {
	return parseRulePaths(EnvAccessRules, getenv(EnvAccessRules), DefaultRules().UploadRules())
}

// parseRulePaths reads an environment variable of rules' names and paths
// (key names it in errors); raw "" is unset: def.
func parseRulePaths(key, raw string, def []UploadRule) ([]UploadRule, error) {
	if raw == "" {
		return def, nil
	}
	var out []UploadRule
	if err := DecodeStrict([]byte(raw), &out); err != nil {
		return nil, fmt.Errorf("%s: must be a JSON array of {\"name\",\"path\"}: %w", key, err)
	}
	for i, u := range out {
		if !ruleNameRE.MatchString(u.Name) || slices.ContainsFunc(out[:i], func(o UploadRule) bool { return o.Name == u.Name }) {
			return nil, fmt.Errorf("%s: entry %d: name %q is not a unique rule name", key, i, u.Name)
		}
		if err := checkPath(u.Path); err != nil {
			return nil, fmt.Errorf("%s: entry %d (%s): path: %w", key, i, u.Name, err)
		}
	}
	return out, nil
}
