package constructs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// GoBuild describes how a Go Lambda is compiled: always locally with the Go
// toolchain (no Docker), for linux/arm64, statically, reproducibly.
type GoBuild struct {
	ModuleDir string // directory holding go.mod
	Package   string // e.g. "./lambda/cmd/tokenvendor"
	SourceDir string // directory whose non-test .go files make up the function, e.g. "lambda"
}

// buildFlags are part of the asset hash: a change of flags is a new asset.
var buildFlags = []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-tags=lambda.norpc"}

var buildEnv = []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64"}

// SourceHash hashes what decides the binary: the function's Go sources
// (tests and testdata excluded), go.mod, go.sum, the target and build flags.
// It is independent of the machine, the Go cache and file times, so
// snapshots stay stable and an unchanged function is never re-uploaded.
func (g GoBuild) SourceHash() (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", g.Package, strings.Join(buildEnv, " "), strings.Join(buildFlags, " "))
	var files []string
	root := filepath.Join(g.ModuleDir, g.SourceDir)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", root, err)
	}
	if len(files) == 0 {
		return "", fmt.Errorf("hashing %s: no Go sources", root)
	}
	files = append(files, filepath.Join(g.ModuleDir, "go.mod"), filepath.Join(g.ModuleDir, "go.sum"))
	sort.Strings(files)
	for _, f := range files {
		rel, _ := filepath.Rel(g.ModuleDir, f)
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		if err := hashFile(h, f); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// TryBundle implements awscdk.ILocalBundling: it runs go build into the
// asset output directory. It never falls back to Docker.
func (g GoBuild) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	args := append(append([]string{}, buildFlags...), "-o", filepath.Join(*outputDir, "bootstrap"), g.Package)
	cmd := exec.Command("go", args...)
	cmd.Dir = g.ModuleDir
	cmd.Env = append(os.Environ(), buildEnv...)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		// Returning false would make CDK try Docker, which s3vend never uses.
		panic(fmt.Errorf("go build %s for linux/arm64 failed: %w", g.Package, err))
	}
	return jsii.Bool(true)
}

// code returns the Lambda code asset: bundled locally, hashed from sources.
func (g GoBuild) code() (*awscdk.BundlingOptions, string) {
	hash, err := g.SourceHash()
	if err != nil {
		panic(err)
	}
	return &awscdk.BundlingOptions{
		// Required by the API, never pulled: TryBundle always succeeds or fails the synth.
		Image: awscdk.DockerImage_FromRegistry(jsii.String("local-go-build-only")),
		Local: &g,
	}, hash
}
