package config_test

import (
	"strings"
	"testing"

	"github.com/s3vend/s3vend/contract"
)

// TestUserQuota: off by default; set, it is parsed and gives the sessions
// the quota tag; a bad value is a synth error naming the key and the fix.
func TestUserQuota(t *testing.T) {
	e, err := parseOne("dev", validEnv())
	if err != nil || e.UserQuota.Enabled() || strings.Contains(strings.Join(e.SessionTagKeys(), ","), contract.TagQuota) {
		t.Fatalf("default: %+v %v (tags %v)", e.UserQuota, err, e.SessionTagKeys())
	}
	env := validEnv()
	env["userQuota"] = map[string]any{"maxBytes": 1 << 30, "maxObjects": 100}
	e, err = parseOne("dev", env)
	if err != nil || e.UserQuota != (contract.UserQuota{MaxBytes: 1 << 30, MaxObjects: 100}) {
		t.Fatalf("set: %+v %v", e.UserQuota, err)
	}
	if tags := e.SessionTagKeys(); len(tags) != 1 || tags[0] != contract.TagQuota {
		t.Errorf("session tags with a quota: %v", tags)
	}
	for _, c := range []struct {
		quota   map[string]any
		key, in string
	}{
		{map[string]any{"maxBytes": 1000}, "s3vend.environments.dev.userQuota.maxBytes", "from 1048576 (1 MiB)"},
		{map[string]any{"maxObjects": -1}, "s3vend.environments.dev.userQuota.maxObjects", "from 1 to"},
		{map[string]any{}, "s3vend.environments.dev.userQuota", "set maxBytes"},
		{map[string]any{"maxBytes": 0}, "s3vend.environments.dev.userQuota", "omit the key"},
		{map[string]any{"maxFiles": 3}, "s3vend.environments.dev", `unknown key "maxFiles"`},
	} {
		env := validEnv()
		env["userQuota"] = c.quota
		_, err := parseOne("dev", env)
		if err == nil || !strings.Contains(err.Error(), c.key) || !strings.Contains(err.Error(), c.in) {
			t.Errorf("userQuota %v: %v, want an error naming %s with %q", c.quota, err, c.key, c.in)
		}
	}
}

// A quota over a layout with no metered rule (nothing keyed by a user that
// the user writes) would meter nothing: refused, naming userQuota.
func TestUserQuotaNeedsAMeteredRule(t *testing.T) {
	env := validEnv()
	env["userQuota"] = map[string]any{"maxObjects": 10}
	env["access"] = []any{map[string]any{"name": "shared", "path": "shared/*", "authenticated": []string{"get"}}}
	if _, err := parseOne("dev", env); err == nil || !strings.Contains(err.Error(), "s3vend.environments.dev.userQuota") || !strings.Contains(err.Error(), "no access rule counts against a user") {
		t.Errorf("quota over no metered rule: %v", err)
	}
	env["access"] = []any{map[string]any{"name": "avatars", "path": "avatars/{userId}/*", "owner": []string{"get", "put"}}}
	e, err := parseOne("dev", env)
	if err != nil || len(e.Access.MeteredRules()) != 1 {
		t.Errorf("a {userId} rule the owner writes is metered: %v", err)
	}
}
