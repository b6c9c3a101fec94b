package workflows

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/internal/platform"
)

// makeDryRun prints the commands make would run (make -n runs none of
// them: no CDK, no AWS).
func makeDryRun(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	out, err := exec.Command("make", append([]string{"-n", "-C", "../.."}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("make -n %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// cdkLine is the CDK CLI command of a dry run.
func cdkLine(t *testing.T, out string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "aws-cdk/bin/cdk ") {
			return l
		}
	}
	t.Fatalf("no cdk command in:\n%s", out)
	return ""
}

// The live targets select the stack in the app (-c s3vend:stacks), run the
// credentials preflight before the CDK, and never relax the placeholder
// check that protects a real deploy (s3vend:placeholders is for synth and
// tests only).
func TestLiveTargets(t *testing.T) {
	for _, tc := range []struct {
		target string
		want   []string
	}{
		{"bootstrap", []string{" bootstrap -c s3vend:stacks=S3Vend-dev"}},
		{"diff-live", []string{" diff -c s3vend:stacks=S3Vend-dev S3Vend-dev"}},
		{"deploy", []string{" deploy -c s3vend:stacks=S3Vend-dev S3Vend-dev", "--outputs-file .build/outputs/S3Vend-dev.json"}},
		{"destroy", []string{" destroy -c s3vend:stacks=S3Vend-dev S3Vend-dev"}},
	} {
		out := makeDryRun(t, tc.target, "STACK=S3Vend-dev")
		pre := strings.Index(out, ".build/bin/preflight -stacks 'S3Vend-dev' -action "+tc.target)
		line := cdkLine(t, out)
		if pre < 0 || pre > strings.Index(out, line) {
			t.Errorf("make %s: no credentials preflight before the CDK:\n%s", tc.target, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(line, w) {
				t.Errorf("make %s runs %q, want %q in it", tc.target, line, w)
			}
		}
		if strings.Contains(out, "s3vend:placeholders") {
			t.Errorf("make %s passes s3vend:placeholders; a real deploy must refuse sample placeholders:\n%s", tc.target, line)
		}
	}
	// deploy and destroy insist on STACK= (the preflight refuses an empty one).
	for _, target := range []string{"deploy", "destroy"} {
		if out := makeDryRun(t, target); !strings.Contains(out, "-action "+target+" -require-stacks") {
			t.Errorf("make %s without STACK= does not require one:\n%s", target, out)
		}
	}
	// Without STACK=, synth and diff-live cover every stack.
	if line := cdkLine(t, makeDryRun(t, "synth")); strings.Contains(line, "s3vend:stacks") {
		t.Errorf("make synth without STACK= selects stacks: %s", line)
	}
	if line := cdkLine(t, makeDryRun(t, "diff-live")); !strings.Contains(line, " diff ") || !strings.Contains(line, "--all") {
		t.Errorf("make diff-live without STACK= runs %s", line)
	}
}

// TestMakefilePicksThisPlatform: the Makefile's Node 24 and cfn-guard are the
// ones internal/platform picks for this machine (it includes the file
// internal/tools/platform -make writes), and the end-to-end tier is required
// exactly on CI.
func TestMakefilePicksThisPlatform(t *testing.T) {
	p, err := platform.Host()
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	ci := makeDryRun(t, "unit", "CI=true")
	for _, want := range []string{"NODE24=" + p.Node24(root) + " ", "CFN_GUARD=" + p.CfnGuard(root) + " ", "S3VEND_E2E=require "} {
		if !strings.Contains(ci, want) {
			t.Errorf("make -n unit CI=true: missing %q in:\n%s", want, ci)
		}
	}
	if out := makeDryRun(t, "unit", "CI=", "S3VEND_E2E="); !strings.Contains(out, "S3VEND_E2E=auto ") {
		t.Errorf("make -n unit outside CI: want S3VEND_E2E=auto:\n%s", out)
	}
	if out := makeDryRun(t, "unit", "CI=", "S3VEND_E2E=require"); !strings.Contains(out, "S3VEND_E2E=require ") {
		t.Errorf("make -n unit S3VEND_E2E=require: not passed on:\n%s", out)
	}
}
