package standin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	cognitotypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"

	"github.com/s3vend/s3vend/internal/accessmatrix"
	"github.com/s3vend/s3vend/internal/standin"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func TestCognitoTokens(t *testing.T) {
	m, err := accessmatrix.Load(loadTemplate(t, "prod"))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now()}
	sessions := &standin.Sessions{Now: clk.Now}
	c, err := standin.NewCognito(standin.CognitoOptions{Model: m, Sessions: sessions, Now: clk.Now, CredentialLifetime: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	defer srv.Close()
	sessions.Put(standin.Session{AccessKeyID: "AKIADEVELOPER", SecretAccessKey: "developer-secret"})
	client := func(creds aws.CredentialsProvider) *cognitoidentity.Client {
		return cognitoidentity.New(cognitoidentity.Options{Region: m.Region(), Credentials: creds, BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1})
	}
	dev := client(credentials.NewStaticCredentialsProvider("AKIADEVELOPER", "developer-secret", ""))
	anon := client(aws.AnonymousCredentials{})
	ctx := context.Background()
	pool := m.IdentityPoolID()
	provider := c.Pool.DeveloperProvider

	var ip *cognitotypes.InvalidParameterException
	for _, d := range []int64{0, 86401} {
		_, err := dev.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
			IdentityPoolId: &pool, Logins: map[string]string{provider: "u"}, TokenDuration: aws.Int64(d)})
		if !errors.As(err, &ip) {
			t.Fatalf("TokenDuration %d: %v", d, err)
		}
	}
	_, err = dev.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: &pool, Logins: map[string]string{"other.provider": "u"}})
	if !errors.As(err, &ip) {
		t.Fatalf("foreign provider: %v", err)
	}
	var rnf *cognitotypes.ResourceNotFoundException
	_, err = dev.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: aws.String("us-east-1:11111111-1111-4111-8111-111111111111"), Logins: map[string]string{provider: "u"}})
	if !errors.As(err, &rnf) {
		t.Fatalf("foreign pool: %v", err)
	}

	tok, err := dev.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: &pool, Logins: map[string]string{provider: "u"}, TokenDuration: aws.Int64(60)})
	if err != nil {
		t.Fatal(err)
	}
	info, ok := c.Token(*tok.Token)
	if !ok || info.IdentityID != *tok.IdentityId || info.Audience != pool || info.Amr[0] != "authenticated" {
		t.Fatalf("token info %+v", info)
	}
	// The token is a JWT shaped like Cognito's.
	parts := strings.Split(*tok.Token, ".")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "eyJ") {
		t.Fatalf("token %q is not a JWS", *tok.Token)
	}
	logins := map[string]string{c.Pool.LoginKey: *tok.Token}
	out, err := anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: tok.IdentityId, Logins: logins})
	if err != nil {
		t.Fatal(err)
	}
	// The configured lifetime (a test's short one), to the second.
	if want := clk.Now().Add(15 * time.Second).Truncate(time.Second); !out.Credentials.Expiration.Equal(want) {
		t.Fatalf("credentials expire at %v, want %v", out.Credentials.Expiration, want)
	}
	exp := time.Unix(info.Expiration.Unix(), 0)
	clk.Advance(61 * time.Second)
	var na *cognitotypes.NotAuthorizedException
	_, err = anon.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: tok.IdentityId, Logins: logins})
	if !errors.As(err, &na) {
		t.Fatalf("expired token: %v", err)
	}
	// Cognito's wording, which clients match on: "Token expired: <now> >= <exp>".
	if want := fmt.Sprintf("Invalid login token. Token expired: %d >= %d", clk.Now().Unix(), exp.Unix()); na.ErrorMessage() != want {
		t.Fatalf("expired token message %q, want %q", na.ErrorMessage(), want)
	}
	// prod has no guests.
	if _, err := anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool}); !errors.As(err, &na) {
		t.Fatalf("guest GetId on a pool without guests: %v", err)
	}
	// Injected failures.
	c.FailNext(standin.OpGetID, "TooManyRequestsException", 1)
	var tmr *cognitotypes.TooManyRequestsException
	if _, err := anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool}); !errors.As(err, &tmr) {
		t.Fatalf("injected: %v", err)
	}
	if n := c.Calls(standin.OpGetID); n != 2 {
		t.Fatalf("GetId calls %d, want 2", n)
	}
	// A quota: one call passes the bucket (and is refused for the pool), the
	// next is throttled; without the limit the pool answers again.
	c.Limit(standin.OpGetID, 0.001, 1)
	if _, err := anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool}); !errors.As(err, &na) {
		t.Fatalf("within the quota: %v", err)
	}
	if _, err := anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool}); !errors.As(err, &tmr) {
		t.Fatalf("beyond the quota: %v", err)
	}
	c.Limit(standin.OpGetID, 0, 0)
	if _, err := anon.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: &pool}); !errors.As(err, &na) {
		t.Fatalf("limit removed: %v", err)
	}
}

func TestWeChat(t *testing.T) {
	w := standin.NewWeChat("wxapp", "s3cret", nil)
	srv := httptest.NewServer(w)
	defer srv.Close()
	get := func(path string, q url.Values) map[string]any {
		t.Helper()
		resp, err := http.Get(srv.URL + path + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out := map[string]any{}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	code, _ := get("/dev/code", url.Values{"openid": {"o1"}})["code"].(string)
	if code == "" {
		t.Fatal("no code minted")
	}
	q := func(appid, secret, code string) url.Values {
		return url.Values{"appid": {appid}, "secret": {secret}, "js_code": {code}, "grant_type": {"authorization_code"}}
	}
	for _, tc := range []struct {
		q    url.Values
		want float64
	}{
		{q("wxother", "s3cret", code), 40013},
		{q("wxapp", "wrong", code), 40125},
		{q("wxapp", "s3cret", "nosuchcode"), 40029},
	} {
		if got := get("/sns/jscode2session", tc.q)["errcode"]; got != tc.want {
			t.Fatalf("%v: errcode %v, want %v", tc.q, got, tc.want)
		}
	}
	ok := get("/sns/jscode2session", q("wxapp", "s3cret", code))
	if ok["openid"] != "o1" || ok["unionid"] != "union_o1" || ok["errcode"] != nil {
		t.Fatalf("session %v", ok)
	}
	if got := get("/sns/jscode2session", q("wxapp", "s3cret", code))["errcode"]; got != float64(40163) {
		t.Fatalf("reused code: errcode %v, want 40163", got)
	}
}
