// Package standin runs local, strict stand-ins of the AWS services s3vend's
// clients and token vendor talk to: Cognito Identity, STS, S3 and API
// Gateway's CORS, plus WeChat's jscode2session. They are configured from a
// synthesized stack template (bucket policy, CORS rules, identity pool, roles)
// and reached through the real AWS SDKs with the standard endpoint settings
// (AWS_ENDPOINT_URL_<SERVICE>, BaseEndpoint) over TLS, so that a client that
// signs wrongly, writes under the wrong prefix or lacks a CORS header fails
// here as it would in AWS. Nothing here calls AWS.
//
// Used by the end-to-end tests (test/e2e) and by `make local` (cmd/s3vend-local).
package standin

import (
	"crypto/rand"
	"encoding/hex"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/s3vend/s3vend/internal/accessmatrix"
)

// Session is a set of temporary AWS credentials issued by the Cognito or STS
// stand-in for one Cognito identity and role.
type Session struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	RoleARN         string   // the identity pool role the credentials act as
	IdentityID      string   // ${cognito-identity.amazonaws.com:sub}
	Amr             []string // e.g. ["authenticated", "<developer provider>"]
	// Tags are the session tags (aws:PrincipalTag/<key> of every request
	// signed with these credentials).
	Tags       map[string]string
	Expiration time.Time
	// Principal and Policies are an IAM principal of the account outside
	// the pool (RoleARN empty), such as an operator's user, and its identity
	// policies (name -> document): S3 authorizes its requests with them
	// (Stack.PutOperator). Without them a role-less session is allowed
	// nothing on the bucket.
	Principal string
	Policies  map[string]any
}

// Sessions is the credential store shared by the issuing stand-ins (Cognito
// GetCredentialsForIdentity, STS AssumeRoleWithWebIdentity) and the verifying
// one (S3). Static credentials (the vendor's developer credentials) are
// sessions with no role.
type Sessions struct {
	mu    sync.Mutex
	byKey map[string]Session
	Now   func() time.Time // default time.Now
}

func (s *Sessions) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Issue creates and stores new temporary credentials without session tags.
func (s *Sessions) Issue(roleARN, identityID string, amr []string, lifetime time.Duration) Session {
	return s.IssueTagged(roleARN, identityID, amr, nil, lifetime)
}

// IssueTagged creates and stores new temporary credentials with session tags.
func (s *Sessions) IssueTagged(roleARN, identityID string, amr []string, tags map[string]string, lifetime time.Duration) Session {
	sess := Session{
		AccessKeyID:     "ASIA" + strings.ToUpper(randomHex(8)),
		SecretAccessKey: randomHex(20),
		SessionToken:    "standin-" + randomHex(32),
		RoleARN:         roleARN,
		IdentityID:      identityID,
		Amr:             append([]string(nil), amr...),
		Tags:            maps.Clone(tags),
		Expiration:      s.now().Add(lifetime).UTC().Truncate(time.Second),
	}
	s.Put(sess)
	return sess
}

// Put stores sess (tests use it to plant expired or static credentials).
func (s *Sessions) Put(sess Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byKey == nil {
		s.byKey = map[string]Session{}
	}
	s.byKey[sess.AccessKeyID] = sess
}

// Lookup finds the credentials of an access key id; expired ones are
// returned too, so the caller can answer ExpiredToken.
func (s *Sessions) Lookup(accessKeyID string) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.byKey[accessKeyID]
	return sess, ok
}

// Expired reports whether sess has expired.
func (s *Sessions) Expired(sess Session) bool {
	return !sess.Expiration.IsZero() && !s.now().Before(sess.Expiration)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// AWSError is an error response of a stand-in, in the service's own wire
// shape (S3 XML, JSON 1.1 __type, STS XML): HTTP status, AWS error code and a
// message. Codes and statuses follow the real service's documentation.
type AWSError struct {
	Status  int
	Code    string
	Message string
}

func (e *AWSError) Error() string { return e.Code + ": " + e.Message }

// TrustChecker decides whether a role's trust policy lets a Cognito web
// identity session take the role with its session tags
// (accessmatrix.Authorizer, the S3 stand-in's IAM evaluator).
type TrustChecker interface {
	AllowAssume(accessmatrix.Session) (bool, error)
}
