package verify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"

	"github.com/s3vend/s3vend/lambda/internal/config"
	"github.com/s3vend/s3vend/lambda/internal/fault"
)

// WeChat exchanges a mini-program login code (wx.login) for the user's
// openid or unionid through sns/jscode2session.
type WeChat struct {
	cfg    config.WeChat
	secret string
	client *http.Client
}

var _ Verifier = (*WeChat)(nil)

// NewWeChat returns a verifier; client may be nil.
func NewWeChat(cfg config.WeChat, appSecret string, client *http.Client) *WeChat {
	if client == nil {
		client = http.DefaultClient
	}
	return &WeChat{cfg: cfg, secret: appSecret, client: client}
}

// Name implements Verifier.
func (w *WeChat) Name() string { return w.cfg.Name }

var codeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// ValidCode reports whether code looks like a wx.login code; anything else is
// rejected without calling WeChat.
func ValidCode(code string) bool { return codeRE.MatchString(code) }

// Verify implements Verifier.
func (w *WeChat) Verify(ctx context.Context, code string) (Identity, error) {
	if !ValidCode(code) {
		return Identity{}, reject("malformed login code", nil)
	}
	q := url.Values{
		"appid":      {w.cfg.AppID},
		"secret":     {w.secret},
		"js_code":    {code},
		"grant_type": {"authorization_code"},
	}
	// The URL carries the app secret: errors from here are never printed.
	body, err := get(ctx, w.client, w.cfg.BaseURL+"/sns/jscode2session?"+q.Encode(), "wechat jscode2session")
	if err != nil {
		return Identity{}, err
	}
	s, err := ParseSession(body)
	if err != nil {
		return Identity{}, fault.New(fault.ErrUpstream, "wechat response invalid", err)
	}
	if err := s.Err(); err != nil {
		return Identity{}, err
	}
	id := s.OpenID
	if w.cfg.IDField == "unionid" {
		id = s.UnionID
	}
	if !validUserID(id) {
		return Identity{}, fault.New(fault.ErrUpstream, "wechat response lacks "+w.cfg.IDField, nil)
	}
	return Identity{ID: id}, nil
}

// Session is the useful part of a jscode2session response. The session_key is
// deliberately not decoded.
type Session struct {
	OpenID  string `json:"openid"`
	UnionID string `json:"unionid"`
	ErrCode int    `json:"errcode"`
}

// ParseSession decodes a jscode2session response body.
func ParseSession(body []byte) (Session, error) {
	var s Session
	err := json.Unmarshal(body, &s)
	return s, err
}

// Err maps WeChat's errcode to a fault kind.
func (s Session) Err() error {
	switch s.ErrCode {
	case 0:
		return nil
	case 40029, 40163, 40226, 41008: // invalid code, code used, high-risk user, missing code
		return fault.New(fault.ErrInvalidCredential, "wechat rejected the login code", nil)
	case 45011: // per-user frequency limit
		return fault.New(fault.ErrRateLimited, "wechat rate limit", nil)
	case -1: // system busy
		return fault.New(fault.ErrThrottled, "wechat busy", nil)
	default:
		return fault.New(fault.ErrUpstream, "wechat error code", nil)
	}
}
