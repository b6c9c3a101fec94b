package standin

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/s3vend/s3vend/internal/wechatfake"
)

// WeChat is a jscode2session endpoint for one mini-program
// (wechatfake.Endpoint, which holds WeChat's facts), plus the dev endpoint
// GET /dev/code?openid=X (optional &unionid=Y) that mints a fresh login code
// for that user as {"code": "..."}: what wx.login returns on a phone. The
// unionid defaults to "union_" + openid.
type WeChat struct {
	wechatfake.Endpoint
}

// NewWeChat returns the stand-in of the mini-program appID with appSecret.
func NewWeChat(appID, appSecret string, now func() time.Time) *WeChat {
	return &WeChat{wechatfake.Endpoint{AppID: appID, AppSecret: appSecret, Now: now}}
}

// ServeHTTP serves /sns/jscode2session and /dev/code.
func (w *WeChat) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		rw.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path != "/dev/code" {
		w.Endpoint.ServeHTTP(rw, r)
		return
	}
	rw.Header().Set("Content-Type", "application/json; charset=UTF-8")
	q := r.URL.Query()
	openid := q.Get("openid")
	if openid == "" || len(openid) > 128 {
		rw.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(rw).Encode(map[string]string{"error": "openid query parameter (1..128 chars) is required"})
		return
	}
	_ = json.NewEncoder(rw).Encode(map[string]string{"code": w.MintCode(openid, q.Get("unionid"))})
}
