package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/s3vend/s3vend/constructs"
	"github.com/s3vend/s3vend/lambda/contract"
)

// panicOf returns what f panics with ("" if it does not).
func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

// TestConstructPropsAreValidatedBeforeAnyResource: each construct checks its
// props in one place, before it creates anything, and names the field.
func TestConstructPropsAreValidatedBeforeAnyResource(t *testing.T) {
	pool := "pool"
	cases := []struct {
		name, want string
		build      func()
	}{
		{"bucket access", "PublicBucketProps.Access", func() {
			constructs.NewPublicBucket(nil, "B", constructs.PublicBucketProps{Access: "public", CORSOrigins: []string{"https://a"}})
		}},
		{"bucket origins", "PublicBucketProps.CORSOrigins", func() {
			constructs.NewPublicBucket(nil, "B", constructs.PublicBucketProps{})
		}},
		{"bucket lifecycle days", "PublicBucketProps.AbortUploadsAfter", func() {
			constructs.NewPublicBucket(nil, "B", constructs.PublicBucketProps{CORSOrigins: []string{"https://a"}, AbortUploadsAfter: 36 * time.Hour})
		}},
		{"provider name", "IdentityPoolProps.DeveloperProviderName", func() {
			constructs.NewIdentityPool(nil, "P", constructs.IdentityPoolProps{DeveloperProviderName: "a b"})
		}},
		{"max session", "IdentityPoolProps.MaxSessionDuration", func() {
			constructs.NewIdentityPool(nil, "P", constructs.IdentityPoolProps{DeveloperProviderName: "p", MaxSessionDuration: 13 * time.Hour})
		}},
		{"half a principal", "IdentityPoolProps.Principal", func() {
			constructs.NewIdentityPool(nil, "P", constructs.IdentityPoolProps{
				DeveloperProviderName: "p", Principal: contract.CognitoPrincipal{TrustPrincipal: "cognito-identity.amazonaws.com"},
			})
		}},
		{"token vendor refs", "TokenVendorProps", func() {
			constructs.NewTokenVendor(nil, "T", constructs.TokenVendorProps{})
		}},
		{"token duration", "TokenVendorProps.TokenDuration", func() {
			constructs.NewTokenVendor(nil, "T", constructs.TokenVendorProps{
				IdentityPoolID: &pool, IdentityPoolArn: &pool, AuthenticatedRoleArn: &pool, TokenDuration: 25 * time.Hour,
			})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := panicOf(c.build); !strings.Contains(got, c.want) {
				t.Errorf("panic = %q, want it to name %s", got, c.want)
			}
		})
	}
}
