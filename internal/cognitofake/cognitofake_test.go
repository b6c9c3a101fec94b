package cognitofake_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/s3vend/s3vend/internal/cognitofake"
)

func TestOpsFailuresAndLimits(t *testing.T) {
	var o cognitofake.Ops
	o.Fail("GetId", "InternalErrorException", 2)
	o.Fail("", "NotAuthorizedException", -1)
	o.Limit("GetId", 0.001, 1)
	want := []struct {
		code    string
		limited bool
	}{
		{"InternalErrorException", false}, {"InternalErrorException", false}, // the op's own, counted down
		{"NotAuthorizedException", false}, // the limiter's one token spent, then every op's failure
		{cognitofake.Throttled, true},
	}
	for i, w := range want {
		if c := o.Record("GetId"); c.N != i+1 || c.Code != w.code || c.Limited != w.limited {
			t.Fatalf("call %d: %+v; want %q, %v", i+1, c, w.code, w.limited)
		}
	}
	if c := o.Record("GetOpenIdToken"); c.N != 1 || c.Code != "NotAuthorizedException" {
		t.Fatalf("another op: %+v, want the failure of every op", c)
	}
	if o.Calls("GetId") != 4 || o.Total() != 5 {
		t.Fatalf("calls %d, total %d", o.Calls("GetId"), o.Total())
	}
	o.Reset()
	if c := o.Record("GetId"); c.Code != cognitofake.Throttled || !c.Limited || c.N != 1 || o.Total() != 1 {
		t.Fatalf("after Reset: %+v total %d; want counts and failures cleared, the limit kept", c, o.Total())
	}
	o.Limit("GetId", 0, 0)
	o.Fail("", "x", 0)
	if c := o.Record("GetId"); c.Code != "" {
		t.Fatalf("limit removed, failure cleared: %+v", c)
	}
}

func TestIdentitiesTokensOnTheInjectedClock(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	pool := cognitofake.Pool{ID: "eu-west-1:pool", Region: "eu-west-1", Partition: "aws", DeveloperProvider: "s3vend", LoginKey: "cognito-identity.amazonaws.com"}
	ids, err := cognitofake.NewIdentities(pool, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	id, e := ids.ForDeveloper("backend:alice", "")
	if e != nil {
		t.Fatal(e)
	}
	if again, _ := ids.ForDeveloper("backend:alice", ""); again != id {
		t.Fatalf("the same user got %s, then %s", id, again)
	}
	if _, e := ids.ForDeveloper("backend:bob", id); e == nil || e.Code != "ResourceConflictException" {
		t.Fatalf("linking a linked identity: %v", e)
	}
	tok, e := ids.Issue(id, []string{"authenticated", "s3vend"}, nil, time.Minute)
	if e != nil {
		t.Fatal(e)
	}
	logins := map[string]string{pool.LoginKey: tok}
	if amr, _, e := ids.Caller(id, logins); e != nil || amr[0] != "authenticated" {
		t.Fatalf("live token: %v %v", amr, e)
	}
	if _, e := ids.CheckLogins(logins, pool.Region+":other"); e == nil {
		t.Fatal("a token was accepted for another identity")
	}
	if _, e := ids.CheckLogins(map[string]string{"accounts.google.com": tok}, ""); e == nil || e.Code != "NotAuthorizedException" {
		t.Fatalf("wrong Logins key: %v", e)
	}
	now = now.Add(time.Minute)
	if _, e := ids.CheckLogins(logins, id); e == nil || e.Message != "Invalid login token. Token expired: 1735689660 >= 1735689660" {
		t.Fatalf("expired token: %v", e)
	}
	if _, _, e := ids.Caller(ids.NewGuest(), nil); e == nil {
		t.Fatal("a guest identity acted without Logins in a pool without guests")
	}
	if e := ids.Unlink(id, "backend:alice"); e != nil {
		t.Fatal(e)
	}
	if _, ok := ids.IdentityOf("backend:alice"); ok {
		t.Fatal("an unlinked user still maps to its identity")
	}
	if _, _, e := ids.Caller(id, logins); e == nil {
		t.Fatal("an unlinked identity still acts")
	}
}

func TestCredentialsOutputEpochSeconds(t *testing.T) {
	rec := httptest.NewRecorder()
	exp := time.Unix(1700000000, 0)
	_ = json.NewEncoder(rec).Encode(cognitofake.CredentialsOutput("id", cognitofake.Credentials{Expiration: exp}))
	_ = json.NewEncoder(rec).Encode(cognitofake.CredentialsOutput("id", cognitofake.Credentials{Expiration: exp.Add(250 * time.Millisecond)}))
	want := `{"Credentials":{"AccessKeyId":"","Expiration":1700000000,"SecretKey":"","SessionToken":""},"IdentityId":"id"}
{"Credentials":{"AccessKeyId":"","Expiration":1700000000.25,"SecretKey":"","SessionToken":""},"IdentityId":"id"}
`
	if rec.Body.String() != want {
		t.Fatalf("got %s", rec.Body)
	}
}
