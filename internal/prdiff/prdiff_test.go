package prdiff

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/internal/platform/platformtest"
)

// These tests drive the real git and the real CDK CLI (synth and diff) on a
// throw-away repository whose "app" (cdk.json) copies a checked-in cloud
// assembly instead of running the Go app: the git worktree mechanics, the
// context keys, the offline diff and the report are under test, without two
// real syntheses (minutes) in make test. The real thing is measured in the
// report of this change and run by `make diff`.

// fakeApp is the app of the throw-away repository. It refuses to run
// without the placeholders context key (both syntheses must pass it), keeps
// the context it got for the test to read, and fails like a broken app when
// the commit has a file named BROKEN.
const fakeApp = `set -eu
if [ -e BROKEN ]; then echo "boom: the app at this commit does not synthesize" >&2; exit 1; fi
case "$CDK_CONTEXT_JSON" in *'"s3vend:placeholders":"warn"'*) ;; *) echo "missing s3vend:placeholders=warn" >&2; exit 3;; esac
cp assembly/* "$CDK_OUTDIR"/
printf '%s' "$CDK_CONTEXT_JSON" > "$CDK_OUTDIR/context.json"
`

func tools(t *testing.T) (node, cdk string) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: real git and the CDK CLI (make test runs it)")
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	node = platformtest.NeedNode24(t, root)
	cdk = filepath.Join(root, "node_modules", "aws-cdk", "bin", "cdk")
	if _, err := os.Stat(cdk); err != nil {
		t.Skipf("needs the pinned CDK CLI (make setup): %v", err)
	}
	return node, cdk
}

func snapshot(t *testing.T, stack string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "test", "testdata", "snapshots", stack+".template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T, branch string) *repo {
	r := &repo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", branch)
	r.git("config", "user.email", "test@example.com")
	r.git("config", "user.name", "test")
	r.write("cdk.json", `{"app": "sh app.sh"}`)
	r.write("app.sh", fakeApp)
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *repo) write(path, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *repo) commit(msg string) string {
	r.git("add", "-A")
	r.git("commit", "-q", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

// assembly writes a cloud assembly of the given stacks for the fake app.
func (r *repo) assembly(stacks map[string]map[string]any) {
	r.t.Helper()
	os.RemoveAll(filepath.Join(r.dir, "assembly"))
	arts := map[string]any{}
	for name, tpl := range stacks {
		b, _ := json.MarshalIndent(tpl, "", " ")
		r.write(filepath.Join("assembly", name+".template.json"), string(b))
		arts[name] = map[string]any{
			"type":        "aws:cloudformation:stack",
			"environment": "aws://unknown-account/unknown-region",
			"properties":  map[string]any{"templateFile": name + ".template.json"},
			"displayName": name,
		}
	}
	b, _ := json.Marshal(map[string]any{"version": "54.0.0", "artifacts": arts})
	r.write(filepath.Join("assembly", "manifest.json"), string(b))
}

func (r *repo) run(o Options) (*Result, error) {
	r.t.Helper()
	o.Node, o.CDK = tools(r.t)
	o.Dir = r.dir
	if o.OutDir == "" {
		o.OutDir = filepath.Join(r.dir, ".build", "diff")
	}
	res, err := Run(context.Background(), o)
	if wt := r.git("worktree", "list"); strings.Count(wt, "\n") != 0 {
		r.t.Errorf("the base worktree was not removed:\n%s", wt)
	}
	return res, err
}

func TestOfflineDiffOfCommits(t *testing.T) {
	tools(t)
	r := newRepo(t, "main")
	r.write("BROKEN", "")
	r.assembly(map[string]map[string]any{"S3Vend-dev": snapshot(t, "S3Vend-dev")})
	broken := r.commit("an app that does not synthesize")
	os.Remove(filepath.Join(r.dir, "BROKEN"))
	r.assembly(map[string]map[string]any{"S3Vend-dev": snapshot(t, "S3Vend-dev"), "S3Vend-prod": snapshot(t, "S3Vend-prod")})
	r.commit("base")
	r.git("checkout", "-q", "-b", "feature")
	r.write("README.md", "docs only\n")
	r.commit("a no-op commit")

	t.Run("no-op commit shows no changes", func(t *testing.T) {
		res, err := r.run(Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Report.Changed() || !strings.Contains(res.Markdown, "**No changes** in 2 stack(s)") {
			t.Errorf("no-op commit:\n%s", res.Markdown)
		}
		file, _ := os.ReadFile(res.Path)
		if string(file) != res.Markdown || !strings.HasPrefix(res.Markdown, "<!-- s3vend-diff -->\n") {
			t.Errorf("report file %s differs from the report or lacks the marker line", res.Path)
		}
	})

	t.Run("widened policy, new and removed stack in the working tree", func(t *testing.T) {
		dev := snapshot(t, "S3Vend-dev")
		pol := dev["Resources"].(map[string]any)["StorageGuestAccess16FB871C"].(map[string]any)["Properties"].(map[string]any)
		doc := pol["PolicyDocument"].(map[string]any)
		doc["Statement"] = append(doc["Statement"].([]any), map[string]any{
			"Effect": "Allow", "Action": "s3:PutObject",
			"Resource": map[string]any{"Fn::Join": []any{"", []any{map[string]any{"Fn::GetAtt": []any{"StorageBucket5CB7C8EA", "Arn"}}, "/public/*"}}},
		})
		// Uncommitted: the working tree is what is diffed.
		r.assembly(map[string]map[string]any{"S3Vend-dev": dev, "S3Vend-prod-cn": snapshot(t, "S3Vend-prod-cn")})
		defer r.git("checkout", "-q", "--", ".")
		defer r.git("clean", "-qfd", "assembly")

		res, err := r.run(Options{})
		if err != nil {
			t.Fatal(err)
		}
		md := res.Markdown
		for _, want := range []string{
			"`main` at its merge base",
			"**3 of 3 stack(s) changed**: `S3Vend-dev` (changed), `S3Vend-prod` (removed), `S3Vend-prod-cn` (new).",
			"`StorageGuestAccess16FB871C` (AWS::IAM::Policy), policy on roles ${IdentityUnauthenticatedRoleA1A98424}: 1 added, 0 removed\n\n```diff\n+ Allow s3:PutObject\n+   on ${StorageBucket5CB7C8EA.Arn}/public/*\n```",
			"### S3Vend-prod: removed",
			"### S3Vend-prod-cn: new",
			// the raw diff: the CLI's own rendering of the new statement
			"<details><summary>Raw <code>cdk diff</code></summary>",
			"Stack S3Vend-prod-cn (new: diffed against an empty template)",
			"IAM Statement Changes",
			"s3:PutObject",
		} {
			if !strings.Contains(md, want) {
				t.Errorf("report lacks %q:\n%s", want, md)
			}
		}
		if strings.Contains(md, "\x1b[") {
			t.Error("report has ANSI colour codes")
		}
		if strings.Contains(md, "Number of stacks with differences") {
			t.Error("report keeps the CLI footer")
		}
		for _, side := range []string{"head", "base"} {
			ctx, err := os.ReadFile(filepath.Join(r.dir, ".build", "diff", side, "context.json"))
			if err != nil || !strings.Contains(string(ctx), `"s3vend:placeholders":"warn"`) {
				t.Errorf("%s synthesis context: %s (%v)", side, ctx, err)
			}
		}

		// One stack: the others are not diffed, the stacks key is passed.
		res, err = r.run(Options{Stack: "S3Vend-prod"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Report.Stacks) != 1 || res.Report.Stacks[0].Stack != "S3Vend-prod" || strings.Contains(res.Markdown, "S3Vend-dev") {
			t.Errorf("STACK=S3Vend-prod report:\n%s", res.Markdown)
		}
		ctx, _ := os.ReadFile(filepath.Join(r.dir, ".build", "diff", "base", "context.json"))
		if !strings.Contains(string(ctx), `"s3vend:stacks":"S3Vend-prod"`) {
			t.Errorf("base synthesis did not get the stacks key: %s", ctx)
		}

		_, err = r.run(Options{Stack: "S3Vend-nope"})
		var ue *Error
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), `no stack "S3Vend-nope"`) ||
			!strings.Contains(err.Error(), "S3Vend-dev, S3Vend-prod, S3Vend-prod-cn") || strings.Contains(err.Error(), "\n") {
			t.Errorf("unknown stack: %v", err)
		}
	})

	t.Run("base that does not synthesize", func(t *testing.T) {
		_, err := r.run(Options{Base: broken})
		if err == nil || !strings.Contains(err.Error(), "synthesizing the base ("+broken+", commit "+broken[:10]+") failed") ||
			!strings.Contains(err.Error(), "boom: the app at this commit does not synthesize") || strings.Contains(err.Error(), "working tree") {
			t.Errorf("broken base: %v", err)
		}
		if _, err := os.Stat(filepath.Join(r.dir, ".build", "diff", "report.md")); !os.IsNotExist(err) {
			t.Errorf("a failed run left the previous report.md (%v)", err)
		}
	})

	t.Run("bad base ref", func(t *testing.T) {
		_, err := r.run(Options{Base: "no-such-branch"})
		if err == nil || err.Error() != "BASE=no-such-branch is not a commit in this repository (git fetch it, or pass another BASE=<ref>)" {
			t.Errorf("bad BASE: %v", err)
		}
	})
}

func TestNoGitOrNoBase(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: real git (make test runs it)")
	}
	_, err := Run(context.Background(), Options{Dir: t.TempDir()})
	var ue *Error
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "is not in a git checkout") {
		t.Errorf("outside git: %v", err)
	}
	r := newRepo(t, "trunk")
	r.commit("first")
	_, err = Run(context.Background(), Options{Dir: r.dir})
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "neither origin/main nor main exists") {
		t.Errorf("no main: %v", err)
	}
}
