// Package platformtest is the test side of internal/platform: a test's
// Node 24 or real client, skipped when missing, or failed on CI. It is the
// only place that imports testing, so the binaries that use platform
// (s3vend-local, the stand-ins) do not link it.
package platformtest

import (
	"os"
	"testing"

	"github.com/s3vend/s3vend/internal/platform"
)

// NeedNode24 is Node 24 for a test (platform.Node24), which skips when it is not
// installed, or fails when CI=true or S3VEND_E2E=require.
func NeedNode24(t testing.TB, root string) string {
	t.Helper()
	n, err := platform.Node24(root)
	if err != nil {
		missing(t, err.Error())
	}
	return n
}

// NeedClient is the path of a real client (one of platform.Clients) for a test,
// which skips with the message saying what was looked for and how to
// install it, or fails when CI=true or S3VEND_E2E=require.
func NeedClient(t testing.TB, name string) string {
	t.Helper()
	f, err := platform.FindClient(platform.HostEnv(), name)
	if err != nil {
		t.Fatal(err)
	}
	if !f.OK() {
		missing(t, f.Missing())
	}
	return f.Path
}

func missing(t testing.TB, msg string) {
	t.Helper()
	if platform.RequireAll(os.Getenv) {
		t.Fatalf("%s (CI=true or S3VEND_E2E=require: nothing may be skipped)", msg)
	}
	t.Skip(msg)
}
