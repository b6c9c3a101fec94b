package test

import (
	"path/filepath"
	"testing"

	"github.com/s3vend/s3vend/config"
)

// Issue 16, item 9: a protected environment refuses an accidental
// `cdk destroy`: every stack that is not disposable has CloudFormation
// termination protection, which the CDK CLI sets from the cloud assembly
// (manifest.json, artifacts.<stack>.properties.terminationProtection) on
// deploy. The environment's edge ACL stack follows its environment; the
// CI/CD stack (the OIDC provider and deploy roles) is never disposable.
func TestTerminationProtectionOnEveryProtectedStack(t *testing.T) {
	synthesized(t)
	var manifest struct {
		Artifacts map[string]struct {
			Type       string `json:"type"`
			Properties struct {
				TerminationProtection bool `json:"terminationProtection"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	if err := readJSON(filepath.Join(synthDir, "manifest.json"), &manifest); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, name := range configs.Names() {
		protected := !configs.Environments[name].Disposable
		want[config.StackName(name)] = protected
		want[config.EdgeACLStackName(name)] = protected
	}
	want[config.CICDStackName] = true
	seen := map[bool]int{}
	for _, stack := range stackNames() {
		a, ok := manifest.Artifacts[stack]
		if !ok || a.Type != "aws:cloudformation:stack" {
			t.Fatalf("%s: no stack artifact in manifest.json", stack)
		}
		got := a.Properties.TerminationProtection
		seen[got]++
		if got != want[stack] {
			t.Errorf("%s: terminationProtection %v, want %v", stack, got, want[stack])
		}
	}
	// Both kinds are synthesized, so the check cannot pass vacuously.
	if seen[true] == 0 || seen[false] == 0 {
		t.Errorf("stacks by termination protection: %v; want protected and disposable ones", seen)
	}
}
