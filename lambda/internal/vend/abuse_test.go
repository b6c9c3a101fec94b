package vend_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/revocation"
	"github.com/s3vend/s3vend/internal/usage"
	"github.com/s3vend/s3vend/lambda/internal/fault"
	"github.com/s3vend/s3vend/lambda/internal/vend"
	"github.com/s3vend/s3vend/lambda/internal/verify"
)

// revSource is a revocation table in memory for the core's unit tests (the
// table itself is tested against the engine in internal/revocation).
type revSource struct {
	mu      sync.Mutex
	gen     int64
	records []revocation.Record
}

func (s *revSource) Generation(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen, nil
}

func (s *revSource) List(context.Context, bool) ([]revocation.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]revocation.Record(nil), s.records...), nil
}

func (s *revSource) revoke(subject string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, revocation.Record{Subject: subject, Status: revocation.StatusRevoked})
	s.gen++
}

// TestRevokedUserIsRefusedOnEveryRouteWithinTheRefresh: a warm cache of a
// user's token, credentials and upload credentials is never served once
// the view has seen the revocation, on every route; another user is not
// affected; the refusal is fault.ErrRevoked.
func TestRevokedUserIsRefusedOnEveryRouteWithinTheRefresh(t *testing.T) {
	src := &revSource{}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	view := revocation.NewView(src, revocation.ViewOptions{Refresh: 15 * time.Second, Now: clock})
	limits, _ := contract.UploadLimits{}.Normalize()
	var devCalls int
	svc := vend.New(vend.Config{
		IdentityPoolID: "eu-west-1:p", DeveloperProvider: "dev", Region: "eu-west-1", LoginKey: "k",
		AuthRoleARN: "auth", TokenDuration: 15 * time.Minute, CredentialLifetime: time.Hour, BasicFlow: true, Now: clock,
		Upload: vend.UploadConfig{Bucket: "b", Limits: limits},
		Abuse:  vend.AbuseConfig{Admission: view},
	}, []verify.Verifier{fnVerifier{"p", func(cred string) (string, error) { return cred, nil }}}, fnCognito{
		dev: func(in vend.DeveloperLogin) (vend.IdentityToken, error) {
			devCalls++
			id := map[string]string{"p:alice": "eu-west-1:aaaaaaaa-0000-4000-8000-000000000001", "p:bob": "eu-west-1:bbbbbbbb-0000-4000-8000-000000000002"}[in.UserID]
			return vend.IdentityToken{IdentityID: id, Token: "tok"}, nil
		},
		creds: func(string, map[string]string) (vend.AWSCredentials, error) {
			return vend.AWSCredentials{AccessKeyID: "ASIA", Expiration: clock().Add(time.Hour)}, nil
		},
	}, fnSTS(func(in vend.AssumeInput) (vend.AWSCredentials, error) {
		return vend.AWSCredentials{AccessKeyID: "ASIA", Expiration: clock().Add(in.Duration)}, nil
	}), fnSigner(func(_ vend.AWSCredentials, in vend.PostInput) (vend.PresignedPost, error) {
		return vend.PresignedPost{URL: "https://b", Fields: map[string]string{"key": in.Key}}, nil
	}))
	ctx := context.Background()
	routes := map[string]func(user string) error{
		"token": func(u string) error { _, err := svc.Token(ctx, "p", u); return err },
		"credentials": func(u string) error {
			_, err := svc.Credentials(ctx, "p", u)
			return err
		},
		"upload": func(u string) error {
			_, err := svc.Upload(ctx, vend.UploadRequest{Provider: "p", Credential: u, Name: "a.txt", Size: 1, ContentType: "text/plain"})
			return err
		},
	}
	for name, call := range routes {
		for _, u := range []string{"alice", "bob"} {
			if err := call(u); err != nil {
				t.Fatalf("%s %s before: %v", name, u, err)
			}
		}
	}
	calls := devCalls
	src.revoke(revocation.UserPrefix + "p:alice")
	now = now.Add(15 * time.Second)
	for name, call := range routes {
		if err := call("alice"); !errors.Is(err, fault.ErrRevoked) {
			t.Errorf("%s: revoked user got %v, want ErrRevoked", name, err)
		}
		if err := call("bob"); err != nil {
			t.Errorf("%s: another user: %v", name, err)
		}
	}
	if devCalls != calls {
		t.Errorf("a refusal or a cache hit made %d Cognito calls", devCalls-calls)
	}
	if svc.CacheLen() != 3 {
		t.Errorf("cache holds %d entries; the revoked user's 3 must be dropped, bob's 3 kept", svc.CacheLen())
	}
	// Revocation by identity (a guest, or --identity).
	src.revoke(revocation.IdentityPrefix + "eu-west-1:bbbbbbbb-0000-4000-8000-000000000002")
	now = now.Add(15 * time.Second)
	if err := routes["token"]("bob"); !errors.Is(err, fault.ErrRevoked) {
		t.Errorf("revoked identity: %v, want ErrRevoked", err)
	}
}

// usageFake is the usage table in memory for the core's unit tests.
type usageFake struct {
	totals  usage.Totals
	objects map[string]int64
	logins  map[string]string
	reads   int
}

func (u *usageFake) IdentityOf(_ context.Context, user string) (string, bool, error) {
	id, ok := u.logins[user]
	return id, ok, nil
}

func (u *usageFake) Link(_ context.Context, user, id string) error {
	if u.logins == nil {
		u.logins = map[string]string{}
	}
	u.logins[user] = id
	return nil
}

func (u *usageFake) Usage(context.Context, string, bool) (usage.Totals, error) {
	u.reads++
	return u.totals, nil
}

func (u *usageFake) Object(_ context.Context, _, key string) (int64, bool, error) {
	size, ok := u.objects[key]
	return size, ok, nil
}

func TestUploadRefusedOverQuotaButOverwriteReplaces(t *testing.T) {
	u := &usageFake{totals: usage.Totals{Bytes: 9_500, Objects: 3}, objects: map[string]int64{
		"private/" + testIdentity + "/photos/cat.png": 400,
	}}
	r := newUploadRigWith("bucket-1", vend.AbuseConfig{Usage: u, Quota: contract.UserQuota{MaxBytes: 10_000, MaxObjects: 4}})
	ctx := context.Background()
	req := validUpload() // 500 bytes, replacing the 400 of photos/cat.png: 9,600
	if _, err := r.svc.Upload(ctx, req); err != nil {
		t.Fatalf("overwrite within quota: %v", err)
	}
	req.Name = "photos/dog.png" // a new object: 10,000 bytes, 4 objects: at the limit, allowed
	if _, err := r.svc.Upload(ctx, req); err != nil {
		t.Fatalf("up to the limit: %v", err)
	}
	req.Size = 501
	if _, err := r.svc.Upload(ctx, req); !errors.Is(err, fault.ErrQuotaExceeded) {
		t.Fatalf("over the byte limit: %v, want ErrQuotaExceeded", err)
	}
	u.totals = usage.Totals{Bytes: 10, Objects: 4}
	req.Size = 1
	if _, err := r.svc.Upload(ctx, req); !errors.Is(err, fault.ErrQuotaExceeded) {
		t.Fatalf("over the object limit: %v, want ErrQuotaExceeded", err)
	}
}

// TestQuotaTagFollowsUsage: the session tag s3vend-quota is "under" on a
// first vend, the login is linked to its identity, and once the identity is
// at the quota the next token carries "over" (a new token: the reuse cache
// is per tag set); back under, the user gets the cached token tagged under.
func TestQuotaTagFollowsUsage(t *testing.T) {
	u := &usageFake{}
	var tags []map[string]string
	svc := vend.New(vend.Config{
		IdentityPoolID: "eu-west-1:p", DeveloperProvider: "dev", Region: "eu-west-1", LoginKey: "k",
		AuthRoleARN: "auth", TokenDuration: 15 * time.Minute, CredentialLifetime: time.Hour, BasicFlow: true,
		SessionTags: []string{contract.TagQuota},
		Abuse:       vend.AbuseConfig{Usage: u, Quota: contract.UserQuota{MaxObjects: 2}},
	}, []verify.Verifier{fnVerifier{"p", func(cred string) (string, error) { return cred, nil }}}, fnCognito{
		dev: func(in vend.DeveloperLogin) (vend.IdentityToken, error) {
			tags = append(tags, in.PrincipalTags)
			return vend.IdentityToken{IdentityID: "eu-west-1:aaaaaaaa-0000-4000-8000-000000000001", Token: "tok"}, nil
		},
	}, nil, nil)
	ctx := context.Background()
	vendTag := func() string {
		t.Helper()
		if _, err := svc.Token(ctx, "p", "alice"); err != nil {
			t.Fatal(err)
		}
		return tags[len(tags)-1][contract.TagQuota]
	}
	if got := vendTag(); got != contract.QuotaUnder {
		t.Fatalf("first vend: %q", got)
	}
	if u.logins["p:alice"] != "eu-west-1:aaaaaaaa-0000-4000-8000-000000000001" {
		t.Fatalf("login not linked: %v", u.logins)
	}
	u.totals = usage.Totals{Objects: 2}
	if got := vendTag(); got != contract.QuotaOver || len(tags) != 2 {
		t.Fatalf("at the quota: %q after %d tokens, want a new token tagged over", got, len(tags))
	}
	u.totals = usage.Totals{Objects: 1}
	tok, err := svc.Token(ctx, "p", "alice")
	if err != nil || !tok.Cached || len(tags) != 2 || tags[0][contract.TagQuota] != contract.QuotaUnder {
		t.Fatalf("back under: %+v %v after %d tokens; want the cached token of the first vend, tagged under", tok, err, len(tags))
	}
}
