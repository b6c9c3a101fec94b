package vend

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/contract/wire"
	"github.com/s3vend/s3vend/lambda/internal/fault"
)

// UploadConfig is the core's slice of the upload route's configuration.
type UploadConfig struct {
	Bucket string                // "": POST /v1/upload is off (404)
	Limits contract.UploadLimits // normalized (contract.UploadLimits.Normalize)
	// Rules are the access rules a signed-in subject may put under
	// (S3VEND_ACCESS_RULES); nil: the default layout's (private, protected),
	// filled in by New.
	Rules []contract.UploadRule
}

// PostInput is what the signer puts in the POST policy.
type PostInput struct {
	Bucket      string
	Key         string        // exact key ("eq" condition)
	ContentType string        // exact Content-Type ("eq" condition)
	MaxBytes    int64         // content-length-range 1..MaxBytes
	Expires     time.Duration // policy expiration, from signing time
}

// PresignedPost is a signed form: POST to URL with Fields, then the file.
type PresignedPost struct {
	URL    string
	Fields map[string]string
}

// PostSigner signs an S3 POST policy with the caller's own credentials.
type PostSigner interface {
	PresignPost(ctx context.Context, creds AWSCredentials, in PostInput) (PresignedPost, error)
}

// UploadRequest is the body of POST /v1/upload.
type UploadRequest struct {
	Provider    string
	Credential  string
	Name        string // object name below the rule's prefix for the caller
	Size        int64  // declared size in bytes; < 1 when not a positive whole number
	ContentType string
	// Rule names the access rule the key is built with (its placeholders
	// filled with the caller's own values). Without it, Visibility names
	// the rule: wire.VisibilityPrivate (also when empty) or
	// wire.VisibilityProtected, the default layout's rules.
	Rule       string
	Visibility string
}

// Upload is the result of POST /v1/upload.
type Upload struct {
	URL        string
	Fields     map[string]string
	Key        string
	IdentityID string
	ExpiresAt  time.Time
	// Cached: the signing credentials came from the reuse cache, no AWS
	// call (not in the body).
	Cached bool
}

// InvalidUpload is a refused upload request (contract.InvalidUpload: the
// field at fault and fixed text that never echoes the input).
type InvalidUpload = contract.InvalidUpload

// maxKeyBytes: "The object key name consists of a sequence of Unicode
// characters encoded in UTF-8, with a maximum length of 1,024 bytes" and "the
// prefix, the delimiter (/), and the name of the object are included in the
// 1,024 byte limitation" (S3 User Guide, "Naming Amazon S3 objects",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html).
const maxKeyBytes = 1024

// maxContentTypeBytes bounds the signed Content-Type, parameters included.
const maxContentTypeBytes = 256

// identityIDLen is the length of an identity id after "<region>:" (a UUID).
const identityIDLen = 36

var (
	errVisibility = &InvalidUpload{Field: "visibility", Message: `visibility must be "private" (the default) or "protected", the rules of those names; name another rule with "rule".`}
	errRule       = &InvalidUpload{Field: "rule", Message: "rule must name an access rule that lets signed-in users put (the stack's AccessRules output lists them)."}
	errRuleAndVis = &InvalidUpload{Field: "rule", Message: "give rule or visibility, not both."}
	errRuleTenant = &InvalidUpload{Field: "rule", Message: "the rule's path has {tenant} and this login has no tenant (its verifier has no tenantClaim)."}
	errNameLength = &InvalidUpload{Field: "name", Message: "the object key (the rule's prefix for the caller, then name) must be at most 1024 bytes of UTF-8."}
)

// uploadErrors are the messages that name configured limits, built once.
type uploadErrors struct {
	size, contentType *InvalidUpload
	allowed           map[string]bool
}

func newUploadErrors(l contract.UploadLimits) uploadErrors {
	allowed := make(map[string]bool, len(l.ContentTypes))
	for _, t := range l.ContentTypes {
		allowed[t] = true
	}
	return uploadErrors{
		size: &InvalidUpload{Field: "size", Message: fmt.Sprintf("size must be a whole number of bytes from 1 to %d.", l.MaxBytes)},
		contentType: &InvalidUpload{Field: "contentType", Message: fmt.Sprintf("contentType must be one of %s (a charset parameter is kept).",
			strings.Join(l.ContentTypes, ", "))},
		allowed: allowed,
	}
}

// UploadsEnabled reports whether POST /v1/upload is served.
func (s *Service) UploadsEnabled() bool { return s.cfg.Upload.Bucket != "" && s.posts != nil }

// Upload checks the request, verifies the login, and signs a POST policy for
// exactly one key, the rule's prefix for the caller followed by the name
// (private/<identityId>/<name> by default), with the caller's own
// credentials, so the bucket's IAM policy for the identity's role still
// bounds what the form can write. Two AWS calls:
// GetOpenIdTokenForDeveloperIdentity, then GetCredentialsForIdentity
// (enhanced flow: it works whether or not the pool allows the basic flow;
// Cognito tags the session with the login's session tags). Signing is
// local. Bad input is refused before any call.
func (s *Service) Upload(ctx context.Context, req UploadRequest) (Upload, error) {
	if !s.UploadsEnabled() {
		return Upload{}, fault.New(fault.ErrNotFound, "uploads disabled", nil)
	}
	rule, contentType, err := s.CheckUpload(req)
	if err != nil {
		return Upload{}, err
	}
	user, values, err := s.uploadUser(ctx, req, rule)
	if err != nil {
		return Upload{}, err
	}
	// A cached entry must outlive a full-length form (and a second of
	// signing margin); the form itself is signed per request.
	e, hit, err := s.identityCredentials(ctx, user, s.cfg.Upload.Limits.Expiry+time.Second)
	if err != nil {
		return Upload{}, err
	}
	it, creds := e.it, e.creds
	start := s.cfg.Now()
	expires, err := s.formExpiry(creds.Expiration, start)
	if err != nil {
		return Upload{}, err
	}
	values.IdentityID = it.IdentityID
	key, err := rule.Key(values, req.Name)
	if err != nil {
		return Upload{}, fault.New(fault.ErrUpstream, "GetOpenIdTokenForDeveloperIdentity: identity id unusable in a key", err)
	}
	if err := s.checkQuota(ctx, it.IdentityID, key, req.Size); err != nil {
		return Upload{}, err
	}
	post, err := s.posts.PresignPost(ctx, creds, PostInput{
		Bucket:      s.cfg.Upload.Bucket,
		Key:         key,
		ContentType: contentType,
		MaxBytes:    req.Size,
		Expires:     expires,
	})
	if err != nil {
		return Upload{}, err
	}
	return Upload{
		URL:        post.URL,
		Fields:     post.Fields,
		Key:        key,
		IdentityID: it.IdentityID,
		ExpiresAt:  start.Add(expires).UTC().Truncate(time.Second), // signing happens after start: conservative
		Cached:     hit,
	}, nil
}

// uploadUser verifies the login and returns the user with the values its
// key is built from, refusing before any AWS call a rule that needs a
// tenant the login lacks and a name whose key would be too long (the
// key's exact length is known before the identity id).
func (s *Service) uploadUser(ctx context.Context, req UploadRequest, rule contract.Rule) (verifiedUser, contract.KeyValues, error) {
	user, err := s.verifyUser(ctx, req.Provider, req.Credential)
	if err != nil {
		return verifiedUser{}, contract.KeyValues{}, err
	}
	values := user.keyValues()
	if rule.Uses(contract.PlaceholderTenant) && values.Tenant == "" {
		return verifiedUser{}, contract.KeyValues{}, errRuleTenant
	}
	if s.keyLength(rule, values, req.Name) > maxKeyBytes {
		return verifiedUser{}, contract.KeyValues{}, errNameLength
	}
	return user, values, nil
}

// formExpiry is how long the form signed at start lives: the configured
// expiry, but never past the credentials that sign it (S3 would refuse it
// then anyway), with a second of margin for the signing time.
func (s *Service) formExpiry(credsExpire, start time.Time) (time.Duration, error) {
	expires := s.cfg.Upload.Limits.Expiry
	if left := (credsExpire.Sub(start) - time.Second).Truncate(time.Second); left < expires {
		expires = left
	}
	if expires < time.Second {
		return 0, fault.New(fault.ErrUpstream, "GetCredentialsForIdentity: credentials expire too soon", nil)
	}
	return expires, nil
}

// identityCredentials returns the identity's own credentials from
// GetCredentialsForIdentity (enhanced flow: it works whether or not the pool
// allows the basic flow), from the cache when they stay valid for extra
// more: GetOpenIdTokenForDeveloperIdentity (unless its token is cached),
// then GetCredentialsForIdentity.
func (s *Service) identityCredentials(ctx context.Context, user verifiedUser, extra time.Duration) (cacheEntry, bool, error) {
	e, hit, err := s.cached(ctx, user.key(kindIdentity), extra, func(ctx context.Context) (cacheEntry, error) {
		it, _, _, err := s.developerToken(ctx, user)
		if err != nil {
			return cacheEntry{}, err
		}
		if !ValidIdentityID(it.IdentityID, s.cfg.Region) {
			// Upload's key length check relies on this shape.
			return cacheEntry{}, fault.New(fault.ErrUpstream, "GetOpenIdTokenForDeveloperIdentity: unexpected identity id", nil)
		}
		creds, err := s.cognito.CredentialsForIdentity(ctx, it.IdentityID, map[string]string{s.cfg.LoginKey: it.Token})
		if err != nil {
			return cacheEntry{}, err
		}
		return cacheEntry{it: IdentityToken{IdentityID: it.IdentityID}, creds: creds}, nil
	})
	if err != nil {
		return cacheEntry{}, false, err
	}
	// The identity's own revocation (abuse.go), for /v1/upload and
	// /v1/session alike.
	if err := s.admit(ctx, "", e.it.IdentityID); err != nil {
		return cacheEntry{}, false, err
	}
	return e, hit, nil
}

// uploadRule is the rule an upload request names: by Rule, else by
// Visibility ("" is private), among the rules that allow uploads.
func (s *Service) uploadRule(req UploadRequest) (contract.Rule, *InvalidUpload) {
	name := req.Rule
	switch {
	case req.Rule != "" && req.Visibility != "":
		return contract.Rule{}, errRuleAndVis
	case req.Rule == "" && (req.Visibility == "" || req.Visibility == wire.VisibilityPrivate):
		name = wire.VisibilityPrivate
	case req.Rule == "" && req.Visibility == wire.VisibilityProtected:
		name = wire.VisibilityProtected
	case req.Rule == "":
		return contract.Rule{}, errVisibility
	}
	for _, r := range s.cfg.Upload.Rules {
		if r.Name == name {
			return r.Rule(), nil
		}
	}
	if req.Rule == "" {
		return contract.Rule{}, errVisibility
	}
	return contract.Rule{}, errRule
}

// keyLength is the length of the rule's key for v and name, with an identity
// id of this pool ("<region>:" and a UUID, so its length is known before
// Cognito answers).
func (s *Service) keyLength(rule contract.Rule, v contract.KeyValues, name string) int {
	v.IdentityID = s.cfg.Region + ":" + strings.Repeat("0", identityIDLen)
	k, err := rule.Key(v, name)
	if err != nil {
		return maxKeyBytes + 1
	}
	return len(k)
}

// CheckUpload validates an upload request without calling anything. It
// returns the rule the key is built with and the Content-Type to sign
// (media type lower-cased, parameters kept), or an *InvalidUpload. The key
// length is checked once the login's values are known (Upload), still
// before any AWS call.
func (s *Service) CheckUpload(req UploadRequest) (rule contract.Rule, contentType string, err error) {
	rule, e := s.uploadRule(req)
	if e != nil {
		return contract.Rule{}, "", e
	}
	if e := contract.CheckUploadName(req.Name); e != nil {
		return contract.Rule{}, "", e
	}
	// Before the login: with the shortest {userId} and {tenant} values
	// (exact for the default layout, whose keys have only {identityId}).
	if s.keyLength(rule, contract.KeyValues{UserID: "x", Tenant: "x"}, req.Name) > maxKeyBytes {
		return contract.Rule{}, "", errNameLength
	}
	if req.Size < 1 || req.Size > s.cfg.Upload.Limits.MaxBytes {
		return contract.Rule{}, "", s.uploadErrs.size
	}
	// Media types are case-insensitive (RFC 2045 section 5.1).
	mt, contentType, parsed, refused := contract.ParseUploadContentType(req.ContentType)
	switch {
	case !parsed || !s.uploadErrs.allowed[mt]:
		return contract.Rule{}, "", s.uploadErrs.contentType
	case refused != nil:
		return contract.Rule{}, "", refused
	case contentType == "" || len(contentType) > maxContentTypeBytes:
		return contract.Rule{}, "", s.uploadErrs.contentType
	}
	return rule, contentType, nil
}
