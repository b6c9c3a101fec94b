// Package prdiff is `make diff`: it synthesizes the working tree and the
// merge base with the main branch (checked out in a temporary git worktree),
// diffs every stack offline with the CDK CLI (`cdk diff --template`) and puts
// a reviewer's summary (package templatediff) above the raw diff.
package prdiff

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"

	"github.com/s3vend/s3vend/internal/templatediff"
)

// Context keys passed to both syntheses. A key the app (at the base commit)
// does not know is ignored by it.
const (
	// PlaceholdersKey lets environments whose cdk.json still holds sample
	// placeholders synthesize with warnings: the diff is a review path.
	PlaceholdersKey = "s3vend:placeholders"
	// StacksKey (comma-separated stack names) makes the app synthesize only
	// those stacks.
	StacksKey = "s3vend:stacks"
)

// Options of one run.
type Options struct {
	Dir    string // inside the git checkout to diff; "" = current directory
	Base   string // ref to diff against (its merge base with HEAD); "" = origin/main, else main
	Stack  string // only this stack; "" = every stack
	OutDir string // where the syntheses and report.md go
	Node   string // the Node binary running the CDK CLI
	CDK    string // the CDK CLI's entry point (node_modules/aws-cdk/bin/cdk)
	// Parallel synthesizes base and head at the same time.
	Parallel bool
	Log      io.Writer // progress lines; nil = discard
}

// Result of a run.
type Result struct {
	Report   templatediff.Report
	Markdown string
	Path     string // the report file
}

// Error is a problem the user can fix, one line (plus, for a failed
// synthesis, the synthesis' own output).
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func userErr(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// Run diffs the working tree against the base and writes the report.
func Run(ctx context.Context, o Options) (*Result, error) {
	r, err := start(ctx, o)
	if err != nil {
		return nil, err
	}
	tree := filepath.Join(r.OutDir, "base-tree")
	cleanup, err := addWorktree(ctx, r.top, tree, r.baseSHA)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if err := r.synthBoth(ctx, tree); err != nil {
		return nil, err
	}
	headStacks, baseStacks, names, err := r.stacks()
	if err != nil {
		return nil, err
	}
	rep, err := r.report(ctx, names, headStacks, baseStacks)
	if err != nil {
		return nil, err
	}
	md := rep.Markdown()
	path := filepath.Join(r.OutDir, "report.md")
	if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
		return nil, err
	}
	return &Result{Report: rep, Markdown: md, Path: path}, nil
}

// run is one Run in progress: the options with their defaults applied, the
// checkout's top directory, the base it compares with and the two
// synthesis output directories.
type run struct {
	Options
	top               string
	baseName, baseSHA string
	headOut, baseOut  string
}

// start applies the defaults, finds the checkout and the base commit, and
// empties the output directory: an old report must not outlive a failed
// run (a workflow could post it).
func start(ctx context.Context, o Options) (*run, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Dir == "" {
		o.Dir = "."
	}
	top, err := git(ctx, o.Dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, userErr("%s is not in a git checkout: make diff compares the working tree with a git base commit (run it in a clone of the repository)", absPath(o.Dir))
	}
	r := &run{Options: o, top: top}
	if r.baseName, r.baseSHA, err = resolveBase(ctx, top, o.Base); err != nil {
		return nil, err
	}
	if r.OutDir == "" {
		r.OutDir = filepath.Join(top, ".build", "diff")
	}
	if r.OutDir, err = filepath.Abs(r.OutDir); err != nil {
		return nil, err
	}
	r.headOut, r.baseOut = filepath.Join(r.OutDir, "head"), filepath.Join(r.OutDir, "base")
	for _, d := range []string{r.headOut, r.baseOut, filepath.Join(r.OutDir, "report.md")} {
		if err := os.RemoveAll(d); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(r.OutDir, 0o755); err != nil {
		return nil, err
	}
	return r, nil
}

// synthBoth synthesizes the working tree and the base checked out in tree,
// at the same time when Parallel is set, else the base only after the
// working tree succeeded. Both failures are reported.
func (r *run) synthBoth(ctx context.Context, tree string) error {
	baseLabel := fmt.Sprintf("the base (%s, commit %s)", r.baseName, short(r.baseSHA))
	fmt.Fprintf(r.Log, "make diff: synthesizing the working tree and %s\n", baseLabel)
	synth := func(dir, out, label string) error {
		if err := r.synth(ctx, dir, out); err != nil {
			return userErr("synthesizing %s failed:\n%s", label, err)
		}
		return nil
	}
	var headErr, baseErr error
	if r.Parallel {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); baseErr = synth(tree, r.baseOut, baseLabel) }()
		headErr = synth(r.top, r.headOut, "the working tree")
		wg.Wait()
	} else {
		if headErr = synth(r.top, r.headOut, "the working tree"); headErr == nil {
			baseErr = synth(tree, r.baseOut, baseLabel)
		}
	}
	return errors.Join(headErr, baseErr)
}

// stacks reads both syntheses' manifests (stack name to template file) and
// returns the names to diff: every stack of either side, or Stack alone.
func (r *run) stacks() (head, base map[string]string, names []string, err error) {
	if head, err = readManifest(r.headOut); err != nil {
		return nil, nil, nil, fmt.Errorf("working tree: %w", err)
	}
	if base, err = readManifest(r.baseOut); err != nil {
		return nil, nil, nil, fmt.Errorf("base: %w", err)
	}
	names = templatediff.UnionKeys(head, base)
	if r.Stack != "" {
		if _, ok := head[r.Stack]; !ok {
			if _, ok := base[r.Stack]; !ok {
				return nil, nil, nil, userErr("no stack %q in the working tree or the base; stacks: %s (STACK=<one of them>, or leave STACK unset for all)", r.Stack, strings.Join(names, ", "))
			}
		}
		names = []string{r.Stack}
	}
	return head, base, names, nil
}

// report diffs each named stack and assembles the reviewer's report,
// labelling the head with the current branch when there is one.
func (r *run) report(ctx context.Context, names []string, headStacks, baseStacks map[string]string) (templatediff.Report, error) {
	rep := templatediff.Report{
		Base: fmt.Sprintf("`%s` at its merge base `%s`", r.baseName, short(r.baseSHA)),
		Head: "The working tree",
	}
	if b, err := git(ctx, r.top, "rev-parse", "--abbrev-ref", "HEAD"); err == nil && b != "HEAD" {
		rep.Head = fmt.Sprintf("The working tree of `%s`", b)
	}
	for _, name := range names {
		sd, raw, err := r.diffStack(ctx, name, r.headOut, headStacks[name], baseStacks[name])
		if err != nil {
			return templatediff.Report{}, err
		}
		rep.Stacks = append(rep.Stacks, sd)
		if sd.Changed() {
			rep.Raw = append(rep.Raw, templatediff.RawDiff{Stack: name, Text: raw})
		}
	}
	return rep, nil
}

// resolveBase finds the commit to diff against: the merge base of HEAD with
// the given ref, or with origin/main (a PR checkout) or main.
func resolveBase(ctx context.Context, top, ref string) (name, sha string, err error) {
	candidates := []string{ref}
	if ref == "" {
		candidates = []string{"origin/main", "main"}
	}
	for _, c := range candidates {
		if _, err := git(ctx, top, "rev-parse", "--verify", "--quiet", c+"^{commit}"); err != nil {
			continue
		}
		mb, err := git(ctx, top, "merge-base", "HEAD", c)
		if err != nil {
			return "", "", userErr("no common history between HEAD and %s (shallow clone? fetch with full depth: git fetch --unshallow origin main)", c)
		}
		return c, mb, nil
	}
	if ref != "" {
		return "", "", userErr("BASE=%s is not a commit in this repository (git fetch it, or pass another BASE=<ref>)", ref)
	}
	return "", "", userErr("no base to diff against: neither origin/main nor main exists here (git fetch origin main, or pass BASE=<ref>)")
}

// addWorktree checks the base out in a detached worktree at path; cleanup
// removes it (call it also on failure or interrupt). The path is fixed (under
// the output directory, which is git-ignored and, starting with a dot, outside
// ./... patterns) so that the Go build cache, whose entries depend on package
// directories, serves the next run's base synthesis.
func addWorktree(ctx context.Context, top, path, sha string) (func(), error) {
	cleanup := func() {
		// A fresh context: the run's may be cancelled (Ctrl-C) by now.
		bg := context.Background()
		_, _ = git(bg, top, "worktree", "remove", "--force", path)
		os.RemoveAll(path)
		_, _ = git(bg, top, "worktree", "prune")
	}
	cleanup() // a worktree left by a killed run
	if _, err := git(ctx, top, "worktree", "add", "--detach", path, sha); err != nil {
		cleanup()
		return nil, fmt.Errorf("checking out the base: %w", err)
	}
	return cleanup, nil
}

// offlineEnv is the environment of every CDK CLI run: no AWS credentials,
// profile or instance metadata, so neither synthesis nor diff can reach an
// AWS account even on a machine that has one configured.
func offlineEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || k == "FORCE_COLOR" || k == "CDK_DEFAULT_ACCOUNT" || k == "CDK_DEFAULT_REGION" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_CONFIG_FILE="+os.DevNull,
		"FORCE_COLOR=0",
		"CDK_DISABLE_VERSION_CHECK=1",
		"CDK_NOTICES=false",
		"CDK_DISABLE_CLI_TELEMETRY=true",
	)
}

func (o Options) synth(ctx context.Context, dir, out string) error {
	args := []string{"synth", "--quiet", "--no-color", "-o", out, "-c", PlaceholdersKey + "=warn"}
	if o.Stack != "" {
		args = append(args, "-c", StacksKey+"="+o.Stack)
	}
	_, err := o.cdk(ctx, dir, args...)
	return err
}

// cdk runs the CDK CLI in dir; on failure the error carries the tail of its
// output.
func (o Options) cdk(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, o.Node, append([]string{o.CDK}, args...)...)
	cmd.Dir = dir
	cmd.Env = offlineEnv()
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	// Its own process group, so an interrupt also stops the app it runs
	// (go run and the binary go run starts).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err := cmd.Run()
	text := stripANSI(buf.String())
	if err != nil {
		return text, fmt.Errorf("%s\n(%v)", tail(text, 40), err)
	}
	return text, nil
}

var ansiRe = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

func stripANSI(s string) string { return ansiRe.ReplaceAllString(s, "") }

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// diffStack compares one stack; headTpl/baseTpl are template paths ("" when
// the stack does not exist on that side).
func (o Options) diffStack(ctx context.Context, name, headOut, headTpl, baseTpl string) (templatediff.StackDiff, string, error) {
	base, err := loadTemplate(baseTpl)
	if err != nil {
		return templatediff.StackDiff{}, "", err
	}
	head, err := loadTemplate(headTpl)
	if err != nil {
		return templatediff.StackDiff{}, "", err
	}
	if head == nil {
		d := templatediff.Compare(name, base, nil, nil)
		raw := fmt.Sprintf("Stack %s\nremoved: the working tree no longer synthesizes it (%d resources). cdk deploy does not delete a stack; cdk destroy %s does.\n", name, len(d.Removed), name)
		return d, raw, nil
	}
	against := baseTpl
	if base == nil {
		against = filepath.Join(headOut, "..", "empty.template.json")
		if err := os.WriteFile(against, []byte("{}\n"), 0o644); err != nil {
			return templatediff.StackDiff{}, "", err
		}
	}
	// In the output directory: no cdk.json or cdk.context.json of either tree applies.
	out, err := o.cdk(ctx, filepath.Dir(headOut), "diff", "--app", headOut, "--template", against, "--no-color", name)
	if err != nil {
		return templatediff.StackDiff{}, "", userErr("cdk diff of %s failed:\n%s", name, err)
	}
	raw := cleanCLIDiff(out)
	if base == nil {
		raw = strings.Replace(raw, "Stack "+name, "Stack "+name+" (new: diffed against an empty template)", 1)
	}
	return templatediff.Compare(name, base, head, templatediff.ParseImpacts(out)), raw, nil
}

// cleanCLIDiff drops the CLI's footer ("Number of stacks with differences").
func cleanCLIDiff(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "Number of stacks with differences") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Trim(strings.Join(keep, "\n"), "\n") + "\n"
}

func loadTemplate(path string) (templatediff.Template, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := templatediff.ParseTemplate(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// readManifest lists the stacks of a cloud assembly: artifact id -> template path.
func readManifest(dir string) (map[string]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("reading the cloud assembly: %w", err)
	}
	var m struct {
		Artifacts map[string]struct {
			Type       string `json:"type"`
			Properties struct {
				TemplateFile string `json:"templateFile"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s/manifest.json: %w", dir, err)
	}
	out := map[string]string{}
	for id, a := range m.Artifacts {
		if a.Type == "aws:cloudformation:stack" {
			out[id] = filepath.Join(dir, a.Properties.TemplateFile)
		}
	}
	return out, nil
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

func short(sha string) string {
	if len(sha) > 10 {
		return sha[:10]
	}
	return sha
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
