package test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/s3vend/s3vend/infra"
)

// TestSourceHash: the Lambda asset hash follows what the build compiles (the
// module's packages in the function's import graph), go.mod, go.sum and the
// Go toolchain version, and nothing else (tests, testdata, test-only
// packages, file times), so snapshots are stable across machines, an
// unchanged function is never re-uploaded, and a Go release redeploys.
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
	write("go.mod", "module x\n\ngo 1.24\n")
	write("go.sum", "")
	write("lambda/cmd/f/main.go", "package main\n\nimport _ \"x/lambda/internal/x\"\n\nfunc main() {}\n")
	write("lambda/internal/x/x.go", "package x\n\nimport _ \"x/contract\"\n")
	write("contract/c.go", "package contract\n")                  // a shared package outside SourceDir, as s3vend's contract/ is
	write("lambda/internal/x/linux_only_amd64.go", "package x\n") // not built for arm64
	write("lambda/internal/fakes/fakes.go", "package fakes\n")
	write("lambda/cmd/f/main_test.go", "package main\n\nimport _ \"x/lambda/internal/fakes\"\n")
	g := infra.GoBuild{ModuleDir: dir, Package: "./lambda/cmd/f", SourceDir: "lambda", GoVersion: "go1.26.0"}
	hash := func(g infra.GoBuild) string {
		t.Helper()
		h, err := g.SourceHash()
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	base := hash(g)
	if again := hash(g); again != base {
		t.Fatal("hash is not deterministic")
	}

	write("lambda/cmd/f/main_test.go", "package main\n\nimport _ \"x/lambda/internal/fakes\"\n\nvar _ = 1\n")
	write("lambda/internal/fakes/fakes.go", "package fakes\n\nvar Changed = true\n")
	write("lambda/internal/x/linux_only_amd64.go", "package x\n\nvar Changed = true\n")
	write("lambda/cmd/f/testdata/fuzz/x", "corpus")
	write("lambda/internal/unused/unused.go", "package unused\n")
	write("README.md", "docs")
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "lambda/cmd/f/main.go"), past, past); err != nil {
		t.Fatal(err)
	}
	if got := hash(g); got != base {
		t.Error("tests, test-only packages, other targets' files, unimported packages or file times changed the hash")
	}

	if hash(infra.GoBuild{ModuleDir: dir, Package: g.Package, SourceDir: g.SourceDir, GoVersion: "go1.26.1"}) == base {
		t.Error("another Go toolchain version did not change the hash")
	}
	if hash(infra.GoBuild{ModuleDir: dir, Package: g.Package, SourceDir: g.SourceDir}) == "" {
		t.Error("the installed toolchain's version was not read")
	}

	for _, change := range []struct{ file, body string }{
		{"lambda/cmd/f/main.go", "package main\n\nimport _ \"x/lambda/internal/x\"\n\nfunc main() { println() }\n"},
		{"lambda/internal/x/x.go", "package x\n\nimport _ \"x/contract\"\n\nvar Changed = true\n"},
		{"contract/c.go", "package contract\n\nvar Changed = true\n"},
		{"go.sum", "example.com/m v1.0.0 h1:x\n"},
	} {
		before := hash(g)
		write(change.file, change.body)
		if hash(g) == before {
			t.Errorf("changing %s did not change the hash", change.file)
		}
	}

	if _, err := (infra.GoBuild{ModuleDir: dir, Package: "./missing", GoVersion: "go1.26.0"}).SourceHash(); err == nil {
		t.Error("a missing package must be an error")
	}
}
