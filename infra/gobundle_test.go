package infra

import (
	"debug/elf"
	"os"
	"path/filepath"
	"testing"
)

// TestTryBundleCrossCompilesWhateverTheHost: the Lambda is built for
// linux/arm64, statically (CGO off), whatever the developer's machine and
// shell say — here a shell as a Mac would have it (GOOS=darwin, GOARCH=amd64,
// CGO on), set explicitly because this test runs on Linux. The result is an
// arm64 ELF executable without a dynamic loader, which provided.al2023 runs.
func TestTryBundleCrossCompilesWhateverTheHost(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds a binary")
	}
	dir := t.TempDir()
	write := func(rel, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module x\n\ngo 1.24\n")
	// net and os/user use cgo when it is on; the build must not.
	write("main.go", "package main\n\nimport (\n\t\"net\"\n\t\"os/user\"\n)\n\nfunc main() { _, _ = net.LookupHost(\"x\"); _, _ = user.Current() }\n")
	t.Setenv("GOOS", "darwin")
	t.Setenv("GOARCH", "amd64")
	t.Setenv("CGO_ENABLED", "1")
	out := t.TempDir()
	if ok := (GoBuild{ModuleDir: dir, Package: ".", SourceDir: "."}).TryBundle(&out, nil); ok == nil || !*ok {
		t.Fatal("TryBundle did not bundle")
	}
	f, err := elf.Open(filepath.Join(out, "bootstrap"))
	if err != nil {
		t.Fatalf("bootstrap is not an ELF executable (built for the host?): %v", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.Type != elf.ET_EXEC {
		t.Errorf("bootstrap: machine %v, type %v; want EM_AARCH64, ET_EXEC", f.Machine, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("bootstrap needs a dynamic loader: CGO was on")
		}
	}
}
