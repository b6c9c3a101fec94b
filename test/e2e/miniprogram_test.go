package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/s3vend/s3vend/internal/standin"
)

// TestMiniProgramSDK runs js/miniprogram/test/e2e.test.mjs, the
// @s3vend/miniprogram SDK bundled as users get it and loaded in a realm
// with only ECMAScript and a wx shim that does real HTTPS, against the dev
// stand-ins (hs256 logins through the SDK's login option, basic flow) and
// the prod-cn ones (cn-north-1, aws-cn, wx.login codes of the WeChat
// stand-in): sign in through POST /v1/session, upload with multipart,
// list, presign, download, remove, another user's objects, clock skew,
// credential refresh, a failed part. The S3 stand-in verifies every
// signature and authorizes with the synthesized policies. One node process
// per stack (and one for the sample mini-program's pages on prod-cn); both
// stacks run at once.
func TestMiniProgramSDK(t *testing.T) {
	ready(t)
	for _, c := range []struct {
		name string
		st   **standin.Stack
	}{{"dev", &devStack}, {"prod-cn", &cnStack}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			st := *c.st
			env := append(st.ClientEnv(), "S3VEND_TEST_CONTROL="+startControl(t, st))
			if st.WeChatProvider != "" {
				env = append(env, "S3VEND_PROVIDER="+st.WeChatProvider, "S3VEND_LOGIN=wx.login")
			} else {
				env = append(env, "S3VEND_PROVIDER="+st.HS256.Name, "S3VEND_LOGIN=option")
			}
			out := run(t, env, false, node24, "js/miniprogram/test/e2e.test.mjs")
			t.Log(out)
			nodeTestsPassed(t, "mini-program SDK e2e ("+c.name+")", out)
			for _, m := range figureLine.FindAllStringSubmatch(out, -1) {
				t.Logf("figure (%s): %s", c.name, m[1])
			}
			if st.WeChatProvider != "" {
				// The sample mini-program's pages, with wx.login.
				out := run(t, env, false, node24, "examples/wechat-miniprogram/test/pages.test.mjs")
				t.Log(out)
				nodeTestsPassed(t, "sample mini-program pages", out)
			}
		})
	}
}

var figureLine = regexp.MustCompile(`(?m)^# figure: (.*)$`)

// startControl serves what a test needs from outside the client and that
// a phone would get elsewhere: logins (GET /login?user=: an hs256 token of
// the stack's key, or a one-time wx.login code of the WeChat stand-in, for
// that user; GET /login?user=&tenant=: an hs256 token naming the tenant in
// the verifier's tenantClaim), and read-only views of the S3 stand-in (GET /object?key=:
// size and SHA-256 of what is stored; GET /uploads: keys of multipart
// uploads in progress). Loopback only, stopped with the test.
func startControl(t *testing.T, st *standin.Stack) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		user, tenant := r.URL.Query().Get("user"), r.URL.Query().Get("tenant")
		name := regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
		if !name.MatchString(user) || (tenant != "" && !name.MatchString(tenant)) {
			http.Error(w, "user and tenant must match [A-Za-z0-9_-]{1,64}", http.StatusBadRequest)
			return
		}
		var cred string
		var err error
		if tenant != "" {
			cred, err = st.MintTenantLogin(user, tenant, 0)
		} else if st.WeChatProvider != "" {
			cred, err = st.WeChatCode(user)
		} else {
			cred, err = st.MintLogin(user, 0)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(cred))
	})
	mux.HandleFunc("GET /object", func(w http.ResponseWriter, r *http.Request) {
		body, ct, ok := st.S3.Object(r.URL.Query().Get("key"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		sum := sha256.Sum256(body)
		_ = json.NewEncoder(w).Encode(map[string]any{"size": len(body), "sha256": hex.EncodeToString(sum[:]), "contentType": ct})
	})
	mux.HandleFunc("GET /uploads", func(w http.ResponseWriter, r *http.Request) {
		keys := st.S3.Uploads()
		if keys == nil {
			keys = []string{}
		}
		_ = json.NewEncoder(w).Encode(slices.Compact(keys))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}
