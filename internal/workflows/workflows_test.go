package workflows

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

const dir = "../../.github/workflows"

// pinned is owner/repo[/path]@<40 hex> followed by a "# vX.Y.Z" comment in
// the source line, so a reviewer sees which release the SHA is.
var (
	pinned     = regexp.MustCompile(`^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$`)
	tagComment = regexp.MustCompile(`#\s*v\d+\.\d+\.\d+\s*$`)
)

type workflow struct {
	path  string
	lines []string
	wf    *actionlint.Workflow
}

func load(t *testing.T) []workflow {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.y*ml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no workflows in %s (%v)", dir, err)
	}
	var out []workflow
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		wf, errs := actionlint.Parse(b)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", p, errs[0])
		}
		out = append(out, workflow{path: p, lines: strings.Split(string(b), "\n"), wf: wf})
	}
	return out
}

// uses checks one `uses:` reference at its source position.
func checkUses(t *testing.T, w workflow, uses *actionlint.String) {
	t.Helper()
	if uses == nil {
		return
	}
	ref := uses.Value
	where := filepath.Base(w.path) + ":" + uses.Pos.String()
	if strings.HasPrefix(ref, "./") {
		return // an action or workflow of this repository
	}
	if strings.HasPrefix(ref, "docker://") {
		if !strings.Contains(ref, "@sha256:") {
			t.Errorf("%s: %s is not pinned by digest (docker://image@sha256:…)", where, ref)
		}
		return
	}
	if !pinned.MatchString(ref) {
		t.Errorf("%s: %s is not pinned to a 40-hex commit SHA; write owner/repo@<sha> # vX.Y.Z", where, ref)
		return
	}
	if line := w.lines[uses.Pos.Line-1]; !tagComment.MatchString(line) {
		t.Errorf("%s: %q lacks the release comment \"# vX.Y.Z\" after the SHA", where, strings.TrimSpace(line))
	}
}

func TestActionsPinnedBySHA(t *testing.T) {
	n := 0
	for _, w := range load(t) {
		for _, job := range w.wf.Jobs {
			if job.WorkflowCall != nil {
				checkUses(t, w, job.WorkflowCall.Uses)
				n++
			}
			for _, step := range job.Steps {
				if a, ok := step.Exec.(*actionlint.ExecAction); ok {
					checkUses(t, w, a.Uses)
					n++
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no uses: found; the check would pass vacuously")
	}
}

// The check itself: it must refuse what it is meant to refuse.
func TestPinCheckRefuses(t *testing.T) {
	for _, ref := range []string{"actions/checkout@v4", "actions/checkout@main", "actions/checkout@3d3c42e", "actions/checkout"} {
		if pinned.MatchString(ref) {
			t.Errorf("%s passes as pinned", ref)
		}
	}
	if !pinned.MatchString("github/codeql-action/init@" + strings.Repeat("a", 40)) {
		t.Error("an action in a subdirectory, pinned, is refused")
	}
}

// Least privilege: the workflow grants nothing by default (permissions: {})
// and every job lists what its token may do.
func TestPermissionsPerJob(t *testing.T) {
	for _, w := range load(t) {
		if p := w.wf.Permissions; p == nil || p.All != nil || len(p.Scopes) != 0 {
			t.Errorf("%s: top-level permissions must be {} (each job asks for its own)", w.path)
		}
		for id, job := range w.wf.Jobs {
			if job.Permissions == nil {
				t.Errorf("%s: job %s has no permissions: block", w.path, id)
				continue
			}
			for name, s := range job.Permissions.Scopes {
				if s.Value.Value == "write" && name != "id-token" && !(name == "pull-requests" && id == "comment") {
					t.Errorf("%s: job %s may write %s; only the PR comment job writes (pull-requests)", w.path, id, name)
				}
			}
		}
	}
}

// Deploy jobs (those that get an OIDC token) run in a GitHub environment,
// so the deploy role's trust can name it, and in a concurrency group that
// never cancels a running deploy.
func TestDeployJobs(t *testing.T) {
	deploys := 0
	for _, w := range load(t) {
		for id, job := range w.wf.Jobs {
			if job.Permissions == nil || job.Permissions.Scopes["id-token"] == nil || id == "diff-live" {
				continue
			}
			deploys++
			if job.Environment == nil || job.Environment.Name == nil {
				t.Errorf("%s: deploy job %s has no environment:", w.path, id)
			}
			c := job.Concurrency
			if c == nil || c.Group == nil || !strings.HasPrefix(c.Group.Value, "deploy-") || c.CancelInProgress == nil || c.CancelInProgress.Value {
				t.Errorf("%s: deploy job %s needs concurrency {group: deploy-<stack>, cancel-in-progress: false}", w.path, id)
			}
		}
	}
	if deploys == 0 {
		t.Fatal("no deploy job found")
	}
}
