package e2e

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestReadmeQuickStart runs the README's quick start as a newcomer would:
// step 1 (`make local` = make synth, then cmd/s3vend-local; here on the
// golden dev template, which TestSnapshots keeps equal to a fresh synthesis),
// then the shell blocks of steps 2 and 3 exactly as the README prints them,
// with only `.build/local` pointed at the test's directory. It fails when the
// landing page's commands stop working: a renamed flag, a changed output
// file, a login the vendor refuses, an upload that does not land.
func TestReadmeQuickStart(t *testing.T) {
	ready(t)
	needTool(t, "curl")
	blocks := quickStartBlocks(t)
	dir := t.TempDir()
	local := startLocal(t, dir)

	script := "set -euo pipefail\n" + strings.ReplaceAll(strings.Join(blocks, "\n"), ".build/local", dir)
	out := run(t, goEnv(t), false, "bash", "-c", script)
	if !strings.Contains(out, `"identityId":"`) || !strings.Contains(out, `"token":"`) {
		t.Fatalf("step 2 printed no identity and token:\n%s", out)
	}
	key := regexp.MustCompile(`(?m)private/[a-z]{2}(-[a-z]+)+-[0-9]:[0-9a-f-]{36}/README\.md$`).FindString(out)
	if key == "" {
		t.Fatalf("step 3 printed no private/<identityId>/README.md key:\n%s", out)
	}
	readme, err := os.ReadFile(filepath.Join(moduleDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(local.log(), `"route":"token"`) || !strings.Contains(out, "uploaded "+strconv.Itoa(len(readme))+" bytes") {
		t.Fatalf("the upload of README.md (%d bytes) is not what step 3 reported:\n%s", len(readme), out)
	}
}

// quickStartBlocks returns the ```sh blocks of the README's "Quick start"
// section, unindented, in order; it fails unless there are the two the
// README promises (sign in; upload).
func quickStartBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Quick start")
	if !ok {
		t.Fatal(`README.md has no "## Quick start" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var blocks []string
	var cur []string
	in := false
	for _, line := range strings.Split(section, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case !in && trimmed == "```sh":
			in, cur = true, nil
		case in && trimmed == "```":
			in = false
			blocks = append(blocks, strings.Join(cur, "\n"))
		case in:
			cur = append(cur, trimmed)
		}
	}
	if len(blocks) != 2 {
		t.Fatalf("README quick start has %d sh blocks, want 2 (sign in, upload)", len(blocks))
	}
	if !strings.Contains(section, "`make local`") {
		t.Fatal("README quick start no longer starts with `make local`: update startLocal to match")
	}
	return blocks
}

// localStack is what a running cmd/s3vend-local has written to its stdout
// (the vendor's JSON log) and stderr (its progress and the recipe).
type localStack struct {
	mu  sync.Mutex
	out strings.Builder
}

func (l *localStack) write(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.out.WriteString(line + "\n")
}

func (l *localStack) log() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.out.String()
}

// startLocal runs cmd/s3vend-local as `make local` does (its Makefile
// recipe, with the dev template and Node 24 given), waits until it says the
// stack is up and stops it with SIGINT at the end of the test.
func startLocal(t *testing.T, dir string) *localStack {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, binaries["s3vend-local"], "-env", "dev",
		"-template", filepath.Join(moduleDir, "test", "testdata", "snapshots", "S3Vend-dev.template.json"),
		"-dir", dir, "-node", node24)
	cmd.Dir = moduleDir
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 30 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	l := &localStack{}
	up := make(chan struct{})
	go func() {
		s := bufio.NewScanner(stderr)
		said := false
		for s.Scan() {
			l.write(s.Text())
			if !said && strings.Contains(s.Text(), "is up. Nothing here calls AWS.") {
				said = true
				close(up)
			}
		}
	}()
	go func() {
		s := bufio.NewScanner(stdout)
		s.Buffer(make([]byte, 1<<16), 1<<20)
		for s.Scan() {
			l.write(s.Text())
		}
		_, _ = io.Copy(io.Discard, stdout) // a line over 1 MiB ends the scan: keep the pipe drained
	}()
	select {
	case <-up:
	case <-time.After(3 * time.Minute):
		t.Fatalf("s3vend-local did not come up in 3 minutes:\n%s", l.log())
	}
	return l
}

// goEnv is baseEnv plus this process's Go caches, so that the README's
// `go run` lines build from the warm cache as on a developer's machine.
func goEnv(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	if err != nil {
		t.Fatal(err)
	}
	v := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(v) != 3 {
		t.Fatalf("go env: %q", out)
	}
	return []string{"GOCACHE=" + v[0], "GOMODCACHE=" + v[1], "GOPATH=" + v[2], "GOTOOLCHAIN=local"}
}
