// Package accesspolicy compiles access rules (contract.Rules) to the Allow
// statements of the bucket policy (anonymous) and of the identity pool's
// roles (guest; authenticated, owner and tenant). It has no CDK import, so
// the compiler is tested on its own (accesspolicy_test.go) and the config
// layer can refuse a layout whose policies would not fit IAM's limits at
// synth, naming the key; infra.PublicBucket turns the statements into CDK
// ones.
//
// How a grant compiles:
//
//   - A placeholder the subject binds becomes the caller's policy variable:
//     {identityId} ${<cognito prefix>:sub}, {userId}
//     ${aws:PrincipalTag/s3vend-user}, {tenant}
//     ${aws:PrincipalTag/s3vend-tenant}. Owner binds all three, tenant
//     binds {tenant}, the others none.
//   - A placeholder the subject does not bind becomes "*". For reads (get,
//     list), trailing unbound placeholders fold into the final "*": so
//     protected/{identityId}/* readable by every signed-in user is
//     protected/*, exactly what s3vend granted before rules existed. The
//     keys this adds (protected/x, directly under the base) belong to no
//     rule, so no role can write them. Writes keep one "*" per placeholder.
//   - get is s3:GetObject; put is s3:PutObject with
//     s3:AbortMultipartUpload and s3:ListMultipartUploadParts (multipart
//     uploads: CreateMultipartUpload, UploadPart and CompleteMultipartUpload
//     are authorized as s3:PutObject); delete is s3:DeleteObject; list is
//     s3:ListBucket on the bucket with s3:prefix StringLike "<prefix>" and
//     "<prefix>*".
//   - Object grants of a role are grouped by scope (Own: a grant keyed by
//     the caller's identity or user id; Tenant: by its tenant only; Shared:
//     by nothing, Public on the guest role) and action set, one statement
//     each, Sid <verb><scope>Objects (OwnObjects, ReadSharedObjects, ...);
//     list grants are one statement, ListVisiblePrefixes (ListPublicPrefixes
//     for guests), prefixes another prefix already covers left out.
//     Anonymous grants are bucket-policy statements per rule,
//     PublicReadOf<Rule>Prefix and PublicListOf<Rule>Prefix.
package accesspolicy

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/s3vend/s3vend/contract"
)

// Statement is one compiled Allow statement.
type Statement struct {
	Sid     string
	Actions []string // sorted
	// Resources are object key patterns relative to the bucket, such as
	// "public/*"; a list statement has none: its resource is the bucket.
	Resources []string
	// Prefixes, for a list statement, are its s3:prefix StringLike values.
	Prefixes []string
}

// IsList reports whether s is an s3:ListBucket statement.
func (s Statement) IsList() bool { return len(s.Prefixes) > 0 }

// Policies are the compiled Allow statements of one layout.
type Policies struct {
	Bucket        []Statement // bucket policy, Principal "*"
	Guest         []Statement // the unauthenticated role
	Authenticated []Statement // the authenticated role
}

// S3 actions of each rule action.
var s3Actions = map[contract.Action][]string{
	contract.ActionGet:    {"s3:GetObject"},
	contract.ActionPut:    {"s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
	contract.ActionDelete: {"s3:DeleteObject"},
	contract.ActionList:   {"s3:ListBucket"},
}

// Variables are the policy variables of the placeholders for sessions named
// as who says (the identity id's prefix differs by partition).
func Variables(who contract.CognitoPrincipal) map[string]string {
	return map[string]string{
		contract.PlaceholderIdentityID: who.IdentityIDVariable(),
		contract.PlaceholderUserID:     contract.PrincipalTagVariable(contract.TagUser),
		contract.PlaceholderTenant:     contract.PrincipalTagVariable(contract.TagTenant),
	}
}

// Pattern is the key pattern of rule r's grants to subject s: bound
// placeholders as variables, unbound ones as "*", trailing unbound ones
// folded into the final "*" when fold is set (reads). It ends in "/*".
func Pattern(r contract.Rule, s contract.Subject, vars map[string]string, fold bool) string {
	segs := bind(r, s, vars, fold)
	return strings.Join(segs, "/") + "/*"
}

func bind(r contract.Rule, s contract.Subject, vars map[string]string, fold bool) []string {
	var segs []string
	for _, seg := range r.Segments() {
		switch {
		case seg.Placeholder == "":
			segs = append(segs, seg.Literal)
		case s.Binds(seg.Placeholder):
			segs = append(segs, vars[seg.Placeholder])
		default:
			segs = append(segs, "*")
		}
	}
	if fold {
		for len(segs) > 1 && segs[len(segs)-1] == "*" {
			segs = segs[:len(segs)-1]
		}
	}
	return segs
}

// listPrefixes are the s3:prefix values of a list grant.
func listPrefixes(r contract.Rule, s contract.Subject, vars map[string]string) []string {
	p := strings.Join(bind(r, s, vars, true), "/") + "/"
	return []string{p, p + "*"}
}

// Compile compiles the rules (already checked with Rules.Check) for
// sessions named as who. It refuses a layout in which a grant's pattern,
// where IAM's "*" cannot stand for a single segment, also matches keys of
// another rule.
func Compile(rules contract.Rules, who contract.CognitoPrincipal) (Policies, error) {
	vars := Variables(who)
	if err := checkLeaks(rules, vars); err != nil {
		return Policies{}, err
	}
	p := Policies{
		Bucket:        bucketStatements(rules, vars),
		Guest:         roleStatements(rules, vars, []contract.Subject{contract.SubjectGuest}, "Public", "ListPublicPrefixes"),
		Authenticated: roleStatements(rules, vars, []contract.Subject{contract.SubjectAuthenticated, contract.SubjectTenant, contract.SubjectOwner}, "", "ListVisiblePrefixes"),
	}
	return p, nil
}

// pascal is a rule name as a Sid word: "team-docs" is "TeamDocs" (rule
// names start each word with a letter, so this is injective).
func pascal(name string) string {
	var b strings.Builder
	up := true
	for _, c := range name {
		switch {
		case c == '-':
			up = true
		case up:
			b.WriteString(strings.ToUpper(string(c)))
			up = false
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func bucketStatements(rules contract.Rules, vars map[string]string) []Statement {
	var out []Statement
	for _, r := range rules {
		s := contract.SubjectAnonymous
		if r.Allows(s, contract.ActionGet) {
			out = append(out, Statement{Sid: "PublicReadOf" + pascal(r.Name) + "Prefix", Actions: s3Actions[contract.ActionGet],
				Resources: []string{Pattern(r, s, vars, true)}})
		}
		if r.Allows(s, contract.ActionList) {
			out = append(out, Statement{Sid: "PublicListOf" + pascal(r.Name) + "Prefix", Actions: s3Actions[contract.ActionList],
				Prefixes: listPrefixes(r, s, vars)})
		}
	}
	return out
}

// objectActions are the object actions, in verb order.
var objectActions = []contract.Action{contract.ActionGet, contract.ActionPut, contract.ActionDelete}

var verbs = map[contract.Action]string{contract.ActionGet: "Read", contract.ActionPut: "Write", contract.ActionDelete: "Delete"}

// scopeOf is the scope word of a compiled pattern.
func scopeOf(pattern string, vars map[string]string, public string) string {
	switch {
	case public != "":
		return public
	case strings.Contains(pattern, vars[contract.PlaceholderIdentityID]) || strings.Contains(pattern, vars[contract.PlaceholderUserID]):
		return "Own"
	case strings.Contains(pattern, vars[contract.PlaceholderTenant]):
		return "Tenant"
	}
	return "Shared"
}

var scopeOrder = []string{"Own", "Tenant", "Shared", "Public"}

// roleStatements are a role's statements for the subjects' grants: one per
// scope and set of object actions, in scopeOrder, then one list statement.
func roleStatements(rules contract.Rules, vars map[string]string, subjects []contract.Subject, public, listSid string) []Statement {
	byPattern, prefixes := grantsOf(rules, vars, subjects)
	groups := groupPatterns(byPattern, vars, public)
	var out []Statement
	for _, g := range sortedGroups(groups) {
		pats := groups[g]
		slices.Sort(pats)
		var actions []string
		for _, a := range objectActions {
			if byPattern[pats[0]][a] {
				actions = append(actions, s3Actions[a]...)
			}
		}
		slices.Sort(actions)
		out = append(out, Statement{Sid: g.actions + g.scope + "Objects", Actions: actions, Resources: pats})
	}
	if prefixes = withoutCovered(prefixes); len(prefixes) > 0 {
		out = append(out, Statement{Sid: listSid, Actions: s3Actions[contract.ActionList], Prefixes: prefixes})
	}
	return out
}

// grantsOf collects the subjects' object actions by object pattern, and the
// prefixes they may list.
func grantsOf(rules contract.Rules, vars map[string]string, subjects []contract.Subject) (map[string]map[contract.Action]bool, []string) {
	byPattern := map[string]map[contract.Action]bool{}
	var prefixes []string
	for _, r := range rules {
		for _, s := range subjects {
			for _, a := range r.Grants(s) {
				if a == contract.ActionList {
					for _, p := range listPrefixes(r, s, vars) {
						if !slices.Contains(prefixes, p) {
							prefixes = append(prefixes, p)
						}
					}
					continue
				}
				pat := Pattern(r, s, vars, !a.Writes())
				if byPattern[pat] == nil {
					byPattern[pat] = map[contract.Action]bool{}
				}
				byPattern[pat][a] = true
			}
		}
	}
	return byPattern, prefixes
}

// group is one statement's scope ("Own", ...) and verbs ("" for full control).
type group struct{ scope, actions string }

// groupPatterns puts together the patterns with the same scope and actions.
func groupPatterns(byPattern map[string]map[contract.Action]bool, vars map[string]string, public string) map[group][]string {
	groups := map[group][]string{}
	for pat, acts := range byPattern {
		var verb strings.Builder
		for _, a := range objectActions {
			if acts[a] {
				verb.WriteString(verbs[a])
			}
		}
		v := verb.String()
		if len(acts) == len(objectActions) {
			v = "" // full control: "OwnObjects"
		}
		g := group{scopeOf(pat, vars, public), v}
		groups[g] = append(groups[g], pat)
	}
	return groups
}

// sortedGroups orders the groups by scope, then full control first, then by verb.
func sortedGroups(groups map[group][]string) []group {
	keys := slices.Collect(maps.Keys(groups))
	slices.SortFunc(keys, func(a, b group) int {
		if c := slices.Index(scopeOrder, a.scope) - slices.Index(scopeOrder, b.scope); c != 0 {
			return c
		}
		if (a.actions == "") != (b.actions == "") {
			if a.actions == "" {
				return -1
			}
			return 1
		}
		return strings.Compare(a.actions, b.actions)
	})
	return keys
}

// withoutCovered drops the prefixes that another grant's prefix already
// matches under StringLike: "protected/*" covers "protected/${…:sub}/" and
// "protected/${…:sub}/*". A grant's own pair ("public/" and "public/*")
// stays whole, as s3vend always wrote it. A variable stands for the same
// caller's value on both sides, and never contains "*" or "?".
func withoutCovered(ps []string) []string {
	var out []string
	for _, p := range ps {
		covered := slices.ContainsFunc(ps, func(q string) bool {
			lit, ok := strings.CutSuffix(q, "*")
			return ok && !strings.ContainsAny(lit, "*?") && strings.HasPrefix(p, lit) && len(p) > len(lit) && q != p
		})
		if !covered {
			out = append(out, p)
		}
	}
	return out
}

// checkLeaks refuses a grant whose pattern matches a key of another rule.
// IAM's "*" matches any characters, "/" included, so an unbound placeholder
// in the middle of a path (teams/{tenant}/docs/* readable by everyone is
// teams/*/docs/*) also matches teams/a/b/docs/x, which may be another
// rule's key (a rule teams/a/{userId}/... does not overlap the first one's
// path, since a tenant is one segment).
func checkLeaks(rules contract.Rules, vars map[string]string) error {
	for i, r := range rules {
		for _, s := range contract.Subjects {
			for _, a := range r.Grants(s) {
				pat := Pattern(r, s, vars, !a.Writes())
				for j, o := range rules {
					if j == i {
						continue
					}
					if globsIntersect(patternGlob(pat, vars), ruleGlob(o)) {
						return &contract.RuleError{Index: i, Name: r.Name, Msg: fmt.Sprintf(
							"%s %s compiles to %q (IAM's * cannot stand for one path segment), which also matches keys of rule %q (access[%d], %q); give the rules different first segments or put the placeholder %s does not bind last",
							s, a, pat, o.Name, j, o.Path, s)}
					}
				}
			}
		}
	}
	return nil
}

// Globs for checkLeaks: a sequence of tokens, each a literal byte, any
// string (IAM's *), or a segment value (one or more bytes other than "/":
// a placeholder's value, or a policy variable's).
type token struct {
	kind byte // 'c' literal, '*' any, '+' one segment value
	c    byte
}

func patternGlob(pat string, vars map[string]string) []token {
	var out []token
	for pat != "" {
		if v := variableAt(pat, vars); v != "" {
			out = append(out, token{kind: '+'})
			pat = pat[len(v):]
			continue
		}
		if pat[0] == '*' {
			out = append(out, token{kind: '*'})
		} else {
			out = append(out, token{kind: 'c', c: pat[0]})
		}
		pat = pat[1:]
	}
	return out
}

func variableAt(s string, vars map[string]string) string {
	for _, v := range vars {
		if strings.HasPrefix(s, v) {
			return v
		}
	}
	return ""
}

// ruleGlob is the set of a rule's keys: literals, one segment value per
// placeholder, anything after the last "/".
func ruleGlob(r contract.Rule) []token {
	var out []token
	for _, seg := range r.Segments() {
		if seg.Placeholder != "" {
			out = append(out, token{kind: '+'})
		} else {
			for i := 0; i < len(seg.Literal); i++ {
				out = append(out, token{kind: 'c', c: seg.Literal[i]})
			}
		}
		out = append(out, token{kind: 'c', c: '/'})
	}
	return append(out, token{kind: '*'})
}

// globsIntersect reports whether some string matches both globs: a search
// over pairs of positions of the two token sequences (their product
// automaton). A segment token is expanded to "one non-slash byte, then any
// number of them": state 2*i is before token i, 2*i+1 inside a segment
// token i after its first byte.
func globsIntersect(a, b []token) bool {
	type state struct{ i, j int }
	start := state{0, 0}
	seen := map[state]bool{start: true}
	queue := []state{start}
	push := func(s state) {
		if !seen[s] {
			seen[s] = true
			queue = append(queue, s)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if s.i == 2*len(a) && s.j == 2*len(b) {
			return true
		}
		ea, ma := globMoves(a, s.i)
		eb, mb := globMoves(b, s.j)
		for _, e := range ea {
			push(state{e, s.j})
		}
		for _, e := range eb {
			push(state{s.i, e})
		}
		for _, x := range ma {
			for _, y := range mb {
				if x.compatible(y) {
					push(state{x.to, y.to})
				}
			}
		}
	}
	return false
}

// globMove is a step a glob can take from a position: reading a byte (any
// byte, also "/" when slash; else the literal c), to position to.
type globMove struct {
	any, slash bool
	c          byte
	to         int
}

// globMoves are what the glob g can do at position p: the positions it
// reaches without reading (eps), and its moves that read a byte.
func globMoves(g []token, p int) (eps []int, m []globMove) {
	i, inside := p/2, p%2 == 1
	if inside { // inside a segment value: more bytes, or done
		return []int{2 * (i + 1)}, []globMove{{any: true, to: p}}
	}
	if i >= len(g) {
		return nil, nil
	}
	switch t := g[i]; t.kind {
	case '*':
		return []int{2 * (i + 1)}, []globMove{{any: true, slash: true, to: p}}
	case '+':
		return nil, []globMove{{any: true, to: 2*i + 1}}
	default:
		return nil, []globMove{{c: t.c, to: 2 * (i + 1)}}
	}
}

// compatible: some byte is read by both moves.
func (x globMove) compatible(y globMove) bool {
	switch {
	case x.any && y.any:
		return true // both accept some non-slash byte
	case x.any:
		return y.c != '/' || x.slash
	case y.any:
		return x.c != '/' || y.slash
	}
	return x.c == y.c
}

// Size limits a compiled layout must fit, with every other statement the
// stack adds next to it.
const (
	// MaxRolePolicyChars: "You can add as many inline policies as you want
	// to an IAM user, role, or group. But the total aggregate policy size
	// (the sum size of all inline policies) per entity cannot exceed ...
	// Role policy size cannot exceed 10,240 characters", and "IAM does not
	// count white space when calculating the size of a policy" (IAM User
	// Guide, "IAM and AWS STS quotas", IAM and STS character quotas,
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-entity-length).
	// The roles' statements are inline policies (AWS::IAM::Policy).
	MaxRolePolicyChars = 10240
	// MaxBucketPolicyBytes: "Bucket policies are limited to 20 KB in size"
	// (S3 User Guide, "Bucket policies and user policies",
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-iam-policies.html).
	MaxBucketPolicyBytes = 20 << 10
)

// WorstCaseBucketARN is the longest bucket ARN a policy can name: the
// aws-cn partition and a 63-character bucket name (S3's maximum), so that
// a size measured with it holds for every deployment of the template.
const WorstCaseBucketARN = "arn:aws-cn:s3:::" + "abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefgh"

// Document renders statements as the JSON policy document IAM stores, with
// bucketARN for the bucket (anonymous adds Principal "*", as in a bucket
// policy).
func Document(sts []Statement, bucketARN string, anonymous bool) map[string]any {
	out := make([]any, len(sts))
	for i, s := range sts {
		m := map[string]any{"Sid": s.Sid, "Effect": "Allow", "Action": one(s.Actions)}
		if anonymous {
			m["Principal"] = map[string]any{"AWS": "*"}
		}
		if s.IsList() {
			m["Resource"] = bucketARN
			m["Condition"] = map[string]any{"StringLike": map[string]any{"s3:prefix": s.Prefixes}}
		} else {
			res := make([]string, len(s.Resources))
			for j, r := range s.Resources {
				res[j] = bucketARN + "/" + r
			}
			m["Resource"] = one(res)
		}
		out[i] = m
	}
	return map[string]any{"Version": "2012-10-17", "Statement": out}
}

func one(s []string) any {
	if len(s) == 1 {
		return s[0]
	}
	return s
}

// Size is the number of non-whitespace characters of a policy document's
// compact JSON (IAM does not count white space; the compact JSON has none
// outside strings, and these strings have none).
func Size(doc map[string]any) int {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(doc)
	return utf8.RuneCountInString(strings.TrimSpace(b.String()))
}

// Sizes are the compiled documents' sizes with WorstCaseBucketARN.
type Sizes struct{ Bucket, Guest, Authenticated int }

// Sizes measures p.
func (p Policies) Sizes() Sizes {
	return Sizes{
		Bucket:        Size(Document(p.Bucket, WorstCaseBucketARN, true)),
		Guest:         Size(Document(p.Guest, WorstCaseBucketARN, false)),
		Authenticated: Size(Document(p.Authenticated, WorstCaseBucketARN, false)),
	}
}

// CheckSizes refuses a layout whose compiled policies, measured with the
// longest bucket ARN, leave less than reserve characters of a limit for the
// statements the stack adds beside them (TLS denies in the bucket policy,
// guardrail denies on the roles).
func (p Policies) CheckSizes(reserveRole, reserveBucket int) error {
	sz := p.Sizes()
	switch {
	case sz.Authenticated+reserveRole > MaxRolePolicyChars:
		return fmt.Errorf("access: the authenticated role's compiled policy is %d characters (%d with the stack's other statements); IAM allows %d for a role's inline policies: use fewer rules or shorter paths",
			sz.Authenticated, sz.Authenticated+reserveRole, MaxRolePolicyChars)
	case sz.Guest+reserveRole > MaxRolePolicyChars:
		return fmt.Errorf("access: the guest role's compiled policy is %d characters; IAM allows %d: use fewer guest grants", sz.Guest, MaxRolePolicyChars)
	case sz.Bucket+reserveBucket > MaxBucketPolicyBytes:
		return fmt.Errorf("access: the compiled bucket policy is %d bytes (%d with the stack's other statements); S3 allows %d: use fewer anonymous grants", sz.Bucket, sz.Bucket+reserveBucket, MaxBucketPolicyBytes)
	}
	return nil
}
