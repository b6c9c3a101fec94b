package standin

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/accessmatrix"
)

// Cognito Identity facts this stand-in follows (API reference,
// https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/):
//   - AWS JSON 1.1: POST /, X-Amz-Target: AWSCognitoIdentityService.<Op>,
//     errors as {"__type": code, "message": text}; every documented error of
//     these operations has HTTP status 400 except InternalErrorException (500).
//   - GetOpenIdTokenForDeveloperIdentity: TokenDuration 1..86400 s, default
//     15 minutes; IAM-signed (the only one of these that is).
//   - GetOpenIdToken: "The OpenID token is valid for 10 minutes."
//   - GetId, GetOpenIdToken, GetCredentialsForIdentity are public, unsigned
//     APIs (the Go SDK resolves the anonymous auth scheme for them:
//     service/cognitoidentity/auth.go operationAuthOptions).
//   - Credentials from GetCredentialsForIdentity last one hour (developer
//     guide, "Identity pools (federated identities) authentication flow").
const (
	cognitoTarget        = "AWSCognitoIdentityService."
	defaultTokenDuration = 15 * time.Minute
	guestTokenDuration   = 10 * time.Minute
	cognitoCredsLifetime = time.Hour
	maxJSONBody          = 1 << 20
	// cognitoClaimHost names the identity-pool-arn claim of the stand-in's
	// tokens (the global issuer's form; nothing checks it).
	cognitoClaimHost = "cognito-identity.amazonaws.com"
)

// Cognito operation names, for FailNext and Calls.
const (
	OpGetOpenIDTokenForDeveloperIdentity = "GetOpenIdTokenForDeveloperIdentity"
	OpGetID                              = "GetId"
	OpGetOpenIDToken                     = "GetOpenIdToken"
	OpGetCredentialsForIdentity          = "GetCredentialsForIdentity"
	OpLookupDeveloperIdentity            = "LookupDeveloperIdentity"
	OpUnlinkDeveloperIdentity            = "UnlinkDeveloperIdentity"
)

// Pool is the identity pool of a template, as the stand-ins enforce it.
type Pool struct {
	ID                string
	Region, Partition string
	DeveloperProvider string
	AllowGuests       bool // AllowUnauthenticatedIdentities
	AllowClassicFlow  bool
	LoginKey          string                   // Logins key of the pool's own tokens
	Roles             map[string]string        // "authenticated"/"unauthenticated" -> role ARN
	MaxSession        map[string]time.Duration // role ARN -> MaxSessionDuration
}

// PoolFromModel reads the template's single AWS::Cognito::IdentityPool and
// its roles.
func PoolFromModel(m *accessmatrix.Model) (Pool, error) {
	resources, _ := m.Template()["Resources"].(map[string]any)
	var props map[string]any
	n := 0
	for _, r := range resources {
		res, _ := r.(map[string]any)
		if res["Type"] == "AWS::Cognito::IdentityPool" {
			props, _ = res["Properties"].(map[string]any)
			n++
		}
	}
	if n != 1 {
		return Pool{}, fmt.Errorf("standin: template has %d AWS::Cognito::IdentityPool resources, want 1", n)
	}
	p := Pool{
		ID: m.IdentityPoolID(), Region: m.Region(), Partition: m.Partition(),
		LoginKey:   LoginKey(m.Region()),
		Roles:      map[string]string{},
		MaxSession: map[string]time.Duration{},
	}
	p.DeveloperProvider, _ = props["DeveloperProviderName"].(string)
	if p.DeveloperProvider == "" {
		return Pool{}, errors.New("standin: the identity pool has no DeveloperProviderName")
	}
	p.AllowGuests, _ = props["AllowUnauthenticatedIdentities"].(bool)
	p.AllowClassicFlow, _ = props["AllowClassicFlow"].(bool)
	for _, key := range []string{"authenticated", "unauthenticated"} {
		arn := m.RoleARN(key)
		if arn == "" {
			continue
		}
		p.Roles[key] = arn
		p.MaxSession[arn] = time.Hour // IAM's default MaxSessionDuration
		logicalID := arn[strings.LastIndex(arn, "/")+1:]
		role, _ := resources[logicalID].(map[string]any)
		rp, _ := role["Properties"].(map[string]any)
		if v, ok := rp["MaxSessionDuration"].(float64); ok {
			p.MaxSession[arn] = time.Duration(v) * time.Second
		}
	}
	return p, nil
}

// LoginKey is the Logins key of tokens from GetOpenIdTokenForDeveloperIdentity
// in region, from the contract the stack and the vendor share.
func LoginKey(region string) string { return contract.LoginKey(region) }

// CognitoOptions configures the Cognito Identity stand-in.
type CognitoOptions struct {
	Model    *accessmatrix.Model
	Sessions *Sessions
	Now      func() time.Time // default time.Now
	// Trust decides whether a role's trust policy lets a session with
	// principal tags take the role (sts:TagSession). Without it, tokens
	// with PrincipalTags cannot be exchanged for credentials.
	Trust TrustChecker
	// CredentialLifetime of GetCredentialsForIdentity credentials; default
	// one hour, as Cognito's. Tests shorten it to outlive credentials.
	CredentialLifetime time.Duration
}

// Cognito is a Cognito Identity endpoint for the template's identity pool.
type Cognito struct {
	Pool     Pool
	sessions *Sessions
	now      func() time.Time
	key      *rsa.PrivateKey
	trust    TrustChecker
	credTTL  time.Duration

	mu         sync.Mutex
	identities map[string]identityRecord // identity id -> record
	byUser     map[string]string         // developer user identifier -> identity id
	tokens     map[string]TokenInfo
	calls      map[string]int
	failures   map[string]failure
	limits     map[string]*rate.Limiter
}

type identityRecord struct {
	devUser  string // "" for a guest
	unlinked bool   // its developer login was unlinked: no login left
}

type failure struct {
	code string
	n    int
}

// TokenInfo is what the stand-in knows about a token it issued.
type TokenInfo struct {
	IdentityID string
	Audience   string // the pool id
	Amr        []string
	Expiration time.Time
	// Tags are the PrincipalTags of GetOpenIdTokenForDeveloperIdentity,
	// also in the token's https://aws.amazon.com/tags claim.
	Tags map[string]string
}

// NewCognito returns the stand-in of the model's identity pool.
func NewCognito(o CognitoOptions) (*Cognito, error) {
	if o.Model == nil || o.Sessions == nil {
		return nil, errors.New("standin: CognitoOptions needs Model and Sessions")
	}
	pool, err := PoolFromModel(o.Model)
	if err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	c := &Cognito{
		Pool: pool, sessions: o.Sessions, now: o.Now, key: key, trust: o.Trust, credTTL: o.CredentialLifetime,
		identities: map[string]identityRecord{}, byUser: map[string]string{},
		tokens: map[string]TokenInfo{}, calls: map[string]int{}, failures: map[string]failure{},
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.credTTL <= 0 {
		c.credTTL = cognitoCredsLifetime
	}
	return c, nil
}

// FailNext makes the next n calls of op fail with the AWS error code (e.g.
// TooManyRequestsException); n <= 0 clears it.
func (c *Cognito) FailNext(op, code string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n <= 0 {
		delete(c.failures, op)
		return
	}
	c.failures[op] = failure{code, n}
}

// Limit enforces a token bucket of rps requests per second (burst) on op,
// as Cognito's account-wide quotas do ("Quotas in Amazon Cognito",
// https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html:
// GetOpenIdTokenForDeveloperIdentity 50 RPS, GetId 25, GetOpenIdToken and
// GetCredentialsForIdentity 200 by default). A call beyond it fails with
// TooManyRequestsException, HTTP 400 (the operations' documented throttling
// error, service/cognitoidentity types.TooManyRequestsException). It runs on
// the wall clock, not CognitoOptions.Now. rps <= 0 removes the limit.
func (c *Cognito) Limit(op string, rps float64, burst int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.limits == nil {
		c.limits = map[string]*rate.Limiter{}
	}
	if rps <= 0 {
		delete(c.limits, op)
		return
	}
	c.limits[op] = rate.NewLimiter(rate.Limit(rps), max(1, burst))
}

// Calls is how many requests op received (failed ones included).
func (c *Cognito) Calls(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

// Token looks up a token this stand-in issued; expired tokens are returned
// too, so the caller can tell expired from unknown.
func (c *Cognito) Token(token string) (TokenInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tokens[token]
	return t, ok
}

// IdentityOf is the identity id of a developer user identifier, if any.
func (c *Cognito) IdentityOf(devUser string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.byUser[devUser]
	return id, ok
}

func (c *Cognito) record(op string) *AWSError {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[op]++
	f, ok := c.failures[op]
	if !ok {
		if l := c.limits[op]; l != nil && !l.Allow() {
			return &AWSError{http.StatusBadRequest, "TooManyRequestsException", "Rate exceeded"}
		}
		return nil
	}
	if f.n--; f.n <= 0 {
		delete(c.failures, op)
	} else {
		c.failures[op] = f
	}
	status := http.StatusBadRequest
	if f.code == "InternalErrorException" {
		status = http.StatusInternalServerError
	}
	return &AWSError{status, f.code, "injected by the stand-in"}
}

// ServeHTTP implements the JSON 1.1 protocol with the real endpoint's CORS.
func (c *Cognito) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Origin") != "" {
		cognitoCORS(w, r)
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusOK)
			return
		}
	}
	w.Header().Set("X-Amzn-Requestid", requestIDString())
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), cognitoTarget)
	if r.Method != http.MethodPost || r.URL.Path != "/" || !ok {
		// An unknown target is UnknownOperationException in AWS JSON protocols.
		writeJSONError(w, &AWSError{http.StatusBadRequest, "UnknownOperationException", "expected POST / with X-Amz-Target: AWSCognitoIdentityService.<operation>"})
		return
	}
	handler := map[string]func(*http.Request, io.Reader) (any, *AWSError){
		OpGetOpenIDTokenForDeveloperIdentity: c.developerToken,
		OpGetID:                              c.getID,
		OpGetOpenIDToken:                     c.getOpenIDToken,
		OpGetCredentialsForIdentity:          c.getCredentials,
		OpLookupDeveloperIdentity:            c.lookupDeveloperIdentity,
		OpUnlinkDeveloperIdentity:            c.unlinkDeveloperIdentity,
	}[op]
	if handler == nil {
		writeJSONError(w, &AWSError{http.StatusBadRequest, "UnknownOperationException", "the stand-in does not implement " + op})
		return
	}
	if e := c.record(op); e != nil {
		writeJSONError(w, e)
		return
	}
	out, e := handler(r, r.Body)
	if e != nil {
		writeJSONError(w, e)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

// cognitoCORS answers browsers as the Cognito endpoints do: any origin,
// preflight echoing the requested headers, POST, a 2-day max age, and the
// error headers exposed. Observed responses of the AWS JSON front end shared
// by cognito-identity, cognito-idp and cognito-sync:
//
//	Access-Control-Allow-Origin: *
//	Access-Control-Allow-Headers: <Access-Control-Request-Headers>
//	Access-Control-Allow-Methods: POST
//	Access-Control-Expose-Headers: x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date
//	Access-Control-Max-Age: 172800
func cognitoCORS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date")
	if r.Method == http.MethodOptions {
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
		h.Set("Access-Control-Allow-Methods", "POST")
		h.Set("Access-Control-Max-Age", "172800")
	}
}

func writeJSONError(w http.ResponseWriter, e *AWSError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", e.Code)
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
}

func requestIDString() string {
	b := randomHex(16)
	return b[:8] + "-" + b[8:12] + "-" + b[12:16] + "-" + b[16:20] + "-" + b[20:]
}

func invalidParameter(format string, a ...any) *AWSError {
	return &AWSError{http.StatusBadRequest, "InvalidParameterException", fmt.Sprintf(format, a...)}
}

func notAuthorized(msg string) *AWSError {
	return &AWSError{http.StatusBadRequest, "NotAuthorizedException", msg}
}

func decodeJSON(body io.Reader, v any) *AWSError {
	dec := json.NewDecoder(io.LimitReader(body, maxJSONBody))
	if err := dec.Decode(v); err != nil {
		return &AWSError{http.StatusBadRequest, "SerializationException", "request body is not the operation's JSON input"}
	}
	return nil
}

func (c *Cognito) checkPool(id string) *AWSError {
	if id != c.Pool.ID {
		return &AWSError{http.StatusBadRequest, "ResourceNotFoundException", fmt.Sprintf("IdentityPool '%s' not found.", id)}
	}
	return nil
}

type developerTokenInput struct {
	IdentityPoolID string            `json:"IdentityPoolId"`
	IdentityID     string            `json:"IdentityId"`
	Logins         map[string]string `json:"Logins"`
	PrincipalTags  map[string]string `json:"PrincipalTags"`
	TokenDuration  *int64            `json:"TokenDuration"`
}

// developerToken is GetOpenIdTokenForDeveloperIdentity, signed with the
// vendor's static developer credentials.
func (c *Cognito) developerToken(r *http.Request, _ io.Reader) (any, *AWSError) {
	sess, anonymous, body, e := VerifySigV4(r, "cognito-identity", c.Pool.Region, c.sessions, c.now())
	if e != nil {
		return nil, e
	}
	if anonymous {
		// IAM-authenticated APIs refuse unsigned requests (Common Errors:
		// MissingAuthenticationToken, HTTP 403).
		return nil, &AWSError{http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	if sess.RoleARN != "" {
		// Role sessions from the pool carry no cognito-identity permission.
		return nil, &AWSError{http.StatusBadRequest, "AccessDeniedException", "User: " + sess.RoleARN + " is not authorized to perform: cognito-identity:GetOpenIdTokenForDeveloperIdentity"}
	}
	var in developerTokenInput
	if e := decodeJSON(body, &in); e != nil {
		return nil, e
	}
	if e := c.checkPool(in.IdentityPoolID); e != nil {
		return nil, e
	}
	duration := defaultTokenDuration
	if in.TokenDuration != nil {
		if *in.TokenDuration < 1 || *in.TokenDuration > 86400 {
			return nil, invalidParameter("TokenDuration must be between 1 and 86400 seconds")
		}
		duration = time.Duration(*in.TokenDuration) * time.Second
	}
	user, ok := in.Logins[c.Pool.DeveloperProvider]
	if len(in.Logins) != 1 || !ok || user == "" {
		return nil, invalidParameter("Logins must hold exactly the pool's developer provider %q", c.Pool.DeveloperProvider)
	}
	if e := checkPrincipalTags(in.PrincipalTags); e != nil {
		return nil, e
	}
	id, e := c.identityForUser(user, in.IdentityID)
	if e != nil {
		return nil, e
	}
	token, e := c.issueToken(id, []string{"authenticated", c.Pool.DeveloperProvider}, in.PrincipalTags, duration)
	if e != nil {
		return nil, e
	}
	return map[string]string{"IdentityId": id, "Token": token}, nil
}

// checkPrincipalTags applies the API's bounds on PrincipalTags: "Maximum
// number of 50 items", keys "Length Constraints: Minimum length of 1.
// Maximum length of 128", values "Minimum length of 1. Maximum length of
// 256" (GetOpenIdTokenForDeveloperIdentity; botocore cognito-identity
// PrincipalTags, PrincipalTagID, PrincipalTagValue). Cognito itself checks
// no character set; STS does (the STS stand-in).
func checkPrincipalTags(tags map[string]string) *AWSError {
	if len(tags) > 50 {
		return invalidParameter("1 validation error detected: Value at 'principalTags' failed to satisfy constraint: Member must have length less than or equal to 50")
	}
	for k, v := range tags {
		if k == "" || utf8.RuneCountInString(k) > 128 || v == "" || utf8.RuneCountInString(v) > 256 {
			return invalidParameter("1 validation error detected: Value at 'principalTags' failed to satisfy constraint: Map keys must have length 1-128 and values length 1-256")
		}
	}
	return nil
}

// identityForUser maps a developer user identifier to its identity id,
// creating it (or linking the given unlinked identity) on first use.
func (c *Cognito) identityForUser(user, want string) (string, *AWSError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.byUser[user]; ok {
		if want != "" && want != id {
			return "", &AWSError{http.StatusBadRequest, "ResourceConflictException", "the developer user identifier is already linked to another identity"}
		}
		return id, nil
	}
	id := want
	if id != "" {
		rec, ok := c.identities[id]
		if !ok {
			return "", &AWSError{http.StatusBadRequest, "ResourceNotFoundException", fmt.Sprintf("Identity '%s' not found.", id)}
		}
		if rec.devUser != "" {
			return "", &AWSError{http.StatusBadRequest, "ResourceConflictException", "the identity is linked to another developer user identifier"}
		}

	} else {
		id = c.newIdentityID()
	}
	c.identities[id] = identityRecord{devUser: user}
	c.byUser[user] = id
	return id, nil
}

func (c *Cognito) newIdentityID() string {
	b := []byte(randomHex(16))
	b[12] = '4' // a version-4 UUID, as Cognito's
	return c.Pool.Region + ":" + string(b[:8]) + "-" + string(b[8:12]) + "-" + string(b[12:16]) + "-" + string(b[16:20]) + "-" + string(b[20:])
}

// issueToken signs a token shaped like Cognito's (RS256; iss, aud = pool,
// sub = identity id, amr, and the principal tags in the
// https://aws.amazon.com/tags claim, where STS reads session tags from) and
// remembers it: verification is by lookup.
func (c *Cognito) issueToken(identityID string, amr []string, tags map[string]string, d time.Duration) (string, *AWSError) {
	now := c.now()
	exp := now.Add(d).Truncate(time.Second)
	claims := jwt.MapClaims{
		"iss": "https://" + c.Pool.LoginKey,
		"aud": c.Pool.ID,
		"sub": identityID,
		"amr": amr,
		"iat": now.Unix(),
		"exp": exp.Unix(),
		"jti": randomHex(8),
		"https://" + cognitoClaimHost + "/identity-pool-arn": fmt.Sprintf("arn:%s:cognito-identity:%s:111122223333:identitypool/%s", c.Pool.Partition, c.Pool.Region, c.Pool.ID),
	}
	if len(tags) > 0 {
		claims[contract.PrincipalTagsClaim] = contract.PrincipalTagsClaimValue(tags)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = "standin-1"
	s, err := tok.SignedString(c.key)
	if err != nil {
		return "", &AWSError{http.StatusInternalServerError, "InternalErrorException", "signing the token failed"}
	}
	c.mu.Lock()
	c.tokens[s] = TokenInfo{IdentityID: identityID, Audience: c.Pool.ID, Amr: append([]string(nil), amr...), Expiration: exp, Tags: maps.Clone(tags)}
	c.mu.Unlock()
	return s, nil
}

type getIDInput struct {
	IdentityPoolID string            `json:"IdentityPoolId"`
	AccountID      string            `json:"AccountId"`
	Logins         map[string]string `json:"Logins"`
}

// getID is GetId: a new guest identity without Logins, or the identity of a
// token of this pool.
func (c *Cognito) getID(_ *http.Request, body io.Reader) (any, *AWSError) {
	var in getIDInput
	if e := decodeJSON(body, &in); e != nil {
		return nil, e
	}
	if e := c.checkPool(in.IdentityPoolID); e != nil {
		return nil, e
	}
	if len(in.Logins) == 0 {
		if !c.Pool.AllowGuests {
			return nil, notAuthorized("Unauthenticated access is not supported for this identity pool.")
		}
		id := c.newIdentityID()
		c.mu.Lock()
		c.identities[id] = identityRecord{}
		c.mu.Unlock()
		return map[string]string{"IdentityId": id}, nil
	}
	info, e := c.checkLogins(in.Logins, "")
	if e != nil {
		return nil, e
	}
	return map[string]string{"IdentityId": info.IdentityID}, nil
}

// checkLogins accepts exactly {loginKey: token} with a live token of this
// pool, for identityID when it is not "".
func (c *Cognito) checkLogins(logins map[string]string, identityID string) (TokenInfo, *AWSError) {
	token, ok := logins[c.Pool.LoginKey]
	if len(logins) != 1 || !ok {
		keys := make([]string, 0, len(logins))
		for k := range logins {
			keys = append(keys, k)
		}
		return TokenInfo{}, notAuthorized(fmt.Sprintf("Invalid login token. Logins must be {%q: <token>}, got keys %q.", c.Pool.LoginKey, keys))
	}
	info, ok := c.Token(token)
	switch {
	case !ok:
		return TokenInfo{}, notAuthorized("Invalid login token. Not a valid OpenId Connect identity token.")
	case info.Audience != c.Pool.ID:
		return TokenInfo{}, notAuthorized("Invalid login token. Incorrect audience.")
	case !c.now().Before(info.Expiration):
		// Cognito's own words, with the times in epoch seconds (seen in
		// aws-amplify/aws-sdk-ios#2570: "Invalid login token. Token expired:
		// 1589092400 >= 1589092129"; qqaatw/JciHitachiHA#33 likewise).
		return TokenInfo{}, notAuthorized(fmt.Sprintf("Invalid login token. Token expired: %d >= %d", c.now().Unix(), info.Expiration.Unix()))
	case identityID != "" && info.IdentityID != identityID:
		return TokenInfo{}, notAuthorized("Invalid login token. Token is not from a supported provider of this identity pool.")
	}
	return info, nil
}

type identityInput struct {
	IdentityID    string            `json:"IdentityId"`
	Logins        map[string]string `json:"Logins"`
	CustomRoleARN string            `json:"CustomRoleArn"`
}

// identity checks that id exists (in this pool).
func (c *Cognito) identity(id string) (identityRecord, *AWSError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.identities[id]
	if !ok {
		return rec, &AWSError{http.StatusBadRequest, "ResourceNotFoundException", fmt.Sprintf("Identity '%s' not found.", id)}
	}
	return rec, nil
}

// caller authenticates a GetOpenIdToken or GetCredentialsForIdentity call:
// an existing identity, and either Logins with a live token of it, or no
// Logins for a guest identity of a pool that allows guests. It returns the
// amr the call acts with and the principal tags of the token it presented.
func (c *Cognito) caller(in identityInput) ([]string, map[string]string, *AWSError) {
	rec, e := c.identity(in.IdentityID)
	if e != nil {
		return nil, nil, e
	}
	if rec.unlinked {
		// The developer login was unlinked (s3vend admin revoke): the
		// identity has no login left, so its tokens buy nothing new.
		return nil, nil, notAuthorized("Logins don't match. Please include at least one valid login for this identity or identity pool.")
	}
	if len(in.Logins) == 0 {
		if rec.devUser != "" || !c.Pool.AllowGuests {
			return nil, nil, notAuthorized("Logins don't match. Please include at least one valid login for this identity or identity pool.")
		}
		return []string{"unauthenticated"}, nil, nil
	}
	info, e := c.checkLogins(in.Logins, in.IdentityID)
	if e != nil {
		return nil, nil, e
	}
	return info.Amr, info.Tags, nil
}

type developerIdentityInput struct {
	IdentityPoolID          string `json:"IdentityPoolId"`
	IdentityID              string `json:"IdentityId"`
	DeveloperUserIdentifier string `json:"DeveloperUserIdentifier"`
	DeveloperProviderName   string `json:"DeveloperProviderName"`
}

// adminCall authenticates an IAM-signed operator call (LookupDeveloperIdentity,
// UnlinkDeveloperIdentity): static credentials only, as developerToken.
func (c *Cognito) adminCall(r *http.Request, op string) (developerIdentityInput, *AWSError) {
	var in developerIdentityInput
	sess, anonymous, body, e := VerifySigV4(r, "cognito-identity", c.Pool.Region, c.sessions, c.now())
	if e != nil {
		return in, e
	}
	if anonymous {
		return in, &AWSError{http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	if sess.RoleARN != "" {
		return in, &AWSError{http.StatusBadRequest, "AccessDeniedException", "User: " + sess.RoleARN + " is not authorized to perform: cognito-identity:" + op}
	}
	if e := decodeJSON(body, &in); e != nil {
		return in, e
	}
	return in, c.checkPool(in.IdentityPoolID)
}

// lookupDeveloperIdentity is LookupDeveloperIdentity: by IdentityId or by
// DeveloperUserIdentifier (one developer provider per pool, so at most one
// user per identity here).
func (c *Cognito) lookupDeveloperIdentity(r *http.Request, _ io.Reader) (any, *AWSError) {
	in, e := c.adminCall(r, OpLookupDeveloperIdentity)
	if e != nil {
		return nil, e
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id, user := in.IdentityID, in.DeveloperUserIdentifier
	switch {
	case id == "" && user == "":
		return nil, invalidParameter("IdentityId or DeveloperUserIdentifier is required")
	case id == "":
		var ok bool
		if id, ok = c.byUser[user]; !ok {
			return nil, &AWSError{http.StatusBadRequest, "ResourceNotFoundException", "No identity is linked to the developer user identifier."}
		}
	default:
		rec, ok := c.identities[id]
		if !ok {
			return nil, &AWSError{http.StatusBadRequest, "ResourceNotFoundException", fmt.Sprintf("Identity '%s' not found.", id)}
		}
		if user != "" && rec.devUser != user {
			return nil, &AWSError{http.StatusBadRequest, "ResourceNotFoundException", "The developer user identifier is not linked to the identity."}
		}
		user = rec.devUser
	}
	users := []string{}
	if user != "" {
		users = append(users, user)
	}
	return map[string]any{"IdentityId": id, "DeveloperUserIdentifierList": users}, nil
}

// unlinkDeveloperIdentity is UnlinkDeveloperIdentity: "Unlinked developer
// users will be considered new identities next time they are seen" (API
// reference); the identity stays, without its login.
func (c *Cognito) unlinkDeveloperIdentity(r *http.Request, _ io.Reader) (any, *AWSError) {
	in, e := c.adminCall(r, OpUnlinkDeveloperIdentity)
	if e != nil {
		return nil, e
	}
	if in.DeveloperProviderName != c.Pool.DeveloperProvider {
		return nil, invalidParameter("DeveloperProviderName must be the pool's developer provider %q", c.Pool.DeveloperProvider)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.identities[in.IdentityID]
	if !ok || rec.devUser != in.DeveloperUserIdentifier {
		return nil, &AWSError{http.StatusBadRequest, "ResourceNotFoundException", "The developer user identifier is not linked to the identity."}
	}
	c.identities[in.IdentityID] = identityRecord{unlinked: true}
	delete(c.byUser, in.DeveloperUserIdentifier)
	return map[string]any{}, nil
}

// getOpenIDToken is GetOpenIdToken: a guest's token without Logins, or a
// fresh token for the identity of a token of this pool.
func (c *Cognito) getOpenIDToken(_ *http.Request, body io.Reader) (any, *AWSError) {
	var in identityInput
	if e := decodeJSON(body, &in); e != nil {
		return nil, e
	}
	amr, tags, e := c.caller(in)
	if e != nil {
		return nil, e
	}
	token, e := c.issueToken(in.IdentityID, amr, tags, guestTokenDuration)
	if e != nil {
		return nil, e
	}
	return map[string]string{"IdentityId": in.IdentityID, "Token": token}, nil
}

// allowAssume asks the trust checker; without one a tagged session is refused.
func (c *Cognito) allowAssume(role, identityID string, amr []string, tags map[string]string) (bool, error) {
	if c.trust == nil {
		return false, errors.New("standin: no TrustChecker to decide sts:TagSession")
	}
	return c.trust.AllowAssume(accessmatrix.Session{RoleARN: role, IdentityID: identityID, Amr: amr, Tags: tags})
}

// getCredentials is GetCredentialsForIdentity (enhanced flow).
func (c *Cognito) getCredentials(_ *http.Request, body io.Reader) (any, *AWSError) {
	var in identityInput
	if e := decodeJSON(body, &in); e != nil {
		return nil, e
	}
	amr, tags, e := c.caller(in)
	if e != nil {
		return nil, e
	}
	roleKey := amr[0]
	if roleKey == "unauthenticated" && !c.Pool.AllowGuests {
		return nil, notAuthorized("Unauthenticated access is not supported for this identity pool.")
	}
	role := c.Pool.Roles[roleKey]
	if role == "" {
		return nil, &AWSError{http.StatusBadRequest, "InvalidIdentityPoolConfigurationException", "Invalid identity pool configuration. Check assigned IAM roles for this pool."}
	}
	if in.CustomRoleARN != "" && in.CustomRoleARN != role {
		return nil, invalidParameter("CustomRoleArn %q is not a role of this pool for this identity (the stand-in has no role mappings)", in.CustomRoleARN)
	}
	if len(tags) > 0 {
		// Cognito assumes the role with the tags as session tags; a trust
		// policy without sts:TagSession for them makes that fail, which
		// Cognito reports as a pool configuration error.
		if ok, err := c.allowAssume(role, in.IdentityID, amr, tags); err != nil || !ok {
			return nil, &AWSError{http.StatusBadRequest, "InvalidIdentityPoolConfigurationException", "Invalid identity pool configuration. Check assigned IAM roles for this pool."}
		}
	}
	sess := c.sessions.IssueTagged(role, in.IdentityID, amr, tags, c.credTTL)
	return map[string]any{
		"IdentityId": in.IdentityID,
		"Credentials": map[string]any{
			"AccessKeyId":  sess.AccessKeyID,
			"SecretKey":    sess.SecretAccessKey,
			"SessionToken": sess.SessionToken,
			// JSON 1.1 timestamps are epoch seconds.
			"Expiration": sess.Expiration.Unix(),
		},
	}, nil
}
