package accesspolicy_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/infra/accesspolicy"
)

var (
	global = contract.Partitions[0].Principal
	cnAlt  = contract.CognitoPrincipal{TrustPrincipal: "cognito-identity.cn-north-1.amazonaws.com.cn", ConditionKeyPrefix: "cognito-identity.amazonaws.com.cn"}
)

func canonical(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	b, _ = json.MarshalIndent(x, "", " ")
	return string(b)
}

// The default layout compiles to exactly the Allow statements s3vend
// granted before access rules existed: the frozen copy in
// test/testdata/access/default-allow-statements.json was taken from the
// golden snapshots of the commit before them (bucket as "<bucket>").
func TestDefaultRulesCompileToTodaysStatements(t *testing.T) {
	raw, err := os.ReadFile("../../test/testdata/access/default-allow-statements.json")
	if err != nil {
		t.Fatal(err)
	}
	var frozen map[string]map[string][]any
	if err := json.Unmarshal(raw, &frozen); err != nil {
		t.Fatal(err)
	}
	for stack, who := range map[string]contract.CognitoPrincipal{"S3Vend-dev": global, "S3Vend-cn-alt": cnAlt} {
		p, err := accesspolicy.Compile(contract.DefaultRules(), who)
		if err != nil {
			t.Fatal(err)
		}
		for role, sts := range map[string][]accesspolicy.Statement{"bucket": p.Bucket, "unauthenticated": p.Guest, "authenticated": p.Authenticated} {
			got := canonical(t, accesspolicy.Document(sts, "<bucket>", role == "bucket")["Statement"])
			if want := canonical(t, frozen[stack][role]); got != want {
				t.Errorf("%s %s:\ngot  %s\nwant %s", stack, role, got, want)
			}
		}
	}
}

func customRules() contract.Rules {
	g, l, p, d := contract.ActionGet, contract.ActionList, contract.ActionPut, contract.ActionDelete
	return contract.Rules{
		{Name: "avatars", Path: "avatars/{userId}/*", Owner: []contract.Action{g, p, d}, Anonymous: []contract.Action{g}, Authenticated: []contract.Action{l}},
		{Name: "team-docs", Path: "teams/{tenant}/*", Tenant: []contract.Action{g, p, l, d}},
		{Name: "members", Path: "members/{tenant}/{userId}/*", Owner: []contract.Action{g, p, d, l}, Tenant: []contract.Action{g, l}},
		{Name: "inbox", Path: "inbox/{identityId}/*", Owner: []contract.Action{g, l}, Guest: []contract.Action{l}},
		{Name: "drop", Path: "drop/{userId}/*", Authenticated: []contract.Action{p}, AcknowledgeUnconfinedWrites: true},
	}
}

func TestCustomRulesCompile(t *testing.T) {
	p, err := accesspolicy.Compile(customRules(), global)
	if err != nil {
		t.Fatal(err)
	}
	user, tenant, sub := contract.PrincipalTagVariable(contract.TagUser), contract.PrincipalTagVariable(contract.TagTenant), global.IdentityIDVariable()
	want := map[string][]accesspolicy.Statement{
		"bucket": {{Sid: "PublicReadOfAvatarsPrefix", Actions: []string{"s3:GetObject"}, Resources: []string{"avatars/*"}}},
		"guest":  {{Sid: "ListPublicPrefixes", Actions: []string{"s3:ListBucket"}, Prefixes: []string{"inbox/", "inbox/*"}}},
		"authenticated": {
			{Sid: "OwnObjects", Actions: []string{"s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject"},
				Resources: []string{"avatars/" + user + "/*", "members/" + tenant + "/" + user + "/*"}},
			{Sid: "ReadOwnObjects", Actions: []string{"s3:GetObject"}, Resources: []string{"inbox/" + sub + "/*"}},
			{Sid: "TenantObjects", Actions: []string{"s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject"},
				Resources: []string{"teams/" + tenant + "/*"}},
			{Sid: "ReadTenantObjects", Actions: []string{"s3:GetObject"}, Resources: []string{"members/" + tenant + "/*"}},
			{Sid: "WriteSharedObjects", Actions: []string{"s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObject"}, Resources: []string{"drop/*/*"}},
			{Sid: "ListVisiblePrefixes", Actions: []string{"s3:ListBucket"}, Prefixes: []string{
				"avatars/", "avatars/*", "teams/" + tenant + "/", "teams/" + tenant + "/*",
				"members/" + tenant + "/", "members/" + tenant + "/*", "inbox/" + sub + "/", "inbox/" + sub + "/*"}},
		},
	}
	for role, got := range map[string][]accesspolicy.Statement{"bucket": p.Bucket, "guest": p.Guest, "authenticated": p.Authenticated} {
		if g, w := canonical(t, got), canonical(t, want[role]); g != w {
			t.Errorf("%s:\ngot  %s\nwant %s", role, g, w)
		}
	}
}

// A grant whose pattern has IAM's * in the middle (a placeholder the
// subject does not bind, followed by literals) can match keys of another
// rule even though the paths do not overlap: refused, naming both rules.
func TestGrantsThatReachIntoAnotherRuleAreRefused(t *testing.T) {
	g := contract.ActionGet
	rules := contract.Rules{
		{Name: "docs", Path: "t/{tenant}/docs/*", Authenticated: []contract.Action{g}, Tenant: []contract.Action{g}},
		{Name: "other", Path: "t/acme/x/{userId}/docs/*", Owner: []contract.Action{g}},
	}
	if err := rules.Check(contract.CheckOptions{Verifiers: contract.Verifiers{OIDC: []contract.OIDC{{Name: "i", TenantClaim: "org"}}}}); err != nil {
		t.Fatalf("the paths do not overlap: %v", err)
	}
	_, err := accesspolicy.Compile(rules, global)
	if err == nil || !strings.HasPrefix(err.Error(), "access[0] (docs): authenticated get compiles to \"t/*/docs/*\"") || !strings.Contains(err.Error(), `rule "other"`) {
		t.Errorf("got %v", err)
	}
	// The same grant is fine when nothing else lives under t/.
	if _, err := accesspolicy.Compile(rules[:1], global); err != nil {
		t.Errorf("alone: %v", err)
	}
	// Siblings under one bound placeholder do not reach each other.
	siblings := contract.Rules{
		{Name: "a", Path: "t/{tenant}/a/*", Tenant: []contract.Action{g}},
		{Name: "b", Path: "t/{tenant}/b/*", Tenant: []contract.Action{g}},
	}
	if _, err := accesspolicy.Compile(siblings, global); err != nil {
		t.Errorf("siblings: %v", err)
	}
}

// Size figures and the size check: the default and the custom layout are
// far inside IAM's limits; a layout over them is refused.
func TestSizes(t *testing.T) {
	for name, rules := range map[string]contract.Rules{"default": contract.DefaultRules(), "custom": customRules()} {
		p, err := accesspolicy.Compile(rules, cnAlt)
		if err != nil {
			t.Fatal(err)
		}
		sz := p.Sizes()
		t.Logf("%s layout, worst-case bucket ARN: bucket policy %d of %d bytes, guest role %d and authenticated role %d of %d characters",
			name, sz.Bucket, accesspolicy.MaxBucketPolicyBytes, sz.Guest, sz.Authenticated, accesspolicy.MaxRolePolicyChars)
		if err := p.CheckSizes(0, 0); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	p, _ := accesspolicy.Compile(customRules(), global)
	if err := p.CheckSizes(accesspolicy.MaxRolePolicyChars, 0); err == nil || !strings.Contains(err.Error(), "IAM allows 10240") {
		t.Errorf("over the role limit: %v", err)
	}
}

// The measured size is what IAM counts: no whitespace, the longest ARN.
func TestSizeCountsCompactJSON(t *testing.T) {
	st := []accesspolicy.Statement{{Sid: "S", Actions: []string{"s3:GetObject"}, Resources: []string{"a/*"}}}
	doc := accesspolicy.Document(st, "arn:aws:s3:::b", false)
	want := len(`{"Statement":[{"Action":"s3:GetObject","Effect":"Allow","Resource":"arn:aws:s3:::b/a/*","Sid":"S"}],"Version":"2012-10-17"}`)
	if got := accesspolicy.Size(doc); got != want {
		t.Errorf("size %d, want %d", got, want)
	}
}
