package test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkAppSynth runs the built app the way `make synth` does (every
// environment of cdk.json, cdk-nag on, the Lambda asset already staged) and
// reports its phases: jsii kernel start (the first jsii call), building the
// constructs, synthesis, and the whole process including shutdown.
func BenchmarkAppSynth(b *testing.B) {
	bin, ctxJSON := buildApp(b) // bundling skipped: a warm synth finds the asset staged
	sums := map[string]float64{}
	var wall time.Duration
	b.ResetTimer()
	for range b.N {
		var stderr bytes.Buffer
		cmd := exec.Command(bin)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "S3VEND_TIMINGS=1", "CDK_OUTDIR="+b.TempDir(), "CDK_CONTEXT_JSON="+ctxJSON)
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("app: %v\n%s", err, stderr.String())
		}
		wall += time.Since(start)
		sc := bufio.NewScanner(&stderr)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "s3vend-timing" {
				ms, _ := strconv.ParseFloat(f[2], 64)
				sums[f[1]] += ms
			}
		}
	}
	n := float64(b.N)
	total := float64(wall.Milliseconds()) / n
	b.ReportMetric(sums["kernel-start"]/n, "kernel-ms")
	b.ReportMetric(sums["construct"]/n, "construct-ms")
	b.ReportMetric(sums["synth"]/n, "synth-ms")
	b.ReportMetric(total, "app-ms")
	b.ReportMetric(100*sums["kernel-start"]/n/total, "kernel-%")
}
