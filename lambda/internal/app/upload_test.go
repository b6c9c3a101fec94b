package app_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/s3vend/s3vend/lambda/internal/config"
	"github.com/s3vend/s3vend/lambda/internal/fakes"
)

const identityID = "eu-west-1:11111111-2222-3333-4444-555555555555"

func (h *harness) upload(fields map[string]any) response {
	h.t.Helper()
	body := map[string]any{"provider": "backend", "credential": hsToken(nil), "name": "photos/cat.png", "size": 1234, "contentType": "image/png"}
	for k, v := range fields {
		if v == nil {
			delete(body, k)
		} else {
			body[k] = v
		}
	}
	b, _ := json.Marshal(body)
	return h.do(http.MethodPost, "/v1/upload", "application/json", string(b))
}

// postPolicy is the decoded policy of a presigned POST.
type postPolicy struct {
	Expiration string `json:"expiration"`
	Conditions []any  `json:"conditions"`
}

func decodePolicy(t *testing.T, fields map[string]string) postPolicy {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(fields["policy"])
	if err != nil {
		t.Fatalf("policy is not base64: %v", err)
	}
	var p postPolicy
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("policy is not JSON: %v", err)
	}
	return p
}

func (p postPolicy) has(cond string) bool {
	for _, c := range p.Conditions {
		if mustJSON(c) == cond {
			return true
		}
	}
	return false
}

// covers reports whether the policy constrains a form field, by an exact
// {"field": ...} or ["eq"/"starts-with", "$field", ...] condition. S3 refuses
// a form with any field (except the file, policy and X-Amz-Signature) that no
// condition names (S3 API Reference, "Creating a POST Policy": conditions).
func (p postPolicy) covers(field string) bool {
	for _, c := range p.Conditions {
		switch c := c.(type) {
		case map[string]any:
			for k := range c {
				if strings.EqualFold(k, field) {
					return true
				}
			}
		case []any:
			if len(c) == 3 && strings.EqualFold(c[1].(string), "$"+field) {
				return true
			}
		}
	}
	return false
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func stringFields(t *testing.T, r response) map[string]string {
	t.Helper()
	raw, _ := r.json["fields"].(map[string]any)
	out := map[string]string{}
	for k, v := range raw {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("field %s is not a string: %v", k, v)
		}
		out[k] = s
	}
	return out
}

// signature recomputes SigV4's POST signature: the hex HMAC of the base64
// policy with the key derived from the secret, date, region and "s3" (S3 API
// Reference, "Calculating a Signature" for browser-based POST uploads).
func signature(secret, date, region, policy string) string {
	mac := func(key []byte, data string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(data))
		return m.Sum(nil)
	}
	k := mac([]byte("AWS4"+secret), date)
	k = mac(k, region)
	k = mac(k, "s3")
	k = mac(k, "aws4_request")
	return hex.EncodeToString(mac(k, policy))
}

func TestUploadSignsAPolicyForExactlyOneKey(t *testing.T) {
	// GIVEN the service with a bucket and default upload limits
	h := newHarness(t, harnessOpts{})
	// WHEN a signed-in user asks to upload a PNG
	r := h.upload(nil)
	// THEN it gets a form for exactly its own private key, after two AWS calls
	if r.status != http.StatusOK {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	if h.cognito.Total() != 2 || h.cognito.Calls("GetOpenIdTokenForDeveloperIdentity") != 1 ||
		h.cognito.Calls("GetCredentialsForIdentity") != 1 || h.sts.Total() != 0 {
		t.Fatalf("AWS calls: cognito %d (GetCredentialsForIdentity %d), sts %d; want exactly 2",
			h.cognito.Total(), h.cognito.Calls("GetCredentialsForIdentity"), h.sts.Total())
	}
	if h.cognito.Signed("GetCredentialsForIdentity") {
		t.Error("GetCredentialsForIdentity was signed: it must need no IAM permission")
	}
	in := h.cognito.Last("GetCredentialsForIdentity")
	if in["IdentityId"] != identityID || mustJSON(in["Logins"]) != `{"cognito-identity.amazonaws.com":"cognito-openid-token"}` {
		t.Errorf("GetCredentialsForIdentity input = %v", in)
	}
	key := "private/" + identityID + "/photos/cat.png"
	if r.json["key"] != key || r.json["identityId"] != identityID || r.json["url"] != "https://"+testBucket+".s3.eu-west-1.amazonaws.com" {
		t.Errorf("body = %s", r.body)
	}
	fields := stringFields(t, r)
	for k, want := range map[string]string{
		"key": key, "Content-Type": "image/png", "X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Security-Token": fakes.IdentitySessionToken,
	} {
		if fields[k] != want {
			t.Errorf("field %s = %q, want %q", k, fields[k], want)
		}
	}
	date := fields["X-Amz-Date"]
	if len(date) != 16 || fields["X-Amz-Credential"] != fakes.IdentityAccessKeyID+"/"+date[:8]+"/eu-west-1/s3/aws4_request" {
		t.Errorf("X-Amz-Date %q, X-Amz-Credential %q", date, fields["X-Amz-Credential"])
	}

	p := decodePolicy(t, fields)
	for _, c := range []string{
		`{"bucket":"` + testBucket + `"}`,
		`["eq","$key","` + key + `"]`,
		`["eq","$Content-Type","image/png"]`,
		`["content-length-range",1,1234]`,
		`{"X-Amz-Security-Token":"` + fakes.IdentitySessionToken + `"}`,
		`{"X-Amz-Date":"` + date + `"}`,
	} {
		if !p.has(c) {
			t.Errorf("policy lacks %s: %v", c, p.Conditions)
		}
	}
	for _, c := range p.Conditions {
		if a, ok := c.([]any); ok && a[0] == "starts-with" {
			t.Errorf("policy has a starts-with condition %v: the key and type must be exact", a)
		}
	}
	for k := range fields {
		if k != "policy" && k != "X-Amz-Signature" && !p.covers(k) {
			t.Errorf("form field %s is not covered by a policy condition; S3 would refuse the form", k)
		}
	}
	exp, err := time.Parse(time.RFC3339, p.Expiration)
	if err != nil || exp.Before(h.now.Add(5*time.Minute-2*time.Second)) || exp.After(time.Now().Add(5*time.Minute+time.Second)) {
		t.Errorf("policy expiration %q (%v), want 5 minutes from now", p.Expiration, err)
	}
	expiresAt, err := time.Parse(time.RFC3339, r.json["expiresAt"].(string))
	if err != nil || expiresAt.After(exp) || exp.Sub(expiresAt) > 2*time.Second {
		t.Errorf("expiresAt %v, policy expiration %v", expiresAt, exp)
	}
	if got := signature(fakes.IdentitySecretKey, date[:8], "eu-west-1", fields["policy"]); got != fields["X-Amz-Signature"] {
		t.Errorf("signature %s, recomputed %s", fields["X-Amz-Signature"], got)
	}
	if strings.Contains(h.logs.String(), fakes.IdentitySecretKey) || strings.Contains(h.logs.String(), fakes.IdentitySessionToken) {
		t.Error("credentials in the logs")
	}
}

func TestUploadProtectedAndParametersKept(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	r := h.upload(map[string]any{"visibility": "protected", "name": "notes/今日.txt", "contentType": "Text/Plain; Charset=UTF-8", "size": 1})
	if r.status != http.StatusOK {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	key := "protected/" + identityID + "/notes/今日.txt"
	fields := stringFields(t, r)
	p := decodePolicy(t, fields)
	if r.json["key"] != key || fields["Content-Type"] != "text/plain; charset=utf-8" ||
		!p.has(`["eq","$key","`+key+`"]`) || !p.has(`["eq","$Content-Type","text/plain; charset=utf-8"]`) || !p.has(`["content-length-range",1,1]`) {
		t.Errorf("key %v, Content-Type %q, conditions %v", r.json["key"], fields["Content-Type"], p.Conditions)
	}
}

func TestUploadEndpointOverrideUsesPathStyle(t *testing.T) {
	// GIVEN a local S3 stand-in behind the standard endpoint override
	t.Setenv("AWS_ENDPOINT_URL_S3", "https://127.0.0.1:9443")
	h := newHarness(t, harnessOpts{})
	r := h.upload(nil)
	// THEN the form posts to the stand-in, with the bucket in the path
	if r.status != http.StatusOK || r.json["url"] != "https://127.0.0.1:9443/"+testBucket {
		t.Fatalf("status %d url %v", r.status, r.json["url"])
	}
}

func TestUploadInChina(t *testing.T) {
	h := newHarness(t, harnessOpts{env: map[string]string{
		"AWS_REGION": "cn-north-1", "S3VEND_IDENTITY_POOL_ID": "cn-north-1:0d4f7c2e-1111-2222-3333-444455556666",
	}})
	r := h.upload(nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	if r.json["url"] != "https://"+testBucket+".s3.cn-north-1.amazonaws.com.cn" {
		t.Errorf("url = %v", r.json["url"])
	}
	if in := h.cognito.Last("GetCredentialsForIdentity"); mustJSON(in["Logins"]) != `{"cognito-identity.cn-north-1.amazonaws.com.cn":"cognito-openid-token"}` {
		t.Errorf("Logins = %v", in["Logins"])
	}
	fields := stringFields(t, r)
	if !strings.HasSuffix(fields["X-Amz-Credential"], "/cn-north-1/s3/aws4_request") ||
		signature(fakes.IdentitySecretKey, fields["X-Amz-Date"][:8], "cn-north-1", fields["policy"]) != fields["X-Amz-Signature"] {
		t.Errorf("fields = %v", fields)
	}
}

func TestUploadBadInputIs400WithoutAWSCalls(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	cases := []struct {
		fields map[string]any
		code   string
		msg    string // part of the fixed message
	}{
		{map[string]any{"name": "../../other/x"}, "invalid_name", `".."`},
		{map[string]any{"name": "a/./b"}, "invalid_name", `"."`},
		{map[string]any{"name": "/abs"}, "invalid_name", "relative path"},
		{map[string]any{"name": "a//b"}, "invalid_name", `"//"`},
		{map[string]any{"name": `a\b`}, "invalid_name", `"\"`},
		{map[string]any{"name": "a\u0000b"}, "invalid_name", "control characters"},
		{map[string]any{"name": "a\tb"}, "invalid_name", "control characters"},
		{map[string]any{"name": strings.Repeat("x", 1024)}, "invalid_name", "1024 bytes"},
		{map[string]any{"size": 0}, "invalid_size", "from 1 to 10485760"},
		{map[string]any{"size": 10485761}, "invalid_size", "from 1 to 10485760"},
		{map[string]any{"size": 1.5}, "invalid_size", "whole number"},
		{map[string]any{"size": -7}, "invalid_size", "whole number"},
		{map[string]any{"contentType": "application/x-msdownload"}, "invalid_content_type", "image/jpeg, image/png"},
		{map[string]any{"contentType": "image/png/../x"}, "invalid_content_type", "one of"},
		{map[string]any{"visibility": "public"}, "invalid_visibility", `"protected"`},
		{map[string]any{"name": nil}, "missing_field", "name"},
		{map[string]any{"acl": "public-read"}, "unknown_field", ""},
	}
	for _, c := range cases {
		r := h.upload(c.fields)
		msg, _ := r.json["error"].(map[string]any)["message"].(string)
		if r.status != http.StatusBadRequest || r.errCode() != c.code || !strings.Contains(msg, c.msg) {
			t.Errorf("%v: %d %s", c.fields, r.status, r.body)
		}
	}
	if n := h.cognito.Total() + h.sts.Total(); n != 0 {
		t.Errorf("%d AWS calls for bad input", n)
	}
}

func TestUploadBadLoginIs401(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	r := h.upload(map[string]any{"credential": hsToken(func(c jwt.MapClaims) { c["aud"] = "other" })})
	if r.status != http.StatusUnauthorized || r.errCode() != "invalid_credential" || h.cognito.Total() != 0 {
		t.Fatalf("status %d body %s, %d AWS calls", r.status, r.body, h.cognito.Total())
	}
}

func TestUploadThrottledIs503(t *testing.T) {
	// GIVEN Cognito throttles GetCredentialsForIdentity
	h := newHarness(t, harnessOpts{})
	h.cognito.FailOp("GetCredentialsForIdentity", "TooManyRequestsException")
	// WHEN a user asks for a form
	r := h.upload(nil)
	// THEN 503 at once (a throttle is not retried), without upstream detail
	if r.status != http.StatusServiceUnavailable || r.errCode() != "upstream_throttled" || r.header.Get("Retry-After") == "" {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	if n := h.cognito.Calls("GetCredentialsForIdentity"); n != 1 {
		t.Errorf("GetCredentialsForIdentity attempts = %d, want 1 (throttles are not retried)", n)
	}
	if strings.Contains(string(r.body)+h.logs.String(), "fake upstream detail") {
		t.Error("upstream detail leaked")
	}
	if !strings.Contains(h.logs.String(), "GetCredentialsForIdentity: TooManyRequestsException") {
		t.Errorf("log lacks the classified reason: %s", h.logs)
	}
}

func TestUploadRejectedLoginIs502(t *testing.T) {
	// A pool whose authenticated role cannot be assumed refuses the exchange:
	// a deployment problem, not the caller's.
	h := newHarness(t, harnessOpts{})
	h.cognito.FailOp("GetCredentialsForIdentity", "InvalidIdentityPoolConfigurationException")
	if r := h.upload(nil); r.status != http.StatusBadGateway || r.errCode() != "upstream_error" {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
}

func TestUploadExpiryBoundedByCredentials(t *testing.T) {
	h := newHarness(t, harnessOpts{env: map[string]string{"S3VEND_UPLOAD_EXPIRY_SECONDS": "3600"}})
	h.cognito.CredentialTTL = 2 * time.Minute
	r := h.upload(nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d body %s", r.status, r.body)
	}
	exp, _ := time.Parse(time.RFC3339, decodePolicy(t, stringFields(t, r)).Expiration)
	if exp.After(time.Now().Add(2*time.Minute)) || exp.Before(h.now.Add(time.Minute)) {
		t.Errorf("policy expires %v; the credentials expire in 2 minutes", exp)
	}
}

func TestUploadWorksWithBasicFlowOff(t *testing.T) {
	h := newHarness(t, harnessOpts{env: map[string]string{"S3VEND_BASIC_FLOW": "false", "S3VEND_SESSION_POLICY": ""}})
	if r := h.upload(nil); r.status != http.StatusOK || h.sts.Total() != 0 {
		t.Fatalf("status %d body %s, sts %d", r.status, r.body, h.sts.Total())
	}
}

func TestUploadConfiguredLimits(t *testing.T) {
	h := newHarness(t, harnessOpts{env: map[string]string{
		"S3VEND_UPLOAD_MAX_BYTES": "100", "S3VEND_UPLOAD_CONTENT_TYPES": "application/pdf",
	}})
	if r := h.upload(map[string]any{"size": 101, "contentType": "application/pdf"}); r.errCode() != "invalid_size" {
		t.Errorf("over the configured max: %d %s", r.status, r.body)
	}
	if r := h.upload(map[string]any{"size": 100, "contentType": "image/png"}); r.errCode() != "invalid_content_type" {
		t.Errorf("type not configured: %d %s", r.status, r.body)
	}
	if r := h.upload(map[string]any{"size": 100, "contentType": "Application/PDF"}); r.status != http.StatusOK {
		t.Errorf("configured type: %d %s", r.status, r.body)
	}
}

func TestUploadRouteOffWithoutBucket(t *testing.T) {
	h := newHarness(t, harnessOpts{env: map[string]string{"S3VEND_BUCKET": ""}})
	for _, m := range []string{http.MethodPost, http.MethodGet} {
		if r := h.do(m, "/v1/upload", "application/json", `{}`); r.status != http.StatusNotFound || r.errCode() != "not_found" {
			t.Errorf("%s: %d %s", m, r.status, r.body)
		}
	}
	if h.cognito.Total() != 0 {
		t.Error("AWS was called")
	}
}

func TestUploadConfigErrorsNameTheVariable(t *testing.T) {
	base := map[string]string{
		"AWS_REGION": region, "S3VEND_IDENTITY_POOL_ID": poolID, "S3VEND_DEVELOPER_PROVIDER": "p",
		"S3VEND_AUTH_ROLE_ARN": authRole, "S3VEND_GUESTS_ENABLED": "true", "S3VEND_UNAUTH_ROLE_ARN": unauthRole, "S3VEND_VERIFIERS": "{}",
	}
	for k, v := range map[string]string{
		config.EnvBucket:             "Not_A_Bucket",
		config.EnvUploadMaxBytes:     "10MB",
		config.EnvUploadContentTypes: "image/*",
		config.EnvUploadExpiry:       "30",
	} {
		env := map[string]string{k: v}
		for bk, bv := range base {
			env[bk] = bv
		}
		_, err := config.FromEnv(func(name string) string { return env[name] })
		if err == nil || !strings.HasPrefix(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
	cfg, err := config.FromEnv(func(name string) string { return base[name] })
	if err != nil || cfg.Bucket != "" || cfg.Upload.MaxBytes != 10<<20 || cfg.Upload.Expiry != 5*time.Minute ||
		!slices.Contains(cfg.Upload.ContentTypes, "image/jpeg") {
		t.Errorf("defaults: %+v %v", cfg.Upload, err)
	}
}
