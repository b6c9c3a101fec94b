package main

import (
	"encoding/json"
	"fmt"
	"slices"
)

// The IAM deny of revoked identities' credentials (docs/abuse-control.md,
// "Where the deny lives").
//
// Where: customer managed policies that the CLI creates under its own IAM
// path (contract.RevocationPolicyPath + <stack>/) and attaches to the pool's
// roles. CloudFormation owns none of them, so a later `cdk deploy` cannot
// rewrite or drop them: it updates only what its template declares (the
// roles here declare no ManagedPolicyArns and no inline Policies; CDK
// writes their grants as separate AWS::IAM::Policy resources, each naming
// its own inline policy), and it leaves attachments it did not make in
// place, which is why deleting a role with an out-of-band attachment fails
// with DeleteConflict ("Cannot delete entity, must detach all policies
// first", DeleteRole) until `s3vend admin revoked --prune` detaches them.
// A bucket policy (AWS::S3::BucketPolicy) or an AWS::IAM::ManagedPolicy of
// the stack would be replaced by the template's document on the next
// update, wiping active revocations. The revocation table stays the
// source of truth: every admin command rewrites these policies from it, so
// a replaced role gets its deny back on the next command.
//
// Capacity: a managed policy document is at most 6,144 characters, white
// space not counted, and a role has at most 10 managed policies attached
// by default (IAM User Guide, "IAM and AWS STS quotas": "Managed policy
// size: 6,144 characters", "Managed policies attached to an IAM role: 10"
// (adjustable to 20), https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
// The CLI uses at most maxDenyPolicies of those 10 (the roles attach none
// today; the rest stay for the team) and packs identity ids of 46 to 51
// characters ("<region>:<uuid>", 3 more for quotes and comma) into compact
// documents: 121 ids per policy in eu-west-1 (605 per stack), 110 in the
// longest region names such as ap-southeast-5 (550), measured by
// TestDenyDocumentsCapacity. An id stays in the
// deny only until its DenyUntil (the revocation time plus the longest a
// token and the credentials bought with it live, denyWindow), then the
// next command prunes it. Beyond capacity the command still records the
// revocation (the vendor refuses the user at once) and unlinks the
// identity, then fails with exit 3 naming the capacity: that user's
// already-issued credentials stay valid until they expire (at most the
// credential lifetime), which the message states.
const (
	maxPolicyChars  = 6144
	maxDenyPolicies = 5
)

// denyDocuments packs ids into as few deny documents as fit, each denying
// every action to sessions whose identity id is one of its ids
// (conditionKey is <partition prefix>:sub, e.g.
// cognito-identity.amazonaws.com:sub). Documents are compact JSON (IAM
// counts non-white-space characters; compact JSON has none outside
// strings). ids are kept in the order given (the oldest revocation first,
// so a new revocation changes only the last document, and beyond capacity
// the newest are the ones left out); a repeated id keeps its first place.
// It fails when more than maxDenyPolicies would be needed.
func denyDocuments(conditionKey string, ids []string) ([]string, error) {
	seen := make(map[string]bool, len(ids))
	ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool {
		dup := seen[id]
		seen[id] = true
		return dup
	})
	var docs []string
	for len(ids) > 0 {
		n := len(ids)
		doc := denyDocument(conditionKey, ids[:n])
		for len(doc) > maxPolicyChars {
			// Shrink by the overshoot, at least one id at a time.
			over := (len(doc)-maxPolicyChars)/(len(ids[0])+3) + 1
			n -= over
			if n < 1 {
				return nil, fmt.Errorf("an identity id is too long for a policy document")
			}
			doc = denyDocument(conditionKey, ids[:n])
		}
		docs = append(docs, doc)
		ids = ids[n:]
	}
	if len(docs) > maxDenyPolicies {
		return docs, &capacityError{needed: len(docs)}
	}
	return docs, nil
}

func denyDocument(conditionKey string, ids []string) string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":       "S3VendRevokedIdentities",
			"Effect":    "Deny",
			"Action":    "*",
			"Resource":  "*",
			"Condition": map[string]any{"StringEquals": map[string]any{conditionKey: ids}},
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// capacityError: the active revocations need more deny policies than
// maxDenyPolicies (exit 3).
type capacityError struct{ needed int }

func (e *capacityError) Error() string {
	return fmt.Sprintf("the IAM deny is full: the active revocations need %d policies of %d characters, the CLI uses at most %d per role "+
		"(IAM: 10 managed policies per role by default); the revocation is recorded and the vendor refuses the user, "+
		"but the newest revoked identities' already-issued credentials stay valid until they expire (at most the credential lifetime); "+
		"run 's3vend admin revoked --prune' after the oldest revocations' deny windows end", e.needed, maxPolicyChars, maxDenyPolicies)
}
