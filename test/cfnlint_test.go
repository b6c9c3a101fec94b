package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/infra"
	"github.com/s3vend/s3vend/internal/platform/platformtest"
)

// lintFinding is one cfn-lint result, as its JSON output writes it.
type lintFinding struct {
	Filename string
	Level    string
	Message  string
	Rule     struct {
		ID string `json:"Id"`
	}
	Location struct{ Path []any }
}

func (f lintFinding) resource() string {
	if len(f.Location.Path) >= 2 && f.Location.Path[0] == "Resources" {
		if id, ok := f.Location.Path[1].(string); ok {
			return id
		}
	}
	return "(template)"
}

// lintControl is a template with one finding of each level make test fails
// on: an unknown property (error E3002) and a DependsOn a GetAtt already
// implies (warning W3005). If cfn-lint stops reporting these, the check
// below would pass vacuously.
const lintControl = `{"Resources": {
  "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketNam": "x"}},
  "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}},
  "Fn": {"Type": "AWS::Lambda::Function", "DependsOn": ["Role"], "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]},
    "Runtime": "python3.12", "Handler": "index.handler", "Code": {"ZipFile": "def handler(e, c): pass"}}}}}`

// TestCfnLint runs AWS's CloudFormation Linter (cfn-lint, a second validator
// independent of the CDK's own checks, cdk-nag and cfn-guard) over every
// synthesized template. No error or warning may remain; an accepted one is
// acknowledged on its resource with a reason (infra.LintMetadataKey, which
// also writes cfn-lint's own ignore_checks), and an acknowledgement that no
// longer matches a finding fails. cfn-lint is on CI's image (Python); where
// it is missing the test skips and says so, except with CI=true.
func TestCfnLint(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs cfn-lint over every template (make test runs it)")
	}
	lint := platformtest.NeedClient(t, "cfn-lint")
	everyStack(t) // synthesize before running in parallel with cfn-guard
	t.Parallel()
	dir := t.TempDir()
	control := filepath.Join(dir, "control.template.json")
	if err := os.WriteFile(control, []byte(lintControl), 0o644); err != nil {
		t.Fatal(err)
	}
	// The templates as synthesized, and each again without cfn-lint's
	// ignore_checks, to find what the acknowledgements hide.
	files := []string{control}
	acks := map[string]map[lintKey]string{} // stack -> (resource, rule) -> reason
	stripped := map[string]string{}         // file without ignore_checks -> stack
	for _, stack := range everyStack(t) {
		files = append(files, filepath.Join(synthDir, stack+".template.json"))
		tpl := stackTemplate(t, stack)
		a, bare := lintAcknowledgements(t, stack, tpl)
		if len(a) == 0 {
			continue
		}
		acks[stack] = a
		f := filepath.Join(dir, stack+".stripped.template.json")
		if err := os.WriteFile(f, []byte(mustJSON(bare)), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		stripped[f] = stack
	}

	findings := runCfnLint(t, lint, files) // one process: cfn-lint starts in seconds
	byFile := map[string][]lintFinding{}
	for _, f := range findings {
		byFile[f.Filename] = append(byFile[f.Filename], f)
	}

	rules := map[string]bool{}
	for _, f := range byFile[control] {
		rules[f.Rule.ID] = true
	}
	if !rules["E3002"] || !rules["W3005"] {
		t.Fatalf("cfn-lint did not report the control template's error E3002 and warning W3005 (got %v): the check would pass vacuously", byFile[control])
	}

	for _, stack := range everyStack(t) {
		for _, f := range byFile[filepath.Join(synthDir, stack+".template.json")] {
			t.Errorf("%s: cfn-lint %s %s on %s: %s (fix it, or acknowledge it with a lintAck row in the construct's acknowledgements table, infra/acknowledge.go)", stack, f.Level, f.Rule.ID, f.resource(), f.Message)
		}
	}
	for file, stack := range stripped {
		found := map[lintKey]bool{}
		for _, f := range byFile[file] {
			found[lintKey{f.resource(), f.Rule.ID}] = true
		}
		for k := range acks[stack] {
			if !found[k] {
				t.Errorf("%s: stale acknowledgement: %s no longer gets cfn-lint %s; remove it", stack, k.Resource, k.Rule)
			}
		}
	}
	t.Logf("cfn-lint %s: %d templates, %d acknowledged findings", lint, len(everyStack(t)), countAcks(acks))
}

type lintKey struct{ Resource, Rule string }

func countAcks(acks map[string]map[lintKey]string) int {
	n := 0
	for _, a := range acks {
		n += len(a)
	}
	return n
}

// lintAcknowledgements returns a template's acknowledged (resource, rule)
// pairs, checking that cfn-lint's ignore_checks and s3vend's reasons agree,
// and a copy of the template without the ignore_checks.
func lintAcknowledgements(t *testing.T, stack string, tpl map[string]any) (map[lintKey]string, map[string]any) {
	t.Helper()
	var bare map[string]any
	if err := json.Unmarshal([]byte(mustJSON(tpl)), &bare); err != nil {
		t.Fatal(err)
	}
	acks := map[lintKey]string{}
	resources, _ := bare["Resources"].(map[string]any)
	for id, r := range resources {
		res, _ := r.(map[string]any)
		meta, _ := res["Metadata"].(map[string]any)
		reasons, _ := meta[infra.LintMetadataKey].(map[string]any)
		cfg, _ := meta["cfn-lint"].(map[string]any)
		conf, _ := cfg["config"].(map[string]any)
		ignored, _ := conf["ignore_checks"].([]any)
		var ig []string
		for _, rule := range ignored {
			s, _ := rule.(string)
			ig = append(ig, s)
			if _, ok := reasons[s]; !ok {
				t.Errorf("%s/%s: cfn-lint ignores %s without a reason under %s", stack, id, s, infra.LintMetadataKey)
			}
		}
		for rule, reason := range reasons {
			s, _ := reason.(string)
			if len(s) < 40 {
				t.Errorf("%s/%s acknowledges cfn-lint %s without a reason a reviewer would accept: %q", stack, id, rule, s)
			}
			if !slices.Contains(ig, rule) {
				t.Errorf("%s/%s: %s has a reason but cfn-lint does not ignore it (ignore_checks %v)", stack, id, rule, ig)
			}
			acks[lintKey{id, rule}] = s
		}
		if meta != nil {
			delete(meta, "cfn-lint")
		}
	}
	return acks, bare
}

// runCfnLint lints files in one cfn-lint process. Its exit status is a bit
// mask of the levels found (2 error, 4 warning, 8 informational); anything
// else, or output that is not its JSON, is a broken run.
func runCfnLint(t *testing.T, lint string, files []string) []lintFinding {
	t.Helper()
	var out, stderr bytes.Buffer
	cmd := exec.Command(lint, append([]string{"--format", "json", "--"}, files...)...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode()&^(2|4|8) == 0) {
		t.Fatalf("cfn-lint: %v\n%s%s", err, stderr.String(), out.String())
	}
	var findings []lintFinding
	if err := json.Unmarshal(out.Bytes(), &findings); err != nil {
		t.Fatalf("cfn-lint output is not its JSON: %v\n%s", err, out.String())
	}
	names := map[string]bool{}
	for _, f := range files {
		names[f] = true
	}
	for i, f := range findings {
		if !names[f.Filename] { // cfn-lint may print paths as given or cleaned
			if abs, err := filepath.Abs(f.Filename); err == nil && names[abs] {
				findings[i].Filename = abs
			}
		}
	}
	sort.SliceStable(findings, func(i, j int) bool { return findings[i].Filename < findings[j].Filename })
	if testing.Verbose() {
		var b strings.Builder
		for _, f := range findings {
			fmt.Fprintf(&b, "  %s %s %s %s\n", filepath.Base(f.Filename), f.Rule.ID, f.resource(), f.Message)
		}
		t.Logf("cfn-lint findings (control and stripped copies included):\n%s", b.String())
	}
	return findings
}
