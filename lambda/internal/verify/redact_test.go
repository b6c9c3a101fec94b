package verify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/s3vend/s3vend/lambda/internal/config"
	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/verify"
)

// errorTexts is the text of every error in err's tree, as %v and %+v.
func errorTexts(err error) []string {
	if err == nil {
		return nil
	}
	out := []string{err.Error(), fmt.Sprintf("%+v", err)}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, errorTexts(e)...)
		}
	case interface{ Unwrap() error }:
		out = append(out, errorTexts(u.Unwrap())...)
	}
	return out
}

// TestWeChatErrorsCarryNoSecret: a failed jscode2session call wraps
// net/http's error, whose text quoted the URL with secret=… (issue 9, item 6).
func TestWeChatErrorsCarryNoSecret(t *testing.T) {
	const secret = "TOPSECRET-app-secret"
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // connection refused
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer slow.Close()
	for name, base := range map[string]string{"refused": down.URL, "timeout": slow.URL} {
		client := &http.Client{Timeout: 50 * time.Millisecond}
		v := verify.NewWeChat(config.WeChat{Name: "wechat", AppID: "wx1", BaseURL: base, IDField: "openid"}, secret, client)
		_, err := v.Verify(context.Background(), "good-code")
		if !errors.Is(err, fault.ErrUpstream) && !errors.Is(err, fault.ErrTimeout) {
			t.Fatalf("%s: want an upstream error, got %v", name, err)
		}
		texts := errorTexts(err)
		if len(texts) < 4 {
			t.Fatalf("%s: the cause should stay reachable: %q", name, texts)
		}
		for _, s := range texts {
			if strings.Contains(s, secret) || strings.Contains(s, "secret=") || strings.Contains(s, "good-code") {
				t.Errorf("%s: error text carries the query: %q", name, s)
			}
		}
	}
}
