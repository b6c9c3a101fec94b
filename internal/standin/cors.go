package standin

// CORS as S3 and API Gateway HTTP APIs apply it, configured from the
// synthesized template. References:
//
//   - S3: "How does Amazon S3 evaluate the CORS configuration on a bucket?"
//     and "CORS configuration" (one '*' wildcard in AllowedOrigin and
//     AllowedHeader; the first matching rule applies; every header of
//     Access-Control-Request-Headers must match an AllowedHeader):
//     https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html and
//     https://docs.aws.amazon.com/AmazonS3/latest/userguide/ManageCorsUsing.html
//     Preflight API: https://docs.aws.amazon.com/AmazonS3/latest/API/RESTOPTIONSobject.html
//   - API Gateway: "Configuring CORS for HTTP APIs"
//     https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html
//     ("API Gateway automatically sends a response to preflight OPTIONS
//     requests, even if there isn't an OPTIONS route configured"; "API
//     Gateway ignores CORS headers returned from your backend integration").

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// CORSRule is one rule of a bucket's CORS configuration
// (AWS::S3::Bucket CorsRule).
type CORSRule struct {
	AllowedOrigins, AllowedMethods, AllowedHeaders, ExposedHeaders []string
	MaxAge                                                         int
}

// CORSRules is a bucket's CORS configuration, evaluated in order.
type CORSRules []CORSRule

// S3CORSRules reads the client bucket's Properties.CorsConfiguration.CorsRules
// from a synthesized template (the bucket is the one the Outputs.BucketName
// {"Ref": id} names). A bucket without CorsConfiguration has no rules.
func S3CORSRules(template map[string]any) (CORSRules, error) {
	out, _ := dig(template, "Outputs", "BucketName", "Value").(map[string]any)
	id, ok := out["Ref"].(string)
	if !ok {
		return nil, fmt.Errorf("template: Outputs.BucketName.Value is not a {\"Ref\": bucket}")
	}
	res, ok := dig(template, "Resources", id).(map[string]any)
	if !ok || res["Type"] != "AWS::S3::Bucket" {
		return nil, fmt.Errorf("template: Resources.%s is not an AWS::S3::Bucket", id)
	}
	raw := dig(res, "Properties", "CorsConfiguration", "CorsRules")
	if raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("template: Resources.%s.Properties.CorsConfiguration.CorsRules is not a list", id)
	}
	var rules CORSRules
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("template: CorsRules[%d] is not an object", i)
		}
		at := func(k string) string { return fmt.Sprintf("Resources.%s...CorsRules[%d].%s", id, i, k) }
		var rule CORSRule
		if err := corsFields(m, at, &rule.MaxAge, []corsList{{"AllowedOrigins", &rule.AllowedOrigins},
			{"AllowedMethods", &rule.AllowedMethods}, {"AllowedHeaders", &rule.AllowedHeaders}, {"ExposedHeaders", &rule.ExposedHeaders}}); err != nil {
			return nil, err
		}
		if len(rule.AllowedOrigins) == 0 || len(rule.AllowedMethods) == 0 {
			return nil, fmt.Errorf("template: %s and AllowedMethods are required", at("AllowedOrigins"))
		}
		rules = append(rules, rule)
	}
	return rules, nil
}

func dig(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// corsList is a string-list property of a CORS property set and where it goes.
type corsList struct {
	key string
	dst *[]string
}

// corsFields reads a CORS property set's string lists and its MaxAge; the
// first bad one, in the order given, is the error.
func corsFields(m map[string]any, at func(string) string, maxAge *int, lists []corsList) error {
	for _, l := range lists {
		v, err := stringList(m, l.key, at)
		if err != nil {
			return err
		}
		*l.dst = v
	}
	v, err := intValue(m, "MaxAge", at)
	*maxAge = v
	return err
}

func stringList(m map[string]any, k string, at func(string) string) ([]string, error) {
	raw, ok := m[k]
	if !ok || raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("template: %s is not a list", at(k))
	}
	out := make([]string, len(list))
	for i, v := range list {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("template: %s[%d] is not a string (unresolved intrinsic?)", at(k), i)
		}
		out[i] = s
	}
	return out, nil
}

func intValue(m map[string]any, k string, at func(string) string) (int, error) {
	switch v := m[k].(type) {
	case nil:
		return 0, nil
	case float64:
		return int(v), nil
	case int:
		return v, nil
	case string:
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("template: %s is not an integer: %q", at(k), v)
		}
		return n, nil
	}
	return 0, fmt.Errorf("template: %s is not an integer", at(k))
}

// wildcardMatch matches s against a pattern with at most one '*' (S3 allows
// one wildcard per AllowedOrigin / AllowedHeader); fold compares ignoring case.
func wildcardMatch(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	before, after, ok := strings.Cut(pattern, "*")
	if !ok {
		return pattern == s
	}
	return len(s) >= len(before)+len(after) && strings.HasPrefix(s, before) && strings.HasSuffix(s, after)
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if wildcardMatch(p, s, fold) {
			return true
		}
	}
	return false
}

// requestHeaders splits Access-Control-Request-Headers.
func requestHeaders(r *http.Request) []string {
	var out []string
	for _, v := range r.Header.Values("Access-Control-Request-Headers") {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				out = append(out, strings.ToLower(h))
			}
		}
	}
	return out
}

func errCORSForbidden() *AWSError {
	// S3's wording, typo included.
	return &AWSError{http.StatusForbidden, "AccessForbidden", "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."}
}

// Preflight answers an OPTIONS request as S3 does: the first rule matching
// the origin, Access-Control-Request-Method and every
// Access-Control-Request-Headers entry gives the headers to set; no match is
// 403 AccessForbidden.
func (rs CORSRules) Preflight(r *http.Request) (http.Header, *AWSError) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil, &AWSError{http.StatusBadRequest, "BadRequest", "Insufficient information. Origin request header needed."}
	}
	method := r.Header.Get("Access-Control-Request-Method")
	if method == "" {
		return nil, &AWSError{http.StatusBadRequest, "BadRequest", "Invalid Access-Control-Request-Method: null"}
	}
	if len(rs) == 0 {
		return nil, &AWSError{http.StatusForbidden, "AccessForbidden", "CORSResponse: CORS is not enabled for this bucket."}
	}
	reqHeaders := requestHeaders(r)
	for _, rule := range rs {
		if !anyMatch(rule.AllowedOrigins, origin, false) || !containsExact(rule.AllowedMethods, method) {
			continue
		}
		allowed := true
		for _, h := range reqHeaders {
			if !anyMatch(rule.AllowedHeaders, h, true) {
				allowed = false
				break
			}
		}
		if !allowed {
			continue
		}
		h := rule.headers(origin)
		if len(reqHeaders) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(reqHeaders, ", "))
		}
		return h, nil
	}
	return nil, errCORSForbidden()
}

// Actual returns the CORS headers for a non-preflight request with an
// Origin header (none when no rule matches origin and method).
func (rs CORSRules) Actual(r *http.Request) http.Header {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return http.Header{}
	}
	for _, rule := range rs {
		if anyMatch(rule.AllowedOrigins, origin, false) && containsExact(rule.AllowedMethods, r.Method) {
			return rule.headers(origin)
		}
	}
	return http.Header{}
}

// headers are what S3 sends for a matching rule: the origin echoed (or *
// for a rule allowing any origin, then without credentials), the rule's
// methods, exposed headers and max age, and Vary.
func (rule CORSRule) headers(origin string) http.Header {
	h := http.Header{}
	if containsExact(rule.AllowedOrigins, "*") {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Set("Access-Control-Allow-Methods", strings.Join(rule.AllowedMethods, ", "))
	if len(rule.ExposedHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(rule.ExposedHeaders, ", "))
	}
	if rule.MaxAge > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(rule.MaxAge))
	}
	h.Set("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
	return h
}

func containsExact(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// APIGatewayCORS is an HTTP API's CorsConfiguration
// (AWS::ApiGatewayV2::Api Properties.CorsConfiguration).
type APIGatewayCORS struct {
	AllowOrigins, AllowMethods, AllowHeaders, ExposeHeaders []string
	MaxAge                                                  int
	AllowCredentials                                        bool
}

// APIGatewayCORSFromTemplate reads the CorsConfiguration of the stack's
// single HTTP API (zero when it has none: then no CORS headers are sent).
func APIGatewayCORSFromTemplate(template map[string]any) (APIGatewayCORS, error) {
	var c APIGatewayCORS
	resources, _ := template["Resources"].(map[string]any)
	var id string
	var api map[string]any
	for k, v := range resources {
		m, _ := v.(map[string]any)
		if m["Type"] == "AWS::ApiGatewayV2::Api" && dig(m, "Properties", "ProtocolType") == "HTTP" {
			if api != nil {
				return c, fmt.Errorf("template: more than one HTTP API (%s, %s)", id, k)
			}
			id, api = k, m
		}
	}
	if api == nil {
		return c, fmt.Errorf("template: no AWS::ApiGatewayV2::Api with ProtocolType HTTP")
	}
	cfg, _ := dig(api, "Properties", "CorsConfiguration").(map[string]any)
	if cfg == nil {
		return c, nil
	}
	at := func(k string) string { return "Resources." + id + ".Properties.CorsConfiguration." + k }
	if err := corsFields(cfg, at, &c.MaxAge, []corsList{{"AllowOrigins", &c.AllowOrigins},
		{"AllowMethods", &c.AllowMethods}, {"AllowHeaders", &c.AllowHeaders}, {"ExposeHeaders", &c.ExposeHeaders}}); err != nil {
		return c, err
	}
	switch v := cfg["AllowCredentials"].(type) {
	case nil:
	case bool:
		c.AllowCredentials = v
	default:
		return c, fmt.Errorf("template: %s is not a boolean", at("AllowCredentials"))
	}
	return c, nil
}

func (c APIGatewayCORS) enabled() bool { return len(c.AllowOrigins) > 0 }

func (c APIGatewayCORS) originAllowed(origin string) bool {
	return origin != "" && anyMatch(c.AllowOrigins, origin, true)
}

func (c APIGatewayCORS) allowOrigin(h http.Header, origin string) {
	if containsExact(c.AllowOrigins, "*") && !c.AllowCredentials {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	}
	if c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

// Wrap serves next behind the HTTP API's CORS: a preflight (OPTIONS with
// Origin and Access-Control-Request-Method) is answered 204 by the gateway
// without calling next, with the CORS headers only when origin, method and
// every requested header are allowed (else without them, so the browser
// refuses); other responses get Access-Control-Allow-Origin and
// -Expose-Headers when the origin is allowed, and the backend's own
// Access-Control-* headers are dropped.
func (c APIGatewayCORS) Wrap(next http.Handler) http.Handler {
	if !c.enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != "" {
			c.preflight(w, r, origin)
			return
		}
		var cors http.Header
		if c.originAllowed(origin) {
			cors = http.Header{}
			c.allowOrigin(cors, origin)
			if len(c.ExposeHeaders) > 0 {
				cors.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ","))
			}
		}
		next.ServeHTTP(&corsWriter{ResponseWriter: w, cors: cors}, r)
	})
}

func (c APIGatewayCORS) preflight(w http.ResponseWriter, r *http.Request, origin string) {
	method := r.Header.Get("Access-Control-Request-Method")
	ok := c.originAllowed(origin) && (containsExact(c.AllowMethods, "*") || anyMatch(c.AllowMethods, method, true))
	for _, h := range requestHeaders(r) {
		ok = ok && (containsExact(c.AllowHeaders, "*") || anyMatch(c.AllowHeaders, h, true))
	}
	if ok {
		h := w.Header()
		c.allowOrigin(h, origin)
		h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
		if len(c.AllowHeaders) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
		}
		if c.MaxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAge))
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// corsWriter replaces the backend's Access-Control-* headers with the
// gateway's when the response header is written.
type corsWriter struct {
	http.ResponseWriter
	cors        http.Header
	wroteHeader bool
}

func (w *corsWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		h := w.Header()
		for k := range h {
			if strings.HasPrefix(k, "Access-Control-") {
				delete(h, k)
			}
		}
		for k, v := range w.cors {
			h[k] = append(h[k], v...)
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *corsWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *corsWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
