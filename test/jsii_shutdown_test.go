package test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/s3vend/s3vend/config"
)

// TestCleanSynthHasNoAbnormalExitLine runs the real app (app.go) the way the
// CDK CLI does, two at once beside the other tests so the machine is loaded, and fails on the
// jsii runtime's "Runtime process exited abnormally: waitid: no child
// processes" line. Unpatched jsii-runtime-go v1.139.0 printed it in 5 of 6
// such runs here; see third_party/README.md for the fix.
func TestCleanSynthHasNoAbnormalExitLine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the app as a subprocess")
	}
	// One environment keeps each run short; the race is in kernel shutdown.
	bin, ctxJSON := buildApp(t, "dev")

	t.Parallel() // overlaps the shared in-process synth: load is what exposes the race
	const runs = 2
	var wg sync.WaitGroup
	stderr := make([]bytes.Buffer, runs)
	errs := make([]error, runs)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(bin)
			cmd.Dir = ".."
			cmd.Env = append(os.Environ(), "CDK_OUTDIR="+t.TempDir(), "CDK_CONTEXT_JSON="+ctxJSON)
			cmd.Stderr = &stderr[i]
			errs[i] = cmd.Run()
		}()
	}
	wg.Wait()
	for i := range runs {
		if errs[i] != nil {
			t.Errorf("run %d: %v\n%s", i, errs[i], stderr[i].String())
		}
		if s := stderr[i].String(); strings.Contains(s, "exited abnormally") {
			t.Errorf("run %d printed the jsii shutdown race:\n%s", i, s)
		}
	}
}

// buildApp builds app.go into a temp dir and returns it with the context the
// CDK CLI would pass (CDK_CONTEXT_JSON): cdk.json's, limited to the named
// environments (all when none), with asset bundling skipped.
func buildApp(t testing.TB, envNames ...string) (bin, contextJSON string) {
	t.Helper()
	bin = filepath.Join(t.TempDir(), "s3vend")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, err := cdkJSON()
	if err != nil {
		t.Fatal(err)
	}
	ctx["aws:cdk:bundling-stacks"] = []string{} // the asset is not under test here
	ctx[config.PlaceholdersContextKey] = "warn" // as make synth: the sample's placeholders warn
	if len(envNames) > 0 {
		all := obj(t, ctx, config.ContextKey, "environments")
		some := map[string]any{}
		for _, n := range envNames {
			some[n] = all[n]
		}
		ctx[config.ContextKey] = map[string]any{"environments": some}
	}
	b, _ := json.Marshal(ctx)
	return bin, string(b)
}
