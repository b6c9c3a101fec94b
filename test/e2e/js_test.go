package e2e

import (
	"regexp"
	"testing"
)

// node:test's closing summary (spec reporter "ℹ", TAP "#").
var (
	nodePassed = regexp.MustCompile(`(?m)^\s*(ℹ|#) pass [1-9]\d*$`)
	nodeFailed = regexp.MustCompile(`(?m)^\s*(ℹ|#) fail 0$`)
)

// nodeTestsPassed fails t unless a node:test run reported at least one pass
// and zero failures (a run that executed nothing must not count).
func nodeTestsPassed(t *testing.T, what, out string) {
	t.Helper()
	if !nodePassed.MatchString(out) || !nodeFailed.MatchString(out) {
		t.Fatalf("%s did not report passes and zero failures:\n%s", what, out)
	}
}

// TestBrowser runs examples/web/e2e.mjs: the page bundled with esbuild, AWS
// SDK for JavaScript v3 in Debian's headless Chromium, against the dev
// stand-ins (bucket CORS from the template, API Gateway CORS in front of the
// vendor). It signs in, uploads with the SDK's default CRC32 checksum headers,
// lists, reads public/, and checks that a foreign origin and a foreign prefix
// fail.
func TestBrowser(t *testing.T) {
	ready(t)
	chromium := needTool(t, "chromium")
	login, err := devStack.MintLogin("web-user", 0)
	if err != nil {
		t.Fatal(err)
	}
	env := append(devStack.ClientEnv(),
		"S3VEND_LOGIN="+login,
		"S3VEND_PROVIDER="+devStack.HS256.Name,
		"CHROMIUM="+chromium,
	)
	out := run(t, env, false, node24, "examples/web/e2e.mjs")
	t.Log(out)
	nodeTestsPassed(t, "browser e2e", out)
	if n := len(devStack.S3.Keys()); n == 0 {
		t.Fatal("the browser stored nothing")
	}
}

// TestWeChatMiniProgram runs the mini-program helper's Node test: wx.login
// against the WeChat stand-in, POST /v1/upload on the prod-cn vendor
// (cn-north-1, aws-cn), and wx.uploadFile's multipart POST to the S3
// stand-in, which checks the policy signature, expiry and every condition.
func TestWeChatMiniProgram(t *testing.T) {
	ready(t)
	before := len(cnStack.S3.Keys())
	out := run(t, cnStack.ClientEnv(), false, node24, "examples/wechat-miniprogram/test/upload.test.mjs")
	t.Log(out)
	nodeTestsPassed(t, "mini-program test", out)
	if len(cnStack.S3.Keys()) <= before {
		t.Fatal("the mini-program upload stored nothing")
	}
}
