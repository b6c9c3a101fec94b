package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The upload itself runs end to end against the stand-ins; these check that
// bad input stops before any network call.
func TestRunRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	outputs := filepath.Join(dir, "outputs.json")
	if err := os.WriteFile(outputs, []byte(`{"S3Vend-dev":{"Region":"eu-west-1","BucketName":"b","TokenEndpoint":"http://127.0.0.1:1/v1/token"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := flags{outputs: outputs, provider: "backend", file: filepath.Join(dir, "missing.bin"), flow: "enhanced", checksum: "when_supported", partSize: 8 << 20}
	for _, tc := range []struct {
		mod  func(*flags)
		want string
	}{
		{func(f *flags) { f.outputs = "" }, "set --outputs or --endpoint"},
		{func(f *flags) { f.provider = "" }, "set --provider"},
		{func(f *flags) { f.file = "" }, "set --file"},
		{func(f *flags) { f.partSize = 1 << 20 }, "at least 5242880 bytes"},
		{func(f *flags) { f.flow = "classic" }, `flow "classic"`},
		{func(f *flags) { f.checksum = "md5" }, `--checksum "md5"`},
		{func(f *flags) { f.stack = "S3Vend-prod" }, `no stack "S3Vend-prod"`},
		{func(*flags) {}, "missing.bin"},
	} {
		f := ok
		tc.mod(&f)
		if _, err := run(context.Background(), f); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
}
