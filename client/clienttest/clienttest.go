// Package clienttest provides wire-level fakes of the s3vend token vendor and
// of Cognito Identity's GetCredentialsForIdentity (JSON 1.1), for tests of
// the client package and the s3vend CLI. They speak the real protocols, so
// the real aws-sdk-go-v2 Cognito Identity client runs against them.
package clienttest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/contract/wire"
	"github.com/s3vend/s3vend/internal/cognitofake"
)

// Reply is a canned answer (ReplyOf: one of the vendor's own).
type Reply struct {
	Status     int
	Code       string // error code of {"error":{"code","message"}}
	Message    string
	RetryAfter string // Retry-After header, if not empty
}

// Vendor fakes the token vendor's /v1/token, /v1/credentials, /v1/session and /v1/guest.
// Set its fields before the first call of URL or TokenEndpoint, which starts
// the server (so that the race detector sees them written before use).
type Vendor struct {
	srv  *httptest.Server
	once sync.Once

	Region    string
	PoolID    string
	LoginKey  string
	Provider  string            // the only accepted provider name
	Users     map[string]string // accepted credential -> user id; AddUser while serving
	BasicFlow bool              // /v1/guest returns credentials (true) or a token (false)
	Lifetime  time.Duration     // of basic-flow credentials
	Delay     time.Duration     // before answering, to overlap concurrent callers
	// Fail, if set, is asked first with the route and the 1-based number of
	// calls of that route so far; a non-nil reply is sent instead.
	Fail func(route string, n int) *Reply

	calls  cognitofake.Ops // per route
	mu     sync.Mutex
	bodies []map[string]any
}

// NewVendor returns a fake vendor accepting credential for user "alice"
// with provider "backend"; it starts on the first URL or TokenEndpoint call.
func NewVendor(credential string) *Vendor {
	return &Vendor{
		Region:   "eu-west-1",
		PoolID:   "eu-west-1:00000000-0000-0000-0000-000000000000",
		LoginKey: contract.LoginKey("eu-west-1"),
		Provider: "backend",
		Users:    map[string]string{credential: "alice"},
		Lifetime: time.Hour,
	}
}

// URL starts the server if needed and returns its base URL.
func (v *Vendor) URL() string {
	v.once.Do(func() { v.srv = httptest.NewServer(v) })
	return v.srv.URL
}

// Close stops the server, if it was started.
func (v *Vendor) Close() {
	v.once.Do(func() {})
	if v.srv != nil {
		v.srv.Close()
	}
}

// AddUser accepts credential as a login of user; safe while serving.
func (v *Vendor) AddUser(credential, user string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.Users[credential] = user
}

// TokenEndpoint is the URL of /v1/token, like the stack's output.
func (v *Vendor) TokenEndpoint() string { return v.URL() + "/v1/token" }

// Calls returns how many requests route got.
func (v *Vendor) Calls(route string) int { return v.calls.Calls(route) }

// TotalCalls returns how many requests all routes got.
func (v *Vendor) TotalCalls() int { return v.calls.Total() }

// Bodies returns the decoded request bodies, in order.
func (v *Vendor) Bodies() []map[string]any {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]map[string]any(nil), v.bodies...)
}

// IdentityID is the identity id the fake gives user.
func (v *Vendor) IdentityID(user string) string {
	h := sha256.Sum256([]byte(v.PoolID + "|" + user))
	x := hex.EncodeToString(h[:16])
	return fmt.Sprintf("%s:%s-%s-%s-%s-%s", v.Region, x[0:8], x[8:12], x[12:16], x[16:20], x[20:32])
}

// TokenFor is the OpenID token the fakes use for identityID.
func TokenFor(identityID string) string { return "token." + identityID }

// ServeHTTP answers one vendor request.
func (v *Vendor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := v.calls.Record(r.URL.Path).N
	if v.Delay > 0 {
		time.Sleep(v.Delay)
	}
	w.Header().Set("X-Request-Id", "req-"+strconv.Itoa(n))
	if r.Method != http.MethodPost {
		writeErr(w, ReplyOf(wire.ErrMethodNotAllowed))
		return
	}
	if r.Header.Get("Content-Type") != "application/json" {
		writeErr(w, ReplyOf(wire.ErrUnsupportedMedia))
		return
	}
	var body map[string]any
	data, _ := io.ReadAll(r.Body)
	if len(data) > 0 && json.Unmarshal(data, &body) != nil {
		writeErr(w, ReplyOf(wire.ErrMalformedJSON))
		return
	}
	v.mu.Lock()
	v.bodies = append(v.bodies, body)
	v.mu.Unlock()
	if v.Fail != nil {
		if rep := v.Fail(r.URL.Path, n); rep != nil {
			writeErr(w, *rep)
			return
		}
	}
	switch r.URL.Path {
	case wire.RouteToken, wire.RouteCredentials, wire.RouteSession:
		v.login(w, r.URL.Path, body)
	case wire.RouteGuest:
		v.guest(w, body)
	default:
		writeErr(w, ReplyOf(wire.ErrNotFound))
	}
}

func (v *Vendor) login(w http.ResponseWriter, route string, body map[string]any) {
	provider, _ := body["provider"].(string)
	credential, _ := body["credential"].(string)
	if provider != v.Provider {
		writeErr(w, ReplyOf(wire.ErrUnknownProvider))
		return
	}
	v.mu.Lock()
	user, ok := v.Users[credential]
	v.mu.Unlock()
	if !ok {
		writeErr(w, ReplyOf(wire.ErrInvalidCredential))
		return
	}
	id := v.IdentityID(provider + ":" + user)
	if route == wire.RouteCredentials || route == wire.RouteSession {
		writeJSON(w, v.credentials(id))
		return
	}
	writeJSON(w, wire.TokenResponse{
		IdentityID: id, Token: TokenFor(id), ExpiresAt: time.Now().Add(15 * time.Minute).UTC().Truncate(time.Second),
		IdentityPoolID: v.PoolID, Region: v.Region, LoginKey: v.LoginKey,
	})
}

func (v *Vendor) credentials(id string) wire.CredentialsResponse {
	return wire.CredentialsResponse{
		IdentityID: id, AccessKeyID: "ASIABASIC" + id[len(id)-4:], SecretAccessKey: "basic-secret",
		SessionToken: "basic-session", Expiration: time.Now().Add(v.Lifetime).UTC().Truncate(time.Second),
	}
}

func (v *Vendor) guest(w http.ResponseWriter, body map[string]any) {
	id, _ := body["identityId"].(string)
	if id == "" {
		v.mu.Lock()
		id = v.IdentityID("guest-" + strconv.Itoa(len(v.bodies)))
		v.mu.Unlock()
	}
	if v.BasicFlow {
		writeJSON(w, v.credentials(id).Guest())
		return
	}
	writeJSON(w, wire.GuestResponse{
		IdentityID: id, Token: TokenFor(id), IdentityPoolID: v.PoolID, Region: v.Region, LoginKey: v.LoginKey,
	})
}

func writeJSON(w http.ResponseWriter, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(body)
}

func writeErr(w http.ResponseWriter, r Reply) {
	if r.RetryAfter != "" {
		w.Header().Set("Retry-After", r.RetryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(r.Status)
	if r.Code == "" {
		_, _ = io.WriteString(w, `{"message":"`+http.StatusText(r.Status)+`"}`)
		return
	}
	_ = json.NewEncoder(w).Encode(wire.ErrorResponse{Error: wire.ErrorBody{Code: r.Code, Message: r.Message}})
}

// ReplyOf is the vendor's own answer e (package wire's error table).
func ReplyOf(e *wire.Error) Reply { return Reply{Status: e.Status, Code: e.Code, Message: e.Message} }

// Cognito fakes Cognito Identity's GetCredentialsForIdentity over JSON 1.1
// (X-Amz-Target: AWSCognitoIdentityService.GetCredentialsForIdentity).
// Set its fields before the first call of URL, which starts the server.
type Cognito struct {
	srv      *httptest.Server
	once     sync.Once
	LoginKey string
	Lifetime time.Duration // of the credentials it returns
	Fail     func(n int) *Reply

	calls  cognitofake.Ops
	signed atomic.Int64
}

// NewCognito returns the fake; its URL is the BaseEndpoint or AWS_ENDPOINT_URL_COGNITO_IDENTITY.
func NewCognito() *Cognito {
	return &Cognito{LoginKey: contract.LoginKey("eu-west-1"), Lifetime: time.Hour}
}

// URL starts the server if needed and returns its base URL.
func (c *Cognito) URL() string {
	c.once.Do(func() { c.srv = httptest.NewServer(http.HandlerFunc(c.serve)) })
	return c.srv.URL
}

// Close stops the server, if it was started.
func (c *Cognito) Close() {
	c.once.Do(func() {})
	if c.srv != nil {
		c.srv.Close()
	}
}

// Calls returns the number of GetCredentialsForIdentity requests.
func (c *Cognito) Calls() int { return c.calls.Total() }

// Signed returns the number of requests that carried an Authorization header
// (GetCredentialsForIdentity must be called unsigned).
func (c *Cognito) Signed() int { return int(c.signed.Load()) }

func (c *Cognito) serve(w http.ResponseWriter, r *http.Request) {
	n := c.calls.Record("").N
	if r.Header.Get("Authorization") != "" {
		c.signed.Add(1)
	}
	w.Header().Set("Content-Type", cognitofake.JSONContentType)
	if r.Header.Get("X-Amz-Target") != cognitofake.Target+"GetCredentialsForIdentity" {
		cognitofake.WriteError(w, 400, "UnknownOperationException", "unknown operation")
		return
	}
	if c.Fail != nil {
		if rep := c.Fail(n); rep != nil {
			if rep.RetryAfter != "" {
				w.Header().Set("Retry-After", rep.RetryAfter)
			}
			cognitofake.WriteError(w, rep.Status, rep.Code, rep.Message)
			return
		}
	}
	var in struct {
		IdentityID string `json:"IdentityId"`
		Logins     map[string]string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		cognitofake.WriteError(w, 400, "InvalidParameterException", "bad JSON")
		return
	}
	if len(in.Logins) != 1 || in.Logins[c.LoginKey] != TokenFor(in.IdentityID) {
		cognitofake.WriteError(w, 400, "NotAuthorizedException", "Invalid login token.")
		return
	}
	_ = json.NewEncoder(w).Encode(cognitofake.CredentialsOutput(in.IdentityID, cognitofake.Credentials{
		AccessKeyID: "ASIACOGNITO" + strconv.Itoa(n), SecretKey: "cognito-secret", SessionToken: "cognito-session",
		Expiration: time.Now().Add(c.Lifetime),
	}))
}
