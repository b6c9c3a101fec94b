package test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/s3vend/s3vend/constructs"
)

// TestSourceHash: the Lambda asset hash follows the function's sources,
// go.mod and go.sum, and nothing else (tests, testdata, file times), so
// snapshots are stable across machines and an unchanged function is never
// re-uploaded.
func TestSourceHash(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module x\n")
	write("go.sum", "")
	write("lambda/cmd/f/main.go", "package main\nfunc main() {}\n")
	g := constructs.GoBuild{ModuleDir: dir, Package: "./lambda/cmd/f", SourceDir: "lambda"}
	hash := func() string {
		t.Helper()
		h, err := g.SourceHash()
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	base := hash()
	if again := hash(); again != base {
		t.Fatal("hash is not deterministic")
	}

	write("lambda/cmd/f/main_test.go", "package main\n")
	write("lambda/cmd/f/testdata/fuzz/x", "corpus")
	write("README.md", "docs")
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "lambda/cmd/f/main.go"), past, past); err != nil {
		t.Fatal(err)
	}
	if got := hash(); got != base {
		t.Error("tests, testdata and files outside the function changed the hash")
	}

	for _, change := range []struct{ file, body string }{
		{"lambda/cmd/f/main.go", "package main\nfunc main() { println() }\n"},
		{"lambda/internal/x/x.go", "package x\n"},
		{"go.sum", "example.com/m v1.0.0 h1:x\n"},
	} {
		before := hash()
		write(change.file, change.body)
		if hash() == before {
			t.Errorf("changing %s did not change the hash", change.file)
		}
	}

	if _, err := (constructs.GoBuild{ModuleDir: dir, SourceDir: "missing"}).SourceHash(); err == nil {
		t.Error("a missing source dir must be an error")
	}
}
