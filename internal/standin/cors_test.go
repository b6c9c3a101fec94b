package standin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func loadTemplate(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../../test/testdata/snapshots/" + name + ".template.json")
	if err != nil {
		t.Fatal(err)
	}
	var tpl map[string]any
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	return tpl
}

func preflightReq(origin, method, headers string) *http.Request {
	r := httptest.NewRequest(http.MethodOptions, "https://127.0.0.1/s3vend-test-bucket/private/x", nil)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	if method != "" {
		r.Header.Set("Access-Control-Request-Method", method)
	}
	if headers != "" {
		r.Header.Set("Access-Control-Request-Headers", headers)
	}
	return r
}

// jsSDKPutHeaders is what @aws-sdk/client-s3 3.1173.0 sends on a browser
// PutObject (see the package report): every one must pass the preflight.
const jsSDKPutHeaders = "amz-sdk-invocation-id,amz-sdk-request,authorization,content-type,x-amz-checksum-crc32,x-amz-content-sha256,x-amz-date,x-amz-sdk-checksum-algorithm,x-amz-security-token,x-amz-user-agent"

func TestS3CORSFromDevTemplate(t *testing.T) {
	rules, err := S3CORSRules(loadTemplate(t, "S3Vend-dev"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 || rules[0].MaxAge != 3000 || !containsExact(rules[0].AllowedOrigins, "http://localhost:3000") {
		t.Fatalf("rules: %+v", rules)
	}
	h, aerr := rules.Preflight(preflightReq("http://localhost:3000", "PUT", jsSDKPutHeaders))
	if aerr != nil {
		t.Fatal(aerr)
	}
	if h.Get("Access-Control-Allow-Origin") != "http://localhost:3000" || h.Get("Access-Control-Max-Age") != "3000" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "PUT") || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "x-amz-checksum-crc32") ||
		!strings.Contains(h.Get("Access-Control-Expose-Headers"), "ETag") || h.Get("Vary") == "" {
		t.Fatalf("preflight headers: %v", h)
	}
	for name, r := range map[string]*http.Request{
		"origin not allowed": preflightReq("https://evil.example.com", "PUT", ""),
		"scheme differs":     preflightReq("https://localhost:3000", "PUT", ""),
		"method not allowed": preflightReq("http://localhost:3000", "PATCH", ""),
	} {
		if _, aerr := rules.Preflight(r); aerr == nil || aerr.Status != 403 || aerr.Code != "AccessForbidden" || !strings.HasPrefix(aerr.Message, "CORSResponse: This CORS request is not allowed") {
			t.Errorf("%s: %v", name, aerr)
		}
	}
	if _, aerr := rules.Preflight(preflightReq("", "PUT", "")); aerr == nil || aerr.Status != 400 {
		t.Errorf("no origin: %v", aerr)
	}

	get := httptest.NewRequest(http.MethodGet, "https://127.0.0.1/s3vend-test-bucket/public/x", nil)
	get.Header.Set("Origin", "https://dev.app.example.com")
	if h := rules.Actual(get); h.Get("Access-Control-Allow-Origin") != "https://dev.app.example.com" || !strings.Contains(h.Get("Access-Control-Expose-Headers"), "x-amz-version-id") {
		t.Fatalf("actual: %v", h)
	}
	get.Header.Set("Origin", "https://evil.example.com")
	if h := rules.Actual(get); len(h) != 0 {
		t.Fatalf("actual, other origin: %v", h)
	}
	patch := httptest.NewRequest(http.MethodPatch, "https://127.0.0.1/b/k", nil)
	patch.Header.Set("Origin", "http://localhost:3000")
	if h := rules.Actual(patch); len(h) != 0 {
		t.Fatalf("actual, other method: %v", h)
	}
}

func TestS3CORSHeaderMatching(t *testing.T) {
	rules := CORSRules{
		{AllowedOrigins: []string{"https://*.example.com"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"x-amz-*", "Content-Type"}},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"HEAD"}},
	}
	if _, err := rules.Preflight(preflightReq("https://app.example.com", "GET", "X-Amz-Date, content-type")); err != nil {
		t.Fatalf("wildcards, case-insensitive headers: %v", err)
	}
	if _, err := rules.Preflight(preflightReq("https://app.example.com", "GET", "x-amz-date,authorization")); err == nil {
		t.Fatal("a header not allowed passed")
	}
	if _, err := rules.Preflight(preflightReq("https://example.org", "GET", "")); err == nil {
		t.Fatal("origin outside the wildcard passed")
	}
	h, err := rules.Preflight(preflightReq("https://any.where", "HEAD", ""))
	if err != nil || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("'*' origin: %v %v", h, err)
	}
	if _, err := (CORSRules{}).Preflight(preflightReq("https://a", "GET", "")); err == nil || err.Code != "AccessForbidden" {
		t.Fatalf("no CORS: %v", err)
	}
}

func TestS3CORSRulesTemplateErrors(t *testing.T) {
	for name, tpl := range map[string]map[string]any{
		"no output":      {},
		"not a bucket":   {"Outputs": map[string]any{"BucketName": map[string]any{"Value": map[string]any{"Ref": "X"}}}, "Resources": map[string]any{"X": map[string]any{"Type": "AWS::SQS::Queue"}}},
		"intrinsic list": {"Outputs": map[string]any{"BucketName": map[string]any{"Value": map[string]any{"Ref": "B"}}}, "Resources": map[string]any{"B": map[string]any{"Type": "AWS::S3::Bucket", "Properties": map[string]any{"CorsConfiguration": map[string]any{"CorsRules": []any{map[string]any{"AllowedOrigins": []any{map[string]any{"Ref": "P"}}, "AllowedMethods": []any{"GET"}}}}}}}},
	} {
		if _, err := S3CORSRules(tpl); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestAPIGatewayCORS(t *testing.T) {
	c, err := APIGatewayCORSFromTemplate(loadTemplate(t, "S3Vend-dev"))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxAge != 600 || !containsExact(c.AllowHeaders, "content-type") || !containsExact(c.AllowMethods, "POST") {
		t.Fatalf("config: %+v", c)
	}
	calls := 0
	h := c.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Access-Control-Allow-Origin", "*") // ignored by the gateway
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"identityId":"x"}`))
	}))
	serve := func(r *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	pre := func(origin, method, headers string) *http.Request {
		r := preflightReq(origin, method, headers)
		r.URL.Path = "/v1/token"
		return r
	}

	rec := serve(pre("http://localhost:3000", "POST", "Content-Type"))
	if rec.Code != 204 || calls != 0 || rec.Header().Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
		rec.Header().Get("Access-Control-Max-Age") != "600" || !strings.Contains(rec.Header().Get("Access-Control-Allow-Methods"), "POST") ||
		rec.Header().Get("Access-Control-Allow-Headers") != "content-type" {
		t.Fatalf("preflight: %d %v (next called %d)", rec.Code, rec.Header(), calls)
	}
	for name, r := range map[string]*http.Request{
		"origin not allowed": pre("https://evil.example.com", "POST", "content-type"),
		"method not allowed": pre("http://localhost:3000", "DELETE", ""),
		"header not allowed": pre("http://localhost:3000", "POST", "content-type,authorization"),
	} {
		if rec := serve(r); rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Origin") != "" || calls != 0 {
			t.Errorf("%s: %d %v", name, rec.Code, rec.Header())
		}
	}

	post := httptest.NewRequest(http.MethodPost, "/v1/token", strings.NewReader("{}"))
	post.Header.Set("Origin", "https://dev.app.example.com")
	rec = serve(post)
	if calls != 1 || rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "https://dev.app.example.com" {
		t.Fatalf("actual: %d %v", rec.Code, rec.Header())
	}
	post.Header.Set("Origin", "https://evil.example.com")
	if rec = serve(post); rec.Header().Get("Access-Control-Allow-Origin") != "" || rec.Body.String() == "" {
		t.Fatalf("actual, other origin: %v", rec.Header())
	}
}

func TestAPIGatewayCORSTemplateErrors(t *testing.T) {
	if _, err := APIGatewayCORSFromTemplate(map[string]any{"Resources": map[string]any{}}); err == nil {
		t.Error("no API: no error")
	}
	two := map[string]any{"Resources": map[string]any{
		"A": map[string]any{"Type": "AWS::ApiGatewayV2::Api", "Properties": map[string]any{"ProtocolType": "HTTP"}},
		"B": map[string]any{"Type": "AWS::ApiGatewayV2::Api", "Properties": map[string]any{"ProtocolType": "HTTP"}},
	}}
	if _, err := APIGatewayCORSFromTemplate(two); err == nil {
		t.Error("two APIs: no error")
	}
}
