// Package wechatfake is the one owner of WeChat's jscode2session as
// s3vend's fakes serve it: the stand-in of internal/standin (with its dev
// endpoint that mints login codes) and the vendor's unit tests
// (lambda/internal/fakes, with canned answers) both use Endpoint.
//
// WeChat jscode2session facts it follows (WeChat mini-program server API,
// auth.code2Session,
// https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html):
//   - GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code
//   - HTTP 200 always; success {"openid", "session_key", "unionid"}; failure
//     {"errcode", "errmsg"}: 40029 invalid code, 40163 code been used,
//     40013 invalid appid, 40125 invalid appsecret, 41008 missing code,
//     40002 invalid grant_type.
//   - a wx.login code is valid for 5 minutes and can be used once.
//   - the body is JSON served as text/plain, so a client must not go by the
//     Content-Type. WeChat's documentation does not state the header; users
//     of its sns APIs report "content type [text/plain]" from Spring's
//     RestTemplate (https://cnblogs.com/yuyiming/p/17607286.html), and the
//     vendor decodes the body whatever the header says.
package wechatfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"
)

// CodeLifetime is how long a wx.login code is valid.
const CodeLifetime = 5 * time.Minute

// Path is the jscode2session route.
const Path = "/sns/jscode2session"

// Endpoint is jscode2session for one mini-program. Set the fields before
// serving (AppID may be set before the first request).
type Endpoint struct {
	AppID, AppSecret string
	// Responses are canned raw answers by js_code, served as they are every
	// time that code is presented with the right app id and secret.
	Responses map[string]string
	Now       func() time.Time // default time.Now

	mu    sync.Mutex
	codes map[string]*code
	calls int
}

type code struct {
	openid, unionid string
	expires         time.Time
	used            bool
}

func (e *Endpoint) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

// Calls is how many requests the endpoint saw.
func (e *Endpoint) Calls() int { e.mu.Lock(); defer e.mu.Unlock(); return e.calls }

// MintCode returns a fresh one-time login code for openid (unionid ""
// for "union_" + openid): what wx.login returns on a phone.
func (e *Endpoint) MintCode(openid, unionid string) string {
	if unionid == "" {
		unionid = "union_" + openid
	}
	c := "wx" + randomHex(16)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.codes == nil {
		e.codes = map[string]*code{}
	}
	e.codes[c] = &code{openid: openid, unionid: unionid, expires: e.now().Add(CodeLifetime)}
	return c
}

// Handler serves GET /sns/jscode2session (404 elsewhere, 405 for another
// method).
func (e *Endpoint) Handler() http.Handler { return http.HandlerFunc(e.ServeHTTP) }

// ServeHTTP serves GET /sns/jscode2session.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.calls++
	e.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	switch {
	case r.URL.Path != Path:
		w.WriteHeader(http.StatusNotFound)
	case r.Method != http.MethodGet:
		w.WriteHeader(http.StatusMethodNotAllowed)
	default:
		q := r.URL.Query()
		_, _ = io.WriteString(w, e.session(q.Get("appid"), q.Get("secret"), q.Get("js_code"), q.Get("grant_type")))
	}
}

func (e *Endpoint) session(appid, secret, jsCode, grantType string) string {
	switch {
	case appid != e.AppID:
		return fail(40013, "invalid appid")
	case secret != e.AppSecret:
		return fail(40125, "invalid appsecret")
	case grantType != "authorization_code":
		return fail(40002, "invalid grant_type")
	case jsCode == "":
		return fail(41008, "missing code")
	}
	if raw, ok := e.Responses[jsCode]; ok {
		return raw
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.codes[jsCode]
	switch {
	case !ok || !e.now().Before(c.expires):
		return fail(40029, "invalid code")
	case c.used:
		return fail(40163, "code been used")
	}
	c.used = true
	return answer(map[string]any{"openid": c.openid, "unionid": c.unionid, "session_key": randomHex(12)})
}

// fail is WeChat's error answer, with a request id as WeChat appends one.
func fail(errcode int, msg string) string {
	return answer(map[string]any{"errcode": errcode, "errmsg": msg + ", rid: " + randomHex(8)})
}

func answer(v map[string]any) string {
	b, _ := json.Marshal(v)
	return string(b) + "\n"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
