package vend_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/vend"
	"github.com/s3vend/s3vend/lambda/internal/verify"
)

type fnVerifier struct {
	name string
	fn   func(string) (string, error)
}

func (v fnVerifier) Name() string { return v.name }
func (v fnVerifier) Verify(_ context.Context, c string) (verify.Identity, error) {
	id, err := v.fn(c)
	return verify.Identity{ID: id}, err
}

var _ verify.Verifier = fnVerifier{}

type fnCognito struct {
	dev   func(vend.DeveloperLogin) (vend.IdentityToken, error)
	getID func() (string, error)
	open  func(string) (vend.IdentityToken, error)
	creds func(string, map[string]string) (vend.AWSCredentials, error)
}

func (c fnCognito) DeveloperToken(_ context.Context, in vend.DeveloperLogin) (vend.IdentityToken, error) {
	return c.dev(in)
}
func (c fnCognito) GetID(context.Context, string) (string, error) { return c.getID() }
func (c fnCognito) OpenIDToken(_ context.Context, id string) (vend.IdentityToken, error) {
	return c.open(id)
}
func (c fnCognito) CredentialsForIdentity(_ context.Context, id string, logins map[string]string) (vend.AWSCredentials, error) {
	return c.creds(id, logins)
}

type fnSTS func(vend.AssumeInput) (vend.AWSCredentials, error)

func (f fnSTS) AssumeRoleWithWebIdentity(_ context.Context, in vend.AssumeInput) (vend.AWSCredentials, error) {
	return f(in)
}

func TestNamespacingAndFlow(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var gotLogin vend.DeveloperLogin
	var gotAssume vend.AssumeInput
	svc := vend.New(vend.Config{
		IdentityPoolID: "eu-west-1:p", DeveloperProvider: "dev", Region: "eu-west-1", LoginKey: "k",
		AuthRoleARN: "auth", TokenDuration: time.Minute, CredentialLifetime: time.Hour, SessionPolicy: "{}", BasicFlow: true,
		Now: func() time.Time { return now },
	}, []verify.Verifier{
		fnVerifier{"a", func(string) (string, error) { return "same", nil }},
		fnVerifier{"b", func(string) (string, error) { return "same", nil }},
	}, fnCognito{dev: func(in vend.DeveloperLogin) (vend.IdentityToken, error) {
		gotLogin = in
		return vend.IdentityToken{IdentityID: "eu-west-1:abc", Token: "tok"}, nil
	}}, fnSTS(func(in vend.AssumeInput) (vend.AWSCredentials, error) {
		gotAssume = in
		return vend.AWSCredentials{AccessKeyID: "A", Expiration: now.Add(time.Hour)}, nil
	}), nil)

	tok, err := svc.Token(context.Background(), "a", "c")
	if err != nil || gotLogin.UserID != "a:same" || !tok.ExpiresAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("%+v %v %+v", tok, err, gotLogin)
	}
	if _, err := svc.Credentials(context.Background(), "b", "c"); err != nil || gotLogin.UserID != "b:same" {
		t.Fatalf("%v %+v", err, gotLogin)
	}
	if gotAssume.RoleARN != "auth" || gotAssume.SessionName != "s3vend-abc" || gotAssume.Policy != "{}" || gotAssume.Duration != time.Hour {
		t.Errorf("assume %+v", gotAssume)
	}
	if _, err := svc.Token(context.Background(), "zzz", "c"); !errors.Is(err, fault.ErrUnknownProvider) {
		t.Errorf("unknown provider: %v", err)
	}
	if _, err := svc.Guest(context.Background(), ""); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("guest disabled: %v", err)
	}
}

func TestBasicFlowOff(t *testing.T) {
	var calls []string
	svc := vend.New(vend.Config{
		IdentityPoolID: "eu-west-1:p", Region: "eu-west-1", LoginKey: "k", GuestsEnabled: true, BasicFlow: false,
	}, []verify.Verifier{fnVerifier{"a", func(string) (string, error) { calls = append(calls, "verify"); return "u", nil }}},
		fnCognito{
			dev: func(vend.DeveloperLogin) (vend.IdentityToken, error) {
				calls = append(calls, "dev")
				return vend.IdentityToken{}, nil
			},
			getID: func() (string, error) { calls = append(calls, "GetId"); return "eu-west-1:g", nil },
			open: func(id string) (vend.IdentityToken, error) {
				calls = append(calls, "GetOpenIdToken")
				return vend.IdentityToken{IdentityID: id, Token: "gt"}, nil
			},
		}, fnSTS(func(vend.AssumeInput) (vend.AWSCredentials, error) {
			calls = append(calls, "sts")
			return vend.AWSCredentials{}, nil
		}), nil)
	if _, err := svc.Credentials(context.Background(), "a", "c"); !errors.Is(err, fault.ErrBasicFlowDisabled) || len(calls) != 0 {
		t.Fatalf("credentials: %v, calls %v", err, calls)
	}
	if _, err := svc.Guest(context.Background(), ""); !errors.Is(err, fault.ErrBasicFlowDisabled) || len(calls) != 0 {
		t.Fatalf("basic-flow guest: %v, calls %v", err, calls)
	}
	g, err := svc.GuestToken(context.Background(), "")
	want := vend.GuestToken{IdentityID: "eu-west-1:g", Token: "gt", IdentityPoolID: "eu-west-1:p", Region: "eu-west-1", LoginKey: "k"}
	if err != nil || g != want || len(calls) != 2 || calls[0] != "GetId" || calls[1] != "GetOpenIdToken" {
		t.Fatalf("guest token: %+v %v, calls %v", g, err, calls)
	}
	if svc.BasicFlow() {
		t.Error("BasicFlow() = true")
	}
}

func TestSessionName(t *testing.T) {
	for in, want := range map[string]string{
		"eu-west-1:11111111-2222-3333-4444-555555555555": "s3vend-11111111-2222-3333-4444-555555555555",
		"weird":   "s3vend-",
		"r:a b/c": "s3vend-abc",
	} {
		if got := vend.SessionName(in); got != want {
			t.Errorf("%q: %q", in, got)
		}
	}
}

// TestNewGuestCap: new guest identities are capped per instance; a guest
// that sends back its identityId is not counted (issue 9, item 3).
func TestNewGuestCap(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	getIDs := 0
	svc := vend.New(vend.Config{
		IdentityPoolID: "eu-west-1:p", Region: "eu-west-1", LoginKey: "k", GuestsEnabled: true,
		Now: func() time.Time { return now },
	}, nil, fnCognito{
		getID: func() (string, error) { getIDs++; return "eu-west-1:00000000-0000-0000-0000-000000000001", nil },
		open: func(id string) (vend.IdentityToken, error) {
			return vend.IdentityToken{IdentityID: id, Token: "gt"}, nil
		},
	}, nil, nil)
	for i := range vend.DefaultNewGuestsBurst {
		if _, err := svc.GuestToken(context.Background(), ""); err != nil {
			t.Fatalf("new guest %d: %v", i, err)
		}
	}
	_, err := svc.GuestToken(context.Background(), "")
	if !errors.Is(err, fault.ErrRateLimited) || getIDs != vend.DefaultNewGuestsBurst {
		t.Fatalf("over the burst: %v after %d GetId calls", err, getIDs)
	}
	// Reusing an identity is not capped.
	if _, err := svc.GuestToken(context.Background(), "eu-west-1:00000000-0000-0000-0000-000000000001"); err != nil {
		t.Fatalf("reuse: %v", err)
	}
	// The cap refills at DefaultNewGuestsPerSecond.
	now = now.Add(time.Second)
	for i := range vend.DefaultNewGuestsPerSecond {
		if _, err := svc.GuestToken(context.Background(), ""); err != nil {
			t.Fatalf("after 1s, new guest %d: %v", i, err)
		}
	}
	if _, err := svc.GuestToken(context.Background(), ""); !errors.Is(err, fault.ErrRateLimited) {
		t.Fatalf("refill exceeded: %v", err)
	}
}
