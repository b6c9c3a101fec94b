package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3vend/s3vend/client"
	"github.com/s3vend/s3vend/contract"
)

// rulesUser is a signed-in user of the rules stack: its hs256 login names
// user and tenant (the verifier's tenantClaim "org"); tenant "" logs in
// with WeChat, whose verifier names no tenant.
type rulesUser struct {
	creds *client.Credentials
	who   client.Identity
	s3    *s3.Client
}

func signInRules(t *testing.T, user, tenant string, flow client.Flow) rulesUser {
	t.Helper()
	s := rulesStack
	login := func(context.Context) (string, string, error) {
		if tenant == "" {
			code, err := s.WeChatCode(user)
			return s.WeChatProvider, code, err
		}
		jwt, err := s.MintTenantLogin(user, tenant, 5*time.Minute)
		return s.HS256.Name, jwt, err
	}
	creds, err := client.New(s.TokenEndpoint(), login, func(o *client.Options) {
		o.Flow, o.Cognito = flow, cognito(t, s)
	})
	if err != nil {
		t.Fatal(err)
	}
	who, err := creds.Identity(ctxT(t))
	if err != nil {
		t.Fatalf("%s signs in: %v", user, err)
	}
	return rulesUser{creds, who, s3Client(t, s, creds.Cache())}
}

func (u rulesUser) key(t *testing.T, rule, name string) string {
	t.Helper()
	rules, err := contract.ParseRules([]byte(rulesStack.Outputs()[contract.OutputAccessRules]))
	if err != nil {
		t.Fatal(err)
	}
	k, err := client.Key(rules, rule, u.who, name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (u rulesUser) put(t *testing.T, key string) error {
	_, err := u.s3.PutObject(ctxT(t), &s3.PutObjectInput{Bucket: &rulesStack.BucketName, Key: &key, Body: strings.NewReader("hello " + key)})
	return err
}

func (u rulesUser) get(t *testing.T, key string) error {
	out, err := u.s3.GetObject(ctxT(t), &s3.GetObjectInput{Bucket: &rulesStack.BucketName, Key: &key})
	if err == nil {
		_, err = io.Copy(io.Discard, out.Body)
		out.Body.Close()
	}
	return err
}

func denied(t *testing.T, what string, err error) {
	t.Helper()
	if apiCode(err) != "AccessDenied" {
		t.Errorf("%s: want AccessDenied, got %v", what, err)
	}
}

// The custom layout end to end, with the real vendor and the Go client
// against the stand-ins, which carry the session tags from Cognito's token
// into S3's IAM evaluation (enhanced flow: Cognito tags the session; basic
// flow: STS reads the token's https://aws.amazon.com/tags claim):
//   - user A writes avatars/<A's user id>/me.jpg, an anonymous GET reads
//     it, user B cannot write it;
//   - two users of one tenant share teams/<tenant>/, a user of another
//     tenant (or without one) is refused;
//   - inbox/<identityId>/ is read by its owner only and written by the
//     backend only.
func TestAccessRulesEndToEnd(t *testing.T) {
	ready(t)
	a := signInRules(t, "alice", "acme", client.FlowEnhanced)
	b := signInRules(t, "bob", "acme", client.FlowEnhanced)
	c := signInRules(t, "carol", "globex", client.FlowEnhanced)
	d := signInRules(t, "o-dave", "", client.FlowEnhanced)
	if a.who.UserID != "backend:alice" || a.who.Tenant != "backend:acme" || d.who.UserID != "wechat:o-dave" || d.who.Tenant != "" {
		t.Fatalf("key values: a %+v, d %+v", a.who, d.who)
	}

	avatar := a.key(t, "avatars", "me.jpg")
	if avatar != "avatars/backend:alice/me.jpg" {
		t.Fatalf("avatar key %q", avatar)
	}
	if err := a.put(t, avatar); err != nil {
		t.Fatalf("A writes its avatar: %v", err)
	}
	resp, err := httpClient(t, rulesStack).Get(rulesStack.S3URL + "/" + rulesStack.BucketName + "/" + avatar)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "hello "+avatar {
		t.Errorf("anonymous GET of A's avatar: %d %q", resp.StatusCode, body)
	}
	denied(t, "B writes A's avatar", b.put(t, avatar))
	denied(t, "D writes A's avatar", d.put(t, avatar))
	if err := d.put(t, d.key(t, "avatars", "me.jpg")); err != nil {
		t.Errorf("a WeChat user writes its own avatar: %v", err)
	}
	// The basic flow tags the session too (STS, from the token's claim).
	ab := signInRules(t, "alice", "acme", client.FlowBasic)
	if ab.who.IdentityID != a.who.IdentityID {
		t.Fatalf("basic flow identity %s, enhanced %s", ab.who.IdentityID, a.who.IdentityID)
	}
	if err := ab.put(t, ab.key(t, "avatars", "basic.jpg")); err != nil {
		t.Errorf("A writes its avatar with basic-flow credentials: %v", err)
	}
	denied(t, "A (basic flow) writes B's avatar", ab.put(t, b.key(t, "avatars", "x.jpg")))

	team := a.key(t, "teams", "plan.txt")
	if team != "teams/backend:acme/plan.txt" {
		t.Fatalf("team key %q", team)
	}
	if err := a.put(t, team); err != nil {
		t.Fatalf("A writes its team's file: %v", err)
	}
	if err := b.get(t, team); err != nil {
		t.Errorf("B (same tenant) reads it: %v", err)
	}
	list, err := b.s3.ListObjectsV2(ctxT(t), &s3.ListObjectsV2Input{Bucket: &rulesStack.BucketName, Prefix: aws.String("teams/backend:acme/")})
	if err != nil || len(list.Contents) != 1 {
		t.Errorf("B lists its team: %v %v", list, err)
	}
	denied(t, "C (other tenant) reads it", c.get(t, team))
	denied(t, "C (other tenant) writes it", c.put(t, team))
	denied(t, "D (no tenant) reads it", d.get(t, team))
	_, err = c.s3.ListObjectsV2(ctxT(t), &s3.ListObjectsV2Input{Bucket: &rulesStack.BucketName, Prefix: aws.String("teams/backend:acme/")})
	denied(t, "C lists A's team", err)

	inbox := a.key(t, "inbox", "welcome.txt")
	denied(t, "A writes its own inbox (the backend's)", a.put(t, inbox))
	rulesStack.S3.PutObject(inbox, []byte("from the backend"), "text/plain")
	if err := a.get(t, inbox); err != nil {
		t.Errorf("A reads its inbox: %v", err)
	}
	denied(t, "B reads A's inbox", b.get(t, inbox))
}

// TestAccessRulesJS runs the JS packages' access-rule end-to-end tests
// against the S3Vend-rules stand-ins, at once: js/client/test/rules.e2e.mjs
// (@s3vend/client's key() with AWS SDK for JavaScript v3's S3Client in Node:
// an avatar written and read anonymously, a team shared within its tenant
// and refused across tenants, both flows) and
// js/miniprogram/test/rules.e2e.mjs (the mini-program bundle's
// upload({rule}) and list({rule}) through the wx shim).
func TestAccessRulesJS(t *testing.T) {
	ready(t)
	s := rulesStack
	env := append(s.ClientEnv(), "S3VEND_ACCESS_RULES="+s.Outputs()[contract.OutputAccessRules], "S3VEND_PROVIDER="+s.HS256.Name)
	t.Run("client", func(t *testing.T) {
		t.Parallel()
		env := slices.Clone(env)
		users := map[string][2]string{"A": {"js-alice", "js-acme"}, "B": {"js-bob", "js-acme"}, "C": {"js-carol", "js-globex"}}
		for u, ut := range users {
			jwt, err := s.MintTenantLogin(ut[0], ut[1], 0)
			if err != nil {
				t.Fatal(err)
			}
			env = append(env, "S3VEND_LOGIN_"+u+"="+jwt, "S3VEND_USER_"+u+"="+ut[0])
		}
		env = append(env, "S3VEND_TENANT_AB="+users["A"][1], "S3VEND_TENANT_C="+users["C"][1])
		out := run(t, env, false, node24, "js/client/test/rules.e2e.mjs")
		t.Log(out)
		nodeTestsPassed(t, "@s3vend/client access rules e2e", out)
		if _, _, ok := s.S3.Object("avatars/" + s.HS256.Name + ":js-alice/me.txt"); !ok {
			t.Error("the avatar is not in the bucket")
		}
	})
	t.Run("miniprogram", func(t *testing.T) {
		t.Parallel()
		env := append(slices.Clone(env), "S3VEND_TEST_CONTROL="+startControl(t, s), "S3VEND_WECHAT_PROVIDER="+s.WeChatProvider)
		out := run(t, env, false, node24, "js/miniprogram/test/rules.e2e.mjs")
		t.Log(out)
		nodeTestsPassed(t, "@s3vend/miniprogram access rules e2e", out)
	})
}

// POST /v1/upload by rule name: the form's key is the rule's prefix for the
// caller; S3 (the stand-in, with the caller's tagged session) accepts the
// form; a rule no signed-in subject may put under is a 400.
func TestAccessRulesUploadByRule(t *testing.T) {
	ready(t)
	s := rulesStack
	v := vendorOf(t, s)
	jwt, err := s.MintTenantLogin("erin", "acme", 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for rule, want := range map[string]string{"avatars": "avatars/backend:erin/up.txt", "teams": "teams/backend:acme/up.txt"} {
		up, err := v.RequestUpload(ctxT(t), s.HS256.Name, jwt, client.UploadRequest{Name: "up.txt", Size: 5, ContentType: "text/plain", Rule: rule})
		if err != nil || up.Key != want {
			t.Fatalf("%s: %+v %v", rule, up, err)
		}
		postForm(t, s, up, "hello")
		if got, _, ok := s.S3.Object(want); !ok || string(got) != "hello" {
			t.Errorf("%s: stored %q %v", rule, got, ok)
		}
	}
	_, err = v.RequestUpload(ctxT(t), s.HS256.Name, jwt, client.UploadRequest{Name: "x.txt", Size: 1, ContentType: "text/plain", Rule: "inbox"})
	if ve, ok := err.(*client.VendorError); !ok || ve.Status != http.StatusBadRequest || ve.Code != "invalid_rule" {
		t.Errorf("inbox (no put): %v", err)
	}
}

// make smoke on the custom layout: the rows of the rules section pass, in
// both flows, and nothing is left behind.
func TestSmokeAccessRules(t *testing.T) {
	ready(t)
	env, outputs := smokeEnv(t, rulesStack, "S3Vend-rules")
	// The test-only environment is not in cdk.json: the smoke check reads
	// its hs256 verifier (with the tenantClaim) from a cdk.json of its own.
	h := rulesStack.HS256
	doc, _ := json.Marshal(map[string]any{"context": map[string]any{"s3vend": map[string]any{"environments": map[string]any{"rules": map[string]any{
		"verifiers": map[string]any{"hs256": map[string]any{"name": h.Name, "issuer": h.Issuer, "audience": h.Audience, "tenantClaim": h.TenantClaim}},
	}}}}})
	cdkJSON := filepath.Join(t.TempDir(), "cdk.json")
	if err := os.WriteFile(cdkJSON, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out := run(t, env, false, binaries["s3vend"], "smoke", "--stack", "S3Vend-rules", "--outputs", outputs,
		"--secrets-file", rulesStack.SecretsFile, "--cdk-json", cdkJSON)
	wantRows(t, out, []string{
		"vendor returns the user's key values (session tags)",
		"token + credentials (enhanced flow, user c of another tenant)",
		"put/get/delete own avatars key (a)", "put/get/delete own avatars key (a-basic)",
		"user b refused writing a's avatars key", "anonymous reads a's avatars object",
		"user a writes its tenant's teams key", "user b (same tenant) reads a's teams object",
		"user c (other tenant) refused reading and writing a's teams key",
		"put/get/delete own members key (a)", "put/get/delete own members key (a-basic)",
	}, "pass")
	noSmokeLeftovers(t, rulesStack)
}
