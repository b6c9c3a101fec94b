package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/s3vend/s3vend/internal/standin"
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

// Lifetimes of the browser's own stack: short, so that one session outlives
// a Cognito token and then its credentials twice in well under a minute
// (@s3vend/client refreshes 30 s credentials 7.5 s before expiry, and by
// then the 20 s token is dead), and long enough for a page reopened at once
// to find its stored token still valid on a loaded 2-core machine (16 s,
// the token less its 4 s margin: 10 s proved too short under make test).
const (
	browserTokenDuration = 20 * time.Second
	browserCredentials   = 30 * time.Second
)

// TestBrowser runs examples/web/e2e.mjs: the app on @s3vend/client, bundled
// with esbuild, in Debian's headless Chromium, against a dev stack of its own
// with short token and credential lifetimes (bucket CORS from the template,
// API Gateway CORS in front of the real vendor). It covers the session that
// outlives both, single flight at a cold start, switching users, multipart
// upload with progress and cancel, persistence, CORS and IAM refusals, and
// a throttled sign-in retried after Retry-After (through the control
// endpoint below).
func TestBrowser(t *testing.T) {
	ready(t)
	chromium := needTool(t, "chromium")
	st := startBrowserStack(t)
	loginA, err := st.MintLogin("web-alice", 0)
	if err != nil {
		t.Fatal(err)
	}
	loginB, err := st.MintLogin("web-bob", 0)
	if err != nil {
		t.Fatal(err)
	}
	control := httptest.NewServer(controlHandler(st))
	defer control.Close()
	env := append(st.ClientEnv(),
		"S3VEND_LOGIN="+loginA,
		"S3VEND_LOGIN_B="+loginB,
		"S3VEND_PROVIDER="+st.HS256.Name,
		"S3VEND_TOKEN_SECONDS="+strconv.Itoa(int(browserTokenDuration/time.Second)),
		"S3VEND_CREDENTIAL_SECONDS="+strconv.Itoa(int(browserCredentials/time.Second)),
		"S3VEND_CONTROL_URL="+control.URL,
		"CHROMIUM="+chromium,
	)
	out := run(t, env, false, node24, "examples/web/e2e.mjs")
	t.Log(out)
	nodeTestsPassed(t, "browser e2e", out)
	if n := len(st.S3.Keys()); n <= 1 {
		t.Fatal("the browser stored nothing")
	}
	// The cancelled multipart upload was aborted, not left behind.
	if n := st.S3.PendingUploads(); n != 0 {
		t.Fatalf("%d multipart uploads left pending", n)
	}
}

// startBrowserStack starts S3Vend-dev with the browser's short lifetimes.
func startBrowserStack(t *testing.T) *standin.Stack {
	t.Helper()
	tpl, err := readTemplate(filepath.Join(moduleDir, "test", "testdata", "snapshots", "S3Vend-dev.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := standin.StartStack(ctxT(t), standin.StackOptions{
		Template: tpl, Node: node24, VendorBinary: binaries["tokenvendor"], WorkDir: t.TempDir(), VendorLog: io.Discard,
		TokenDuration: browserTokenDuration, CredentialLifetime: browserCredentials,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// controlHandler lets a test script make the stand-ins fail:
// POST /fail?op=<Cognito operation>&code=<AWS error code>&n=<count>.
func controlHandler(st *standin.Stack) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		n, err := strconv.Atoi(q.Get("n"))
		if err != nil || q.Get("op") == "" || q.Get("code") == "" {
			http.Error(w, "want op, code and n", http.StatusBadRequest)
			return
		}
		st.Cognito.FailNext(q.Get("op"), q.Get("code"), n)
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
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
