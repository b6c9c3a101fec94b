package config_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/contract"
)

// Without "access" an environment has the default layout.
func TestConfigAccessDefault(t *testing.T) {
	e, err := parseOne("dev", validEnv())
	if err != nil {
		t.Fatal(err)
	}
	if e.Access.JSON() != contract.DefaultRules().JSON() {
		t.Errorf("access = %s", e.Access.JSON())
	}
}

func TestConfigAccessCustom(t *testing.T) {
	env := validEnv()
	env["verifiers"] = map[string]any{"hs256": map[string]any{
		"name": "backend", "issuer": "https://api.example.com", "audience": "s3vend", "tenantClaim": "org",
	}}
	env["access"] = []any{
		map[string]any{"name": "avatars", "path": "avatars/{userId}/*", "owner": []any{"get", "put", "delete"}, "anonymous": []any{"get"}},
		map[string]any{"name": "teams", "path": "teams/{tenant}/*", "tenant": []any{"get", "put", "list", "delete"}},
	}
	e, err := parseOne("dev", env)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Access) != 2 || e.Access[1].Name != "teams" || strings.Join(e.Access.SessionTagKeys(), ",") != "s3vend-user,s3vend-tenant" {
		t.Errorf("access %s, tags %v", e.Access.JSON(), e.Access.SessionTagKeys())
	}
}

// oversized is a layout whose authenticated-role policy is over IAM's
// 10,240 characters once the stack's other statements are counted: 20
// rules with 128-character paths.
func oversized() []any {
	var rules []any
	for i := range contract.MaxRules {
		seg := fmt.Sprintf("r%02d", i) + strings.Repeat("x", 128-len("r00/{userId}/*"))
		rules = append(rules, map[string]any{"name": fmt.Sprintf("r%c", 'a'+i), "path": seg + "/{userId}/*", "owner": []any{"get", "put", "delete", "list"}})
	}
	return rules
}

// One case per refusal of issue 17, each naming the key
// (s3vend.environments.<env>.access[i] (rule)) and the fix.
func TestConfigAccessRefusals(t *testing.T) {
	rule := func(extra map[string]any) map[string]any {
		r := map[string]any{"name": "docs", "path": "docs/{userId}/*", "owner": []any{"get", "put"}}
		for k, v := range extra {
			r[k] = v
		}
		return r
	}
	for _, c := range []struct {
		name   string
		access []any
		key    string
		hint   string
	}{
		{"overlapping paths", []any{rule(nil), rule(map[string]any{"name": "more", "path": "docs/{userId}/more/*"})},
			"s3vend.environments.dev.access[1] (more)", `overlaps "docs/{userId}/*" of rule "docs"`},
		{"shadowing a literal", []any{rule(map[string]any{"path": "t/{userId}/*"}), rule(map[string]any{"name": "shared", "path": "t/shared/{identityId}/*"})},
			"s3vend.environments.dev.access[1] (shared)", "give each rule its own literal prefix"},
		{"unconfined write", []any{rule(map[string]any{"authenticated": []any{"put"}})},
			"s3vend.environments.dev.access[0] (docs)", `"acknowledgeUnconfinedWrites": true`},
		{"anonymous write", []any{rule(map[string]any{"anonymous": []any{"get", "delete"}})},
			"s3vend.environments.dev.access[0] (docs)", "anonymous may only get and list"},
		{"guest write", []any{rule(map[string]any{"guest": []any{"put"}})},
			"s3vend.environments.dev.access[0] (docs)", "guest may only get and list"},
		{"placeholder the verifiers cannot supply", []any{rule(map[string]any{"path": "docs/{tenant}/{userId}/*"})},
			"s3vend.environments.dev.access[0] (docs)", "{tenant} needs a verifier with a tenantClaim"},
		{"over IAM's size limit", oversized(),
			"s3vend.environments.dev.access", "IAM allows 10240"},
		{"unknown action", []any{rule(map[string]any{"owner": []any{"read"}})},
			"s3vend.environments.dev.access[0] (docs)", `unknown action "read"; use get, list, put, delete`},
		{"unknown subject", []any{rule(map[string]any{"everyone": []any{"get"}})},
			"s3vend.environments.dev.access[0] (docs)", `unknown field "everyone": a rule has name, path, acknowledgeUnconfinedWrites and the subjects anonymous, guest, authenticated, owner, tenant`},
		{"grant leaking into another rule", []any{
			map[string]any{"name": "docs", "path": "t/{userId}/docs/*", "authenticated": []any{"get"}},
			map[string]any{"name": "other", "path": "t/acme/x/{userId}/docs/*", "owner": []any{"get"}},
		}, "s3vend.environments.dev.access[0] (docs)", "also matches keys of rule \"other\""},
		{"not a list", nil, "s3vend.environments.dev.access", "JSON array of rules"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := validEnv()
			env["access"] = c.access
			if c.access == nil {
				env["access"] = map[string]any{"name": "x"}
			}
			_, err := parseOne("dev", env)
			if err == nil || !strings.Contains(err.Error(), c.key) || !strings.Contains(err.Error(), c.hint) {
				t.Errorf("got %v\nwant an error naming %q with %q", err, c.key, c.hint)
			}
		})
	}
}
