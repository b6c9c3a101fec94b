package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/contract"
)

// The hostile review's malformed /v1/upload requests (issue 16), kept as a
// permanent test: every one is a 4xx JSON error with a code, costs no AWS
// call, and never echoes the hostile value. The display-spoofing names and
// free Content-Type parameters are item 5.
func TestHostileUploadRequests(t *testing.T) {
	h := newHarness(t, harnessOpts{quietLogs: true})
	valid := func(edit func(map[string]any)) string {
		body := map[string]any{"provider": "backend", "credential": hsToken(nil), "name": "photos/cat.png", "size": 1234, "contentType": "image/png"}
		edit(body)
		b, _ := json.Marshal(body)
		return string(b)
	}
	field := func(k string, v any) string { return valid(func(b map[string]any) { b[k] = v }) }
	cases := []struct {
		what, contentType, body, hostile string
	}{
		{"not JSON", "application/json", `{"provider":`, ""},
		{"a JSON array", "application/json", `[]`, ""},
		{"JSON then garbage", "application/json", valid(func(map[string]any) {}) + `{}`, ""},
		{"a duplicate name", "application/json", strings.Replace(valid(func(map[string]any) {}), `"name":`, `"name":"x","name":`, 1), ""},
		{"an unknown field", "application/json", field("acl", "public-read"), "public-read"},
		{"a storage class field", "application/json", field("storageClass", "GLACIER"), "GLACIER"},
		{"a key field", "application/json", field("key", "private/other/x"), "private/other/x"},
		{"name of the wrong type", "application/json", field("name", 7), ""},
		{"size as a string", "application/json", field("size", "12"), ""},
		{"size as a float", "application/json", field("size", 1.5), ""},
		{"negative size", "application/json", field("size", -1), ""},
		{"size over the limit", "application/json", field("size", 12<<20), ""},
		{"size beyond int64", "application/json", strings.Replace(valid(func(map[string]any) {}), `"size":1234`, `"size":99999999999999999999`, 1), ""},
		{"a type not allowed", "application/json", field("contentType", "application/x-msdownload"), ""},
		{"text/html", "application/json", field("contentType", "text/html"), ""},
		{"image/svg+xml", "application/json", field("contentType", "image/svg+xml"), ""},
		{"a name parameter", "application/json", field("contentType", "image/png; name=evil.html"), "evil.html"},
		{"charset utf-7", "application/json", field("contentType", "text/plain; charset=utf-7"), "utf-7"},
		{"visibility public", "application/json", field("visibility", "public"), ""},
		{"visibility of another case", "application/json", field("visibility", "Protected"), ""},
		{"a climbing name", "application/json", field("name", "../../private/other/x"), "private/other"},
		{"an absolute name", "application/json", field("name", "/etc/x"), "/etc/x"},
		{"a name with a NUL", "application/json", field("name", "a\x00b"), ""},
		{"an RTL override", "application/json", field("name", "invoice\u202Efdp.exe"), "fdp.exe"},
		{"a zero-width space", "application/json", field("name", "pay\u200Bpal.png"), "pal.png"},
		{"a BOM", "application/json", field("name", "\uFEFFcat.png"), ""},
		{"a noncharacter", "application/json", field("name", "a\uFDD0b"), ""},
		{"a full-width solidus", "application/json", field("name", "a\uFF0F..\uFF0Fb"), ""},
		{"an NFD name", "application/json", field("name", "cafe\u0301.png"), ""},
		{"%2e%2e", "application/json", field("name", "%2e%2e/x"), "%2e%2e"},
		{"a query in the name", "application/json", field("name", "cat.png?x-amz-acl=public-read"), "x-amz-acl"},
		{"a fragment in the name", "application/json", field("name", "cat.png#x"), ""},
		{"the POST template", "application/json", field("name", "${filename}"), ""},
		{"a missing provider", "application/json", valid(func(b map[string]any) { delete(b, "provider") }), ""},
		{"an unknown provider", "application/json", field("provider", "evil"), ""},
		{"form-encoded", "application/x-www-form-urlencoded", "provider=backend&name=x", ""},
		{"an oversized body", "application/json", field("name", strings.Repeat("a", 70<<10)), ""},
	}
	if len(cases) < 31 {
		t.Fatalf("%d hostile cases, the review had 31", len(cases))
	}
	for _, c := range cases {
		r := h.do(http.MethodPost, "/v1/upload", c.contentType, c.body)
		code := r.errCode()
		if r.status < 400 || r.status >= 500 || code == "" {
			t.Errorf("%s: %d %s, want a 4xx JSON error", c.what, r.status, r.body)
			continue
		}
		if c.hostile != "" && strings.Contains(string(r.body), c.hostile) {
			t.Errorf("%s: the answer echoes %q: %s", c.what, c.hostile, r.body)
		}
	}
	if n := h.cognito.Total() + h.sts.Total(); n != 0 {
		t.Errorf("%d AWS calls for hostile input", n)
	}
}

// The hostile review's metric-cardinality and error-body probes (issue 16),
// kept: forged providers, routes, methods and bodies never become metric
// dimension values, and every error body is the API's {"error":{"code",
// "message"}} without the hostile input.
func TestHostileMetricsAndErrorBodies(t *testing.T) {
	h := newHarness(t, harnessOpts{quietLogs: true, env: map[string]string{contract.EnvMetricsStack: "S3Vend-test"}})
	h.metrics.Reset()
	const marker = "HOSTILE-7f3a"
	probes := []struct{ method, path, contentType, body string }{
		{http.MethodPost, "/v1/token", "application/json", `{"provider":"` + marker + `","credential":"x"}`},
		{http.MethodPost, "/v1/token", "application/json", `{"provider":"google\",\"Stack\":\"` + marker + `","credential":"x"}`},
		{http.MethodPost, "/v1/" + marker, "application/json", `{}`},
		{http.MethodPost, "/v1/token/" + marker, "application/json", `{}`},
		{marker, "/v1/token", "application/json", `{}`},
		{http.MethodGet, "/v1/token?" + marker + "=1", "", ""},
		{http.MethodPost, "/v1/upload", "application/json", `{"provider":"` + marker + `","credential":"x","name":"a","size":1,"contentType":"image/png"}`},
		{http.MethodPost, "/v1/credentials", "text/" + marker, `{}`},
		{http.MethodPost, "/v1/guest", "application/json", `{"identityId":"` + marker + `"}`},
	}
	for i := range 200 { // many distinct forged values: cardinality must not follow
		probes = append(probes, struct{ method, path, contentType, body string }{
			http.MethodPost, "/v1/token", "application/json", fmt.Sprintf(`{"provider":"%s-%d","credential":"x"}`, marker, i)})
	}
	for _, p := range probes {
		r := h.do(p.method, p.path, p.contentType, p.body)
		if r.status < 400 {
			t.Errorf("%s %s: %d", p.method, p.path, r.status)
			continue
		}
		if r.status != http.StatusMethodNotAllowed && r.status != http.StatusNotFound && r.errCode() == "" {
			t.Errorf("%s %s: %d body %s is not the API's error JSON", p.method, p.path, r.status, r.body)
		}
		if strings.Contains(string(r.body), marker) {
			t.Errorf("%s %s: the error body echoes the input: %s", p.method, p.path, r.body)
		}
	}
	values := map[string]map[any]bool{}
	for _, rec := range h.emf() {
		for k, v := range rec {
			if k == "_aws" {
				continue
			}
			if s, ok := v.(string); ok {
				if strings.Contains(s, marker) {
					t.Errorf("SECURITY: metric %s = %q carries forged input", k, s)
				}
				if values[k] == nil {
					values[k] = map[any]bool{}
				}
				values[k][s] = true
			}
		}
	}
	for k, vs := range values {
		if len(vs) > 12 {
			t.Errorf("metric dimension %s took %d values from %d hostile requests", k, len(vs), len(probes))
		}
	}
}
