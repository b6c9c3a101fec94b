package standin_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/accessmatrix"
	"github.com/s3vend/s3vend/internal/standin"
)

// withTagRules is the dev template with a session-tag layout grafted on:
// the authenticated role's trust allows sts:TagSession for tagKeys (none:
// no such statement), and its policy lets a session read and write
// avatars/<its s3vend-user tag>/*.
func withTagRules(t *testing.T, tagKeys []string) map[string]any {
	t.Helper()
	tmpl := loadTemplate(t, "dev")
	resources := tmpl["Resources"].(map[string]any)
	for _, r := range resources {
		res := r.(map[string]any)
		props, _ := res["Properties"].(map[string]any)
		switch {
		case res["Type"] == "AWS::IAM::Role" && len(tagKeys) > 0:
			doc := props["AssumeRolePolicyDocument"].(map[string]any)
			st := doc["Statement"].([]any)
			first := st[0].(map[string]any)
			cond, _ := first["Condition"].(map[string]any)
			if !strings.Contains(jsonText(t, cond), `"authenticated"`) {
				continue
			}
			doc["Statement"] = append(st, map[string]any{
				"Effect": "Allow", "Principal": first["Principal"], "Action": "sts:TagSession",
				"Condition": map[string]any{
					"StringEquals":              cond["StringEquals"],
					"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": tagKeys},
				},
			})
		case res["Type"] == "AWS::IAM::Policy" && strings.Contains(jsonText(t, props["Roles"]), "Authenticated"):
			doc := props["PolicyDocument"].(map[string]any)
			doc["Statement"] = append(doc["Statement"].([]any), map[string]any{
				"Effect": "Allow", "Action": []any{"s3:GetObject", "s3:PutObject"},
				"Resource": map[string]any{"Fn::Join": []any{"", []any{
					map[string]any{"Fn::GetAtt": []any{"StorageBucket5CB7C8EA", "Arn"}},
					"/avatars/" + contract.PrincipalTagVariable(contract.TagUser) + "/*",
				}}},
			})
		}
	}
	return tmpl
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tagFixture is Cognito, STS and S3 stand-ins of one template.
type tagFixture struct {
	m              *accessmatrix.Model
	cognito        *standin.Cognito
	s3srv          *httptest.Server
	sessions       *standin.Sessions
	dev            *cognitoidentity.Client
	anonCog        *cognitoidentity.Client
	stsClient      *sts.Client
	pool, provider string
	authRole       string
}

func newTagFixture(t *testing.T, tmpl map[string]any) *tagFixture {
	t.Helper()
	node := nodeBinary(t)
	m, err := accessmatrix.Load(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	f := &tagFixture{m: m, sessions: &standin.Sessions{}, pool: m.IdentityPoolID(), authRole: m.RoleARN("authenticated")}
	s3s, err := standin.NewS3(standin.S3Options{Model: m, Sessions: f.sessions, Node: node})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s3s.Close() })
	if f.cognito, err = standin.NewCognito(standin.CognitoOptions{Model: m, Sessions: f.sessions, Trust: s3s.Trust()}); err != nil {
		t.Fatal(err)
	}
	st, err := standin.NewSTS(standin.STSOptions{Model: m, Sessions: f.sessions, Cognito: f.cognito, Trust: s3s.Trust()})
	if err != nil {
		t.Fatal(err)
	}
	cs, ss := httptest.NewServer(f.cognito), httptest.NewServer(st)
	f.s3srv = httptest.NewTLSServer(s3s)
	t.Cleanup(func() { cs.Close(); ss.Close(); f.s3srv.Close() })
	f.sessions.Put(standin.Session{AccessKeyID: "AKIADEVELOPER", SecretAccessKey: "developer-secret"})
	cog := func(creds aws.CredentialsProvider) *cognitoidentity.Client {
		return cognitoidentity.New(cognitoidentity.Options{Region: m.Region(), Credentials: creds, BaseEndpoint: aws.String(cs.URL), RetryMaxAttempts: 1})
	}
	f.dev = cog(credentials.NewStaticCredentialsProvider("AKIADEVELOPER", "developer-secret", ""))
	f.anonCog = cog(aws.AnonymousCredentials{})
	f.stsClient = sts.New(sts.Options{Region: m.Region(), BaseEndpoint: aws.String(ss.URL), RetryMaxAttempts: 1})
	f.provider = f.cognito.Pool.DeveloperProvider
	return f
}

func (f *tagFixture) token(t *testing.T, user string, tags map[string]string) (id, token string) {
	t.Helper()
	out, err := f.dev.GetOpenIdTokenForDeveloperIdentity(context.Background(), &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: &f.pool, Logins: map[string]string{f.provider: user}, PrincipalTags: tags})
	if err != nil {
		t.Fatal(err)
	}
	return *out.IdentityId, *out.Token
}

// enhanced is GetCredentialsForIdentity with the token.
func (f *tagFixture) enhanced(id, token string) (aws.Credentials, error) {
	out, err := f.anonCog.GetCredentialsForIdentity(context.Background(), &cognitoidentity.GetCredentialsForIdentityInput{
		IdentityId: &id, Logins: map[string]string{f.cognito.Pool.LoginKey: token}})
	if err != nil {
		return aws.Credentials{}, err
	}
	c := out.Credentials
	return aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretKey, SessionToken: *c.SessionToken}, nil
}

// basic is AssumeRoleWithWebIdentity with the token.
func (f *tagFixture) basic(token string) (aws.Credentials, error) {
	out, err := f.stsClient.AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: &f.authRole, RoleSessionName: aws.String("s3vend-test"), WebIdentityToken: &token})
	if err != nil {
		return aws.Credentials{}, err
	}
	c := out.Credentials
	return aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken}, nil
}

func (f *tagFixture) put(t *testing.T, c aws.Credentials, key string) error {
	t.Helper()
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(f.s3srv.URL), UsePathStyle: true, HTTPClient: f.s3srv.Client(), Region: f.m.Region(),
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken), RetryMaxAttempts: 1,
	})
	_, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(f.m.BucketName()), Key: &key, Body: strings.NewReader("x")})
	return err
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// The stand-ins carry principal tags as AWS does: Cognito puts them in the
// token's https://aws.amazon.com/tags claim and tags the sessions of
// GetCredentialsForIdentity with them; STS takes them from that claim in
// AssumeRoleWithWebIdentity; S3 evaluates ${aws:PrincipalTag/...} with
// them. In both flows a user writes only under its own tag's prefix.
func TestSessionTagsFlowThroughBothFlows(t *testing.T) {
	f := newTagFixture(t, withTagRules(t, []string{contract.TagUser, contract.TagTenant}))
	tags := map[string]string{contract.TagUser: "idp:alice"}
	id, token := f.token(t, "idp:alice", tags)
	got, err := contract.TokenPrincipalTags(token)
	if err != nil || contract.TagSetKey(got) != contract.TagSetKey(tags) {
		t.Fatalf("token claim %v %v", got, err)
	}
	for flow, get := range map[string]func() (aws.Credentials, error){
		"enhanced": func() (aws.Credentials, error) { return f.enhanced(id, token) },
		"basic":    func() (aws.Credentials, error) { return f.basic(token) },
	} {
		creds, err := get()
		if err != nil {
			t.Fatalf("%s: %v", flow, err)
		}
		if err := f.put(t, creds, "avatars/idp:alice/me.jpg"); err != nil {
			t.Errorf("%s: own prefix: %v", flow, err)
		}
		if err := f.put(t, creds, "avatars/idp:bob/me.jpg"); code(err) != "AccessDenied" {
			t.Errorf("%s: another user's prefix: %v", flow, err)
		}
	}
	// Without tags the rule keyed by the tag matches nothing.
	id2, token2 := f.token(t, "idp:carol", nil)
	creds, err := f.enhanced(id2, token2)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.put(t, creds, "avatars/idp:carol/me.jpg"); code(err) != "AccessDenied" {
		t.Errorf("untagged session: %v", err)
	}
}

// A trust policy that does not allow sts:TagSession for a key refuses the
// session in both flows, as STS does; a value outside STS's character set
// is refused by STS (Cognito itself checks lengths only).
func TestSessionTagsNeedTagSessionInTrust(t *testing.T) {
	for name, keys := range map[string][]string{"no sts:TagSession": nil, "other keys only": {contract.TagTenant}} {
		t.Run(name, func(t *testing.T) {
			f := newTagFixture(t, withTagRules(t, keys))
			id, token := f.token(t, "idp:alice", map[string]string{contract.TagUser: "idp:alice"})
			if _, err := f.enhanced(id, token); code(err) != "InvalidIdentityPoolConfigurationException" {
				t.Errorf("enhanced: %v", err)
			}
			if _, err := f.basic(token); code(err) != "AccessDenied" {
				t.Errorf("basic: %v", err)
			}
			// Untagged sessions are unaffected.
			id2, token2 := f.token(t, "idp:bob", nil)
			if _, err := f.enhanced(id2, token2); err != nil {
				t.Errorf("untagged: %v", err)
			}
		})
	}
	f := newTagFixture(t, withTagRules(t, []string{contract.TagUser}))
	_, token := f.token(t, "idp:x", map[string]string{contract.TagUser: "a|b"})
	if _, err := f.basic(token); code(err) != "ValidationError" {
		t.Errorf("bad tag value: %v", err)
	}
	_, err := f.dev.GetOpenIdTokenForDeveloperIdentity(context.Background(), &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
		IdentityPoolId: &f.pool, Logins: map[string]string{f.provider: "u"}, PrincipalTags: map[string]string{contract.TagUser: strings.Repeat("v", 257)}})
	if code(err) != "InvalidParameterException" {
		t.Errorf("257-character tag value: %v", err)
	}
}
