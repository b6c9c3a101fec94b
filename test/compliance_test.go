package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/s3vend/s3vend/config"
	"github.com/s3vend/s3vend/infra"
	"github.com/s3vend/s3vend/internal/platform"
	"github.com/s3vend/s3vend/stacks"
)

// TestCdkNagAwsSolutions: cdk-nag's AwsSolutions pack runs as an aspect on
// every stack (stacks.Build), and no finding may remain unsuppressed. The
// positive control below proves the check can fail: without it, removing the
// aspect from stacks.Build or losing the findings' metadata would pass.
func TestCdkNagAwsSolutions(t *testing.T) {
	t.Run("control", testCDKNagControl)
	for _, stack := range everyStack(t) {
		t.Run(stack, func(t *testing.T) {
			for _, a := range annotations(t, stack) {
				if strings.Contains(a.Message, "AwsSolutions-") {
					t.Errorf("unacknowledged cdk-nag finding at %s: %s", a.Path, a.Message)
				}
			}
		})
	}
}

// testCDKNagControl synthesizes the dev environment again through
// stacks.Build, with one bucket added that breaks AwsSolutions rules (no
// access logs: S1; no TLS-only policy: S10) and no suppression, and expects
// exactly those findings, as synth errors on that bucket (which fail the
// synthesis), read the way the real check reads them.
func testCDKNagControl(t *testing.T) {
	synthesized(t) // the shared kernel and config
	dir := t.TempDir()
	ctx, err := cdkJSON() // cdk.json's feature flags, as the real synthesis
	if err != nil {
		t.Fatal(err)
	}
	ctx["aws:cdk:bundling-stacks"] = []string{}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir), Context: &ctx})
	one := config.Config{Environments: map[string]config.Environment{"dev": configs.Environments["dev"]}}
	built := stacks.Build(app, one, "..")
	awss3.NewBucket(built["dev"].Stack, jsii.String("NagControlBucket"), &awss3.BucketProps{})
	// CDK fails a synthesis with error annotations (ValidationFailed), as
	// cdk synth does; the annotations are in the assembly's metadata first.
	var synthErr any
	func() {
		defer func() { synthErr = recover() }()
		app.Synth(nil)
	}()
	if synthErr == nil || !strings.Contains(fmt.Sprint(synthErr), "Validation failed") {
		t.Errorf("synthesis with unsuppressed cdk-nag errors did not fail: %v", synthErr)
	}

	rules := map[string]bool{}
	for _, a := range annotationsIn(t, dir, "S3Vend-dev") {
		if !strings.Contains(a.Message, "AwsSolutions-") {
			continue
		}
		if !strings.Contains(a.Path, "/NagControlBucket/") {
			t.Errorf("finding outside the control bucket (the real dev stack has none): %s: %s", a.Path, a.Message)
		}
		if a.Level != "aws:cdk:error" {
			t.Errorf("%s: %s is %s, want an error that fails cdk synth", a.Path, a.Message, a.Level)
		}
		for _, id := range []string{"AwsSolutions-S1:", "AwsSolutions-S10:"} {
			if strings.Contains(a.Message, id) {
				rules[strings.TrimSuffix(id, ":")] = true
			}
		}
	}
	if !rules["AwsSolutions-S1"] || !rules["AwsSolutions-S10"] {
		t.Fatalf("cdk-nag did not report AwsSolutions-S1 and -S10 on an unprotected bucket (got %v): is the AwsSolutions aspect still added in stacks.Build?", rules)
	}
}

// TestCdkNagSuppressionsCarryReasons: every suppression explains itself.
func TestCdkNagSuppressionsCarryReasons(t *testing.T) {
	for _, stack := range everyStack(t) {
		for id := range obj(t, stackTemplate(t, stack), "Resources") {
			meta, _ := obj(t, stackTemplate(t, stack), "Resources", id)["Metadata"].(map[string]any)
			nag, _ := meta["cdk_nag"].(map[string]any)
			rules, _ := nag["rules_to_suppress"].([]any)
			for _, rule := range rules {
				rm, ok := rule.(map[string]any)
				if !ok {
					t.Fatalf("%s/%s: cdk_nag rules_to_suppress holds %s, not objects", stack, id, describe(rule))
				}
				if reason, _ := rm["reason"].(string); len(reason) < 40 {
					t.Errorf("%s/%s: suppression of %v needs a reason a reviewer would accept, got %q", stack, id, rm["id"], reason)
				}
			}
		}
	}
}

// guardFinding is one resource failing one Control Tower rule.
type guardFinding struct{ Rule, Resource string }

var (
	resourcePathRe = regexp.MustCompile(`^/Resources/([^/]+)`)
	guardPathRe    = regexp.MustCompile(`"path":\s*"([^"]+)"`)
)

// runGuard runs the cfn-guard binary shipped in @cdklabs/cdk-validator-cfnguard
// with its AWS Control Tower rules over one template.
func runGuard(t *testing.T, template string) []guardFinding {
	t.Helper()
	guard, err := platform.CfnGuard("..") // $CFN_GUARD, else this platform's
	if err != nil {
		t.Fatal(err)
	}
	rules := filepath.Join(filepath.Dir(guard), "../../../rules/control-tower/cfn-guard")
	var out, stderr bytes.Buffer
	cmd := exec.Command(guard, "validate", "--data", template, "--rules", rules,
		"--output-format", "json", "--show-summary", "none")
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err = cmd.Run()
	// cfn-guard exits 19 when a rule fails; anything else non-zero is broken.
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 19) {
		t.Fatalf("cfn-guard: %v\n%s", err, stderr.String())
	}
	var findings []guardFinding
	dec := json.NewDecoder(&out)
	for {
		var report struct {
			Status       string            `json:"status"`
			NotCompliant []json.RawMessage `json:"not_compliant"`
		}
		if err := dec.Decode(&report); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("cfn-guard output: %v", err)
		}
		for _, nc := range report.NotCompliant {
			var rule struct {
				Rule struct {
					Name string `json:"name"`
				} `json:"Rule"`
			}
			_ = json.Unmarshal(nc, &rule)
			seen := map[string]bool{}
			for _, m := range guardPathRe.FindAllStringSubmatch(string(nc), -1) {
				if r := resourcePathRe.FindStringSubmatch(m[1]); r != nil && !seen[r[1]] {
					seen[r[1]] = true
					findings = append(findings, guardFinding{Rule: rule.Rule.Name, Resource: r[1]})
				}
			}
			if len(seen) == 0 {
				findings = append(findings, guardFinding{Rule: rule.Rule.Name, Resource: "(template)"})
			}
		}
	}
	return findings
}

// TestCfnGuardControlTower: every Control Tower finding is acknowledged with
// a reason on the resource itself (infra.GuardMetadataKey), and every
// acknowledgement still matches a finding.
func TestCfnGuardControlTower(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs cfn-guard over every template (make test runs it)")
	}
	for _, stack := range everyStack(t) {
		t.Run(stack, func(t *testing.T) {
			t.Parallel() // cfn-guard is a separate process per template
			tpl := stackTemplate(t, stack)
			findings := runGuard(t, filepath.Join(synthDir, stack+".template.json"))
			found := map[guardFinding]bool{}
			for _, f := range findings {
				found[f] = true
			}
			acked := map[guardFinding]bool{}
			for id := range obj(t, tpl, "Resources") {
				meta, _ := obj(t, tpl, "Resources", id)["Metadata"].(map[string]any)
				acks, _ := meta[infra.GuardMetadataKey].(map[string]any)
				for rule, reason := range acks {
					f := guardFinding{Rule: rule, Resource: id}
					acked[f] = true
					if s, _ := reason.(string); len(s) < 40 {
						t.Errorf("%s acknowledges %s without a reason a reviewer would accept: %q", id, rule, s)
					}
					if !found[f] {
						t.Errorf("stale acknowledgement: %s no longer fails %s; remove it", id, rule)
					}
				}
			}
			var open []string
			for f := range found {
				if !acked[f] {
					open = append(open, fmt.Sprintf("%s on %s", f.Rule, f.Resource))
				}
			}
			sort.Strings(open)
			if len(open) > 0 {
				t.Errorf("unacknowledged cfn-guard findings:\n  %s", strings.Join(open, "\n  "))
			}
			rules := map[string]bool{}
			for f := range acked {
				rules[f.Rule] = true
			}
			names := slices.Sorted(maps.Keys(rules))
			t.Logf("%d findings, all acknowledged, across rules %v", len(found), names)
		})
	}
}
