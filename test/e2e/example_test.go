package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGoMultipartExample runs examples/go-multipart as a user would: the
// stack outputs file for endpoint, bucket and region, the login from a
// command, the endpoint and CA from the standard environment variables. The
// 21 MiB file goes up in three parts to private/<identityId>/.
func TestGoMultipartExample(t *testing.T) {
	ready(t)
	dir := t.TempDir()
	data := make([]byte, 21<<20)
	_, _ = rand.Read(data)
	src := filepath.Join(dir, "video.bin")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	jwt, err := devStack.MintLogin("heidi", 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	loginFile := filepath.Join(dir, "login.jwt")
	outputs := filepath.Join(dir, "outputs.json")
	b, _ := json.Marshal(map[string]map[string]string{"S3Vend-dev": devStack.Outputs()})
	if err := os.WriteFile(loginFile, []byte(jwt), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(outputs, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out := run(t, devStack.ClientEnv(), false, binaries["go-multipart"],
		"--outputs", outputs, "--stack", "S3Vend-dev", "--provider", devStack.HS256.Name,
		"--credential-command", "cat "+loginFile, "--file", src, "--path-style")
	key := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	if !strings.HasPrefix(key, "private/"+devStack.Region+":") || !strings.HasSuffix(key, "/video.bin") {
		t.Fatalf("example printed %q, want private/<identityId>/video.bin", out)
	}
	got, _, ok := devStack.S3.Object(key)
	if !ok || !bytes.Equal(got, data) {
		t.Fatalf("stored object %s: %d bytes, ok=%v; want the 21 MiB file", key, len(got), ok)
	}
}
