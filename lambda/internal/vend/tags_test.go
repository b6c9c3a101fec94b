package vend_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/vend"
	"github.com/s3vend/s3vend/lambda/internal/verify"
)

// tenantVerifier verifies credential "<id>@<tenant>" ("" tenant: none).
type tenantVerifier struct{ name string }

func (v tenantVerifier) Name() string { return v.name }
func (v tenantVerifier) Verify(_ context.Context, c string) (verify.Identity, error) {
	id, tenant, _ := strings.Cut(c, "@")
	return verify.Identity{ID: id, Tenant: tenant}, nil
}

// cognitoToken is a token shaped like Cognito's, carrying tags in the
// https://aws.amazon.com/tags claim as Cognito does (nil: no claim).
func cognitoToken(t *testing.T, tags map[string]string) string {
	t.Helper()
	claims := map[string]any{"sub": "eu-west-1:abc"}
	if tags != nil {
		claims[contract.PrincipalTagsClaim] = contract.PrincipalTagsClaimValue(tags)
	}
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return "eyJhbGciOiJSUzUxMiJ9." + base64.RawURLEncoding.EncodeToString(b) + ".c2ln"
}

type tagHarness struct {
	svc       *vend.Service
	logins    []vend.DeveloperLogin
	assumes   int
	dropClaim bool // Cognito returns a token without the tags claim
}

func newTagHarness(t *testing.T, keys []string) *tagHarness {
	t.Helper()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	h := &tagHarness{}
	h.svc = vend.New(vend.Config{
		IdentityPoolID: "eu-west-1:p", DeveloperProvider: "dev", Region: "eu-west-1", LoginKey: "k",
		AuthRoleARN: "auth", TokenDuration: time.Hour, CredentialLifetime: time.Hour, BasicFlow: true,
		Now: func() time.Time { return now }, SessionTags: keys,
	}, []verify.Verifier{tenantVerifier{"idp"}, tenantVerifier{"other"}},
		fnCognito{dev: func(in vend.DeveloperLogin) (vend.IdentityToken, error) {
			h.logins = append(h.logins, in)
			tags := in.PrincipalTags
			if h.dropClaim {
				tags = nil
			}
			return vend.IdentityToken{IdentityID: "eu-west-1:abc", Token: cognitoToken(t, tags)}, nil
		}},
		fnSTS(func(vend.AssumeInput) (vend.AWSCredentials, error) {
			h.assumes++
			return vend.AWSCredentials{AccessKeyID: "A", SecretAccessKey: "S", SessionToken: "T", Expiration: now.Add(time.Hour)}, nil
		}), nil)
	return h
}

func (h *tagHarness) last() map[string]string { return h.logins[len(h.logins)-1].PrincipalTags }

// The vendor passes the configured tags, built from the verified identity by
// the contract's mapping, as PrincipalTags of
// GetOpenIdTokenForDeveloperIdentity; without S3VEND_SESSION_TAGS it passes
// none, as before.
func TestSessionTagsArePassedToCognito(t *testing.T) {
	ctx := context.Background()
	h := newTagHarness(t, []string{contract.TagUser, contract.TagTenant})
	if _, err := h.svc.Token(ctx, "idp", "auth0|42@org_7"); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{contract.TagUser: "idp:auth0=7C42", contract.TagTenant: "idp:org_7"}
	if !maps.Equal(h.last(), want) {
		t.Errorf("PrincipalTags %v, want %v", h.last(), want)
	}
	// No tenant from this verifier: no tenant tag (rules keyed by {tenant}
	// do not apply), the user tag as before.
	if _, err := h.svc.Token(ctx, "idp", "u2"); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(h.last(), map[string]string{contract.TagUser: "idp:u2"}) {
		t.Errorf("PrincipalTags %v", h.last())
	}

	plain := newTagHarness(t, nil)
	if _, err := plain.svc.Token(ctx, "idp", "u@t"); err != nil || plain.last() != nil {
		t.Errorf("no session tags configured: %v %v", plain.last(), err)
	}
}

// Reuse cache: per user and per tag set. The same user with another tenant
// (a token naming another organisation) must not get the token, or the
// credentials, issued with the first tenant's tags.
func TestReuseCacheIsPerTagSet(t *testing.T) {
	ctx := context.Background()
	h := newTagHarness(t, []string{contract.TagUser, contract.TagTenant})
	for _, c := range []string{"u@t1", "u@t1", "u@t2", "u@t2", "u@t1"} {
		if _, err := h.svc.Credentials(ctx, "idp", c); err != nil {
			t.Fatal(err)
		}
	}
	if len(h.logins) != 2 || h.assumes != 2 {
		t.Fatalf("want one Cognito and one STS call per tag set, got %d and %d", len(h.logins), h.assumes)
	}
	if h.logins[0].PrincipalTags[contract.TagTenant] != "idp:t1" || h.logins[1].PrincipalTags[contract.TagTenant] != "idp:t2" {
		t.Errorf("tags %v then %v", h.logins[0].PrincipalTags, h.logins[1].PrincipalTags)
	}
	// The namespaced user id keys the cache as before: another verifier's
	// user with the same id is another entry.
	if _, err := h.svc.Token(ctx, "other", "u@t1"); err != nil || len(h.logins) != 3 {
		t.Errorf("other verifier: %v, %d calls", err, len(h.logins))
	}
}

// Basic flow: STS takes session tags only from the token's claim; a token
// without them would give untagged credentials, so the vendor refuses
// (502) before calling STS.
func TestBasicFlowRefusesATokenWithoutTheTags(t *testing.T) {
	ctx := context.Background()
	h := newTagHarness(t, []string{contract.TagUser})
	h.dropClaim = true
	if _, err := h.svc.Credentials(ctx, "idp", "u"); !errors.Is(err, fault.ErrUpstream) || h.assumes != 0 {
		t.Fatalf("got %v after %d STS calls; want ErrUpstream before any", err, h.assumes)
	}
	// The enhanced flow hands the token to the client, which exchanges it
	// with Cognito (Cognito tags the session itself).
	if _, err := h.svc.Token(ctx, "idp", "u"); err != nil {
		t.Errorf("token: %v", err)
	}
	h.dropClaim = false
	if _, err := newTagHarness(t, []string{contract.TagUser}).svc.Credentials(ctx, "idp", "u"); err != nil {
		t.Errorf("token with its tags: %v", err)
	}
}

// A user id that cannot be a tag value even escaped is refused with
// ErrUnsupportedUserID (403), never truncated, and only when an access rule
// needs the tag.
func TestTooLongUserIDIsRefused(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("|", 100) // 300 escaped characters
	h := newTagHarness(t, []string{contract.TagUser})
	if _, err := h.svc.Token(ctx, "idp", long); !errors.Is(err, fault.ErrUnsupportedUserID) || len(h.logins) != 0 {
		t.Errorf("got %v after %d Cognito calls", err, len(h.logins))
	}
	if _, err := newTagHarness(t, nil).svc.Token(ctx, "idp", long); err != nil {
		t.Errorf("no {userId} rule, no tag, no refusal: %v", err)
	}
}

// The token and credentials responses carry the caller's {userId} and
// {tenant}, so clients build keys for the rules (contract.Rule.Key).
func TestResponsesCarryTheKeyValues(t *testing.T) {
	ctx := context.Background()
	h := newTagHarness(t, []string{contract.TagUser, contract.TagTenant})
	tok, err := h.svc.Token(ctx, "idp", "u1@acme")
	if err != nil || tok.UserID != "idp:u1" || tok.Tenant != "idp:acme" {
		t.Errorf("token %+v %v", tok, err)
	}
	c, err := h.svc.Credentials(ctx, "idp", "u1@acme")
	if err != nil || c.UserID != "idp:u1" || c.Tenant != "idp:acme" {
		t.Errorf("credentials %+v %v", c, err)
	}
	plain, err := newTagHarness(t, nil).svc.Token(ctx, "idp", "u1@acme")
	if err != nil || plain.UserID != "" || plain.Tenant != "" {
		t.Errorf("no session tags, no values: %+v %v", plain, err)
	}
}

// POST /v1/upload by rule name: the key is the rule's prefix for the
// caller (its own user id, tenant, identity id) and the name; unknown rules,
// rules no signed-in subject may put under, and a tenant rule for a login
// without a tenant are refused with 400s before any AWS call.
func TestUploadByRuleName(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	limits, _ := contract.UploadLimits{}.Normalize()
	rules := contract.Rules{
		{Name: "avatars", Path: "avatars/{userId}/*", Owner: []contract.Action{contract.ActionPut}},
		{Name: "teams", Path: "teams/{tenant}/*", Tenant: []contract.Action{contract.ActionPut}},
		{Name: "inbox", Path: "inbox/{identityId}/*", Owner: []contract.Action{contract.ActionGet}},
	}
	var calls []string
	var signed vend.PostInput
	svc := vend.New(vend.Config{
		IdentityPoolID: "eu-west-1:p", DeveloperProvider: "dev", Region: "eu-west-1", LoginKey: "k", TokenDuration: time.Hour,
		Now: func() time.Time { return now }, SessionTags: []string{contract.TagUser, contract.TagTenant},
		Upload: vend.UploadConfig{Bucket: "b", Limits: limits, Rules: rules.UploadRules()},
	}, []verify.Verifier{tenantVerifier{"idp"}},
		fnCognito{
			dev: func(in vend.DeveloperLogin) (vend.IdentityToken, error) {
				calls = append(calls, "dev")
				return vend.IdentityToken{IdentityID: testIdentity, Token: cognitoToken(t, in.PrincipalTags)}, nil
			},
			creds: func(string, map[string]string) (vend.AWSCredentials, error) {
				calls = append(calls, "creds")
				return vend.AWSCredentials{AccessKeyID: "A", SecretAccessKey: "S", SessionToken: "T", Expiration: now.Add(time.Hour)}, nil
			},
		}, nil, fnSigner(func(_ vend.AWSCredentials, in vend.PostInput) (vend.PresignedPost, error) {
			signed = in
			return vend.PresignedPost{URL: "u"}, nil
		}))
	req := func(rule, cred string) vend.UploadRequest {
		return vend.UploadRequest{Provider: "idp", Credential: cred, Name: "me.png", Size: 10, ContentType: "image/png", Rule: rule}
	}
	for rule, want := range map[string]string{"avatars": "avatars/idp:alice/me.png", "teams": "teams/idp:acme/me.png"} {
		up, err := svc.Upload(ctx, req(rule, "alice@acme"))
		if err != nil || up.Key != want || signed.Key != want {
			t.Errorf("%s: %+v %v, signed %q", rule, up, err, signed.Key)
		}
	}
	calls = nil
	for name, c := range map[string]struct {
		req   vend.UploadRequest
		field string
	}{
		"unknown rule":            {req("nope", "alice@acme"), "rule"},
		"rule without put":        {req("inbox", "alice@acme"), "rule"},
		"rule and visibility":     {func() vend.UploadRequest { r := req("avatars", "alice"); r.Visibility = "private"; return r }(), "rule"},
		"tenant rule, no tenant":  {req("teams", "alice"), "rule"},
		"visibility of no rule":   {func() vend.UploadRequest { r := req("", "alice"); r.Visibility = "protected"; return r }(), "visibility"},
		"default private, absent": {req("", "alice"), "visibility"},
	} {
		_, err := svc.Upload(ctx, c.req)
		var iu *vend.InvalidUpload
		if !errors.As(err, &iu) || iu.Field != c.field {
			t.Errorf("%s: got %v, want an invalid %s", name, err, c.field)
		}
	}
	if len(calls) != 0 {
		t.Errorf("AWS calls on refused uploads: %v", calls)
	}
}

// POST /v1/session carries the session tags in either flow: through
// Cognito's GetCredentialsForIdentity without the basic flow (Cognito tags
// the session from the token), through the checked token with it.
func TestSessionRouteCarriesTheTags(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, basic := range []bool{false, true} {
		var logins []vend.DeveloperLogin
		svc := vend.New(vend.Config{
			IdentityPoolID: "eu-west-1:p", DeveloperProvider: "dev", Region: "eu-west-1", LoginKey: "k", AuthRoleARN: "auth",
			TokenDuration: time.Hour, CredentialLifetime: time.Hour, BasicFlow: basic, Now: func() time.Time { return now },
			SessionTags: []string{contract.TagUser, contract.TagTenant},
		}, []verify.Verifier{tenantVerifier{"idp"}},
			fnCognito{
				dev: func(in vend.DeveloperLogin) (vend.IdentityToken, error) {
					logins = append(logins, in)
					return vend.IdentityToken{IdentityID: testIdentity, Token: cognitoToken(t, in.PrincipalTags)}, nil
				},
				creds: func(string, map[string]string) (vend.AWSCredentials, error) {
					return vend.AWSCredentials{AccessKeyID: "A", SecretAccessKey: "S", SessionToken: "T", Expiration: now.Add(time.Hour)}, nil
				},
			},
			fnSTS(func(vend.AssumeInput) (vend.AWSCredentials, error) {
				return vend.AWSCredentials{AccessKeyID: "B", SecretAccessKey: "S", SessionToken: "T", Expiration: now.Add(time.Hour)}, nil
			}), nil)
		c, err := svc.Session(ctx, "idp", "ann@acme")
		if err != nil || c.UserID != "idp:ann" || c.Tenant != "idp:acme" || len(logins) != 1 || logins[0].PrincipalTags[contract.TagTenant] != "idp:acme" {
			t.Errorf("basic %v: %+v %v, logins %+v", basic, c, err, logins)
		}
	}
}
