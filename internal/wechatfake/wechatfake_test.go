package wechatfake_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3vend/s3vend/internal/wechatfake"
)

func TestCodesAreOneTimeAndExpire(t *testing.T) {
	var now atomic.Int64 // seconds
	now.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
	e := &wechatfake.Endpoint{AppID: "wx1", AppSecret: "s", Now: func() time.Time { return time.Unix(now.Load(), 0) },
		Responses: map[string]string{"canned": `{"openid":"o"}`}}
	srv := httptest.NewServer(e)
	defer srv.Close()
	get := func(appid, secret, code string) string {
		t.Helper()
		q := url.Values{"appid": {appid}, "secret": {secret}, "js_code": {code}, "grant_type": {"authorization_code"}}
		resp, err := http.Get(srv.URL + wechatfake.Path + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/plain" {
			t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return string(b)
	}
	code := e.MintCode("o-1", "")
	for _, c := range []struct{ appid, secret, code, want string }{
		{"wx2", "s", code, `"errcode":40013`},
		{"wx1", "bad", code, `"errcode":40125`},
		{"wx1", "s", "", `"errcode":41008`},
		{"wx1", "s", "canned", `{"openid":"o"}`},
		{"wx1", "s", "canned", `{"openid":"o"}`},
		{"wx1", "s", code, `"unionid":"union_o-1"`},
		{"wx1", "s", code, `"errcode":40163`},
	} {
		if got := get(c.appid, c.secret, c.code); !strings.Contains(got, c.want) {
			t.Fatalf("%+v: got %s", c, got)
		}
	}
	late := e.MintCode("o-2", "u-2")
	now.Add(int64(wechatfake.CodeLifetime / time.Second))
	if got := get("wx1", "s", late); !strings.Contains(got, `"errcode":40029`) {
		t.Fatalf("expired code: %s", got)
	}
	if e.Calls() != 8 {
		t.Fatalf("calls %d", e.Calls())
	}
}
