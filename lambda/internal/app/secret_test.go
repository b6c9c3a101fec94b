package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/s3vend/s3vend/lambda/internal/app"
	"github.com/s3vend/s3vend/lambda/internal/config"
)

// logLines decodes the JSON log lines written so far.
func (h *harness) logLines() []map[string]any {
	h.t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			h.t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// startupWarnings are the WARN lines logged before any request.
func startupWarnings(lines []map[string]any) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if l["level"] == "WARN" && l["msg"] != "request" {
			out = append(out, l)
		}
	}
	return out
}

func TestEmptyWeChatSecretDisablesOnlyWeChat(t *testing.T) {
	// GIVEN the secret as the CDK stack creates it: wechatAppSecret not yet set
	h := newHarness(t, harnessOpts{secret: `{"wechatAppSecret":"","hs256Key":"` + hsKey + `"}`})
	// THEN start-up succeeds (newHarness fails the test otherwise) with one
	// warning that names the missing field and no secret value
	warns := startupWarnings(h.logLines())
	if len(warns) != 1 {
		t.Fatalf("start-up warnings = %v, want exactly 1", warns)
	}
	if w, _ := json.Marshal(warns[0]); !strings.Contains(string(w), `"missing_secret_fields":["wechatAppSecret"]`) ||
		!strings.Contains(string(w), `"verifiers":["wechat"]`) || strings.Contains(string(w), hsKey) {
		t.Errorf("warning = %s", w)
	}

	// WHEN a WeChat login arrives, on either login route
	for _, path := range []string{"/v1/token", "/v1/credentials"} {
		r := h.login(path, "wechat", "good-code")
		// THEN it is a 503 verifier_unavailable with Retry-After
		if r.status != http.StatusServiceUnavailable || r.errCode() != "verifier_unavailable" || r.header.Get("Retry-After") == "" {
			t.Fatalf("%s: %d %v %s", path, r.status, r.header, r.body)
		}
		if msg, _ := r.json["error"].(map[string]any)["message"].(string); msg == "" {
			t.Errorf("%s: empty message", path)
		}
	}
	// AND neither WeChat nor AWS was called (the secret was read once, at start-up)
	if n := h.cognito.Total() + h.sts.Total(); n != 0 {
		t.Errorf("AWS called %d times", n)
	}
	if n := h.wechat.Calls(); n != 0 {
		t.Errorf("WeChat called %d times", n)
	}
	if n := h.secrets.Calls("GetSecretValue"); n != 1 {
		t.Errorf("GetSecretValue calls = %d, want 1", n)
	}
	var logged bool
	for _, l := range h.logLines() {
		if l["msg"] == "request" && l["error_code"] == "verifier_unavailable" && l["provider"] == "wechat" && l["status"] == float64(503) {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no request log line for the 503:\n%s", h.logs)
	}

	// AND the other verifiers in the same service work normally
	if r := h.login("/v1/token", "backend", hsToken(nil)); r.status != http.StatusOK {
		t.Fatalf("hs256 login: %d %s", r.status, r.body)
	}
	if r := h.login("/v1/token", "google", h.idToken(nil)); r.status != http.StatusOK {
		t.Fatalf("oidc login: %d %s", r.status, r.body)
	}
	if n := h.cognito.Calls("GetOpenIdTokenForDeveloperIdentity"); n != 2 {
		t.Errorf("GetOpenIdTokenForDeveloperIdentity calls = %d, want 2", n)
	}
	// Validation still comes first: a bad body is a 400, not a 503.
	if r := h.do(http.MethodPost, "/v1/token", "application/json", `{"provider":"wechat"}`); r.status != http.StatusBadRequest {
		t.Errorf("missing credential: %d %s", r.status, r.body)
	}
}

func TestEmptyHS256KeyDisablesOnlyHS256(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":  `{"wechatAppSecret":"` + appSecret + `","hs256Key":""}`,
		"absent": `{"wechatAppSecret":"` + appSecret + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{secret: doc})
			warns := startupWarnings(h.logLines())
			if w, _ := json.Marshal(warns); len(warns) != 1 || !strings.Contains(string(w), `"missing_secret_fields":["hs256Key"]`) || strings.Contains(string(w), appSecret) {
				t.Errorf("start-up warnings = %s", w)
			}
			r := h.login("/v1/token", "backend", hsToken(nil))
			if r.status != http.StatusServiceUnavailable || r.errCode() != "verifier_unavailable" || r.header.Get("Retry-After") == "" {
				t.Fatalf("hs256 login: %d %s", r.status, r.body)
			}
			if n := h.cognito.Total() + h.sts.Total(); n != 0 {
				t.Errorf("AWS called %d times", n)
			}
			if r := h.login("/v1/token", "wechat", "good-code"); r.status != http.StatusOK || h.wechat.Calls() != 1 {
				t.Fatalf("wechat login: %d %s (WeChat calls %d)", r.status, r.body, h.wechat.Calls())
			}
		})
	}
}

func TestCompleteSecretLogsNoWarning(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	if warns := startupWarnings(h.logLines()); len(warns) != 0 {
		t.Errorf("start-up warnings = %v", warns)
	}
}

func TestBadSecretStillFailsStartUp(t *testing.T) {
	for name, doc := range map[string]string{
		"short hs256Key": `{"wechatAppSecret":"` + appSecret + `","hs256Key":"too-short"}`,
		"not JSON":       `wechatAppSecret=` + appSecret,
		"unknown field":  `{"wechatAppSecret":"` + appSecret + `","hs256Key":"` + hsKey + `","extra":"x"}`,
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			newHarness(t, harnessOpts{secret: doc, startErr: &err})
			if err == nil {
				t.Fatal("start-up succeeded")
			}
			if s := err.Error(); strings.Contains(s, appSecret) || strings.Contains(s, "too-short") || strings.Contains(s, hsKey) {
				t.Errorf("error echoes the secret: %v", err)
			}
		})
	}
}

func TestNoSecretSourceSaysWhichToUseWhere(t *testing.T) {
	v := config.Verifiers{HS256: &config.HS256{Name: "backend", Issuer: "i", Audience: "a"}}
	for name, cfg := range map[string]config.Config{
		"none":               {Verifiers: v},
		"file inside Lambda": {Verifiers: v, SecretsFile: "secrets.local.json", InLambda: true},
	} {
		_, err := app.LoadSecrets(context.Background(), cfg, aws.Config{})
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		for _, want := range []string{"no secret source configured", "S3VEND_SECRET_ARN", "in Lambda", "S3VEND_SECRETS_FILE", "locally"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q lacks %q", name, err, want)
			}
		}
	}
}
