package test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/infra/accesspolicy"
)

// normalized replaces the content bucket's ARN (its Fn::GetAtt, alone or in
// an Fn::Join) with "<bucket>", so that statements compare as text.
func normalized(v any, bucketID string) any {
	switch x := v.(type) {
	case map[string]any:
		if att, ok := x["Fn::GetAtt"].([]any); ok && len(att) == 2 && att[0] == bucketID && att[1] == "Arn" {
			return "<bucket>"
		}
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			parts, ok := j[1].([]any)
			if !ok {
				return x
			}
			var b strings.Builder
			for _, p := range parts {
				s, ok := normalized(p, bucketID).(string)
				if !ok {
					return x
				}
				b.WriteString(s)
			}
			return b.String()
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = normalized(e, bucketID)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalized(e, bucketID)
		}
		return out
	}
	return v
}

// allowStatements are the template's Allow statements of the content
// bucket's policy and of each Cognito role's inline policies, by
// "bucket", "authenticated" and "unauthenticated".
func allowStatements(t *testing.T, tpl map[string]any) map[string][]any {
	t.Helper()
	bucketID, _ := contentBucket(t, tpl)
	roles := map[string]string{} // logical id -> attachment key
	_, att := only(t, tpl, "AWS::Cognito::IdentityPoolRoleAttachment")
	for key := range obj(t, att, "Properties", "Roles") {
		roles[str(t, att, "Properties", "Roles", key, "Fn::GetAtt", 0)] = key
	}
	out := map[string][]any{}
	allows := func(doc any) []any {
		var sts []any
		for _, s := range statements(t, doc) {
			if s["Effect"] == "Allow" {
				sts = append(sts, normalized(s, bucketID))
			}
		}
		return sts
	}
	for _, r := range resources(tpl, "AWS::S3::BucketPolicy") {
		if mustJSON(props(r)["Bucket"]) == `{"Ref":"`+bucketID+`"}` {
			out["bucket"] = allows(props(r)["PolicyDocument"])
		}
	}
	for _, p := range resources(tpl, "AWS::IAM::Policy") {
		for i := range list(t, p, "Properties", "Roles") {
			if key, ok := roles[str(t, p, "Properties", "Roles", i, "Ref")]; ok {
				out[key] = append(out[key], allows(props(p)["PolicyDocument"])...)
			}
		}
	}
	return out
}

// Every stack grants exactly the compiled statements of its rules, for its
// Cognito principal: the stack adds nothing and drops nothing. With the
// default rules, those are exactly the statements of before access rules
// (infra/accesspolicy's TestDefaultRulesCompileToTodaysStatements compares
// them with the frozen copy of the previous snapshots,
// testdata/access/default-allow-statements.json), so every default-layout
// stack still grants what it granted; Deny statements (TLS, guardrails) may
// be added beside them and are not compared.
func TestStacksGrantTheCompiledStatements(t *testing.T) {
	defaults := 0
	for _, stack := range allStacks(t) {
		env := envConfig(t, strings.TrimPrefix(stack, "S3Vend-"))
		if env.Access.JSON() == contract.DefaultRules().JSON() {
			defaults++
		}
		p, err := accesspolicy.Compile(env.Access, env.CognitoPrincipal)
		if err != nil {
			t.Fatal(err)
		}
		got := allowStatements(t, stackTemplate(t, stack))
		for role, sts := range map[string][]accesspolicy.Statement{"bucket": p.Bucket, "authenticated": p.Authenticated, "unauthenticated": p.Guest} {
			if role == "unauthenticated" && !env.Guests {
				sts = nil
			}
			var want any
			if len(sts) > 0 {
				_ = json.Unmarshal([]byte(mustJSON(accesspolicy.Document(sts, "<bucket>", role == "bucket")["Statement"])), &want)
			}
			if g, w := mustJSON(got[role]), mustJSON(want); g != w {
				t.Errorf("%s %s:\ngot  %s\nwant %s", stack, role, g, w)
			}
		}
	}
	if defaults < 7 {
		t.Errorf("%d default-layout stacks, want the 7 of before access rules", defaults)
	}
}

// policySize is a policy document's size as IAM counts it, with the
// bucket's ARN at its longest (accesspolicy.WorstCaseBucketARN) and every
// other intrinsic as a 100-character value.
func policySize(t *testing.T, doc any, bucketID string) int {
	t.Helper()
	d, ok := normalized(doc, bucketID).(map[string]any)
	if !ok {
		t.Fatalf("policy document %s", mustJSON(doc))
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	_ = json.Unmarshal(b, &back)
	s := strings.ReplaceAll(mustJSON(back), `\u003cbucket\u003e`, accesspolicy.WorstCaseBucketARN)
	if strings.Contains(s, "bucket\\u003e") {
		t.Fatalf("bucket ARN left in %s", s)
	}
	return len(s)
}

// Figures: every role's inline policies in total (IAM: 10,240 characters)
// and the bucket policy (S3: 20 KB), as synthesized, Denies included, with
// the longest bucket ARN, for the default and the custom layout.
func TestPolicySizesWithinLimits(t *testing.T) {
	for _, stack := range []string{"S3Vend-dev", "S3Vend-prod-cn", "S3Vend-rules"} {
		tpl := stackTemplate(t, stack)
		bucketID, _ := contentBucket(t, tpl)
		roleTotal := map[string]int{}
		for _, p := range resources(tpl, "AWS::IAM::Policy") {
			for i := range list(t, p, "Properties", "Roles") {
				id := str(t, p, "Properties", "Roles", i, "Ref")
				roleTotal[id] += policySize(t, props(p)["PolicyDocument"], bucketID)
			}
		}
		for _, r := range resources(tpl, "AWS::S3::BucketPolicy") {
			if mustJSON(props(r)["Bucket"]) == `{"Ref":"`+bucketID+`"}` {
				n := policySize(t, props(r)["PolicyDocument"], bucketID)
				t.Logf("%s: bucket policy %d of %d bytes", stack, n, accesspolicy.MaxBucketPolicyBytes)
				if n > accesspolicy.MaxBucketPolicyBytes {
					t.Errorf("%s: bucket policy %d bytes", stack, n)
				}
			}
		}
		for id, n := range roleTotal {
			if !strings.HasPrefix(id, "Identity") {
				continue
			}
			t.Logf("%s: %s inline policies %d of %d characters", stack, id, n, accesspolicy.MaxRolePolicyChars)
			if n > accesspolicy.MaxRolePolicyChars {
				t.Errorf("%s: %s inline policies %d characters", stack, id, n)
			}
		}
	}
}
