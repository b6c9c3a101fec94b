package standin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/accessmatrix"
	"github.com/s3vend/s3vend/internal/cognitofake"
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
	defaultTokenDuration = 15 * time.Minute
	guestTokenDuration   = 10 * time.Minute
	cognitoCredsLifetime = time.Hour
	maxJSONBody          = 1 << 20
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
	pools := templateResources(m.Template(), "AWS::Cognito::IdentityPool")
	if len(pools) != 1 {
		return Pool{}, fmt.Errorf("standin: template has %d AWS::Cognito::IdentityPool resources, want 1", len(pools))
	}
	var props map[string]any
	for _, p := range pools {
		props = p // the only one
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
		if v, ok := dig(m.Template(), "Resources", logicalID, "Properties", "MaxSessionDuration").(float64); ok {
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

// Cognito is a Cognito Identity endpoint for the template's identity pool:
// the JSON 1.1 protocol, SigV4 and the pool's roles here, the identity
// bookkeeping, injected failures and rate limits in package cognitofake.
type Cognito struct {
	Pool     Pool
	sessions *Sessions
	trust    TrustChecker
	credTTL  time.Duration
	ids      *cognitofake.Identities
	ops      cognitofake.Ops
}

// TokenInfo is what the stand-in knows about a token it issued.
type TokenInfo = cognitofake.TokenInfo

// NewCognito returns the stand-in of the model's identity pool.
func NewCognito(o CognitoOptions) (*Cognito, error) {
	if o.Model == nil || o.Sessions == nil {
		return nil, errors.New("standin: CognitoOptions needs Model and Sessions")
	}
	pool, err := PoolFromModel(o.Model)
	if err != nil {
		return nil, err
	}
	ids, err := cognitofake.NewIdentities(cognitofake.Pool{
		ID: pool.ID, Region: pool.Region, Partition: pool.Partition, DeveloperProvider: pool.DeveloperProvider,
		AllowGuests: pool.AllowGuests, LoginKey: pool.LoginKey,
	}, o.Now)
	if err != nil {
		return nil, err
	}
	c := &Cognito{Pool: pool, sessions: o.Sessions, trust: o.Trust, credTTL: o.CredentialLifetime, ids: ids}
	if c.credTTL <= 0 {
		c.credTTL = cognitoCredsLifetime
	}
	return c, nil
}

// FailNext makes the next n calls of op fail with the AWS error code (e.g.
// TooManyRequestsException); n <= 0 clears it.
func (c *Cognito) FailNext(op, code string, n int) { c.ops.Fail(op, code, max(n, 0)) }

// Limit enforces a token bucket of rps requests per second (burst) on op,
// as Cognito's account-wide quotas do (cognitofake.Ops.Limit): a call
// beyond it fails with TooManyRequestsException, HTTP 400. It runs on the
// wall clock, not CognitoOptions.Now. rps <= 0 removes the limit.
func (c *Cognito) Limit(op string, rps float64, burst int) { c.ops.Limit(op, rps, burst) }

// Calls is how many requests op received (failed ones included).
func (c *Cognito) Calls(op string) int { return c.ops.Calls(op) }

// Token looks up a token this stand-in issued; expired tokens are returned
// too, so the caller can tell expired from unknown.
func (c *Cognito) Token(token string) (TokenInfo, bool) { return c.ids.Token(token) }

// IdentityOf is the identity id of a developer user identifier, if any.
func (c *Cognito) IdentityOf(devUser string) (string, bool) { return c.ids.IdentityOf(devUser) }

func (c *Cognito) now() time.Time { return c.ids.Now() }

// record counts a call of op and returns its injected or throttling
// failure, if any.
func (c *Cognito) record(op string) *AWSError {
	switch call := c.ops.Record(op); {
	case call.Code == "":
		return nil
	case call.Limited:
		return &AWSError{http.StatusBadRequest, call.Code, "Rate exceeded"}
	default:
		return &AWSError{cognitofake.Status(call.Code), call.Code, "injected by the stand-in"}
	}
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
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), cognitofake.Target)
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
	w.Header().Set("Content-Type", cognitofake.JSONContentType)
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
	cognitofake.WriteError(w, e.Status, e.Code, e.Message)
}

func requestIDString() string {
	b := randomHex(16)
	return b[:8] + "-" + b[8:12] + "-" + b[12:16] + "-" + b[16:20] + "-" + b[20:]
}

func invalidParameter(format string, a ...any) *AWSError {
	return &AWSError{http.StatusBadRequest, "InvalidParameterException", fmt.Sprintf(format, a...)}
}

// awsError is the stand-in's answer for an error of the bookkeeping.
func awsError(e *cognitofake.Error) *AWSError {
	if e == nil {
		return nil
	}
	return &AWSError{cognitofake.Status(e.Code), e.Code, e.Message}
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

// iamCall authenticates an IAM-signed call of op (GetOpenIdTokenForDeveloperIdentity
// and the operator's LookupDeveloperIdentity, UnlinkDeveloperIdentity):
// static developer credentials only. It decodes the call's input into in.
func (c *Cognito) iamCall(r *http.Request, op string, in any) *AWSError {
	sess, anonymous, body, e := VerifySigV4(r, "cognito-identity", c.Pool.Region, c.sessions, c.now())
	if e != nil {
		return e
	}
	if anonymous {
		// IAM-authenticated APIs refuse unsigned requests (Common Errors:
		// MissingAuthenticationToken, HTTP 403).
		return &AWSError{http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	if sess.RoleARN != "" {
		// Role sessions from the pool carry no cognito-identity permission.
		return &AWSError{http.StatusBadRequest, "AccessDeniedException", "User: " + sess.RoleARN + " is not authorized to perform: cognito-identity:" + op}
	}
	return decodeJSON(body, in)
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
	var in developerTokenInput
	if e := c.iamCall(r, OpGetOpenIDTokenForDeveloperIdentity, &in); e != nil {
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
	id, e := c.ids.ForDeveloper(user, in.IdentityID)
	if e != nil {
		return nil, awsError(e)
	}
	token, e := c.ids.Issue(id, []string{"authenticated", c.Pool.DeveloperProvider}, in.PrincipalTags, duration)
	if e != nil {
		return nil, awsError(e)
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
			return nil, awsError(cognitofake.NotAuthorized("Unauthenticated access is not supported for this identity pool."))
		}
		return map[string]string{"IdentityId": c.ids.NewGuest()}, nil
	}
	info, e := c.ids.CheckLogins(in.Logins, "")
	if e != nil {
		return nil, awsError(e)
	}
	return map[string]string{"IdentityId": info.IdentityID}, nil
}

type identityInput struct {
	IdentityID    string            `json:"IdentityId"`
	Logins        map[string]string `json:"Logins"`
	CustomRoleARN string            `json:"CustomRoleArn"`
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
	if e := c.iamCall(r, op, &in); e != nil {
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
	id, users, le := c.ids.Lookup(in.IdentityID, in.DeveloperUserIdentifier)
	if le != nil {
		return nil, awsError(le)
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
	if e := c.ids.Unlink(in.IdentityID, in.DeveloperUserIdentifier); e != nil {
		return nil, awsError(e)
	}
	return map[string]any{}, nil
}

// caller decodes a GetOpenIdToken or GetCredentialsForIdentity call and
// authenticates it (cognitofake.Identities.Caller): the amr it acts with and
// the principal tags of the token it presented.
func (c *Cognito) caller(body io.Reader) (identityInput, []string, map[string]string, *AWSError) {
	var in identityInput
	if e := decodeJSON(body, &in); e != nil {
		return in, nil, nil, e
	}
	amr, tags, e := c.ids.Caller(in.IdentityID, in.Logins)
	return in, amr, tags, awsError(e)
}

// getOpenIDToken is GetOpenIdToken: a guest's token without Logins, or a
// fresh token for the identity of a token of this pool.
func (c *Cognito) getOpenIDToken(_ *http.Request, body io.Reader) (any, *AWSError) {
	in, amr, tags, e := c.caller(body)
	if e != nil {
		return nil, e
	}
	token, ie := c.ids.Issue(in.IdentityID, amr, tags, guestTokenDuration)
	if ie != nil {
		return nil, awsError(ie)
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
	in, amr, tags, e := c.caller(body)
	if e != nil {
		return nil, e
	}
	roleKey := amr[0]
	if roleKey == "unauthenticated" && !c.Pool.AllowGuests {
		return nil, awsError(cognitofake.NotAuthorized("Unauthenticated access is not supported for this identity pool."))
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
	return cognitofake.CredentialsOutput(in.IdentityID, cognitofake.Credentials{
		AccessKeyID: sess.AccessKeyID, SecretKey: sess.SecretAccessKey, SessionToken: sess.SessionToken, Expiration: sess.Expiration,
	}), nil
}
