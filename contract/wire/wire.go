// Package wire is the token vendor's HTTP API as both sides see it: the
// routes, the request and response bodies with their JSON names, and the
// error table (HTTP status, code, fixed message). The vendor
// (lambda/internal/httpapi) writes these types, the Go client (client)
// reads them, the stand-ins (client/clienttest) fake them, and the stack
// (infra) builds the WAF's 429 body from the same table; docs/api.md
// describes them for other clients. Like package contract it
// depends on the standard library only.
package wire

import (
	"errors"
	"strconv"
	"time"
)

// Routes of the API, relative to its base URL (the stack's TokenEndpoint
// output is the base + RouteToken).
const (
	RouteToken       = "/v1/token"
	RouteCredentials = "/v1/credentials"
	// RouteSession answers identity id and credentials in one round trip
	// through whichever flow the pool allows (clients without Cognito:
	// WeChat mini-programs, js/miniprogram).
	RouteSession = "/v1/session"
	RouteGuest   = "/v1/guest"
	RouteUpload  = "/v1/upload"
	RouteHealth  = "/healthz"
)

// MaxBodyBytes is the largest request body the vendor reads (16 KiB).
const MaxBodyBytes = 16 << 10

// LoginRequest is the body of POST /v1/token, /v1/credentials and /v1/session.
type LoginRequest struct {
	Provider   string `json:"provider"`   // a verifier's name
	Credential string `json:"credential"` // ID token, WeChat code or backend JWT
}

// GuestRequest is the optional body of POST /v1/guest: IdentityID reuses a
// guest identity obtained earlier.
type GuestRequest struct {
	IdentityID string `json:"identityId,omitempty"`
}

// UploadRequest is the body of POST /v1/upload: a login and the file.
type UploadRequest struct {
	Provider    string      `json:"provider"`
	Credential  string      `json:"credential"`
	Name        string      `json:"name"` // object name below the rule's prefix for the caller
	Size        *UploadSize `json:"size"` // declared size in bytes; required
	ContentType string      `json:"contentType"`
	Visibility  string      `json:"visibility,omitempty"` // VisibilityPrivate (default) or VisibilityProtected: the rule of that name
	// Rule names the access rule the key is built with (the stack's
	// AccessRules output; contract.Rule.Key); not with Visibility.
	Rule string `json:"rule,omitempty"`
}

// Visibility values of an upload: the key's top-level prefix.
const (
	VisibilityPrivate   = "private"
	VisibilityProtected = "protected"
)

// UploadSize is a JSON number of bytes. A number that is not a whole int64
// (1.5, 1e3, 1e30) decodes to -1, so that the vendor answers invalid_size
// rather than malformed_json; any other JSON type is an error.
type UploadSize int64

// UnmarshalJSON implements json.Unmarshaler.
func (s *UploadSize) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return errors.New("size must be a number")
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		n = -1
	}
	*s = UploadSize(n)
	return nil
}

// TokenResponse is the body of a 200 from POST /v1/token (enhanced flow):
// the client calls GetCredentialsForIdentity with Logins {LoginKey: Token}.
type TokenResponse struct {
	IdentityID     string    `json:"identityId"`
	Token          string    `json:"token"`
	ExpiresAt      time.Time `json:"expiresAt"`
	IdentityPoolID string    `json:"identityPoolId"`
	Region         string    `json:"region"`
	LoginKey       string    `json:"loginKey"`
	// UserID and Tenant are the caller's {userId} and {tenant} for access
	// rule keys (their session tag values, contract.UserTagValue), when
	// the stack's rules use them.
	UserID string `json:"userId,omitempty"`
	Tenant string `json:"tenant,omitempty"`
}

// CredentialsResponse is the body of a 200 from POST /v1/credentials (basic
// flow) and POST /v1/session (either flow: the basic flow when the pool
// allows it, else GetCredentialsForIdentity on the vendor's side).
type CredentialsResponse struct {
	IdentityID      string    `json:"identityId"`
	AccessKeyID     string    `json:"accessKeyId"`
	SecretAccessKey string    `json:"secretAccessKey"`
	SessionToken    string    `json:"sessionToken"`
	Expiration      time.Time `json:"expiration"`
	UserID          string    `json:"userId,omitempty"` // as TokenResponse.UserID
	Tenant          string    `json:"tenant,omitempty"` // as TokenResponse.Tenant
}

// GuestResponse is the body of a 200 from POST /v1/guest. With the pool's
// basic flow on it carries credentials (the CredentialsResponse fields); with
// it off, a Cognito token for GetCredentialsForIdentity (the TokenResponse
// fields, without expiresAt: a GetOpenIdToken token lasts 10 minutes).
type GuestResponse struct {
	IdentityID string `json:"identityId"`

	AccessKeyID     string     `json:"accessKeyId,omitempty"`
	SecretAccessKey string     `json:"secretAccessKey,omitempty"`
	SessionToken    string     `json:"sessionToken,omitempty"`
	Expiration      *time.Time `json:"expiration,omitempty"`

	Token          string `json:"token,omitempty"`
	IdentityPoolID string `json:"identityPoolId,omitempty"`
	Region         string `json:"region,omitempty"`
	LoginKey       string `json:"loginKey,omitempty"`
}

// Guest is c as the answer to a guest with the pool's basic flow on: the
// identity id and credentials (a guest has no userId or tenant).
func (c CredentialsResponse) Guest() GuestResponse {
	return GuestResponse{IdentityID: c.IdentityID, AccessKeyID: c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Expiration: &c.Expiration}
}

// HasCredentials reports whether the vendor returned AWS credentials (basic flow on).
func (g *GuestResponse) HasCredentials() bool { return g.AccessKeyID != "" }

// UploadResponse is a presigned S3 POST: send Fields, then the file as the
// last form field "file", to URL.
type UploadResponse struct {
	URL        string            `json:"url"`
	Fields     map[string]string `json:"fields"`
	Key        string            `json:"key"`
	IdentityID string            `json:"identityId"`
	ExpiresAt  time.Time         `json:"expiresAt"`
}

// HealthResponse is the body of GET /healthz.
type HealthResponse struct {
	Status string `json:"status"` // "ok"
}
