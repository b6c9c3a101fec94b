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
