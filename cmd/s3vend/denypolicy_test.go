package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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

// TestDenyDocumentsKeepTheOrderGiven: ids stay in the order given (syncDeny
// gives the oldest revocation first), so beyond capacity the newest are the
// ones the truncated documents leave out, as the capacity error says, and
// one more revocation changes only the last document.
func TestDenyDocumentsKeepTheOrderGiven(t *testing.T) {
	const key = "cognito-identity.amazonaws.com:sub"
	all := ids(606, "eu-west-1")
	slices.Reverse(all) // not the sort order
	docs, err := denyDocuments(key, all)
	var ce *capacityError
	if !errors.As(err, &ce) || len(docs) != maxDenyPolicies+1 {
		t.Fatalf("606 ids: %d documents, %v", len(docs), err)
	}
	kept := strings.Join(docs[:maxDenyPolicies], "")
	if !strings.Contains(kept, all[0]) || !strings.Contains(kept, all[604]) || strings.Contains(kept, all[605]) {
		t.Errorf("the first %d policies should hold the first 605 ids given and not the newest, %s", maxDenyPolicies, all[605])
	}
	before, _ := denyDocuments(key, all[:300])
	after, _ := denyDocuments(key, append(slices.Clone(all[:300]), all[300], all[0])) // one new, one repeated
	if !slices.Equal(before[:len(before)-1], after[:len(before)-1]) {
		t.Error("one more revocation rewrote earlier documents")
	}
}
