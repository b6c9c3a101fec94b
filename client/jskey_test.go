package client_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/client"
	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/platform/platformtest"
)

// keyCase is one row of the table both key builders answer.
type keyCase struct {
	Layout   string   `json:"layout"`
	Rule     string   `json:"rule"`
	Identity identity `json:"identity"`
	Name     string   `json:"name"`
}

// identity is client.Identity's key values as @s3vend/client's identity()
// resolves them (absent, not "", when the vendor sent none).
type identity struct {
	IdentityID string `json:"identityId,omitempty"`
	UserID     string `json:"userId,omitempty"`
	Tenant     string `json:"tenant,omitempty"`
}

type jsAnswer struct {
	Key      string `json:"key"`
	Prefix   string `json:"prefix"`
	Error    string `json:"error"`
	Code     string `json:"code"`
	Accepted bool   `json:"accepted"`
}

// refusal names the kind of a client.Key error, and the AccessRuleError
// code @s3vend/client must give it.
func refusal(err error) string {
	msg := err.Error()
	for _, k := range []struct{ text, code string }{
		{"no access rule ", "unknown_rule"},
		{": no value for ", "missing_value"},
		{" is not one key segment", "invalid_value"},
		{": empty object name", "empty_name"},
	} {
		if strings.Contains(msg, k.text) {
			return k.code
		}
	}
	return "unclassified: " + msg
}

// TestJSKeyMatchesGo: @s3vend/client's parseAccessRules, key and keyPrefix
// (js/client/src/rules.js, through the package entry, on the pinned Node
// 24) answer a table of layouts × rule names × identities × object names
// exactly as client.Key and contract.Rule.Prefix do: the same key, or a
// refusal with the same message and the matching AccessRuleError code.
// The layouts are the default one (contract.DefaultRules and the dev
// stack's AccessRules output), the S3Vend-rules stack's output and one of
// odd but valid paths; the table must hold keys and every kind of refusal
// for each, so it cannot pass by answering nothing. AccessRules values
// client.Outputs.Rules refuses must be refused by parseAccessRules too.
func TestJSKeyMatchesGo(t *testing.T) {
	node := platformtest.NeedNode24(t, "..")
	layouts := map[string]string{
		"default":      contract.DefaultRules().JSON(),
		"S3Vend-dev":   templateOutput(t, "S3Vend-dev"),
		"S3Vend-rules": templateOutput(t, "S3Vend-rules"),
		"odd": contract.Rules{
			{Name: "deep", Path: "a/b.c/{tenant}/x/{identityId}/y-1/{userId}/*", Owner: []contract.Action{contract.ActionGet}},
			{Name: "lit", Path: "l_1/(x)/'y'!/*", Authenticated: []contract.Action{contract.ActionGet, contract.ActionList}},
			{Name: "t2-x", Path: "t/{tenant}/*", Tenant: []contract.Action{contract.ActionPut}, Anonymous: []contract.Action{contract.ActionGet}},
			{Name: "drop", Path: "drop/*", Authenticated: []contract.Action{contract.ActionPut}, AcknowledgeUnconfinedWrites: true},
			// Literals that are names of JavaScript's Object.prototype.
			{Name: "proto", Path: "constructor/toString/__proto__/{userId}/hasOwnProperty/*", Owner: []contract.Action{contract.ActionGet}},
		}.JSON(),
	}
	rules := map[string]contract.Rules{}
	for name, doc := range layouts {
		r, err := (client.Outputs{Stack: name, AccessRules: doc}).Rules()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rules[name] = r
	}
	ids := []identity{
		{IdentityID: "eu-west-1:11111111-2222-4333-8444-555555555555", UserID: "backend:alice", Tenant: "backend:acme"},
		{IdentityID: "cn-north-1:aaaaaaaa-0000-4000-8000-000000000000", UserID: "wechat:o-dave"}, // WeChat: no tenant
		{IdentityID: "eu-west-1:22222222-0000-4000-8000-000000000000"},                           // a guest
		{},
		{UserID: "idp:auth0=7C64f0c1", Tenant: "idp:中文 org"},
		{IdentityID: "x/y", UserID: "a/b", Tenant: "t/"},
		{IdentityID: "...", UserID: ".", Tenant: ".."},
		{IdentityID: " ", UserID: "a b", Tenant: "=2F"},
	}
	names := []string{"me.jpg", "/me.jpg", "//dir/sub/file.txt", "", "/", "///", "dir/", "a/../b", "中文 名.jpg", " "}
	var cases []keyCase
	for _, layout := range []string{"default", "S3Vend-dev", "S3Vend-rules", "odd"} {
		ruleNames := []string{"nope", "", "Avatars", "private ", `a"b`}
		for _, r := range rules[layout] {
			ruleNames = append(ruleNames, r.Name)
		}
		for _, rule := range ruleNames {
			for _, id := range ids {
				for _, name := range names {
					cases = append(cases, keyCase{layout, rule, id, name})
				}
			}
		}
	}
	// Values client.Outputs.Rules refuses (parseAccessRules refuses more:
	// it also checks paths and actions, which Go leaves to Rules.Check).
	malformed := []string{"{", "{}", `"x"`, "[1]", `[[]]`,
		`[{"name":"a","path":"a/*","owner":"get"}]`, `[{"name":"a","path":"a/*","owners":["get"]}]`,
		`[{"name":1,"path":"a/*"}]`, `[{"name":"a","path":2}]`, `[{"name":"a","path":"a/*","owner":[1]}]`,
		`[{"name":"a","path":"a/*","acknowledgeUnconfinedWrites":"yes"}]`, `[{"name":"a","path":"a/*"}] x`}
	for _, v := range malformed {
		if _, err := (client.Outputs{Stack: "x", AccessRules: v}).Rules(); err == nil {
			t.Fatalf("the table's malformed value %s is accepted by client.Outputs.Rules", v)
		}
	}

	in, _ := json.Marshal(map[string]any{"layouts": layouts, "cases": cases, "malformed": malformed})
	cmd := exec.Command(node, filepath.Join("..", "js", "client", "test", "key-table.mjs"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("node js/client/test/key-table.mjs: %v\n%s", err, stderr.String())
	}
	var out struct {
		Default   string            `json:"default"`
		Layouts   map[string]string `json:"layouts"`
		Answers   []jsAnswer        `json:"answers"`
		Malformed []jsAnswer        `json:"malformed"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("key-table.mjs answered no JSON: %v\n%s", err, raw)
	}

	// The rules documents agree field by field.
	if out.Default != contract.DefaultRules().JSON() {
		t.Errorf("DEFAULT_ACCESS_RULES\n%s\ncontract.DefaultRules\n%s", out.Default, contract.DefaultRules().JSON())
	}
	for name, r := range rules {
		if out.Layouts[name] != r.JSON() {
			t.Errorf("%s: parseAccessRules gives\n%s\nGo's Rules\n%s", name, out.Layouts[name], r.JSON())
		}
	}

	if len(out.Answers) != len(cases) {
		t.Fatalf("%d answers for %d cases", len(out.Answers), len(cases))
	}
	seen := map[string]map[string]int{} // layout -> outcome -> count
	for i, c := range cases {
		js := out.Answers[i]
		who := client.Identity{IdentityID: c.Identity.IdentityID, UserID: c.Identity.UserID, Tenant: c.Identity.Tenant}
		want, err := client.Key(rules[c.Layout], c.Rule, who, c.Name)
		outcome := "key"
		if err != nil {
			outcome = refusal(err)
		}
		if seen[c.Layout] == nil {
			seen[c.Layout] = map[string]int{}
		}
		seen[c.Layout][outcome]++
		what := fmt.Sprintf("%s: key(%q, %+v, %q)", c.Layout, c.Rule, c.Identity, c.Name)
		switch {
		case err != nil && (js.Error != err.Error() || js.Code != outcome):
			t.Errorf("%s: Go refuses %q (%s); JS answers %+v", what, err, outcome, js)
		case err == nil && (js.Error != "" || js.Key != want):
			t.Errorf("%s: Go %q; JS %+v", what, want, js)
		case err == nil:
			r, _ := rules[c.Layout].Named(c.Rule)
			if p, _ := r.Prefix(who.KeyValues()); js.Prefix != p {
				t.Errorf("%s: Go prefix %q; JS keyPrefix %q", what, p, js.Prefix)
			}
		}
	}
	for layout, n := range seen {
		for _, outcome := range []string{"key", "unknown_rule", "missing_value", "invalid_value", "empty_name"} {
			if n[outcome] == 0 {
				t.Errorf("%s: the table has no case answered %s: it would not catch a drift there", layout, outcome)
			}
		}
		t.Logf("%s: %v", layout, n)
	}

	if len(out.Malformed) != len(malformed) {
		t.Fatalf("%d answers for %d malformed values", len(out.Malformed), len(malformed))
	}
	for i, v := range malformed {
		if a := out.Malformed[i]; a.Accepted || a.Code != "malformed_rules" || !strings.HasPrefix(a.Error, "AccessRules") {
			t.Errorf("parseAccessRules(%s): %+v; want an AccessRuleError malformed_rules, as Go refuses it", v, a)
		}
	}
}

// templateOutput is the AccessRules output of a golden snapshot.
func templateOutput(t *testing.T, stack string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "test", "testdata", "snapshots", stack+".template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Outputs map[string]struct{ Value json.RawMessage }
	}
	var v string
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(tpl.Outputs[contract.OutputAccessRules].Value, &v); err != nil || v == "" {
		t.Fatalf("%s has no %s output (a string): %v", stack, contract.OutputAccessRules, err)
	}
	return v
}
