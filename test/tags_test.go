package test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/infra"
)

// synthOne synthesizes one stack built in a test on its own and returns
// its template.
func synthOne(t *testing.T, stack awscdk.Stack) map[string]any {
	t.Helper()
	raw, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var tpl map[string]any
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatal(err)
	}
	return tpl
}

// trustStatements synthesizes an identity pool with sessionTags on its own
// and returns each Cognito role's trust statements, by amr.
func trustStatements(t *testing.T, sessionTags []string) map[string][]map[string]any {
	t.Helper()
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("TagTrust"), nil)
	infra.NewIdentityPool(stack, "Identity", infra.IdentityPoolProps{
		DeveloperProviderName: "login.example.app", Guests: true, BasicFlow: true, SessionTags: sessionTags,
	})
	tpl := synthOne(t, stack)
	out := map[string][]map[string]any{}
	for id, r := range resources(tpl, "AWS::IAM::Role") {
		amr := "authenticated"
		if len(id) > len("IdentityUnauth") && id[:len("IdentityUnauth")] == "IdentityUnauth" {
			amr = "unauthenticated"
		}
		out[amr] = statements(t, obj(t, r, "Properties", "AssumeRolePolicyDocument"))
	}
	return out
}

// The authenticated role's trust allows sts:TagSession for exactly the
// configured keys, for this pool's authenticated identities only (IAM:
// "trust policies for all roles connected to the identity provider (IdP)
// that is passing tags must have the sts:TagSession permission"); guests
// carry no tags and their role gets no such statement; without tags
// nothing changes.
func TestTrustAllowsTagSessionForTheConfiguredKeysOnly(t *testing.T) {
	keys := []string{contract.TagUser, contract.TagTenant}
	st := trustStatements(t, keys)
	auth := st["authenticated"]
	if len(auth) != 2 || auth[1]["Action"] != "sts:TagSession" {
		t.Fatalf("authenticated trust: %s", mustJSON(auth))
	}
	pool := mustJSON(obj(t, auth[0], "Condition", "StringEquals"))
	want := `{"ForAllValues:StringEquals":{"aws:TagKeys":["s3vend-user","s3vend-tenant"]},` +
		`"ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"authenticated"},"StringEquals":` + pool + `}`
	if got := mustJSON(auth[1]["Condition"]); got != want {
		t.Errorf("TagSession condition = %s, want %s", got, want)
	}
	if mustJSON(auth[1]["Principal"]) != mustJSON(auth[0]["Principal"]) {
		t.Errorf("TagSession principal %s differs from %s", mustJSON(auth[1]["Principal"]), mustJSON(auth[0]["Principal"]))
	}
	if len(st["unauthenticated"]) != 1 {
		t.Errorf("guest role trust: %s", mustJSON(st["unauthenticated"]))
	}
	if plain := trustStatements(t, nil); len(plain["authenticated"]) != 1 {
		t.Errorf("no session tags: %s", mustJSON(plain["authenticated"]))
	}
}
