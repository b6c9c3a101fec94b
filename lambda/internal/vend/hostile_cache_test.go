package vend_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/contract/wire"
	"github.com/s3vend/s3vend/lambda/internal/vend"
	"github.com/s3vend/s3vend/lambda/internal/verify"
)

// identityOf is the fake Cognito's identity id of a namespaced user id.
func identityOf(userID string) string {
	h := sha256.Sum256([]byte(userID))
	x := hex.EncodeToString(h[:16])
	return fmt.Sprintf("eu-west-1:%s-%s-%s-%s-%s", x[0:8], x[8:12], x[12:16], x[16:20], x[20:32])
}

// The hostile review's cache-isolation run (issue 16), kept at a tenth of
// its 19,200 vends so that it stays fast: concurrent vends of the same
// users through two providers (the same subject under each is another
// user), through the token, basic-flow and upload routes and both
// visibilities, with a cache small enough to evict all the time and a clock
// that moves, must each return exactly what belongs to the caller.
func TestHostileCacheIsolation(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	limits, err := contract.UploadLimits{}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	sub := func(cred string) (string, error) { return strings.TrimPrefix(cred, "cred-"), nil }
	svc := vend.New(vend.Config{
		IdentityPoolID: "eu-west-1:p", DeveloperProvider: "dev", Region: "eu-west-1", LoginKey: "k",
		AuthRoleARN: "auth", TokenDuration: 15 * time.Minute, CredentialLifetime: time.Hour, BasicFlow: true,
		Upload: vend.UploadConfig{Bucket: "b", Limits: limits},
		Now:    clock, Cache: contract.CacheSettings{MaxEntries: 7},
	}, []verify.Verifier{fnVerifier{"p1", sub}, fnVerifier{"p2", sub}}, fnCognito{
		dev: func(in vend.DeveloperLogin) (vend.IdentityToken, error) {
			return vend.IdentityToken{IdentityID: identityOf(in.UserID), Token: "tok|" + identityOf(in.UserID)}, nil
		},
		creds: func(id string, logins map[string]string) (vend.AWSCredentials, error) {
			if logins["k"] != "tok|"+id {
				return vend.AWSCredentials{}, fmt.Errorf("logins %v for %s", logins, id)
			}
			return vend.AWSCredentials{AccessKeyID: "AK|" + id, Expiration: clock().Add(time.Hour)}, nil
		},
	}, fnSTS(func(in vend.AssumeInput) (vend.AWSCredentials, error) {
		return vend.AWSCredentials{AccessKeyID: "AS|" + strings.TrimPrefix(in.Token, "tok|"), Expiration: clock().Add(in.Duration)}, nil
	}), fnSigner(func(c vend.AWSCredentials, in vend.PostInput) (vend.PresignedPost, error) {
		return vend.PresignedPost{URL: "https://b", Fields: map[string]string{"key": in.Key, "signer": c.AccessKeyID}}, nil
	}))

	const users, reps = 6, 20 // 6 users x 2 providers x 4 routes x 20 = 1,920 vends
	var mismatches, vends atomic.Int64
	fail := func(format string, args ...any) {
		mismatches.Add(1)
		t.Errorf(format, args...)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() { // the clock moves under the vends, expiring entries
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				now.Add(int64(20 * time.Second))
			}
		}
	}()
	for u := range users {
		for _, provider := range []string{"p1", "p2"} {
			cred := fmt.Sprintf("cred-u%d", u)
			want := identityOf(provider + ":" + fmt.Sprintf("u%d", u))
			for r := range reps {
				wg.Add(4)
				go func() {
					defer wg.Done()
					tok, err := svc.Token(ctx, provider, cred)
					vends.Add(1)
					if err != nil || tok.IdentityID != want || tok.Token != "tok|"+want {
						fail("SECURITY: %s/%s token: %+v %v (want %s)", provider, cred, tok, err, want)
					}
				}()
				go func() {
					defer wg.Done()
					c, err := svc.Credentials(ctx, provider, cred)
					vends.Add(1)
					if err != nil || c.IdentityID != want || c.AccessKeyID != "AS|"+want {
						fail("SECURITY: %s/%s credentials: %+v %v (want %s)", provider, cred, c, err, want)
					}
				}()
				for _, vis := range []string{wire.VisibilityPrivate, wire.VisibilityProtected} {
					go func() {
						defer wg.Done()
						up, err := svc.Upload(ctx, vend.UploadRequest{Provider: provider, Credential: cred, Name: fmt.Sprintf("f%d.png", r),
							Size: 1, ContentType: "image/png", Visibility: vis})
						vends.Add(1)
						prefix := vis + "/" + want + "/"
						if err != nil || up.IdentityID != want || !strings.HasPrefix(up.Key, prefix) || up.Fields["signer"] != "AK|"+want {
							fail("SECURITY: %s/%s upload (%s): %+v %v (want %s)", provider, cred, vis, up, err, prefix)
						}
					}()
				}
			}
		}
	}
	wg.Wait()
	close(stop)
	if vends.Load() != users*2*4*reps || mismatches.Load() != 0 {
		t.Fatalf("%d vends, %d mismatches", vends.Load(), mismatches.Load())
	}
	if n := svc.CacheLen(); n > 7 {
		t.Errorf("cache holds %d entries, over its cap of 7", n)
	}
}
