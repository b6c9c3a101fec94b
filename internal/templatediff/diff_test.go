package templatediff

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// snapshot loads a golden template of test/ (a fresh copy each call, so a
// test can change it).
func snapshot(t *testing.T, stack string) Template {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "test", "testdata", "snapshots", stack+".template.json"))
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := ParseTemplate(b)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func res(t *testing.T, tpl Template, id string) map[string]any {
	t.Helper()
	r, ok := tpl["Resources"].(map[string]any)[id].(map[string]any)
	if !ok {
		t.Fatalf("no resource %s in the snapshot (was it renamed? update this test)", id)
	}
	return r
}

func props(t *testing.T, tpl Template, id string) map[string]any {
	return res(t, tpl, id)["Properties"].(map[string]any)
}

func report(diffs ...StackDiff) string {
	return Report{Base: "`main`", Head: "HEAD", Stacks: diffs}.Markdown()
}

func TestIdenticalTemplatesHaveNoChanges(t *testing.T) {
	// GIVEN the same template on both sides (a no-op commit)
	d := Compare("S3Vend-dev", snapshot(t, "S3Vend-dev"), snapshot(t, "S3Vend-dev"), nil)
	// THEN nothing changed and the report says so
	if d.Changed() || len(d.Added)+len(d.Removed)+len(d.Modified)+len(d.Policies) > 0 {
		t.Fatalf("identical templates reported as changed: %+v", d)
	}
	md := report(d, Compare("S3Vend-prod", snapshot(t, "S3Vend-prod"), snapshot(t, "S3Vend-prod"), nil))
	if !strings.HasPrefix(md, Marker+"\n") {
		t.Errorf("report does not start with the marker line:\n%s", md)
	}
	if !strings.Contains(strings.ToLower(md), "no changes") || strings.Contains(md, "Raw") {
		t.Errorf("no-op report does not say \"no changes\" (or has a raw diff):\n%s", md)
	}
}

func TestWidenedPolicyShowsNewStatement(t *testing.T) {
	// GIVEN the authenticated role's S3 policy with its shared-read
	// statement widened from public/* and protected/* to the whole bucket
	base, head := snapshot(t, "S3Vend-dev"), snapshot(t, "S3Vend-dev")
	doc := props(t, head, "StorageUserAccess168AE699")["PolicyDocument"].(map[string]any)
	for _, s := range doc["Statement"].([]any) {
		st := s.(map[string]any)
		if st["Sid"] == "ReadSharedObjects" {
			st["Resource"] = map[string]any{"Fn::Join": []any{"", []any{
				map[string]any{"Fn::GetAtt": []any{"StorageBucket5CB7C8EA", "Arn"}}, "/*"}}}
		}
	}
	// WHEN compared
	d := Compare("S3Vend-dev", base, head, nil)
	// THEN the policy's new statement is listed as added, the old as removed
	if d.Status != Changed || len(d.Policies) != 1 {
		t.Fatalf("want one changed policy, got status %s, policies %+v", d.Status, d.Policies)
	}
	p := d.Policies[0]
	if p.Resource != "StorageUserAccess168AE699" || p.Type != "AWS::IAM::Policy" || len(p.Added) != 1 || len(p.Removed) != 1 {
		t.Fatalf("policy change: %+v", p)
	}
	added := p.Added[0]
	if added.Effect != "Allow" || strings.Join(added.Action, ",") != "s3:GetObject" ||
		strings.Join(added.Resource, ",") != "${StorageBucket5CB7C8EA.Arn}/*" {
		t.Errorf("added statement: %+v", added)
	}
	if got := strings.Join(p.Removed[0].Resource, ","); got != "${StorageBucket5CB7C8EA.Arn}/protected/*,${StorageBucket5CB7C8EA.Arn}/public/*" {
		t.Errorf("removed statement resources: %s", got)
	}
	md := report(d)
	for _, want := range []string{
		"**1 of 1 stack(s) changed**",
		"`StorageUserAccess168AE699` (AWS::IAM::Policy), policy on roles ${IdentityAuthenticatedRole83AF9BCF}: 1 added, 1 removed",
		"+ Allow s3:GetObject   (Sid ReadSharedObjects)\n+   on ${StorageBucket5CB7C8EA.Arn}/*\n",
		"-   on ${StorageBucket5CB7C8EA.Arn}/protected/*, ${StorageBucket5CB7C8EA.Arn}/public/*\n",
		"Modified:\n  - `StorageUserAccess168AE699` (AWS::IAM::Policy): PolicyDocument",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

func TestTrustPolicyAndConditionChanges(t *testing.T) {
	// GIVEN the authenticated role trusting any identity pool (aud condition dropped)
	base, head := snapshot(t, "S3Vend-dev"), snapshot(t, "S3Vend-dev")
	trust := props(t, head, "IdentityAuthenticatedRole83AF9BCF")["AssumeRolePolicyDocument"].(map[string]any)
	st := trust["Statement"].([]any)[0].(map[string]any)
	delete(st["Condition"].(map[string]any), "StringEquals")
	d := Compare("S3Vend-dev", base, head, nil)
	if len(d.Policies) != 1 || d.Policies[0].Label != "trust policy" {
		t.Fatalf("want the trust policy changed, got %+v", d.Policies)
	}
	removed := strings.Join(d.Policies[0].Removed[0].Lines(), "\n")
	for _, want := range []string{"Allow sts:AssumeRoleWithWebIdentity", "to Federated: cognito-identity.amazonaws.com",
		"when StringEquals cognito-identity.amazonaws.com:aud = ${IdentityPool280102ED}"} {
		if !strings.Contains(removed, want) {
			t.Errorf("removed trust statement lacks %q:\n%s", want, removed)
		}
	}
}

func TestStatementOrderAndSidAreNotChanges(t *testing.T) {
	// GIVEN a policy whose statements, actions and condition values are
	// reordered and whose Sids are renamed: the same permissions
	base, head := snapshot(t, "S3Vend-dev"), snapshot(t, "S3Vend-dev")
	doc := props(t, head, "StorageUserAccess168AE699")["PolicyDocument"].(map[string]any)
	sts := doc["Statement"].([]any)
	sts[0], sts[2] = sts[2], sts[0]
	for _, s := range sts {
		st := s.(map[string]any)
		st["Sid"] = "Renamed" + st["Sid"].(string)
		if a, ok := st["Action"].([]any); ok {
			a[0], a[len(a)-1] = a[len(a)-1], a[0]
		}
	}
	d := Compare("S3Vend-dev", base, head, nil)
	if len(d.Policies) != 0 {
		t.Errorf("reordering reported as statement changes: %+v", d.Policies)
	}
	if len(d.Modified) != 1 { // the document text did change: listed, but no statement
		t.Errorf("modified: %+v", d.Modified)
	}
}

func TestNewAndRemovedStacks(t *testing.T) {
	tpl := snapshot(t, "S3Vend-prod-cn")
	n := len(tpl["Resources"].(map[string]any))
	added := Compare("S3Vend-prod-cn", nil, tpl, nil)
	removed := Compare("S3Vend-prod-cn", tpl, nil, nil)
	if added.Status != New || len(added.Added) != n || len(added.Removed) != 0 {
		t.Errorf("new stack: status %s, %d added (want %d), %d removed", added.Status, len(added.Added), n, len(added.Removed))
	}
	if removed.Status != Removed || len(removed.Removed) != n || len(removed.Added) != 0 {
		t.Errorf("removed stack: status %s, %d removed (want %d)", removed.Status, len(removed.Removed), n)
	}
	// Every statement of a new stack is new: the trust policies among them.
	var trust int
	for _, p := range added.Policies {
		if p.Label == "trust policy" && len(p.Added) > 0 {
			trust++
		}
		if len(p.Removed) > 0 {
			t.Errorf("new stack has removed statements: %+v", p)
		}
	}
	if trust < 2 { // authenticated and guest roles (prod-cn allows guests)
		t.Errorf("new stack: %d trust policies listed as added, want the roles'", trust)
	}
	md := report(added, removed)
	for _, want := range []string{"### S3Vend-prod-cn: new", "### S3Vend-prod-cn: removed", "`TokenVendorApiDefaultRouteVendorPermission1181D435` (AWS::Lambda::Permission), invoke permission"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestReplacedResourceFromCLIOutput(t *testing.T) {
	// GIVEN the bucket's name changed (CloudFormation replaces a bucket to
	// rename it) and the CDK CLI's diff of that change, captured from
	// aws-cdk 2.1148.1 in testdata
	base, head := snapshot(t, "S3Vend-dev"), snapshot(t, "S3Vend-dev")
	props(t, base, "StorageBucket5CB7C8EA")["BucketName"] = "s3vend-dev-old-name"
	out, err := os.ReadFile(filepath.Join("testdata", "cdk-diff-bucket-name.txt"))
	if err != nil {
		t.Fatal(err)
	}
	impacts := ParseImpacts(string(out))
	want := map[string]string{"StorageBucket5CB7C8EA": "replace", "StorageBucketPolicy49CFBD91": "replace"}
	if len(impacts) != len(want) {
		t.Fatalf("impacts %v, want %v", impacts, want)
	}
	for id, v := range want {
		if impacts[id] != v {
			t.Errorf("impact of %s = %q, want %q", id, impacts[id], v)
		}
	}
	d := Compare("S3Vend-dev", base, head, impacts)
	if len(d.Replaced) != 2 || d.Replaced[0].ID != "StorageBucket5CB7C8EA" || d.Replaced[0].Type != "AWS::S3::Bucket" {
		t.Fatalf("replaced: %+v", d.Replaced)
	}
	md := report(d)
	if !strings.Contains(md, "**Replaced**") || !strings.Contains(md, "`StorageBucket5CB7C8EA` (AWS::S3::Bucket): replace") {
		t.Errorf("report does not flag the replacement:\n%s", md)
	}
}

func TestParseImpactsForms(t *testing.T) {
	out := strings.Join([]string{
		"[~] AWS::Lambda::Function Fn/Resource Fn12345 may be replaced",
		"[~] AWS::Cognito::IdentityPool Pool123 replace", // no construct path
		"[~] AWS::S3::Bucket Storage/Bucket Bucket1",     // update in place
		"[-] AWS::S3::Bucket Old/Bucket Old1 destroy",    // removal, not a replacement
		" └─ [~] BucketName (requires replacement)",
	}, "\n")
	got := ParseImpacts(out)
	if len(got) != 2 || got["Fn12345"] != "may be replaced" || got["Pool123"] != "replace" {
		t.Errorf("ParseImpacts = %v", got)
	}
}

func TestFunctionCodeChangeIsShownAndPathMetadataIsNot(t *testing.T) {
	base, head := snapshot(t, "S3Vend-dev"), snapshot(t, "S3Vend-dev")
	// Construct paths and asset paths differ between checkouts: noise.
	setMeta := func(tpl Template, id, k string, v any) {
		r := res(t, tpl, id)
		m, _ := r["Metadata"].(map[string]any)
		if m == nil {
			m = map[string]any{}
			r["Metadata"] = m
		}
		m[k] = v
	}
	setMeta(base, "StorageBucket5CB7C8EA", "aws:cdk:path", "S3Vend-dev/Storage/Bucket/Resource")
	setMeta(base, "TokenVendorFunction74A2E848", "aws:asset:path", "asset.1111")
	setMeta(head, "TokenVendorFunction74A2E848", "aws:asset:path", "asset.2222")
	if d := Compare("S3Vend-dev", base, head, nil); d.Changed() {
		t.Fatalf("path metadata reported as a change: %+v", d)
	}
	// A new Lambda asset hash is new function code: shown.
	props(t, head, "TokenVendorFunction74A2E848")["Code"].(map[string]any)["S3Key"] = "2222.zip"
	// A new cdk-nag acknowledgement is a reviewable change: shown.
	setMeta(head, "StorageBucket5CB7C8EA", "cdk_nag_new", map[string]any{"rules_to_suppress": []any{"x"}})
	d := Compare("S3Vend-dev", base, head, nil)
	if len(d.CodeChanged) != 1 || d.CodeChanged[0].ID != "TokenVendorFunction74A2E848" {
		t.Errorf("code change: %+v", d.CodeChanged)
	}
	md := report(d)
	for _, want := range []string{"Function code changed:\n  - `TokenVendorFunction74A2E848`", "`StorageBucket5CB7C8EA` (AWS::S3::Bucket): Metadata"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

func TestRender(t *testing.T) {
	cases := map[string]string{
		`{"Ref":"AWS::Partition"}`:                                  "${AWS::Partition}",
		`{"Fn::GetAtt":["Bucket1","Arn"]}`:                          "${Bucket1.Arn}",
		`{"Fn::GetAtt":"Bucket1.Arn"}`:                              "${Bucket1.Arn}",
		`{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":s3"]]}`: "arn:${AWS::Partition}:s3",
		`{"Fn::Sub":["${A}-x",{"A":{"Ref":"B"}}]}`:                  "${B}-x",
		`{"Fn::Sub":"cdk-${AWS::AccountId}"}`:                       "cdk-${AWS::AccountId}",
		`{"Fn::ImportValue":"Out"}`:                                 "${Import:Out}",
		`{"Fn::If":["C",1,2]}`:                                      "If(C, 1, 2)",
		`{"Unknown":1,"x":2}`:                                       `{"Unknown":1,"x":2}`,
	}
	for in, want := range cases {
		var v any
		if err := json.Unmarshal([]byte(in), &v); err != nil {
			t.Fatal(err)
		}
		if got := Render(v); got != want {
			t.Errorf("Render(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestOtherSectionsAndTypeChange(t *testing.T) {
	base, head := snapshot(t, "S3Vend-dev"), snapshot(t, "S3Vend-dev")
	head["Outputs"].(map[string]any)["Extra"] = map[string]any{"Value": "x"}
	res(t, head, "TokenVendorFunctionLogs97B48996")["Type"] = "AWS::Logs::Other"
	d := Compare("S3Vend-dev", base, head, nil)
	if len(d.Sections) != 1 || d.Sections[0] != "Outputs: +Extra" {
		t.Errorf("sections: %v", d.Sections)
	}
	if len(d.Added) != 1 || len(d.Removed) != 1 || d.Added[0].ID != "TokenVendorFunctionLogs97B48996" {
		t.Errorf("type change not shown as remove+add: %+v %+v", d.Added, d.Removed)
	}
}

func TestReportFitsACommentAndKeepsTheSummary(t *testing.T) {
	base, head := snapshot(t, "S3Vend-dev"), snapshot(t, "S3Vend-dev")
	props(t, head, "StorageBucket5CB7C8EA")["BucketName"] = "x"
	d := Compare("S3Vend-dev", base, head, nil)
	huge := strings.Repeat("[~] AWS::S3::Bucket a line of raw diff ü\n", 5000)
	r := Report{Base: "`main`", Head: "HEAD", Stacks: []StackDiff{d}, Raw: []RawDiff{{Stack: "S3Vend-dev", Text: huge}}}
	md := r.Markdown()
	if len(md) > MaxReport || len(md) > 65536 {
		t.Errorf("report is %d bytes, limit %d", len(md), MaxReport)
	}
	if !strings.Contains(md, r.summary()) || !strings.Contains(md, "Raw diff truncated") || !strings.HasSuffix(md, "</details>\n") {
		t.Errorf("truncated report lost its summary, note or closing tag (tail %q)", md[len(md)-200:])
	}
}
