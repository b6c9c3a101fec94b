package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/s3vend/s3vend/lambda/internal/httpapi"
)

// event renders testdata/apigw-v2-token.json, a real HTTP API payload v2 event.
func event(t *testing.T, path, method, body string, b64 bool) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/apigw-v2-token.json")
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	s = strings.ReplaceAll(s, `"/v1/token"`, strconv.Quote(path))
	s = strings.ReplaceAll(s, `"method": "POST"`, `"method": `+strconv.Quote(method))
	s = strings.ReplaceAll(s, "__LEN__", strconv.Itoa(len(body)))
	if b64 {
		body = base64.StdEncoding.EncodeToString([]byte(body))
	}
	q, _ := json.Marshal(body)
	s = strings.ReplaceAll(s, `"__BODY__"`, string(q))
	s = strings.ReplaceAll(s, "__B64__", strconv.FormatBool(b64))
	return []byte(s)
}

func invoke(t *testing.T, h *harness, payload []byte) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-0001"})
	out, err := httpapi.NewLambdaHandler(h.handler).Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response: %v (%s)", err, out)
	}
	return resp
}

func TestLambdaAdapterWithAPIGatewayV2Events(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	body := `{"provider":"backend","credential":"` + hsToken(nil) + `"}`
	for _, b64 := range []bool{false, true} {
		resp := invoke(t, h, event(t, "/v1/token", "POST", body, b64))
		if resp.StatusCode != http.StatusOK || resp.Headers["Content-Type"] != "application/json" {
			t.Fatalf("b64=%v: %d %v %s", b64, resp.StatusCode, resp.Headers, resp.Body)
		}
		var tok map[string]any
		if err := json.Unmarshal([]byte(resp.Body), &tok); err != nil || tok["token"] != "cognito-openid-token" {
			t.Fatalf("body %s", resp.Body)
		}
		if resp.Headers["X-Request-Id"] != "lambda-req-0001" {
			t.Errorf("request id header = %q", resp.Headers["X-Request-Id"])
		}
	}
	if !strings.Contains(h.logs.String(), `"request_id":"lambda-req-0001"`) {
		t.Errorf("logs lack the Lambda request id:\n%s", h.logs)
	}

	if resp := invoke(t, h, event(t, "/v1/credentials", "GET", "", false)); resp.StatusCode != 405 || !strings.Contains(resp.Body, `"method_not_allowed"`) {
		t.Errorf("405: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := invoke(t, h, event(t, "/nope", "GET", "", false)); resp.StatusCode != 404 || !strings.Contains(resp.Body, `"not_found"`) {
		t.Errorf("404: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := invoke(t, h, event(t, "/v1/token", "POST", `{"provider":"backend","credential":"x"}`, false)); resp.StatusCode != 401 {
		t.Errorf("401: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := invoke(t, h, event(t, "/healthz", "GET", "", false)); resp.StatusCode != 200 {
		t.Errorf("healthz: %d %s", resp.StatusCode, resp.Body)
	}
	// Events the adapter cannot decode still get the API's error shape.
	for _, bad := range []string{`{"version":"1.0"}`, `not json`, strings.Replace(string(event(t, "/%zz", "GET", "", false)), `"rawPath": "/%zz"`, `"rawPath": "/%zz"`, 1)} {
		if resp := invoke(t, h, []byte(bad)); resp.StatusCode != 400 || !strings.Contains(resp.Body, `"invalid_request"`) {
			t.Errorf("bad event %.30q: %d %s", bad, resp.StatusCode, resp.Body)
		}
	}
}
