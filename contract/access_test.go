package contract_test

import (
	"strings"
	"testing"

	"github.com/s3vend/s3vend/contract"
)

var (
	get    = contract.ActionGet
	list   = contract.ActionList
	put    = contract.ActionPut
	del    = contract.ActionDelete
	oidc   = contract.OIDC{Name: "idp", Issuer: "https://idp.example.com", Audiences: []string{"app"}, TenantClaim: "org_id"}
	allVer = contract.CheckOptions{Verifiers: contract.Verifiers{OIDC: []contract.OIDC{oidc}}}
)

// customRules use all three placeholders.
func customRules() contract.Rules {
	return contract.Rules{
		{Name: "avatars", Path: "avatars/{userId}/*", Owner: []contract.Action{get, put, del}, Anonymous: []contract.Action{get}},
		{Name: "teams", Path: "teams/{tenant}/*", Tenant: []contract.Action{get, put, list, del}},
		{Name: "inbox", Path: "inbox/{identityId}/*", Owner: []contract.Action{get, list}},
	}
}

func TestDefaultAndCustomRulesAreValid(t *testing.T) {
	if err := contract.DefaultRules().Check(contract.CheckOptions{Verifiers: contract.Verifiers{OIDC: []contract.OIDC{oidc}}}); err != nil {
		t.Errorf("default rules: %v", err)
	}
	if err := customRules().Check(allVer); err != nil {
		t.Errorf("custom rules: %v", err)
	}
	got := customRules().SessionTagKeys()
	if strings.Join(got, ",") != contract.TagUser+","+contract.TagTenant {
		t.Errorf("session tags of the custom rules: %v", got)
	}
	if tags := contract.DefaultRules().SessionTagKeys(); len(tags) != 0 {
		t.Errorf("the default layout needs no session tag: %v", tags)
	}
}

// Each refusal names the rule (access[i] (name)) and says what to do.
func TestRuleRefusals(t *testing.T) {
	ok := func() contract.Rule {
		return contract.Rule{Name: "docs", Path: "docs/{userId}/*", Owner: []contract.Action{get, put}}
	}
	for _, c := range []struct {
		name string
		rule func(r *contract.Rule)
		opts *contract.CheckOptions
		want string
	}{
		{"bad name", func(r *contract.Rule) { r.Name = "Docs" }, nil, "name \"Docs\" must be"},
		{"name with a digit word", func(r *contract.Rule) { r.Name = "a-1" }, nil, "name \"a-1\" must be"},
		{"no /*", func(r *contract.Rule) { r.Path = "docs/{userId}" }, nil, `must end in "/*"`},
		{"placeholder first", func(r *contract.Rule) { r.Path = "{userId}/*" }, nil, "must start with a literal segment"},
		{"placeholder twice", func(r *contract.Rule) { r.Path = "docs/{userId}/{userId}/*" }, nil, "{userId} appears twice"},
		{"unknown placeholder", func(r *contract.Rule) { r.Path = "docs/{user}/*" }, nil, "the placeholders are"},
		{"placeholder inside a segment", func(r *contract.Rule) { r.Path = "docs/u-{userId}/*" }, nil, "each a whole segment"},
		{"wildcard literal", func(r *contract.Rule) { r.Path = "do*cs/{userId}/*" }, nil, "S3's safe characters"},
		{"dot segment", func(r *contract.Rule) { r.Path = "docs/../{userId}/*" }, nil, `no empty, "." or ".." segment`},
		{"too long", func(r *contract.Rule) { r.Path = strings.Repeat("a", 130) + "/*" }, nil, "at most 128 characters"},
		{"unknown action", func(r *contract.Rule) { r.Owner = []contract.Action{"read"} }, nil, `unknown action "read"`},
		{"action twice", func(r *contract.Rule) { r.Owner = []contract.Action{get, get} }, nil, `"get" is listed twice`},
		{"grants nothing", func(r *contract.Rule) { r.Owner = nil }, nil, "grants nothing"},
		{"anonymous write", func(r *contract.Rule) { r.Anonymous = []contract.Action{put} }, nil, "anonymous may only get and list"},
		{"guest write", func(r *contract.Rule) { r.Guest = []contract.Action{del} }, nil, "guest may only get and list"},
		{"unconfined write", func(r *contract.Rule) { r.Authenticated = []contract.Action{put} }, nil, "acknowledgeUnconfinedWrites"},
		{"needless acknowledgement", func(r *contract.Rule) { r.AcknowledgeUnconfinedWrites = true }, nil, "without an authenticated put or delete"},
		{"owner without owner placeholder", func(r *contract.Rule) { r.Path = "docs/*" }, nil, "owner needs {identityId} or {userId}"},
		{"tenant without {tenant}", func(r *contract.Rule) { r.Tenant = []contract.Action{get} }, nil, "tenant needs {tenant}"},
		{"{tenant} without tenantClaim", func(r *contract.Rule) { r.Path = "docs/{tenant}/{userId}/*" },
			&contract.CheckOptions{Verifiers: contract.Verifiers{HS256: &contract.HS256{Name: "b"}}}, "{tenant} needs a verifier with a tenantClaim"},
		{"{userId} without verifiers", func(r *contract.Rule) {}, &contract.CheckOptions{}, "{userId} needs a verifier"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := ok()
			c.rule(&r)
			opts := allVer
			if c.opts != nil {
				opts = *c.opts
			}
			err := contract.Rules{r}.Check(opts)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "access[0] ("+r.Name+"): ") {
				t.Errorf("got %v, want an error naming access[0] (%s) and %q", err, r.Name, c.want)
			}
		})
	}
	// With the acknowledgement, authenticated may write.
	r := ok()
	r.Authenticated, r.AcknowledgeUnconfinedWrites = []contract.Action{put}, true
	if err := (contract.Rules{r}).Check(allVer); err != nil {
		t.Errorf("acknowledged unconfined write: %v", err)
	}
}

func TestRuleSetRefusals(t *testing.T) {
	rule := func(name, path string) contract.Rule {
		return contract.Rule{Name: name, Path: path, Owner: []contract.Action{get}}
	}
	for _, c := range []struct {
		name  string
		rules contract.Rules
		want  string
	}{
		{"same name", contract.Rules{rule("a", "a/{userId}/*"), rule("a", "b/{userId}/*")}, `access[1] (a): name "a" is used by an earlier rule`},
		{"same path", contract.Rules{rule("a", "a/{userId}/*"), rule("b", "a/{userId}/*")}, `access[1] (b): path "a/{userId}/*" overlaps "a/{userId}/*" of rule "a" (access[0])`},
		{"shadowing prefix", contract.Rules{rule("a", "a/{userId}/*"), rule("b", "a/{userId}/x/{identityId}/*")}, "access[1] (b): path \"a/{userId}/x/{identityId}/*\" overlaps"},
		{"placeholder against literal", contract.Rules{rule("a", "t/{userId}/*"), rule("b", "t/shared/{identityId}/*")}, "access[1] (b): path \"t/shared/{identityId}/*\" overlaps"},
		{"empty", contract.Rules{}, "lists no rule"},
	} {
		err := c.rules.Check(allVer)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
	many := contract.Rules{}
	for i := range contract.MaxRules + 1 {
		many = append(many, rule("r"+strings.Repeat("x", i), "p"+strings.Repeat("x", i)+"/{userId}/*"))
	}
	if err := many.Check(allVer); err == nil || !strings.Contains(err.Error(), "at most 20") {
		t.Errorf("21 rules: %v", err)
	}
	// Siblings do not overlap.
	if err := (contract.Rules{rule("a", "t/{userId}/a/*"), rule("b", "t/{userId}/b/*")}).Check(allVer); err != nil {
		t.Errorf("t/{userId}/a/* and t/{userId}/b/*: %v", err)
	}
}

func TestParseRulesNamesUnknownSubjects(t *testing.T) {
	_, err := contract.ParseRules([]byte(`[{"name":"a","path":"a/{userId}/*","owner":["get"]},{"name":"b","path":"b/*","owners":["get"]}]`))
	if err == nil || !strings.Contains(err.Error(), `access[1] (b): unknown field "owners"`) || !strings.Contains(err.Error(), "anonymous, guest, authenticated, owner, tenant") {
		t.Errorf("got %v", err)
	}
	_, err = contract.ParseRules([]byte(`[{"name":"a","path":"a/*","owner":"get"}]`))
	if err == nil || !strings.HasPrefix(err.Error(), "access[0] (a): ") {
		t.Errorf("owner as a string: %v", err)
	}
	rs, err := contract.ParseRules([]byte(customRules().JSON()))
	if err != nil || rs.JSON() != customRules().JSON() {
		t.Errorf("round trip: %v\n%s\n%s", err, rs.JSON(), customRules().JSON())
	}
}

func TestRuleKeys(t *testing.T) {
	rs := customRules()
	v := contract.KeyValues{IdentityID: "eu-west-1:11111111-2222-3333-4444-555555555555", UserID: "google:42", Tenant: "idp:acme"}
	for name, want := range map[string]string{
		"avatars": "avatars/google:42/me.jpg",
		"teams":   "teams/idp:acme/me.jpg",
		"inbox":   "inbox/eu-west-1:11111111-2222-3333-4444-555555555555/me.jpg",
	} {
		r, _ := rs.Named(name)
		if got, err := r.Key(v, "/me.jpg"); err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", name, got, err, want)
		}
	}
	teams, _ := rs.Named("teams")
	if _, err := teams.Key(contract.KeyValues{UserID: "google:42"}, "x"); err == nil || !strings.Contains(err.Error(), "tenantClaim") {
		t.Errorf("no tenant: %v", err)
	}
	if _, err := teams.Key(contract.KeyValues{Tenant: "a/b"}, "x"); err == nil {
		t.Error("a value with / must be refused: it would reach into another prefix")
	}
	if p, _ := contract.DefaultRules()[1].Prefix(v); p != "protected/"+v.IdentityID+"/" {
		t.Errorf("protected prefix %q", p)
	}
}

func TestUploadRulesEnv(t *testing.T) {
	env := map[string]string{contract.EnvAccessRules: customRules().UploadRulesEnv()}
	got, err := contract.ParseUploadRulesEnv(func(k string) string { return env[k] })
	if err != nil || len(got) != 2 || got[0].Name != "avatars" || got[1].Name != "teams" {
		t.Errorf("%+v %v", got, err)
	}
	def, err := contract.ParseUploadRulesEnv(func(string) string { return "" })
	if err != nil || len(def) != 2 || def[0].Name != "protected" || def[1].Name != "private" {
		t.Errorf("default: %+v %v", def, err)
	}
	env[contract.EnvAccessRules] = `[{"name":"x","path":"x"}]`
	if _, err := contract.ParseUploadRulesEnv(func(k string) string { return env[k] }); err == nil || !strings.HasPrefix(err.Error(), contract.EnvAccessRules) {
		t.Errorf("bad path: %v", err)
	}
}

// A user's objects are found under the owned rules at the user's values,
// with {tenant} any one segment, and nowhere else: not under a longer
// value that starts with the user's, not at the prefix itself, not under
// a tenant's rule.
func TestOwnedBy(t *testing.T) {
	rs := append(customRules(), contract.Rule{Name: "members", Path: "members/{tenant}/{userId}/*", Owner: []contract.Action{get, put}})
	v := contract.KeyValues{IdentityID: "eu-west-1:11111111-2222-3333-4444-555555555555", UserID: "google:42"}
	for _, tc := range []struct {
		rule, prefix string
		in, out      []string
	}{
		{"avatars", "avatars/google:42/", []string{"avatars/google:42/me.jpg", "avatars/google:42/a/b"}, []string{"avatars/google:420/x", "avatars/google:42/", "avatars/google:4/x"}},
		{"inbox", "inbox/" + v.IdentityID + "/", []string{"inbox/" + v.IdentityID + "/m"}, []string{"inbox/" + v.IdentityID + "x/m"}},
		{"members", "members/", []string{"members/acme/google:42/x", "members/globex/google:42/y/z"}, []string{"members/acme/google:43/x", "members//google:42/x", "members/acme/google:42/"}},
	} {
		r, _ := rs.Named(tc.rule)
		prefix, match, ok := r.OwnedBy(v)
		if !ok || prefix != tc.prefix {
			t.Errorf("%s: prefix %q ok %v, want %q", tc.rule, prefix, ok, tc.prefix)
			continue
		}
		for _, k := range tc.in {
			if !match(k) {
				t.Errorf("%s: %s is the user's", tc.rule, k)
			}
		}
		for _, k := range tc.out {
			if match(k) {
				t.Errorf("%s: %s is not the user's", tc.rule, k)
			}
		}
	}
	teams, _ := rs.Named("teams")
	avatars, _ := rs.Named("avatars")
	if _, _, ok := teams.OwnedBy(v); ok {
		t.Error("teams/{tenant}/* is a tenant's, not a user's")
	}
	if _, _, ok := avatars.OwnedBy(contract.KeyValues{IdentityID: v.IdentityID}); ok {
		t.Error("without a user id nothing under avatars/{userId}/ is findable")
	}
	if got := rs.OwnedBases(); strings.Join(got, " ") != "avatars/ inbox/ members/" {
		t.Errorf("OwnedBases = %v", got)
	}
	if got := contract.DefaultRules().OwnedBases(); strings.Join(got, " ") != "private/ protected/" {
		t.Errorf("default OwnedBases = %v", got)
	}
	if got := rs.SharedWritable(); strings.Join(got, " ") != "teams" {
		t.Errorf("SharedWritable = %v", got)
	}
}

// The metering function's rules: what it reads back is what the stack
// wrote, and unset is the default layout, whose keys count as they always
// did (private/<id>/ and protected/<id>/, nothing else).
func TestMeteredRules(t *testing.T) {
	rs := append(customRules(), contract.Rule{Name: "members", Path: "members/{tenant}/{userId}/*", Owner: []contract.Action{get, put}})
	env := map[string]string{contract.EnvMeteredRules: rs.MeteredRulesEnv()}
	got, err := contract.ParseMeteredRulesEnv(func(k string) string { return env[k] })
	if err != nil || len(got) != 2 || got[0].Name != "avatars" || got[1].Name != "members" {
		t.Fatalf("metered rules %+v %v, want avatars and members (inbox: the owner may not put; teams: a tenant's)", got, err)
	}
	for key, want := range map[string][2]string{
		"avatars/google:42/me.jpg":   {"", "google:42"},
		"members/acme/google:42/a/b": {"", "google:42"},
		"teams/acme/x":               {},
		"inbox/eu-west-1:1/x":        {},
		"avatars/google:42/":         {},
		"private/eu-west-1:1/x":      {},
	} {
		id, user, ok := contract.OwnerOf(got, key)
		if ok != (want != [2]string{}) || id != want[0] || user != want[1] {
			t.Errorf("OwnerOf(%s) = %q %q %v, want %v", key, id, user, ok, want)
		}
	}
	def, err := contract.ParseMeteredRulesEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"private/eu-west-1:1/a": "eu-west-1:1", "protected/eu-west-1:1/a/b": "eu-west-1:1",
		"private/eu-west-1:1/": "", "public/x": "", "private//x": "",
	} {
		if id, _, ok := contract.OwnerOf(def, key); id != want || ok != (want != "") {
			t.Errorf("default OwnerOf(%s) = %q %v, want %q", key, id, ok, want)
		}
	}
	if _, err := contract.ParseMeteredRulesEnv(func(string) string { return `[{"name":"x","path":"no-star"}]` }); err == nil || !strings.Contains(err.Error(), contract.EnvMeteredRules) {
		t.Errorf("a bad path: %v", err)
	}
}
