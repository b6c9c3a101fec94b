package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"mime/multipart"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3vend/s3vend/client"
	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/contract/wire"
	"github.com/s3vend/s3vend/internal/dynamotest"
	"github.com/s3vend/s3vend/internal/revocation"
	"github.com/s3vend/s3vend/internal/standin"
)

// Abuse control end to end (docs/abuse-control.md): the real vendor and
// metering binaries, the s3vend CLI, the stand-ins of S3, Cognito, STS and
// SQS configured from the golden template, and moto's server as the
// DynamoDB (and IAM) engine.

func needEngine(t *testing.T) {
	t.Helper()
	ready(t)
	if engine == nil {
		if dynamotest.Required() {
			t.Fatal("no DynamoDB engine: python3 with moto's server is required (internal/dynamotest)")
		}
		t.Skip("no DynamoDB engine (python3 with moto's server)")
	}
}

// admin runs `s3vend admin args...` as an operator of s: operator
// credentials known to the stand-ins, DynamoDB, IAM and STS at the engine,
// CloudWatch and Cognito at their stand-ins, S3 at its stand-in (which
// grants the operator what the template's operator policy grants), the
// stack's outputs from a file. A revoke or unrevoke that succeeds must have counted itself
// in the Revocations metric.
func admin(t *testing.T, s *standin.Stack, wantFail bool, args ...string) string {
	t.Helper()
	outputs := filepath.Join(t.TempDir(), "outputs.json")
	name := stackName(s)
	doc := map[string]map[string]string{name: s.Outputs()}
	b, _ := json.Marshal(doc)
	if err := os.WriteFile(outputs, b, 0o600); err != nil {
		t.Fatal(err)
	}
	op := standin.Session{AccessKeyID: "AKIAOPERATOR" + fmt.Sprint(time.Now().UnixNano()%1e8), SecretAccessKey: "operator-secret"}
	if err := s.PutOperator(op); err != nil { // S3 grants it the template's operator policy
		t.Fatal(err)
	}
	cw, err := s.StartCloudWatch() // moto does not speak CloudWatch's rpc-v2-cbor
	if err != nil {
		t.Fatal(err)
	}
	defer cw.Close()
	env := []string{
		"AWS_REGION=" + s.Region, "AWS_ENDPOINT_URL_S3=" + s.S3URL,
		"AWS_ACCESS_KEY_ID=" + op.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + op.SecretAccessKey,
		"AWS_ENDPOINT_URL_DYNAMODB=" + engine.URL, "AWS_ENDPOINT_URL_IAM=" + engine.URL,
		"AWS_ENDPOINT_URL_STS=" + engine.URL, "AWS_ENDPOINT_URL_CLOUDWATCH=" + cw.URL,
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY=" + s.CognitoURL, "AWS_CA_BUNDLE=" + s.CAFile,
		"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull, "AWS_EC2_METADATA_DISABLED=true",
	}
	out := run(t, env, wantFail, binaries["s3vend"], append(append([]string{"admin"}, args...), "--stack", name, "--outputs", outputs)...)
	if sub := args[0]; !wantFail && (sub == "revoke" || sub == "unrevoke") {
		want := map[string]float64{"revoke": 1, "unrevoke": 0}[sub]
		if !slices.ContainsFunc(cw.Data(), func(d standin.MetricDatum) bool {
			return d.Namespace == contract.MetricNamespace && d.Name == contract.MetricRevocations && d.Value == want &&
				d.Unit == "Count" && maps.Equal(d.Dimensions, map[string]string{contract.DimStack: name})
		}) {
			t.Errorf("admin %s: no %s/%s %v {Stack=%s} datum: %+v", sub, contract.MetricNamespace, contract.MetricRevocations, want, name, cw.Data())
		}
	}
	return out
}

// revokeDeleting runs `revoke --user user --delete-objects` and checks that
// exactly the objects gone were deleted (the count it prints too) and the
// objects kept are still there; it returns the command's output.
func revokeDeleting(t *testing.T, s *standin.Stack, user string, gone, kept []string) string {
	t.Helper()
	out := admin(t, s, false, "revoke", "--user", user, "--reason", "e2e: delete objects", "--delete-objects")
	if !strings.Contains(out, fmt.Sprintf("S3: %d objects deleted", len(gone))) {
		t.Errorf("revoke --delete-objects output:\n%s", out)
	}
	for _, k := range gone {
		if _, _, ok := s.S3.Object(k); ok {
			t.Errorf("%s survived revoke --delete-objects", k)
		}
	}
	for _, k := range kept {
		if _, _, ok := s.S3.Object(k); !ok {
			t.Errorf("revoke --delete-objects of another user deleted %s", k)
		}
	}
	return out
}

// stackName is the stack s stands for.
func stackName(s *standin.Stack) string {
	switch s {
	case rulesStack:
		return "S3Vend-rules"
	case cnStack:
		return "S3Vend-prod-cn"
	}
	return "S3Vend-dev"
}

func vendorOf(t *testing.T, s *standin.Stack) *client.Vendor {
	t.Helper()
	v, err := client.NewVendor(s.TokenEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func vendorCode(err error) string {
	var ve *client.VendorError
	if errors.As(err, &ve) {
		return ve.Code
	}
	return ""
}

// eventually retries f every 100 ms for up to limit.
func eventually(t *testing.T, limit time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func staticCreds(c *client.CredentialsResponse) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
}

// TestRevocationEndToEnd: a revoked user's next vend is refused on every
// route, cached or not, within the vendor's refresh (1 s here); the
// credentials they already hold get AccessDenied from S3 once the IAM deny
// applies; their open Cognito token buys no new credentials; another user
// is unaffected; unrevoke restores the login with the same identity.
func TestRevocationEndToEnd(t *testing.T) {
	needEngine(t)
	ctx := ctxT(t)
	s, v, p := devStack, vendorOf(t, devStack), devStack.HS256.Name
	login := func(user string) string {
		jwt, err := s.MintLogin(user, 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return jwt
	}
	vendAll := func(user string) map[string]error {
		_, terr := v.Token(ctx, p, login(user))
		_, cerr := v.Credentials(ctx, p, login(user))
		_, uerr := v.RequestUpload(ctx, p, login(user), client.UploadRequest{Name: "a.txt", Size: 1, ContentType: "text/plain"})
		return map[string]error{"token": terr, "credentials": cerr, "upload": uerr}
	}
	mc, err := v.Credentials(ctx, p, login("mallory"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := v.Token(ctx, p, login("mallory"))
	if err != nil {
		t.Fatal(err)
	}
	for route, err := range vendAll("mallory") { // warm every cache entry
		if err != nil {
			t.Fatalf("%s before: %v", route, err)
		}
	}
	ms3 := s3Client(t, s, staticCreds(mc))
	key := client.PrivateKey(mc.IdentityID, "evidence.txt")
	if _, err := ms3.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.BucketName, Key: &key, Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	out := admin(t, s, false, "revoke", "--user", p+":mallory", "--reason", "e2e: uploads illegal content")
	if !strings.Contains(out, "recorded: user#"+p+":mallory revoked") || !strings.Contains(out, "unlinked from "+mc.IdentityID) {
		t.Fatalf("revoke output:\n%s", out)
	}
	eventually(t, 10*time.Second, "every route refuses the revoked user", func() error {
		for route, err := range vendAll("mallory") {
			if vendorCode(err) != wire.CodeUserRevoked {
				return fmt.Errorf("%s: %v", route, err)
			}
		}
		return nil
	})
	t.Logf("vendor refuses on every route %v after the revoke command started", time.Since(start).Round(10*time.Millisecond))
	for route, err := range vendAll("bob") {
		if err != nil {
			t.Errorf("another user, %s: %v", route, err)
		}
	}
	eventually(t, 10*time.Second, "the held credentials get AccessDenied", func() error {
		_, err := ms3.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.BucketName, Key: &key})
		if apiCode(err) != "AccessDenied" {
			return fmt.Errorf("GetObject: %v", err)
		}
		return nil
	})
	_, err = ms3.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.BucketName, Key: &key, Body: strings.NewReader("y")})
	if apiCode(err) != "AccessDenied" {
		t.Errorf("revoked PutObject: %v, want AccessDenied", err)
	}
	_, err = cognito(t, s).GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{
		IdentityId: aws.String(tok.IdentityID), Logins: map[string]string{tok.LoginKey: tok.Token},
	})
	if apiCode(err) != "NotAuthorizedException" {
		t.Errorf("the revoked user's open token: %v, want NotAuthorizedException", err)
	}
	if list := admin(t, s, false, "revoked"); !strings.Contains(list, "user#"+p+":mallory") || !strings.Contains(list, "e2e: uploads illegal content") {
		t.Errorf("revoked list:\n%s", list)
	}
	if _, _, ok := s.S3.Object(key); !ok {
		t.Error("revoke without --delete-objects deleted the evidence")
	}

	out = admin(t, s, false, "unrevoke", "--user", p+":mallory", "--reason", "e2e: appeal")
	if !strings.Contains(out, "linked back to "+mc.IdentityID) {
		t.Fatalf("unrevoke output:\n%s", out)
	}
	eventually(t, 10*time.Second, "the restored user vends again, with the same identity", func() error {
		tr, err := v.Token(ctx, p, login("mallory"))
		if err != nil {
			return err
		}
		if tr.IdentityID != mc.IdentityID {
			t.Fatalf("restored identity %s, want %s", tr.IdentityID, mc.IdentityID)
		}
		return nil
	})
	eventually(t, 10*time.Second, "the restored user reads the old object", func() error {
		nc, err := v.Credentials(ctx, p, login("mallory"))
		if err != nil {
			return err
		}
		_, err = s3Client(t, s, staticCreds(nc)).GetObject(ctx, &s3.GetObjectInput{Bucket: &s.BucketName, Key: &key})
		return err
	})
}

// TestRevokeDeleteObjects: `revoke --delete-objects` deletes every object
// under the revoked identity's private/ and protected/ prefixes, through S3
// with the operator's credentials (allowed by the template's operator
// policy, nothing more), and leaves another user's objects, including one
// whose identity id starts with the revoked one's, untouched.
func TestRevokeDeleteObjects(t *testing.T) {
	needEngine(t)
	ctx := ctxT(t)
	s, v, p := devStack, vendorOf(t, devStack), devStack.HS256.Name
	creds := func(user string) *client.CredentialsResponse {
		jwt, err := s.MintLogin(user, 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		c, err := v.Credentials(ctx, p, jwt)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	write := func(c *client.CredentialsResponse) []string {
		var keys []string
		s3c := s3Client(t, s, staticCreds(c))
		for _, k := range []string{client.PrivateKey(c.IdentityID, "a.txt"), client.PrivateKey(c.IdentityID, "deep/b.txt"), client.ProtectedKey(c.IdentityID, "c.txt")} {
			if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.BucketName, Key: &k, Body: strings.NewReader("x")}); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k)
		}
		return keys
	}
	trudy, victor := creds("trudy"), creds("victor")
	gone, kept := write(trudy), write(victor)
	// A key that shares the revoked identity id as a string prefix, written
	// by the test (not a user): the deletion must stop at the '/'.
	near := "private/" + trudy.IdentityID + "x/keep.txt"
	s.S3.PutObject(near, []byte("x"), "")
	kept = append(kept, near)

	revokeDeleting(t, s, p+":trudy", gone, kept)
	admin(t, s, false, "unrevoke", "--user", p+":trudy", "--reason", "e2e: clean up")

	// By identity: the login linked to it is revoked with it, and unrevoke
	// by the same identity (now unlinked from the login) restores it.
	out := admin(t, s, false, "revoke", "--identity", victor.IdentityID, "--reason", "e2e: by identity")
	if !strings.Contains(out, "recorded: user#"+p+":victor revoked") {
		t.Errorf("revoke --identity of a linked identity:\n%s", out)
	}
	jwt, err := s.MintLogin("victor", 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the vendor refuses the identity's login", func() error {
		if _, err := v.Token(ctx, p, jwt); vendorCode(err) != wire.CodeUserRevoked {
			return fmt.Errorf("token: %v", err)
		}
		return nil
	})
	out = admin(t, s, false, "unrevoke", "--identity", victor.IdentityID, "--reason", "e2e: by identity")
	if !strings.Contains(out, "recorded: user#"+p+":victor restored") || !strings.Contains(out, "linked back to "+victor.IdentityID) {
		t.Errorf("unrevoke --identity:\n%s", out)
	}
}

// quotaStack is the stack's golden template with the user quota at maxObjects 3
// (userQuota.maxObjects in cdk.json sets S3VEND_QUOTA_MAX_OBJECTS), its own
// tables, and an SQS stand-in that duplicates and reorders deliveries.
func quotaStack(t *testing.T, stack string) *standin.Stack {
	t.Helper()
	tpl, err := readTemplate(filepath.Join(moduleDir, "test", "testdata", "snapshots", stack+".template.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, vars := range standin.FunctionEnvironments(tpl) {
		if _, ok := vars[contract.EnvQuotaMaxObjects]; ok {
			vars[contract.EnvQuotaMaxObjects] = "3"
		}
	}
	// The stack output `s3vend admin usage` shows says the same limit.
	if o, ok := tpl["Outputs"].(map[string]any)[contract.OutputUserQuotaMaxObjects].(map[string]any); ok {
		o["Value"] = "3"
	} else {
		t.Fatalf("the %s template has no %s output", stack, contract.OutputUserQuotaMaxObjects)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := standin.StartStack(ctx, standin.StackOptions{
		Template: tpl, Node: node24, VendorBinary: binaries["tokenvendor"], MeteringBinary: binaries["metering"],
		WorkDir: t.TempDir(), DynamoDB: engine.URL, IAM: engine.URL, RevocationRefresh: time.Second, TablePrefix: "quota-" + strings.ToLower(stack) + "-",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	s.SQS.Duplicate, s.SQS.Reorder = 0.3, true
	return s
}

// TestQuotaCustomLayoutEndToEnd: in the rules layout the quota meters what
// the owner writes under rules keyed by {userId} (avatars/<user id>/,
// members/<tenant>/<user id>/), against the user's identity (the metering
// function reads the vendor's login link); the tenant's teams/ and the
// backend's inbox/ count against nobody. At 3 objects fresh credentials
// are refused a fourth direct write; after a delete they write again.
func TestQuotaCustomLayoutEndToEnd(t *testing.T) {
	needEngine(t)
	ctx := ctxT(t)
	s := quotaStack(t, "S3Vend-rules")
	rules, err := contract.ParseRules([]byte(s.Outputs()[contract.OutputAccessRules]))
	if err != nil {
		t.Fatal(err)
	}
	signIn := func() (*s3.Client, client.Identity) {
		login := func(context.Context) (string, string, error) {
			jwt, err := s.MintTenantLogin("quinn", "acme", 5*time.Minute)
			return s.HS256.Name, jwt, err
		}
		creds, err := client.New(s.TokenEndpoint(), login, func(o *client.Options) { o.Flow, o.Cognito = client.FlowEnhanced, cognito(t, s) })
		if err != nil {
			t.Fatal(err)
		}
		who, err := creds.Identity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s3Client(t, s, creds.Cache()), who
	}
	c, who := signIn()
	key := func(rule, name string) string {
		k, err := client.Key(rules, rule, who, name)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	put := func(c *s3.Client, k string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.BucketName, Key: aws.String(k), Body: strings.NewReader("0123456789")})
		return err
	}
	usage := func(objects int) {
		t.Helper()
		if err := s.WaitMetered(20 * time.Second); err != nil {
			t.Fatal(err)
		}
		out := admin(t, s, false, "usage", "--user", who.UserID)
		if want := fmt.Sprintf("%s %d %d", who.IdentityID, 10*objects, objects); !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Fatalf("metered usage:\n%s\nwant %q", out, want)
		}
	}
	for _, k := range []string{key("avatars", "a"), key("members", "b"), key("teams", "shared")} {
		if err := put(c, k); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
	s.S3.PutObject(key("inbox", "from-backend"), []byte("0123456789"), "text/plain")
	usage(2)
	if err := put(c, key("avatars", "c")); err != nil {
		t.Fatal(err)
	}
	usage(3)
	over, _ := signIn() // tagged over quota at issue
	if err := put(over, key("avatars", "d")); apiCode(err) != "AccessDenied" {
		t.Fatalf("direct write over quota: %v, want AccessDenied", err)
	}
	if _, err := over.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.BucketName, Key: aws.String(key("members", "b"))}); err != nil {
		t.Fatalf("delete over quota: %v", err)
	}
	usage(2)
	again, _ := signIn()
	if err := put(again, key("avatars", "d")); err != nil {
		t.Fatalf("direct write back under quota: %v", err)
	}
}

// postForm uploads body with a presigned POST form, as a browser would.
func postForm(t *testing.T, s *standin.Stack, up *client.UploadResponse, body string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range up.Fields {
		_ = w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", "f.txt")
	_, _ = io.WriteString(fw, body)
	_ = w.Close()
	resp, err := httpClient(t, s).Post(up.URL, w.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST form: %d %s", resp.StatusCode, b)
	}
}

// TestRevokeDeleteObjectsCustomLayout: in the rules stack's layout
// (avatars/{userId}/, members/{tenant}/{userId}/, inbox/{identityId}/ are
// owned; teams/{tenant}/ is the tenant's) `revoke --user --delete-objects`
// deletes the user's objects under every owned rule, under the template's
// operator policy (which now names those prefixes), and keeps the tenant's
// objects, another user's, and a key whose user id only starts with the
// revoked one's; it says which rules it left.
func TestRevokeDeleteObjectsCustomLayout(t *testing.T) {
	needEngine(t)
	s := rulesStack
	rita, ron := signInRules(t, "rita", "acme", client.FlowEnhanced), signInRules(t, "ron", "acme", client.FlowEnhanced)
	var gone, kept []string
	for _, u := range []struct {
		u    rulesUser
		keys *[]string
	}{{rita, &gone}, {ron, &kept}} {
		for _, rule := range []string{"avatars", "members"} {
			k := u.u.key(t, rule, "x.txt")
			if err := u.u.put(t, k); err != nil {
				t.Fatalf("%s writes %s: %v", u.u.who.UserID, k, err)
			}
			*u.keys = append(*u.keys, k)
		}
		inbox := u.u.key(t, "inbox", "from-backend.txt") // written by the backend, the owner's all the same
		s.S3.PutObject(inbox, []byte("x"), "text/plain")
		*u.keys = append(*u.keys, inbox)
	}
	team := rita.key(t, "teams", "plan.txt")
	if err := rita.put(t, team); err != nil {
		t.Fatal(err)
	}
	near := "avatars/" + rita.who.UserID + "x/keep.txt"
	s.S3.PutObject(near, []byte("x"), "")
	kept = append(kept, team, near)

	if out := revokeDeleting(t, s, rita.who.UserID, gone, kept); !strings.Contains(out, "rules teams are kept") {
		t.Errorf("revoke --delete-objects does not say it kept the tenant's objects:\n%s", out)
	}
	admin(t, s, false, "unrevoke", "--user", rita.who.UserID, "--reason", "e2e: clean up")
}

// TestQuotaEndToEnd: a user fills the quota (3 objects) through the SDK
// path and /v1/upload; then /v1/upload refuses (quota_exceeded) and fresh
// credentials refuse direct writes (AccessDenied) but still read and
// delete; after one delete the user writes again on both paths. The usage
// the chain metered (S3 notifications -> SQS, duplicated and reordered ->
// the metering binary -> DynamoDB) equals what the bucket holds.
func TestQuotaEndToEnd(t *testing.T) {
	needEngine(t)
	ctx := ctxT(t)
	s := quotaStack(t, "S3Vend-dev")
	v, p := vendorOf(t, s), s.HS256.Name
	login := func() string {
		jwt, err := s.MintLogin("carol", 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return jwt
	}
	creds := func() *s3.Client {
		c, err := v.Credentials(ctx, p, login())
		if err != nil {
			t.Fatal(err)
		}
		return s3Client(t, s, staticCreds(c))
	}
	c0, err := v.Credentials(ctx, p, login())
	if err != nil {
		t.Fatal(err)
	}
	id := c0.IdentityID
	sdk := s3Client(t, s, staticCreds(c0))
	put := func(c *s3.Client, name string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.BucketName, Key: aws.String(client.PrivateKey(id, name)), Body: strings.NewReader("0123456789")})
		return err
	}
	form := func(name string) (*client.UploadResponse, error) {
		return v.RequestUpload(ctx, p, login(), client.UploadRequest{Name: name, Size: 10, ContentType: "text/plain"})
	}
	for _, name := range []string{"a", "b"} {
		if err := put(sdk, name); err != nil {
			t.Fatal(err)
		}
	}
	up, err := form("c")
	if err != nil {
		t.Fatal(err)
	}
	postForm(t, s, up, "0123456789")
	if err := s.WaitMetered(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := form("d"); vendorCode(err) != wire.CodeQuotaExceeded {
		t.Fatalf("form over quota: %v, want quota_exceeded", err)
	}
	if _, err := form("c"); err != nil {
		t.Fatalf("a form replacing an existing object adds nothing: %v", err)
	}
	over := creds() // tagged over at issue
	if err := put(over, "d"); apiCode(err) != "AccessDenied" {
		t.Fatalf("direct write over quota: %v, want AccessDenied", err)
	}
	if _, err := over.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.BucketName, Key: aws.String(client.PrivateKey(id, "a"))}); err != nil {
		t.Fatalf("read over quota: %v", err)
	}
	if _, err := over.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.BucketName, Key: aws.String(client.PrivateKey(id, "a"))}); err != nil {
		t.Fatalf("delete over quota: %v", err)
	}
	if err := s.WaitMetered(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := put(creds(), "d"); err != nil {
		t.Fatalf("direct write back under quota: %v", err)
	}
	if err := s.WaitMetered(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := form("e"); vendorCode(err) != wire.CodeQuotaExceeded {
		t.Fatalf("full again: %v, want quota_exceeded", err)
	}
	if _, err := over.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.BucketName, Key: aws.String(client.PrivateKey(id, "d"))}); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitMetered(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	up, err = form("e")
	if err != nil {
		t.Fatalf("form back under quota: %v", err)
	}
	postForm(t, s, up, "0123456789")

	// Random overwrites and deletes through the real chain end at the
	// bucket's totals (3 objects at most: the quota holds them there).
	rng := rand.New(rand.NewPCG(18, 3))
	w := creds()
	for range 40 {
		name := []string{"b", "c", "e"}[rng.IntN(3)]
		if rng.IntN(3) == 0 {
			_, err = w.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.BucketName, Key: aws.String(client.PrivateKey(id, name))})
		} else {
			_, err = w.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.BucketName, Key: aws.String(client.PrivateKey(id, name)),
				Body: strings.NewReader(strings.Repeat("x", 1+rng.IntN(100)))})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WaitMetered(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	var bytesHeld, objects int64
	for _, k := range s.S3.Keys() {
		if strings.Contains(k, id) {
			b, _, _ := s.S3.Object(k)
			bytesHeld += int64(len(b))
			objects++
		}
	}
	out := admin(t, s, false, "usage", "--user", p+":carol")
	if want := fmt.Sprintf("%d %10d", bytesHeld, objects); !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) {
		t.Fatalf("metered usage:\n%s\nwant %d bytes in %d objects", out, bytesHeld, objects)
	}
	// The LIMIT column is the stack's userQuota (dev's maxBytes; maxObjects as this test set it).
	if want := "1073741824 bytes, 3 objects"; !strings.Contains(out, want) {
		t.Fatalf("admin usage does not show the quota limit:\n%s\nwant %q", out, want)
	}
}

// TestRevokedPrune: every rewrite of the IAM deny from the table (revoke,
// unrevoke, `revoked --prune`) drops the identities whose deny window has
// ended (their tokens and the credentials bought with them have expired)
// and keeps those still in it. The CLI's clock is the real one, so the
// ended window is recorded directly in the table.
func TestRevokedPrune(t *testing.T) {
	needEngine(t)
	ctx := ctxT(t)
	s := devStack
	local := credentials.NewStaticCredentialsProvider("AKIAE2EPRUNE00000000", "local", "")
	store := &revocation.Store{Table: s.Outputs()["RevocationsTableName"], DB: dynamodb.New(dynamodb.Options{
		Region: s.Region, BaseEndpoint: aws.String(engine.URL), Credentials: local, DisableValidateResponseChecksum: true, // see dynamotest
	})}
	ended := s.Region + ":00000000-0000-4000-8000-00000000e4d0"
	current := s.Region + ":00000000-0000-4000-8000-0000000c0441"
	// A revocation whose window ended an hour ago, recorded as the CLI
	// records one.
	past := time.Now().Add(-contract.MaxTokenDuration - contract.MaxCredentialLifetime - time.Hour)
	if err := store.Revoke(ctx, revocation.Record{Subject: revocation.IdentityPrefix + ended, IdentityIDs: []string{ended},
		Reason: "e2e: window ended", By: "e2e", At: past, DenyUntil: past.Add(contract.MaxTokenDuration + contract.MaxCredentialLifetime)}); err != nil {
		t.Fatal(err)
	}
	admin(t, s, false, "revoke", "--identity", current, "--reason", "e2e: window open")
	t.Cleanup(func() { admin(t, s, false, "unrevoke", "--identity", current, "--reason", "e2e: clean up") })
	admin(t, s, false, "revoked", "--prune")

	im := iam.New(iam.Options{Region: s.Region, BaseEndpoint: aws.String(engine.URL), Credentials: local})
	pols, err := im.ListPolicies(ctx, &iam.ListPoliciesInput{PathPrefix: aws.String("/s3vend-revocations/S3Vend-dev/")})
	if err != nil {
		t.Fatal(err)
	}
	var deny strings.Builder
	for _, p := range pols.Policies {
		v, err := im.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: p.Arn, VersionId: p.DefaultVersionId})
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := url.QueryUnescape(aws.ToString(v.PolicyVersion.Document))
		deny.WriteString(doc)
	}
	if !strings.Contains(deny.String(), current) || strings.Contains(deny.String(), ended) {
		t.Errorf("after --prune the deny should hold %s and not %s:\n%s", current, ended, deny.String())
	}
}
