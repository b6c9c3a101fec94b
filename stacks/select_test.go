package stacks

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func selectConfig(t *testing.T) Config {
	t.Helper()
	env := func(dpn string, edge bool) map[string]any {
		e := map[string]any{
			"cors":                  map[string]any{"allowedOrigins": []string{"https://app.example.com"}},
			"developerProviderName": dpn,
			"verifiers":             map[string]any{"hs256": map[string]any{"name": "backend", "issuer": "https://api.example.com", "audience": "s3vend"}},
		}
		if edge {
			e["edge"] = map[string]any{"enabled": true}
			e["region"] = "eu-west-1"
		}
		return e
	}
	b, _ := json.Marshal(map[string]any{"environments": map[string]any{
		"dev": env("login.dev", false), "prod": env("login.prod", false), "edge": env("login.edge", true),
	}})
	cfg, err := ParseConfig(json.RawMessage(b))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestSelect(t *testing.T) {
	cfg := selectConfig(t)
	if got, want := cfg.StackNames(), []string{"S3Vend-dev", "S3Vend-edge", "S3Vend-edge-EdgeACL", "S3Vend-prod"}; !slices.Equal(got, want) {
		t.Fatalf("StackNames = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		sel  any
		want []string // environments kept
	}{
		{nil, []string{"dev", "edge", "prod"}},
		{"", []string{"dev", "edge", "prod"}},
		{"S3Vend-dev", []string{"dev"}},
		{" S3Vend-prod , S3Vend-dev,", []string{"dev", "prod"}},
		{[]any{"S3Vend-prod"}, []string{"prod"}},
		// The main stack reads the ACL stack's output: both come together.
		{"S3Vend-edge", []string{"edge"}},
		{"S3Vend-edge-EdgeACL", []string{"edge"}},
	} {
		got, err := cfg.Select(tc.sel)
		if err != nil {
			t.Fatalf("Select(%#v): %v", tc.sel, err)
		}
		if !slices.Equal(got.Names(), tc.want) {
			t.Errorf("Select(%#v) = %v, want %v", tc.sel, got.Names(), tc.want)
		}
	}
	if got, _ := cfg.Select("S3Vend-edge"); !slices.Equal(got.StackNames(), []string{"S3Vend-edge", "S3Vend-edge-EdgeACL"}) {
		t.Errorf("S3Vend-edge synthesizes %v, want its ACL stack too", got.StackNames())
	}
}

func TestSelectBadInput(t *testing.T) {
	cfg := selectConfig(t)
	for _, tc := range []struct {
		sel  any
		want []string
	}{
		{"S3Vend-staging", []string{`s3vend:stacks: no stack "S3Vend-staging"`, "S3Vend-dev, S3Vend-edge, S3Vend-edge-EdgeACL, S3Vend-prod"}},
		{"dev", []string{`no stack "dev"`}},
		{"S3Vend-dev,S3Vend-x,S3Vend-y", []string{`"S3Vend-x", "S3Vend-y"`}},
		{[]any{1.0}, []string{"expected stack names"}},
		{true, []string{"expected comma-separated stack names"}},
	} {
		_, err := cfg.Select(tc.sel)
		if err == nil {
			t.Fatalf("Select(%#v): no error", tc.sel)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Select(%#v) = %q, want it to contain %q", tc.sel, err, w)
			}
		}
	}
}
