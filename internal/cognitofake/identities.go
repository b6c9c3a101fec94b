package cognitofake

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/s3vend/s3vend/contract"
)

// claimHost names the identity-pool-arn claim of the tokens (the global
// issuer's form; nothing checks it).
const claimHost = "cognito-identity.amazonaws.com"

// Error is a Cognito Identity error answer: the JSON 1.1 __type and message.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Status is the HTTP status Cognito Identity answers code with: every
// documented error of the operations is 400 except InternalErrorException
// (500) (API reference, each operation's Errors), and InternalFailure, the
// 500 every AWS query and JSON service may answer (API reference, "Common
// Errors").
func Status(code string) int {
	switch code {
	case "InternalErrorException", "InternalFailure":
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// NotAuthorized is a NotAuthorizedException with msg.
func NotAuthorized(msg string) *Error { return &Error{"NotAuthorizedException", msg} }

func notFound(msg string) *Error { return &Error{"ResourceNotFoundException", msg} }

func conflict(msg string) *Error { return &Error{"ResourceConflictException", msg} }

// noLoginsMatch is Cognito's answer to a call whose Logins do not fit the
// identity.
var noLoginsMatch = NotAuthorized("Logins don't match. Please include at least one valid login for this identity or identity pool.")

// Pool is what Identities needs to know of its identity pool.
type Pool struct {
	ID                string // identity pool id, "<region>:<uuid>"
	Region, Partition string
	DeveloperProvider string
	AllowGuests       bool   // AllowUnauthenticatedIdentities
	LoginKey          string // Logins key of the pool's own tokens (contract.LoginKey)
}

// TokenInfo is what Identities knows about a token it issued.
type TokenInfo struct {
	IdentityID string
	Audience   string // the pool id
	Amr        []string
	Expiration time.Time
	// Tags are the PrincipalTags of GetOpenIdTokenForDeveloperIdentity,
	// also in the token's https://aws.amazon.com/tags claim.
	Tags map[string]string
}

type identity struct {
	devUser  string // "" for a guest
	unlinked bool   // its developer login was unlinked: no login left
}

// Identities is the identity pool's bookkeeping: its identities (guests
// and developer-authenticated), the developer user identifier → identity
// mapping Cognito keeps, and the OpenID tokens it issued. It is safe for
// concurrent use.
type Identities struct {
	pool Pool
	now  func() time.Time
	key  *rsa.PrivateKey

	mu         sync.Mutex
	identities map[string]identity // identity id -> record
	byUser     map[string]string   // developer user identifier -> identity id
	tokens     map[string]TokenInfo
}

// NewIdentities returns the empty bookkeeping of pool, on clock now
// (time.Now if nil), with a fresh RS256 signing key.
func NewIdentities(pool Pool, now func() time.Time) (*Identities, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Identities{pool: pool, now: now, key: key,
		identities: map[string]identity{}, byUser: map[string]string{}, tokens: map[string]TokenInfo{}}, nil
}

// Now is the bookkeeping's clock.
func (s *Identities) Now() time.Time { return s.now() }

// Token looks up a token issued here; expired tokens are returned too, so
// the caller can tell expired from unknown.
func (s *Identities) Token(token string) (TokenInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[token]
	return t, ok
}

// IdentityOf is the identity id of a developer user identifier, if any.
func (s *Identities) IdentityOf(devUser string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.byUser[devUser]
	return id, ok
}

// ForDeveloper maps a developer user identifier to its identity id,
// creating it (or linking the given unlinked identity, want) on first use,
// as GetOpenIdTokenForDeveloperIdentity does.
func (s *Identities) ForDeveloper(user, want string) (string, *Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.byUser[user]; ok {
		if want != "" && want != id {
			return "", conflict("the developer user identifier is already linked to another identity")
		}
		return id, nil
	}
	id := want
	if id != "" {
		rec, ok := s.identities[id]
		if !ok {
			return "", identityNotFound(id)
		}
		if rec.devUser != "" {
			return "", conflict("the identity is linked to another developer user identifier")
		}
	} else {
		id = s.newID()
	}
	s.identities[id] = identity{devUser: user}
	s.byUser[user] = id
	return id, nil
}

// NewGuest creates a guest (unauthenticated) identity, as GetId without
// Logins does.
func (s *Identities) NewGuest() string {
	id := s.newID()
	s.mu.Lock()
	s.identities[id] = identity{}
	s.mu.Unlock()
	return id
}

func identityNotFound(id string) *Error {
	return notFound(fmt.Sprintf("Identity '%s' not found.", id))
}

// newID is a fresh identity id: the pool's region and a version-4 UUID, as
// Cognito's.
func (s *Identities) newID() string {
	b := []byte(randomHex(16))
	b[12] = '4'
	return s.pool.Region + ":" + string(b[:8]) + "-" + string(b[8:12]) + "-" + string(b[12:16]) + "-" + string(b[16:20]) + "-" + string(b[20:])
}

// Issue signs a token shaped like Cognito's (RS256; iss, aud = pool, sub =
// identity id, amr, and the principal tags in the
// https://aws.amazon.com/tags claim, where STS reads session tags from),
// valid for d, and remembers it: verification is by lookup.
func (s *Identities) Issue(identityID string, amr []string, tags map[string]string, d time.Duration) (string, *Error) {
	now := s.now()
	exp := now.Add(d).Truncate(time.Second)
	claims := jwt.MapClaims{
		"iss": "https://" + s.pool.LoginKey,
		"aud": s.pool.ID,
		"sub": identityID,
		"amr": amr,
		"iat": now.Unix(),
		"exp": exp.Unix(),
		"jti": randomHex(8),
		"https://" + claimHost + "/identity-pool-arn": fmt.Sprintf("arn:%s:cognito-identity:%s:111122223333:identitypool/%s", s.pool.Partition, s.pool.Region, s.pool.ID),
	}
	if len(tags) > 0 {
		claims[contract.PrincipalTagsClaim] = contract.PrincipalTagsClaimValue(tags)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = "standin-1"
	signed, err := tok.SignedString(s.key)
	if err != nil {
		return "", &Error{"InternalErrorException", "signing the token failed"}
	}
	s.mu.Lock()
	s.tokens[signed] = TokenInfo{IdentityID: identityID, Audience: s.pool.ID, Amr: append([]string(nil), amr...), Expiration: exp, Tags: maps.Clone(tags)}
	s.mu.Unlock()
	return signed, nil
}

// CheckLogins accepts exactly {LoginKey: token} with a live token of this
// pool, for identityID when it is not "".
func (s *Identities) CheckLogins(logins map[string]string, identityID string) (TokenInfo, *Error) {
	token, ok := logins[s.pool.LoginKey]
	if len(logins) != 1 || !ok {
		keys := make([]string, 0, len(logins))
		for k := range logins {
			keys = append(keys, k)
		}
		return TokenInfo{}, NotAuthorized(fmt.Sprintf("Invalid login token. Logins must be {%q: <token>}, got keys %q.", s.pool.LoginKey, keys))
	}
	info, ok := s.Token(token)
	switch {
	case !ok:
		return TokenInfo{}, NotAuthorized("Invalid login token. Not a valid OpenId Connect identity token.")
	case info.Audience != s.pool.ID:
		return TokenInfo{}, NotAuthorized("Invalid login token. Incorrect audience.")
	case !s.now().Before(info.Expiration):
		// Cognito's own words, with the times in epoch seconds (seen in
		// aws-amplify/aws-sdk-ios#2570: "Invalid login token. Token expired:
		// 1589092400 >= 1589092129"; qqaatw/JciHitachiHA#33 likewise).
		return TokenInfo{}, NotAuthorized(fmt.Sprintf("Invalid login token. Token expired: %d >= %d", s.now().Unix(), info.Expiration.Unix()))
	case identityID != "" && info.IdentityID != identityID:
		return TokenInfo{}, NotAuthorized("Invalid login token. Token is not from a supported provider of this identity pool.")
	}
	return info, nil
}

// Caller authenticates a GetOpenIdToken or GetCredentialsForIdentity call:
// an existing identity, and either Logins with a live token of it, or no
// Logins for a guest identity of a pool that allows guests. It returns the
// amr the call acts with and the principal tags of the token it presented.
func (s *Identities) Caller(identityID string, logins map[string]string) ([]string, map[string]string, *Error) {
	s.mu.Lock()
	rec, ok := s.identities[identityID]
	s.mu.Unlock()
	switch {
	case !ok:
		return nil, nil, identityNotFound(identityID)
	case rec.unlinked:
		// The developer login was unlinked (s3vend admin revoke): the
		// identity has no login left, so its tokens buy nothing new.
		return nil, nil, noLoginsMatch
	case len(logins) == 0:
		if rec.devUser != "" || !s.pool.AllowGuests {
			return nil, nil, noLoginsMatch
		}
		return []string{"unauthenticated"}, nil, nil
	}
	info, e := s.CheckLogins(logins, identityID)
	if e != nil {
		return nil, nil, e
	}
	return info.Amr, info.Tags, nil
}

// Lookup is LookupDeveloperIdentity: by identity id or by developer user
// identifier (one developer provider per pool, so at most one user per
// identity). It returns the identity id and its developer users.
func (s *Identities) Lookup(id, user string) (string, []string, *Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case id == "" && user == "":
		return "", nil, &Error{"InvalidParameterException", "IdentityId or DeveloperUserIdentifier is required"}
	case id == "":
		var ok bool
		if id, ok = s.byUser[user]; !ok {
			return "", nil, notFound("No identity is linked to the developer user identifier.")
		}
	default:
		rec, ok := s.identities[id]
		if !ok {
			return "", nil, identityNotFound(id)
		}
		if user != "" && rec.devUser != user {
			return "", nil, notFound("The developer user identifier is not linked to the identity.")
		}
		user = rec.devUser
	}
	users := []string{}
	if user != "" {
		users = append(users, user)
	}
	return id, users, nil
}

// Unlink is UnlinkDeveloperIdentity: "Unlinked developer users will be
// considered new identities next time they are seen" (API reference); the
// identity stays, without its login.
func (s *Identities) Unlink(id, user string) *Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.identities[id]
	if !ok || rec.devUser != user {
		return notFound("The developer user identifier is not linked to the identity.")
	}
	s.identities[id] = identity{unlinked: true}
	delete(s.byUser, user)
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
