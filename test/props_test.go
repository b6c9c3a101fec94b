package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/s3vend/s3vend/config"
	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/infra"
)

// vendorProps are valid TokenVendorProps (token fields are plain strings:
// validation never reads them) with one change.
func vendorProps(edit func(p *infra.TokenVendorProps)) infra.TokenVendorProps {
	tok := "token"
	p := infra.TokenVendorProps{
		IdentityPoolID: &tok, IdentityPoolARN: &tok, AuthenticatedRoleARN: &tok,
		DeveloperProviderName: "login.example.app", BasicFlow: true,
		Verifiers:   contract.Verifiers{HS256: &contract.HS256{Name: "backend", Issuer: "https://api.example.com", Audience: "s3vend"}},
		CORSOrigins: []string{"https://app.example.com"},
	}
	edit(&p)
	return p
}

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
		{"bucket access", "PublicBucketProps.BucketAccess", func() {
			infra.NewPublicBucket(nil, "B", infra.PublicBucketProps{BucketAccess: "public", CORSOrigins: []string{"https://a"}})
		}},
		{"bucket origins", "PublicBucketProps.CORSOrigins", func() {
			infra.NewPublicBucket(nil, "B", infra.PublicBucketProps{})
		}},
		{"bucket lifecycle days", "PublicBucketProps.AbortIncompleteUploadsAfter", func() {
			infra.NewPublicBucket(nil, "B", infra.PublicBucketProps{CORSOrigins: []string{"https://a"}, AbortIncompleteUploadsAfter: 36 * time.Hour})
		}},
		{"provider name", "IdentityPoolProps.DeveloperProviderName", func() {
			infra.NewIdentityPool(nil, "P", infra.IdentityPoolProps{DeveloperProviderName: "a b"})
		}},
		{"max session", "IdentityPoolProps.CredentialLifetime", func() {
			infra.NewIdentityPool(nil, "P", infra.IdentityPoolProps{DeveloperProviderName: "p", CredentialLifetime: 13 * time.Hour})
		}},
		{"unknown session tag", "IdentityPoolProps.SessionTags", func() {
			infra.NewIdentityPool(nil, "P", infra.IdentityPoolProps{DeveloperProviderName: "p", SessionTags: []string{"s3vend-other"}})
		}},
		{"vendor session tag twice", "TokenVendorProps.SessionTags", func() {
			infra.NewTokenVendor(nil, "T", vendorProps(func(p *infra.TokenVendorProps) { p.SessionTags = []string{contract.TagUser, contract.TagUser} }))
		}},
		{"half a principal", "IdentityPoolProps.CognitoPrincipal", func() {
			infra.NewIdentityPool(nil, "P", infra.IdentityPoolProps{
				DeveloperProviderName: "p", CognitoPrincipal: contract.CognitoPrincipal{TrustPrincipal: "cognito-identity.amazonaws.com"},
			})
		}},
		{"github roles", "GitHubDeployRolesProps.Roles", func() {
			infra.NewGitHubDeployRoles(nil, "G", infra.GitHubDeployRolesProps{})
		}},
		{"github sub wildcard", "GitHubDeployRolesProps.Roles[0].Subject", func() {
			infra.NewGitHubDeployRoles(nil, "G", infra.GitHubDeployRolesProps{Roles: []infra.GitHubRoleSpec{
				{ID: "Deploy", Subject: "repo:o/r:*", Targets: []infra.CDKTarget{{}}},
			}})
		}},
		{"github provider arn", "GitHubDeployRolesProps.OIDCProviderARN", func() {
			infra.NewGitHubDeployRoles(nil, "G", infra.GitHubDeployRolesProps{OIDCProviderARN: "arn:aws:iam::111122223333:oidc-provider/example.com"})
		}},
		{"token vendor refs", "TokenVendorProps", func() {
			infra.NewTokenVendor(nil, "T", infra.TokenVendorProps{})
		}},
		{"token duration", "TokenVendorProps.TokenDuration", func() {
			infra.NewTokenVendor(nil, "T", vendorProps(func(p *infra.TokenVendorProps) { p.TokenDuration = 25 * time.Hour }))
		}},
		{"role mapping match type", "IdentityPoolProps.RoleMappings[0].MatchType", func() {
			infra.NewIdentityPool(nil, "P", infra.IdentityPoolProps{
				DeveloperProviderName: "p", UserPool: &config.UserPoolProvider{Create: true},
				RoleMappings: []config.RoleMappingRule{{Claim: "c", MatchType: "equals", Value: "v", RoleARN: "arn:aws:iam::111122223333:role/r"}},
			})
		}},
		{"token vendor timeout beyond the HTTP API's", "TokenVendorProps.Timeout", func() {
			infra.NewTokenVendor(nil, "T", vendorProps(func(p *infra.TokenVendorProps) { p.Timeout = 40 * time.Second }))
		}},
		{"log retention checked before any resource", "TokenVendorProps.LogRetention", func() {
			infra.NewTokenVendor(nil, "T", vendorProps(func(p *infra.TokenVendorProps) { p.LogRetention = 48 * time.Hour }))
		}},
		{"guests flag without a guest role", "TokenVendorProps.GuestRoleARN", func() {
			infra.NewTokenVendor(nil, "T", vendorProps(func(p *infra.TokenVendorProps) { p.Guests = true }))
		}},
		{"guest role without the guests flag", "TokenVendorProps.GuestRoleARN", func() {
			infra.NewTokenVendor(nil, "T", vendorProps(func(p *infra.TokenVendorProps) { p.GuestRoleARN = &pool }))
		}},
		{"verifiers the vendor would refuse", "TokenVendorProps.Verifiers", func() {
			infra.NewTokenVendor(nil, "T", vendorProps(func(p *infra.TokenVendorProps) {
				p.Verifiers = contract.Verifiers{OIDC: []contract.OIDC{{Name: "x", Issuer: "http://idp.example.com", Audiences: []string{"a"}}}}
			}))
		}},
		{"session policy beyond STS's limit", "TokenVendorProps.SessionPolicy", func() {
			infra.NewTokenVendor(nil, "T", vendorProps(func(p *infra.TokenVendorProps) {
				p.SessionPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"` + strings.Repeat("b", 3000) + `"}]}`
			}))
		}},
		{"negative throttle", "TokenVendorProps.ThrottleRateLimit", func() {
			infra.NewTokenVendor(nil, "T", vendorProps(func(p *infra.TokenVendorProps) { p.ThrottleRateLimit = -1 }))
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

// TestVendorEnvironmentSizeCountsLaterVariables: Lambda allows 4 KB of
// environment in total, and variables added after NewTokenVendor (the
// abuse-control tables and quota) count too. TokenVendor.AddEnvironment
// refuses the one that goes over, naming the construct, the total and the
// largest variables with their cdk.json keys.
func TestVendorEnvironmentSizeCountsLaterVariables(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []string{}}})
	stack := awscdk.NewStack(app, jsii.String("EnvSize"), nil)
	tv := infra.NewTokenVendor(stack, "TokenVendor", vendorProps(func(p *infra.TokenVendorProps) {
		p.Build = infra.GoBuild{ModuleDir: "..", Package: "./lambda/cmd/tokenvendor", SourceDir: "lambda", GoVersion: "go1.26.1"}
		p.IdentityPoolARN = jsii.String("arn:aws:cognito-identity:eu-west-1:111111111111:identitypool/eu-west-1:p")
	}))
	tv.AddEnvironment("S3VEND_SMALL", jsii.String("fits"))
	var env map[string]any
	for _, fn := range resources(synthOne(t, stack), "AWS::Lambda::Function") {
		env = obj(t, fn, "Properties", "Environment", "Variables")
	}
	if env["S3VEND_SMALL"] != "fits" {
		t.Fatalf("S3VEND_SMALL not in the function's environment: %v", env)
	}
	big := strings.Repeat("x", infra.MaxEnvironmentBytes-len(mustJSON(env)))
	got := panicOf(func() { tv.AddEnvironment(contract.EnvAccessRules, &big) })
	for _, want := range []string{"EnvSize/TokenVendor:", "Lambda allows 4096",
		fmt.Sprintf("%s (cdk.json access) %d bytes", contract.EnvAccessRules, len(big)+len(contract.EnvAccessRules))} {
		if !strings.Contains(got, want) {
			t.Errorf("panic %q does not name %q", got, want)
		}
	}
}
