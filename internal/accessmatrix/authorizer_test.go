package accessmatrix

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/s3vend/s3vend/internal/platform/platformtest"
)

func nodeBinary(t *testing.T) string { return platformtest.NeedNode24(t, "../..") }

func snapshot(t *testing.T, stack string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "test", "testdata", "snapshots", stack+".template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAuthorizerAgreesWithEvaluate asks the long-running authorizer and the
// batch Evaluate the same questions about the dev and China templates.
func TestAuthorizerAgreesWithEvaluate(t *testing.T) {
	node := nodeBinary(t)
	for _, stack := range []string{"S3Vend-dev", "S3Vend-prod-cn"} {
		t.Run(stack, func(t *testing.T) {
			tmpl := snapshot(t, stack)
			m, err := Load(tmpl)
			if err != nil {
				t.Fatal(err)
			}
			var reqs []Request
			for _, p := range []string{"anonymous", "guest", "userA"} {
				for _, a := range []string{"get", "put", "delete", "list"} {
					for _, pre := range []string{"public/", "protected/A/", "private/A/", "private/B/"} {
						for _, insecure := range []bool{false, true} {
							reqs = append(reqs, Request{Principal: p, Action: a, Prefix: pre, Insecure: insecure})
						}
					}
				}
			}
			want, err := Evaluate(tmpl, node, reqs)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			az, err := m.NewAuthorizer(node)
			if err != nil {
				t.Fatal(err)
			}
			defer az.Close()
			t.Logf("authorizer start: %v", time.Since(start))

			ids := map[string]string{"A": m.Region() + ":aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "B": m.Region() + ":bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"}
			start = time.Now()
			for _, q := range reqs {
				acc := Access{Action: s3Actions[q.Action], TLSVersion: "1.3"}
				if q.Insecure {
					acc.TLSVersion = ""
				}
				switch q.Principal {
				case "anonymous":
					acc.Anonymous = true
				case "guest":
					acc.RoleARN, acc.IdentityID, acc.Amr = m.RoleARN("unauthenticated"), m.Region()+":cccccccc-cccc-4ccc-8ccc-cccccccccccc", []string{"unauthenticated"}
				case "userA":
					acc.RoleARN, acc.IdentityID, acc.Amr = m.RoleARN("authenticated"), ids["A"], []string{"authenticated", "login.s3vend.dev"}
				}
				prefix := q.Prefix
				for short, id := range ids {
					if len(prefix) > 2 && prefix[len(prefix)-2:] == short+"/" {
						prefix = prefix[:len(prefix)-2] + id + "/"
					}
				}
				if q.Action == "list" {
					acc.Prefix = &prefix
				} else {
					acc.Key = prefix + "photo.jpg"
				}
				got, err := az.Authorize(acc)
				if err != nil {
					t.Fatal(err)
				}
				if got != want[q] {
					t.Errorf("%+v: authorizer says %v, Evaluate %v", q, got, want[q])
				}
			}
			t.Logf("%d decisions in %v", len(reqs), time.Since(start))
		})
	}
}

func TestAuthorizerDeniesForeignRolesAndFailsClearly(t *testing.T) {
	node := nodeBinary(t)
	m, err := Load(snapshot(t, "S3Vend-dev"))
	if err != nil {
		t.Fatal(err)
	}
	az, err := m.NewAuthorizer(node)
	if err != nil {
		t.Fatal(err)
	}
	id := m.Region() + ":aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	own := Access{RoleARN: m.RoleARN("authenticated"), IdentityID: id, Amr: []string{"authenticated"},
		Action: "s3:PutObject", Key: "private/" + id + "/x", TLSVersion: "1.3"}
	for _, c := range []struct {
		name string
		acc  func(Access) Access
		want bool
	}{
		{"own private object", func(a Access) Access { return a }, true},
		{"static credentials (no role)", func(a Access) Access { a.RoleARN = ""; return a }, false},
		{"another account's role", func(a Access) Access { a.RoleARN = "arn:aws:iam::999999999999:role/x"; return a }, false},
		{"unauthenticated amr on the authenticated role", func(a Access) Access { a.Amr = []string{"unauthenticated"}; return a }, false},
		{"TLS 1.1", func(a Access) Access { a.TLSVersion = "1.1"; return a }, false},
		{"no TLS", func(a Access) Access { a.TLSVersion = ""; return a }, false},
	} {
		got, err := az.Authorize(c.acc(own))
		if err != nil || got != c.want {
			t.Errorf("%s: got %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	if _, err := az.Authorize(Access{Anonymous: true}); err == nil {
		t.Error("an Access without an action was decided")
	}
	if err := az.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := az.Authorize(own); err == nil {
		t.Error("a closed authorizer decided")
	}
}
