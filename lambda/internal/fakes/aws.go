// Package fakes holds wire-level test doubles of the services the token
// vendor talks to: Cognito Identity and Secrets Manager (JSON 1.1), STS
// (query protocol, XML), an OIDC issuer with JWKS, and WeChat's
// jscode2session. They are driven through the real SDK clients and HTTP
// code; tests only use them via httptest servers.
package fakes

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/s3vend/s3vend/internal/cognitofake"
)

// Behaviour is shared by the AWS fakes: call counts, injected failures and
// rate limits are cognitofake.Ops (Limit, Calls, Total come from there);
// the delay, the last inputs and whether calls were signed are kept here.
type Behaviour struct {
	cognitofake.Ops

	mu     sync.Mutex
	delay  time.Duration // sleep before answering
	last   map[string]map[string]any
	signed map[string]bool // whether the last call of an operation carried a SigV4 Authorization
}

// Fail makes every call fail with the AWS error code ("" to succeed again).
func (b *Behaviour) Fail(code string) { b.Ops.Fail("", code, -1) }

// FailOp makes every call of op fail with the AWS error code ("" to succeed
// again); other operations are unaffected.
func (b *Behaviour) FailOp(op, code string) { b.Ops.Fail(op, code, -1) }

// Signed reports whether the last call of op was SigV4-signed.
func (b *Behaviour) Signed(op string) bool { b.mu.Lock(); defer b.mu.Unlock(); return b.signed[op] }

// Delay makes every call wait d before answering.
func (b *Behaviour) Delay(d time.Duration) { b.mu.Lock(); b.delay = d; b.mu.Unlock() }

// Reset clears counters and behaviour (not the limits).
func (b *Behaviour) Reset() {
	b.Ops.Reset()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.delay, b.last, b.signed = 0, nil, nil
}

// Last is the last decoded input of op.
func (b *Behaviour) Last(op string) map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last[op]
}

func (b *Behaviour) record(op string, in map[string]any, signed bool) (string, time.Duration) {
	code := b.Ops.Record(op).Code
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last == nil {
		b.last, b.signed = map[string]map[string]any{}, map[string]bool{}
	}
	b.last[op] = in
	b.signed[op] = signed
	return code, b.delay
}

// upstreamDetail is the message of every error the fakes answer: the vendor
// must never pass it on to a client.
const upstreamDetail = "fake upstream detail that must never reach a client"

// Refusal is an operation's answer that is an AWS error (a 400 with this code).
type Refusal string

func wait(r *http.Request, d time.Duration) {
	if d == 0 {
		return
	}
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
}

// jsonService handles an AWS JSON 1.1 protocol service.
func jsonService(b *Behaviour, prefix string, ops map[string]func(in map[string]any) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		op, ok := strings.CutPrefix(target, prefix+".")
		body, _ := io.ReadAll(r.Body)
		in := map[string]any{}
		_ = json.Unmarshal(body, &in)
		signed := strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256")
		code, delay := b.record(op, in, signed)
		wait(r, delay)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Requestid", "00000000-0000-0000-0000-000000000000")
		handler := ops[op]
		if !ok || handler == nil || r.Method != http.MethodPost || !signed && !unsignedOps[op] {
			code = "InvalidRequest"
		}
		var out any
		if code == "" {
			out = handler(in)
			if refusal, ok := out.(Refusal); ok {
				code = string(refusal)
			}
		}
		if code != "" {
			cognitofake.WriteError(w, cognitofake.Status(code), code, upstreamDetail)
			return
		}
		_ = json.NewEncoder(w).Encode(out)
	}
}

// unsignedOps are Cognito Identity's public APIs, which need no credentials
// (the SDK sends them anonymously).
var unsignedOps = map[string]bool{"GetId": true, "GetOpenIdToken": true, "GetCredentialsForIdentity": true}

// Cognito is a fake Cognito Identity endpoint. Its answers are constants
// (one developer identity, one guest identity, their tokens and
// credentials) that the vendor's tests look for in what the vendor returns;
// a pool with real bookkeeping (identities per user, tokens checked by
// identity and expiry) is cognitofake.Identities, behind internal/standin.
type Cognito struct {
	Behaviour
	// CredentialTTL is the lifetime of GetCredentialsForIdentity's
	// credentials (default 1h, Cognito's).
	CredentialTTL time.Duration
}

// Credentials GetCredentialsForIdentity returns; tests recompute signatures
// with IdentitySecretKey.
const (
	IdentityAccessKeyID  = "ASIAIDENTITYEXAMPLE"
	IdentitySecretKey    = "identity/Secret+Key/EXAMPLEKEY0123456789"
	IdentitySessionToken = "IQoJb3JpZ2luX2VjEIdentitySessionToken"
)

// Handler serves GetOpenIdTokenForDeveloperIdentity, GetId, GetOpenIdToken
// and GetCredentialsForIdentity. The last accepts only a Logins map with one
// cognito-identity.amazonaws.com[.cn] key holding a token this fake issued,
// else NotAuthorizedException, like Cognito.
func (c *Cognito) Handler() http.Handler {
	return jsonService(&c.Behaviour, "AWSCognitoIdentityService", map[string]func(map[string]any) any{
		"GetOpenIdTokenForDeveloperIdentity": func(in map[string]any) any {
			pool, _ := in["IdentityPoolId"].(string)
			return map[string]string{"IdentityId": regionOf(pool) + ":11111111-2222-3333-4444-555555555555", "Token": "cognito-openid-token"}
		},
		"GetId": func(in map[string]any) any {
			pool, _ := in["IdentityPoolId"].(string)
			return map[string]string{"IdentityId": regionOf(pool) + ":99999999-8888-7777-6666-555555555555"}
		},
		"GetOpenIdToken": func(in map[string]any) any {
			id, _ := in["IdentityId"].(string)
			return map[string]string{"IdentityId": id, "Token": "cognito-guest-token"}
		},
		"GetCredentialsForIdentity": func(in map[string]any) any {
			id, _ := in["IdentityId"].(string)
			logins, _ := in["Logins"].(map[string]any)
			if len(logins) != 1 {
				return Refusal("NotAuthorizedException")
			}
			for k, v := range logins {
				if !strings.HasPrefix(k, "cognito-identity.") || (v != "cognito-openid-token" && v != "cognito-guest-token") {
					return Refusal("NotAuthorizedException")
				}
			}
			ttl := c.CredentialTTL
			if ttl == 0 {
				ttl = time.Hour
			}
			return cognitofake.CredentialsOutput(id, cognitofake.Credentials{
				AccessKeyID: IdentityAccessKeyID, SecretKey: IdentitySecretKey, SessionToken: IdentitySessionToken,
				Expiration: time.Now().Add(ttl).Truncate(time.Second),
			})
		},
	})
}

func regionOf(pool string) string {
	r, _, _ := strings.Cut(pool, ":")
	return r
}

// Secrets is a fake Secrets Manager endpoint holding one secret string.
type Secrets struct {
	Behaviour
	SecretString string // set before serving; Put changes it while serving

	valueMu sync.Mutex
}

// Put replaces the secret string, as put-secret-value does.
func (s *Secrets) Put(v string) { s.valueMu.Lock(); s.SecretString = v; s.valueMu.Unlock() }

// Handler serves GetSecretValue.
func (s *Secrets) Handler() http.Handler {
	return jsonService(&s.Behaviour, "secretsmanager", map[string]func(map[string]any) any{
		"GetSecretValue": func(in map[string]any) any {
			id, _ := in["SecretId"].(string)
			s.valueMu.Lock()
			defer s.valueMu.Unlock()
			return map[string]any{"ARN": id, "Name": "s3vend", "SecretString": s.SecretString, "VersionId": "v1"}
		},
	})
}

// STS is a fake STS endpoint (query protocol).
type STS struct{ Behaviour }

// Handler serves AssumeRoleWithWebIdentity.
func (s *STS) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		in := map[string]any{}
		for k := range r.PostForm {
			in[k] = r.PostForm.Get(k)
		}
		op := r.PostForm.Get("Action")
		code, delay := s.record(op, in, strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256"))
		wait(r, delay)
		if op != "AssumeRoleWithWebIdentity" {
			code = "InvalidAction"
		}
		w.Header().Set("Content-Type", "text/xml")
		if code != "" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>`+upstreamDetail+`</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`, code)
			return
		}
		exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		role := r.PostForm.Get("RoleArn")
		var sb strings.Builder
		_ = xml.EscapeText(&sb, []byte(role))
		fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>sub</SubjectFromWebIdentityToken>
    <AssumedRoleUser><Arn>%s/s</Arn><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId></AssumedRoleUser>
    <Credentials>
      <SessionToken>FQoGZXIvYXdzEXAMPLE</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>
      <Expiration>%s</Expiration>
      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>
    </Credentials>
    <Provider>cognito-identity.amazonaws.com</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`, sb.String(), exp)
	})
}
