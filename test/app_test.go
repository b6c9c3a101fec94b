package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/config"
)

// TestAppPrintsAConstructRefusalAsOneLine: a refusal only a construct can
// make (here the token vendor's whole environment over Lambda's 4 KB, from
// many verifiers) reaches the user as the app's one-line synth error naming
// the stack path, the limit and the cdk.json key to change, exit 1, not a
// goroutine dump.
func TestAppPrintsAConstructRefusalAsOneLine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the app as a subprocess")
	}
	bin, ctxJSON := buildApp(t, "dev")
	var ctx map[string]any
	if err := json.Unmarshal([]byte(ctxJSON), &ctx); err != nil {
		t.Fatal(err)
	}
	dev := obj(t, ctx, config.ContextKey, "environments", "dev")
	var oidc []any
	for i := range 24 {
		oidc = append(oidc, map[string]any{
			"name": fmt.Sprintf("issuer%02d", i), "issuer": fmt.Sprintf("https://login%02d.identity.example.com/tenant/0000000000", i),
			"audiences": []string{fmt.Sprintf("client-%02d.apps.identity.example.com", i)},
		})
	}
	dev["verifiers"] = map[string]any{"oidc": oidc}
	b, _ := json.Marshal(ctx)
	cmd := exec.Command(bin)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CDK_OUTDIR="+t.TempDir(), "CDK_CONTEXT_JSON="+string(b))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	out := stderr.String()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit = %v, want 1\n%s", err, out)
	}
	var line string
	for l := range strings.Lines(out) {
		if strings.HasPrefix(l, "s3vend: ") {
			line = l
		}
	}
	t.Log(line)
	for _, want := range []string{"s3vend: S3Vend-dev/TokenVendor: ", "Lambda allows 4096", "S3VEND_VERIFIERS (cdk.json verifiers)"} {
		if !strings.Contains(line, want) {
			t.Errorf("error line %q does not name %q\n%s", line, want, out)
		}
	}
	if strings.Contains(out, "goroutine ") || strings.Contains(out, "panic:") {
		t.Errorf("the refusal printed a panic:\n%s", out)
	}
}
