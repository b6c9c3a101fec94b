package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/accessmatrix"
	"github.com/s3vend/s3vend/internal/platform/platformtest"
)

// wantMatrix is who may do what under each prefix when guests are on: "allow"
// or "." (denied). Evaluated by iam-simulate from the synthesized bucket
// policy, trust policies and role policies (see package accessmatrix).
const wantMatrix = `
                 public/  protected/A/  protected/B/  private/A/  private/B/
anonymous get    allow    .             .             .           .
anonymous put    .        .             .             .           .
anonymous delete .        .             .             .           .
anonymous list   .        .             .             .           .
guest     get    allow    .             .             .           .
guest     put    .        .             .             .           .
guest     delete .        .             .             .           .
guest     list   .        .             .             .           .
userA     get    allow    allow         allow         allow       .
userA     put    .        allow         .             allow       .
userA     delete .        allow         .             allow       .
userA     list   allow    allow         allow         allow       .
userB     get    allow    allow         allow         .           allow
userB     put    .        .             allow         .           allow
userB     delete .        .             allow         .           allow
userB     list   allow    allow         allow         .           allow
`

// matrix is an access matrix: rows "<principal> <action>", columns prefixes.
type matrix struct {
	prefixes []string
	rows     [][2]string // principal, action
	allowed  map[accessmatrix.Request]bool
}

func parseMatrix(t *testing.T, s string) matrix {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(s), "\n")
	m := matrix{prefixes: strings.Fields(lines[0]), allowed: map[accessmatrix.Request]bool{}}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) != 2+len(m.prefixes) {
			t.Fatalf("bad matrix row %q", line)
		}
		m.rows = append(m.rows, [2]string{f[0], f[1]})
		for i, cell := range f[2:] {
			m.allowed[accessmatrix.Request{Principal: f[0], Action: f[1], Prefix: m.prefixes[i]}] = cell == "allow"
		}
	}
	return m
}

func (m matrix) requests() []accessmatrix.Request {
	var out []accessmatrix.Request
	for q := range m.allowed {
		out = append(out, q)
	}
	return out
}

func (m matrix) String() string {
	var b strings.Builder
	row := func(label string, cells []string) {
		line := fmt.Sprintf("%-17s", label)
		for _, c := range cells {
			line += fmt.Sprintf("%-14s", c)
		}
		b.WriteString("\n" + strings.TrimRight(line, " "))
	}
	row("", m.prefixes)
	for _, r := range m.rows {
		cells := make([]string, len(m.prefixes))
		for i, p := range m.prefixes {
			cells[i] = "."
			if m.allowed[accessmatrix.Request{Principal: r[0], Action: r[1], Prefix: p}] {
				cells[i] = "allow"
			}
		}
		row(fmt.Sprintf("%-9s %s", r[0], r[1]), cells)
	}
	return b.String()
}

// nodeBinary is Node 24: $NODE24 from the Makefile, else this platform's pinned one.
func nodeBinary(t *testing.T) string { return platformtest.NeedNode24(t, "..") }

func TestAccessMatrix(t *testing.T) {
	node := nodeBinary(t)
	for _, c := range []struct {
		stack   string
		guests  bool
		cognito *contract.CognitoPrincipal // nil: the partition's default
	}{
		{"S3Vend-dev", true, nil},
		{"S3Vend-prod", false, nil},
		{"S3Vend-prod-cn", true, nil},
		// The other form AWS China documents, chosen with cognitoPrincipal,
		// evaluated as if AWS named the sessions that way.
		{"S3Vend-cn-alt", true, &cnAltPrincipal},
	} {
		t.Run(c.stack, func(t *testing.T) {
			t.Parallel()
			want := parseMatrix(t, wantMatrix)
			if !c.guests {
				for q := range want.allowed {
					if q.Principal == "guest" {
						want.allowed[q] = false
					}
				}
			}
			// Beyond the matrix: listing the roots, TLS, and which Cognito
			// role each identity can take (the basic flow lets a client ask
			// STS for any role, so only the trust policies keep guests out
			// of the authenticated role).
			extra := map[accessmatrix.Request]bool{
				{Principal: "userA", Action: "list", Prefix: "protected/"}:   true,
				{Principal: "userA", Action: "list", Prefix: "private/"}:     false,
				{Principal: "userA", Action: "list", Prefix: ""}:             false,
				{Principal: "anonymous", Action: "list", Prefix: "public/"}:  false,
				{Principal: "guest", Action: "list", Prefix: "protected/"}:   false,
				{Principal: "userA", Action: "put", Prefix: "protected/"}:    false,
				{Principal: "userA", Action: "put", Prefix: "private/A/x/"}:  true,
				{Principal: "userA", Action: "put", Prefix: "private/B/x/"}:  false,
				{Principal: "userB", Action: "delete", Prefix: "private/A/"}: false,

				{Principal: "anonymous", Action: "get", Prefix: "public/", Insecure: true}:  false,
				{Principal: "guest", Action: "get", Prefix: "public/", Insecure: true}:      false,
				{Principal: "userA", Action: "get", Prefix: "private/A/", Insecure: true}:   false,
				{Principal: "userA", Action: "put", Prefix: "protected/A/", Insecure: true}: false,
				{Principal: "userA", Action: "list", Prefix: "public/", Insecure: true}:     false,

				{Principal: "userA", Action: "assume:authenticated"}:     true,
				{Principal: "userA", Action: "assume:unauthenticated"}:   false,
				{Principal: "guest", Action: "assume:authenticated"}:     false,
				{Principal: "guest", Action: "assume:unauthenticated"}:   c.guests,
				{Principal: "anonymous", Action: "assume:authenticated"}: false,
			}
			// The storage guardrails (guardrails_test.go), in the same run.
			for q, w := range guardrailRequests() {
				extra[q] = w
			}
			reqs := want.requests()
			for q := range extra {
				reqs = append(reqs, q)
			}
			slices.SortFunc(reqs, func(a, b accessmatrix.Request) int {
				return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
			})

			got, err := accessmatrix.EvaluateAs(stackTemplate(t, c.stack), node, reqs, c.cognito)
			if err != nil {
				t.Fatal(err)
			}
			gotMatrix := matrix{prefixes: want.prefixes, rows: want.rows, allowed: got}
			t.Logf("access matrix of %s (guests %v):%s", c.stack, c.guests, gotMatrix)

			for _, q := range reqs {
				w, ok := want.allowed[q]
				if !ok {
					w = extra[q]
				}
				switch {
				case got[q] && !w:
					t.Errorf("SECURITY: %+v is allowed, want denied", q)
				case !got[q] && w:
					t.Errorf("%+v is denied, want allowed", q)
				}
			}
			if t.Failed() {
				t.Logf("want:%s", want)
			}
		})
	}
}

// cnAltPrincipal is the cn-alt environment's "cognitoPrincipal" (test/main_test.go).
var cnAltPrincipal = contract.CognitoPrincipal{
	TrustPrincipal: "cognito-identity.cn-north-1.amazonaws.com.cn", ConditionKeyPrefix: "cognito-identity.amazonaws.com.cn",
}

// A stack whose policies name Cognito differently from the sessions AWS
// issues is broken, and the matrix shows it. Trust: with another form of the
// principal or condition keys, no identity can take its role.
func TestAccessMatrixWrongPrincipalIsRed(t *testing.T) {
	node := nodeBinary(t)
	reqs := []accessmatrix.Request{
		{Principal: "userA", Action: "assume:authenticated"},
		{Principal: "guest", Action: "assume:unauthenticated"},
		{Principal: "userA", Action: "put", Prefix: "private/A/"},
	}
	onlyPrefix := contract.CognitoPrincipal{TrustPrincipal: cnAltPrincipal.TrustPrincipal, ConditionKeyPrefix: "cognito-identity.amazonaws.com"}
	for _, c := range []struct {
		stack   string
		cognito contract.CognitoPrincipal
	}{
		{"S3Vend-prod-cn", cnAltPrincipal},                  // deployed with the default, AWS uses the .cn form
		{"S3Vend-cn-alt", contract.Partitions[0].Principal}, // deployed with the .cn form, AWS uses the global one
		{"S3Vend-dev", cnAltPrincipal},                      // a China form in an aws stack
		{"S3Vend-cn-alt", onlyPrefix},                       // only the condition-key prefix differs
	} {
		t.Run(c.stack+"/"+c.cognito.TrustPrincipal+"/"+c.cognito.ConditionKeyPrefix, func(t *testing.T) {
			t.Parallel()
			got, err := accessmatrix.EvaluateAs(stackTemplate(t, c.stack), node, reqs, &c.cognito)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range reqs {
				if got[q] {
					t.Errorf("%+v allowed although the stack names Cognito differently from its sessions", q)
				}
			}
		})
	}
}

// S3 policy variable: a template whose ${…:sub} has another partition's
// prefix (its trust policies left right) still lets users take their role,
// but denies every user their own prefix, while shared prefixes still work.
func TestAccessMatrixWrongPolicyVariableIsRed(t *testing.T) {
	node := nodeBinary(t)
	for stack, wrong := range map[string]string{
		"S3Vend-prod-cn": "${cognito-identity.amazonaws.com.cn:sub}",
		"S3Vend-cn-alt":  "${cognito-identity.amazonaws.com:sub}",
		"S3Vend-dev":     "${cognito-identity.amazonaws.com.cn:sub}",
	} {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			var cognito *contract.CognitoPrincipal
			if stack == "S3Vend-cn-alt" {
				cognito = &cnAltPrincipal
			}
			right := contract.Partitions[0].Principal.IdentityIDVariable()
			if cognito != nil {
				right = cognito.IdentityIDVariable()
			}
			raw, err := json.Marshal(stackTemplate(t, stack))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(raw, []byte(right)) {
				t.Fatalf("%s does not use %s", stack, right)
			}
			var mutated map[string]any
			if err := json.Unmarshal(bytes.ReplaceAll(raw, []byte(right), []byte(wrong)), &mutated); err != nil {
				t.Fatal(err)
			}
			want := map[accessmatrix.Request]bool{
				{Principal: "userA", Action: "assume:authenticated"}:        true,
				{Principal: "userA", Action: "get", Prefix: "public/"}:      true,
				{Principal: "userA", Action: "get", Prefix: "protected/B/"}: true,
				{Principal: "userA", Action: "put", Prefix: "private/A/"}:   false,
				{Principal: "userA", Action: "get", Prefix: "private/A/"}:   false,
				{Principal: "userA", Action: "put", Prefix: "protected/A/"}: false,
				{Principal: "userA", Action: "list", Prefix: "private/A/"}:  false,
			}
			reqs := slices.Collect(maps.Keys(want))
			got, err := accessmatrix.EvaluateAs(mutated, node, reqs, cognito)
			if err != nil {
				t.Fatal(err)
			}
			for q, w := range want {
				if got[q] != w {
					t.Errorf("%+v: allowed %v, want %v", q, got[q], w)
				}
			}
			// And unmutated, the own-prefix cells are green: the mutation is
			// what turned them red.
			if got, err = accessmatrix.EvaluateAs(stackTemplate(t, stack), node, reqs, cognito); err != nil {
				t.Fatal(err)
			}
			if q := (accessmatrix.Request{Principal: "userA", Action: "put", Prefix: "private/A/"}); !got[q] {
				t.Errorf("unmutated %s denies %+v", stack, q)
			}
		})
	}
}

// TestGeneratedAccessMatrix: the matrix generated from each environment's
// access rules (accessmatrix.Generate: every rule × anonymous, guest, the
// owner, a user of the owner's tenant, of another tenant and without one ×
// get, put, delete, list, at the owner's prefix and at the rule's base,
// over TLS and not, keys outside every rule, which role each may assume),
// with what the rule language says, evaluated by iam-simulate on the
// synthesized template with the sessions' Cognito context keys and session
// tags. Default layouts and the custom one (S3Vend-rules, all three
// placeholders) alike.
func TestGeneratedAccessMatrix(t *testing.T) {
	node := nodeBinary(t)
	stacksToCheck := []string{"S3Vend-dev", "S3Vend-prod", "S3Vend-prod-cn", "S3Vend-cn-alt", "S3Vend-rules"}
	for _, stack := range stacksToCheck {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			env := envConfig(t, strings.TrimPrefix(stack, "S3Vend-"))
			tpl := stackTemplate(t, stack)
			m, err := accessmatrix.Load(tpl)
			if err != nil {
				t.Fatal(err)
			}
			o := accessmatrix.GenerateOptions{Region: m.Region(), Guests: env.Guests, SessionTags: env.SessionTagKeys()}
			cells := accessmatrix.Generate(env.Access, o)
			var cognito *contract.CognitoPrincipal
			if stack == "S3Vend-cn-alt" {
				cognito = &cnAltPrincipal
			}
			start := time.Now()
			got, err := accessmatrix.EvaluateCells(tpl, node, o, cells, cognito)
			if err != nil {
				t.Fatal(err)
			}
			allowed := 0
			for i, c := range cells {
				if got[i] {
					allowed++
				}
				switch {
				case got[i] && !c.Want:
					t.Errorf("SECURITY: %s is allowed, the rules deny it", c)
				case !got[i] && c.Want:
					t.Errorf("%s is denied, the rules allow it", c)
				}
			}
			t.Logf("%s: %d rules, %d cells (%d allowed) evaluated in %s", stack, len(env.Access), len(cells), allowed, time.Since(start).Round(time.Millisecond))
		})
	}
}

// The generated matrix can fail: a template whose user policy lost the
// owner's tag variable (a mutation of the custom layout) is red.
func TestGeneratedAccessMatrixIsRed(t *testing.T) {
	node := nodeBinary(t)
	env := envConfig(t, "rules")
	raw, err := json.Marshal(stackTemplate(t, "S3Vend-rules"))
	if err != nil {
		t.Fatal(err)
	}
	// Every user's avatars/ becomes writable by everyone signed in.
	mutated := bytes.ReplaceAll(raw, []byte("/avatars/"+contract.PrincipalTagVariable(contract.TagUser)+"/*"), []byte("/avatars/*"))
	if bytes.Equal(mutated, raw) {
		t.Fatal("the rules template has no avatars/${aws:PrincipalTag/s3vend-user}/* grant to mutate")
	}
	var tpl map[string]any
	if err := json.Unmarshal(mutated, &tpl); err != nil {
		t.Fatal(err)
	}
	m, _ := accessmatrix.Load(tpl)
	o := accessmatrix.GenerateOptions{Region: m.Region(), Guests: env.Guests, SessionTags: env.SessionTagKeys()}
	cells := accessmatrix.Generate(env.Access, o)
	got, err := accessmatrix.EvaluateCells(tpl, node, o, cells, nil)
	if err != nil {
		t.Fatal(err)
	}
	wrong := 0
	for i, c := range cells {
		if got[i] != c.Want {
			wrong++
		}
	}
	if wrong == 0 {
		t.Error("the mutated template passes the generated matrix: the matrix cannot fail")
	}
}

// The default rules mean exactly the hand-written matrix of before access
// rules: the rule language's own reading of contract.DefaultRules()
// (accessmatrix.Want) gives every cell of wantMatrix, userA as the owner and
// userB as another user.
func TestDefaultRulesMeanTheHandWrittenMatrix(t *testing.T) {
	want := parseMatrix(t, wantMatrix)
	o := accessmatrix.GenerateOptions{Region: "eu-west-1", Guests: true}
	principal := map[string]string{"anonymous": "anonymous", "guest": "guest", "userA": "owner", "userB": "same-tenant"}
	cells := 0
	for q, w := range want.allowed {
		rule, owner := strings.TrimSuffix(strings.SplitN(q.Prefix, "/", 2)[0], "/"), "owner"
		if strings.HasSuffix(q.Prefix, "/B/") {
			owner = "same-tenant"
		}
		got, err := accessmatrix.Want(contract.DefaultRules(), o, principal[q.Principal], rule, owner, contract.Action(q.Action))
		if err != nil {
			t.Fatal(err)
		}
		if got != w {
			t.Errorf("%+v: the default rules say %v, the matrix %v", q, got, w)
		}
		cells++
	}
	if cells != 80 {
		t.Errorf("compared %d cells, want the matrix's 80", cells)
	}
}
