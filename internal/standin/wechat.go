package standin

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// WeChat jscode2session facts this stand-in follows (WeChat mini-program
// server API, auth.code2Session,
// https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html):
//   - GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code
//   - HTTP 200 always; success {"openid", "session_key", "unionid"}; failure
//     {"errcode", "errmsg"}: 40029 invalid code, 40163 code been used,
//     40013 invalid appid, 40125 invalid appsecret, 41008 missing code,
//     40002 invalid grant_type.
//   - a wx.login code is valid for 5 minutes and can be used once.
const weChatCodeLifetime = 5 * time.Minute

// WeChat is a jscode2session endpoint for one mini-program, plus the dev
// endpoint GET /dev/code?openid=X (optional &unionid=Y) that mints a fresh
// login code for that user as {"code": "..."}: what wx.login returns on a
// phone. The unionid defaults to "union_" + openid.
type WeChat struct {
	AppID, AppSecret string
	now              func() time.Time

	mu    sync.Mutex
	codes map[string]*weChatCode
}

type weChatCode struct {
	openid, unionid string
	expires         time.Time
	used            bool
}

// NewWeChat returns the stand-in of the mini-program appID with appSecret.
func NewWeChat(appID, appSecret string, now func() time.Time) *WeChat {
	if now == nil {
		now = time.Now
	}
	return &WeChat{AppID: appID, AppSecret: appSecret, now: now, codes: map[string]*weChatCode{}}
}

// MintCode returns a fresh one-time login code for openid (unionid "" for
// the default).
func (w *WeChat) MintCode(openid, unionid string) string {
	if unionid == "" {
		unionid = "union_" + openid
	}
	code := "wx" + randomHex(16)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.codes[code] = &weChatCode{openid: openid, unionid: unionid, expires: w.now().Add(weChatCodeLifetime)}
	return code
}

// ServeHTTP serves /sns/jscode2session and /dev/code.
func (w *WeChat) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Type", "application/json; charset=UTF-8")
	if r.Method != http.MethodGet {
		rw.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	switch r.URL.Path {
	case "/dev/code":
		openid := q.Get("openid")
		if openid == "" || len(openid) > 128 {
			rw.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(rw).Encode(map[string]string{"error": "openid query parameter (1..128 chars) is required"})
			return
		}
		_ = json.NewEncoder(rw).Encode(map[string]string{"code": w.MintCode(openid, q.Get("unionid"))})
	case "/sns/jscode2session":
		_ = json.NewEncoder(rw).Encode(w.session(q.Get("appid"), q.Get("secret"), q.Get("js_code"), q.Get("grant_type")))
	default:
		rw.WriteHeader(http.StatusNotFound)
	}
}

func (w *WeChat) session(appid, secret, code, grantType string) map[string]any {
	fail := func(code int, msg string) map[string]any {
		return map[string]any{"errcode": code, "errmsg": msg + ", rid: " + randomHex(8)}
	}
	switch {
	case appid != w.AppID:
		return fail(40013, "invalid appid")
	case secret != w.AppSecret:
		return fail(40125, "invalid appsecret")
	case grantType != "authorization_code":
		return fail(40002, "invalid grant_type")
	case code == "":
		return fail(41008, "missing code")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.codes[code]
	switch {
	case !ok || !w.now().Before(c.expires):
		return fail(40029, "invalid code")
	case c.used:
		return fail(40163, "code been used")
	}
	c.used = true
	return map[string]any{"openid": c.openid, "unionid": c.unionid, "session_key": randomHex(12)}
}
