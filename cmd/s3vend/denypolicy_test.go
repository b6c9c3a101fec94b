package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func ids(n int, region string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s:%08x-0000-4000-8000-%012d", region, i, i)
	}
	return out
}

// TestDenyDocumentsCapacity: every document fits IAM's 6,144-character
// managed policy limit, no id is lost or doubled, the stated capacity (121
// eu-west-1 ids per policy, 605 per stack; 110 and 550 for
// ap-southeast-5) holds, and one id more is a capacityError.
func TestDenyDocumentsCapacity(t *testing.T) {
	const key = "cognito-identity.amazonaws.com:sub"
	all := ids(605, "eu-west-1")
	docs, err := denyDocuments(key, append(all, all[:10]...)) // duplicates collapse
	if err != nil {
		t.Fatalf("605 ids: %v", err)
	}
	if len(docs) != maxDenyPolicies {
		t.Fatalf("605 ids in %d policies, want %d", len(docs), maxDenyPolicies)
	}
	seen := map[string]bool{}
	for _, d := range docs {
		if n := len(strings.Join(strings.Fields(d), "")); n > maxPolicyChars {
			t.Errorf("document of %d characters", n)
		}
		var doc struct {
			Statement []struct {
				Effect, Action, Resource string
				Condition                map[string]map[string][]string
			}
		}
		if err := json.Unmarshal([]byte(d), &doc); err != nil {
			t.Fatal(err)
		}
		st := doc.Statement[0]
		if st.Effect != "Deny" || st.Action != "*" || st.Resource != "*" {
			t.Errorf("statement: %+v", st)
		}
		for _, id := range st.Condition["StringEquals"][key] {
			if seen[id] {
				t.Errorf("%s twice", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != len(all) {
		t.Fatalf("%d ids denied, want %d", len(seen), len(all))
	}
	_, err = denyDocuments(key, ids(606, "eu-west-1"))
	var ce *capacityError
	if !errors.As(err, &ce) {
		t.Fatalf("606 ids: %v, want a capacityError", err)
	}
	// The longest region names pack fewer per policy, never overflow.
	if _, err := denyDocuments(key, ids(550, "ap-southeast-5")); err != nil {
		t.Fatalf("ap-southeast-5, 550 ids: %v", err)
	}
	if _, err := denyDocuments(key, ids(551, "ap-southeast-5")); !errors.As(err, &ce) {
		t.Fatalf("ap-southeast-5, 551 ids: %v, want a capacityError", err)
	}
}
