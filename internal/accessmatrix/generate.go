package accessmatrix

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/s3vend/s3vend/contract"
)

// The generated matrix: every access rule × subject × action, plus keys
// outside every rule, each with what the rules say (Cell.Want, decided here
// from the rule language alone, not from the compiled policies) and then
// evaluated by iam-simulate on the synthesized template (EvaluateCells). A
// cell where the two differ is a bug of the compiler, the stack or the
// rules' semantics.

// Principal is a caller of the generated matrix.
type Principal struct {
	Name string // anonymous, guest, owner, same-tenant, other-tenant, no-tenant
	// Role is the Cognito role key its credentials act as ("" anonymous).
	Role string
	// UUID is the identity id after "<region>:".
	UUID string
	// UserID and Tenant are its {userId} and {tenant}: session tag values
	// as the vendor makes them (contract.UserTagValue).
	UserID, Tenant string
	// Provider is the verifier that verified it (amr, tags).
	Provider string
}

// Principals are the generated matrix's callers: the owner of every key,
// another user of the owner's tenant, a user of another tenant, a user
// without a tenant (a verifier without tenantClaim), a guest and an
// anonymous caller.
func Principals() []Principal {
	tag := func(v, id string) string {
		t, err := contract.UserTagValue(v, id)
		if err != nil {
			panic(err)
		}
		return t
	}
	return []Principal{
		{Name: "anonymous"},
		{Name: "guest", Role: "unauthenticated", UUID: "cccccccc-cccc-4ccc-8ccc-cccccccccccc"},
		{Name: "owner", Role: "authenticated", UUID: "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", UserID: tag("backend", "alice"), Tenant: tag("backend", "acme"), Provider: "backend"},
		{Name: "same-tenant", Role: "authenticated", UUID: "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", UserID: tag("backend", "bob"), Tenant: tag("backend", "acme"), Provider: "backend"},
		{Name: "other-tenant", Role: "authenticated", UUID: "dddddddd-dddd-4ddd-8ddd-dddddddddddd", UserID: tag("backend", "carol"), Tenant: tag("backend", "globex"), Provider: "backend"},
		{Name: "no-tenant", Role: "authenticated", UUID: "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee", UserID: tag("wechat", "o-dave"), Provider: "wechat"},
	}
}

// Cell is one generated request.
type Cell struct {
	Rule      string // "" for a key outside every rule
	Principal string
	Action    string // get, put, delete, list; assume:<role>
	// Key is the object key; for list, the s3:prefix.
	Key      string
	Insecure bool // without TLS
	Want     bool // what the rules allow
}

func (c Cell) String() string {
	s := fmt.Sprintf("%-12s %-6s %s", c.Principal, c.Action, c.Key)
	if c.Rule != "" {
		s += " (rule " + c.Rule + ")"
	}
	if c.Insecure {
		s += " over plain HTTP"
	}
	return s
}

// GenerateOptions say what the environment has.
type GenerateOptions struct {
	Region string // identity ids are "<Region>:<uuid>"
	Guests bool   // the pool has guests (else guests have no credentials)
	// SessionTags are the keys the environment's sessions carry (the
	// rules' contract.Rules.SessionTagKeys): a tag not configured is not
	// set, as the vendor would not set it.
	SessionTags []string
}

// values are p's placeholder values in the environment.
func (o GenerateOptions) values(p Principal) contract.KeyValues {
	v := contract.KeyValues{IdentityID: o.Region + ":" + p.UUID}
	if slices.Contains(o.SessionTags, contract.TagUser) {
		v.UserID = p.UserID
	}
	if slices.Contains(o.SessionTags, contract.TagTenant) {
		v.Tenant = p.Tenant
	}
	return v
}

// Generate lists the cells of the rules: for each rule, each principal ×
// action on the owner's key (the rule's path for the owner, photo.jpg below
// it; for list, the owner's prefix), the same over plain HTTP where
// allowed, reads, writes and lists at the rule's base (keys directly under
// its leading literals, belonging to no rule); keys and a listing outside
// every rule; and which role each principal may assume.
func Generate(rules contract.Rules, o GenerateOptions) []Cell {
	ps := Principals()
	owner := o.values(ps[2])
	var cells []Cell
	add := func(c Cell) {
		cells = append(cells, c)
		if c.Want && !strings.HasPrefix(c.Action, "assume:") {
			// TLS only: the same request without TLS is always refused.
			c.Insecure, c.Want = true, false
			cells = append(cells, c)
		}
	}
	for _, r := range rules {
		prefix, err := r.Prefix(owner)
		if err != nil {
			panic(err) // the owner has every value
		}
		for _, p := range ps {
			for _, a := range contract.Actions {
				add(Cell{Rule: r.Name, Principal: p.Name, Action: string(a), Key: cellKey(prefix, a), Want: o.want(r, p, a, owner)})
				if base := r.Base(); base != prefix {
					add(Cell{Rule: r.Name, Principal: p.Name, Action: string(a), Key: cellKey(base, a), Want: o.wantBase(r, p, a)})
				}
			}
		}
	}
	outside := outsidePrefix(rules)
	for _, p := range ps {
		for _, a := range contract.Actions {
			add(Cell{Principal: p.Name, Action: string(a), Key: cellKey(outside, a)})
		}
		add(Cell{Principal: p.Name, Action: string(contract.ActionList), Key: ""}) // the bucket root
		for _, role := range []string{"authenticated", "unauthenticated"} {
			want := p.Role == role && (role == "authenticated" || o.Guests)
			add(Cell{Principal: p.Name, Action: "assume:" + role, Want: want})
		}
	}
	return cells
}

// cellKey is what action a of a cell under prefix names: the object
// prefix + "photo.jpg", or for list the prefix itself (the s3:prefix).
func cellKey(prefix string, a contract.Action) string {
	if a == contract.ActionList {
		return prefix
	}
	return prefix + "photo.jpg"
}

// outsidePrefix is a top-level prefix no rule has.
func outsidePrefix(rules contract.Rules) string {
	p := "outside/"
	for slices.ContainsFunc(rules, func(r contract.Rule) bool { return strings.HasPrefix(r.Path, p) }) {
		p = "x" + p
	}
	return p
}

// can reports whether principal p has credentials acting as a subject.
func (o GenerateOptions) can(p Principal, s contract.Subject) bool {
	if p.Role == "unauthenticated" && !o.Guests {
		return false // no guest credentials at all
	}
	switch s {
	case contract.SubjectAnonymous:
		return true // bucket-policy grants (Principal "*") apply to every caller
	case contract.SubjectGuest:
		return p.Role == "unauthenticated" && o.Guests
	}
	return p.Role == "authenticated"
}

// want is what the rule language says about p doing a on the owner's key
// of r: an anonymous grant is for everyone; guest for guests; authenticated
// for every signed-in user; owner for the signed-in user whose values fill
// every placeholder of the key; tenant for a signed-in user with a tenant
// equal to the key's {tenant}.
func (o GenerateOptions) want(r contract.Rule, p Principal, a contract.Action, owner contract.KeyValues) bool {
	v := o.values(p)
	for _, s := range contract.Subjects {
		if !r.Allows(s, a) || !o.can(p, s) {
			continue
		}
		switch s {
		case contract.SubjectOwner:
			if matches(r, v, owner, r.Placeholders()) {
				return true
			}
		case contract.SubjectTenant:
			if v.Tenant != "" && matches(r, v, owner, []string{contract.PlaceholderTenant}) {
				return true
			}
		default:
			return true
		}
	}
	return false
}

// matches reports whether v has the key's value (owner's) of each of ps.
func matches(r contract.Rule, v, owner contract.KeyValues, ps []string) bool {
	for _, p := range ps {
		pv, ov := valueOf(v, p), valueOf(owner, p)
		if pv == "" || pv != ov {
			return false
		}
	}
	return true
}

func valueOf(v contract.KeyValues, p string) string {
	switch p {
	case contract.PlaceholderIdentityID:
		return v.IdentityID
	case contract.PlaceholderUserID:
		return v.UserID
	}
	return v.Tenant
}

// wantBase is what the rules say about a key (or listing) directly under a
// rule's base: it belongs to no rule, so nobody writes it; grants that bind
// no placeholder read the whole base (a read's trailing unbound
// placeholders fold into "*", accesspolicy.Pattern).
func (o GenerateOptions) wantBase(r contract.Rule, p Principal, a contract.Action) bool {
	if a.Writes() {
		return false
	}
	for _, s := range []contract.Subject{contract.SubjectAnonymous, contract.SubjectGuest, contract.SubjectAuthenticated} {
		if r.Allows(s, a) && o.can(p, s) && !bindsBefore(r) {
			return true
		}
	}
	return false
}

// bindsBefore: a literal follows a placeholder, so an unbound grant does not
// fold to the base.
func bindsBefore(r contract.Rule) bool {
	seen := false
	for _, s := range r.Segments() {
		if s.Placeholder != "" {
			seen = true
		} else if seen {
			return true
		}
	}
	return false
}

// EvaluateCells asks iam-simulate, in one Node process, whether each cell's
// request is allowed by the template: the bucket policy and, for a role
// session, the role's trust (sts:AssumeRoleWithWebIdentity, and
// sts:TagSession with the session's tags) and identity policies. Sessions
// carry what Cognito and STS would set: the token's aud, sub and amr
// (["authenticated", <developer provider>, <provider>:<pool>:<user>] for a
// developer-authenticated identity, ["unauthenticated"] for a guest) and
// aws:PrincipalTag/<key> for each session tag the environment sets.
func EvaluateCells(template map[string]any, node string, o GenerateOptions, cells []Cell, cognito *contract.CognitoPrincipal) ([]bool, error) {
	s, err := load(template)
	if err != nil {
		return nil, err
	}
	if cognito != nil {
		s.cognito = *cognito
	}
	callers := s.generatedCallers(developerProvider(template), o)
	var b batch
	for _, cell := range cells {
		s.planCell(&b, callers, cell)
	}
	results, err := run(node, s.policies, b.sims)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(cells))
	for i := range cells {
		out[i], _ = b.allowed(i, results)
	}
	return out, nil
}

// generatedCallers are the signed-in callers of the generated matrix by
// principal name: guests with the unauthenticated amr, users with the
// developer provider's amr and their user and tenant session tags.
func (s *stack) generatedCallers(provider string, o GenerateOptions) map[string]caller {
	callers := map[string]caller{}
	for _, p := range Principals() {
		if p.Role == "" {
			continue
		}
		c := caller{roleKey: p.Role, identityID: o.Region + ":" + p.UUID, amr: []string{"unauthenticated"}}
		if p.Role == "authenticated" {
			c.amr = []string{"authenticated", provider, provider + ":" + s.poolID + ":" + p.Provider + ":" + p.UUID}
			v := o.values(p)
			c.tags = map[string]string{}
			if v.UserID != "" {
				c.tags[contract.TagUser] = v.UserID
			}
			if v.Tenant != "" {
				c.tags[contract.TagTenant] = v.Tenant
			}
		}
		callers[p.Name] = c
	}
	return callers
}

// planCell adds to b the simulations one cell needs: for a signed-in
// caller, assuming the role (the cell's own, or the one an assume:<role>
// action names), then, unless the cell only assumes, the S3 request with
// or without the credentials. A cell denied without asking needs none.
func (s *stack) planCell(b *batch, callers map[string]caller, cell Cell) {
	i := b.next()
	c, signed := callers[cell.Principal]
	role := c.roleKey
	if r, ok := strings.CutPrefix(cell.Action, "assume:"); ok {
		role = r
	}
	if signed {
		if _, ok := s.roles[role]; !ok {
			return // no such role: no credentials, denied
		}
		c.roleKey = role
		b.needAssume(i, cell.Principal, role, func() []simulation { return s.assume(c) })
	} else if role != "" {
		return // anonymous callers have no token to assume a role with
	}
	if strings.HasPrefix(cell.Action, "assume:") {
		return
	}
	var cp *caller
	if signed {
		cp = &c
	}
	b.needSim(i, s.s3Simulation(cp, cellAccess(cell)))
}

// cellAccess is the S3 request of a cell: a list of the bucket root sends
// no s3:prefix, and an insecure cell no TLS version.
func cellAccess(cell Cell) s3Access {
	a := s3Access{action: s3Actions[cell.Action], key: cell.Key, tlsVersion: "1.3"}
	if cell.Action == "list" {
		prefix := cell.Key
		a.key, a.prefix = "", &prefix
		if prefix == "" {
			a.prefix = nil // the bucket root: no s3:prefix
		}
	}
	if cell.Insecure {
		a.tlsVersion = ""
	}
	return a
}

// developerProvider is the template's identity pool's developer provider name.
func developerProvider(template map[string]any) string {
	resources, _ := template["Resources"].(map[string]any)
	for _, id := range slices.Sorted(maps.Keys(resources)) {
		if dig(resources, id, "Type") == "AWS::Cognito::IdentityPool" {
			name, _ := dig(resources, id, "Properties", "DeveloperProviderName").(string)
			return name
		}
	}
	return ""
}

// Want is what the rules say about the principal named p doing a on a key
// of the rule named rule whose placeholders are the values of the
// principal named keyOwner (Principals): the reference the generated cells'
// Want come from, for comparing the rule language with a hand-written
// matrix.
func Want(rules contract.Rules, o GenerateOptions, p, rule, keyOwner string, a contract.Action) (bool, error) {
	r, ok := rules.Named(rule)
	if !ok {
		return false, fmt.Errorf("no rule %q", rule)
	}
	var pp, owner *Principal
	ps := Principals()
	for i := range ps {
		if ps[i].Name == p {
			pp = &ps[i]
		}
		if ps[i].Name == keyOwner {
			owner = &ps[i]
		}
	}
	if pp == nil || owner == nil {
		return false, fmt.Errorf("unknown principal %q or %q", p, keyOwner)
	}
	return o.want(r, *pp, a, o.values(*owner)), nil
}
