package test

import (
	"testing"

	"github.com/s3vend/s3vend/internal/accessmatrix"
)

// guardrailPuts are puts into the caller's own prefix with the headers a
// hostile signed-in user sends (issue 16, item 2), each with whether IAM
// must allow it. The header-driven actions (ACL, tagging, Object Lock) are
// refused because the roles never grant them; the others by the guardrail
// Deny statements of the authenticated role.
var guardrailPuts = []struct {
	header string
	allow  bool
}{
	{"", true},
	{"x-amz-storage-class: STANDARD", true},
	{"x-amz-server-side-encryption: AES256", true},
	{"x-amz-storage-class: GLACIER", false},
	{"x-amz-storage-class: DEEP_ARCHIVE", false},
	{"x-amz-storage-class: INTELLIGENT_TIERING", false},
	{"x-amz-storage-class: REDUCED_REDUNDANCY", false},
	{"x-amz-server-side-encryption-customer-algorithm: AES256", false},
	{"x-amz-copy-source: s3vend-test-bucket/public/big.bin", false},
	{"x-amz-copy-source: /s3vend-test-bucket/private/A/photo.jpg?versionId=1", false},
	{"x-amz-tagging: team=a", false},
	{"x-amz-acl: bucket-owner-full-control", false},
	{"x-amz-grant-read: uri=http://acs.amazonaws.com/groups/global/AllUsers", false},
	{"x-amz-object-lock-legal-hold: ON", false},
	{"x-amz-object-lock-mode: GOVERNANCE\nx-amz-object-lock-retain-until-date: 2099-01-01T00:00:00Z", false},
}

// guardrailRequests are guardrailPuts into userA's own prefixes; they run in
// TestAccessMatrix, with the rest of the matrix, for every stack it
// evaluates (aws and aws-cn partitions).
func guardrailRequests() map[accessmatrix.Request]bool {
	out := map[accessmatrix.Request]bool{}
	for _, prefix := range []string{"private/A/", "protected/A/"} {
		for _, g := range guardrailPuts {
			out[accessmatrix.Request{Principal: "userA", Action: "put", Prefix: prefix, Header: g.header}] = g.allow
		}
	}
	return out
}

// The guardrails are what refuses those puts: with the Deny statements taken
// out of the template, the storage-class, SSE-C and copy puts are allowed
// again (so the matrix really evaluates the condition keys).
func TestStorageGuardrailsRemovedIsRed(t *testing.T) {
	node := nodeBinary(t)
	tpl, removed, err := accessmatrix.WithoutStatements(stackTemplate(t, "S3Vend-dev"), func(st map[string]any) bool { return st["Effect"] == "Deny" })
	if err != nil {
		t.Fatal(err)
	}
	if removed < 3 {
		t.Fatalf("removed %d Deny statements, want the 3 guardrails", removed)
	}
	reqs := []accessmatrix.Request{
		{Principal: "userA", Action: "put", Prefix: "private/A/", Header: "x-amz-storage-class: GLACIER"},
		{Principal: "userA", Action: "put", Prefix: "private/A/", Header: "x-amz-server-side-encryption-customer-algorithm: AES256"},
		{Principal: "userA", Action: "put", Prefix: "private/A/", Header: "x-amz-copy-source: s3vend-test-bucket/public/big.bin"},
	}
	got, err := accessmatrix.Evaluate(tpl, node, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range reqs {
		if !got[q] {
			t.Errorf("without the guardrails %q is still denied: something else refuses it, the test proves nothing", q.Header)
		}
	}
}

// Both buckets of every environment block SSE-C writes (the bucket-level
// setting, which S3 enforces for every principal, the owner's too).
func TestBucketsBlockSSEC(t *testing.T) {
	for _, stack := range allStacks(t) {
		buckets := resources(stackTemplate(t, stack), "AWS::S3::Bucket")
		if len(buckets) != 2 {
			t.Fatalf("%s: %d buckets, want the client bucket and its access-log bucket", stack, len(buckets))
		}
		for id, b := range buckets {
			rules := list(t, b, "Properties", "BucketEncryption", "ServerSideEncryptionConfiguration")
			for i := range rules {
				if got := mustJSON(obj(t, rules, i)["BlockedEncryptionTypes"]); got != `{"EncryptionType":["SSE-C"]}` {
					t.Errorf("%s %s: BlockedEncryptionTypes %s, want SSE-C", stack, id, got)
				}
			}
		}
	}
}
