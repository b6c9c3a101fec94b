package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3vend/s3vend/client"
	"github.com/s3vend/s3vend/internal/standin"
)

// cognito is the real Cognito Identity client of the stand-in, unsigned as
// the client package builds it from AWS_ENDPOINT_URL_COGNITO_IDENTITY.
func cognito(t *testing.T, s *standin.Stack) *cognitoidentity.Client {
	return cognitoidentity.New(cognitoidentity.Options{
		Region:       s.Region,
		Credentials:  aws.AnonymousCredentials{},
		BaseEndpoint: aws.String(s.CognitoURL),
		HTTPClient:   httpClient(t, s),
	})
}

// newCreds is the Go client of user with the given flow against the dev stack.
func newCreds(t *testing.T, user string, optFns ...func(*client.Options)) *client.Credentials {
	t.Helper()
	login := func(context.Context) (string, string, error) {
		jwt, err := devStack.MintLogin(user, 5*time.Minute)
		return devStack.HS256.Name, jwt, err
	}
	opts := append([]func(*client.Options){func(o *client.Options) { o.Cognito = cognito(t, devStack) }}, optFns...)
	c, err := client.New(devStack.TokenEndpoint(), login, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGoClientEnhancedFlowWritesOwnPrefixOnly(t *testing.T) {
	ready(t)
	ctx := ctxT(t)
	creds := newCreds(t, "alice")
	id, err := creds.IdentityID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, devStack.Region+":") {
		t.Fatalf("identity id %q is not in %s", id, devStack.Region)
	}
	c := s3Client(t, devStack, creds.Cache())
	key := client.PrivateKey(id, "notes/hello.txt")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &devStack.BucketName, Key: &key, Body: strings.NewReader("hi")}); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	if body, _, ok := devStack.S3.Object(key); !ok || string(body) != "hi" {
		t.Fatalf("stored %q, %v", body, ok)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &devStack.BucketName, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(b) != "hi" {
		t.Fatalf("read back %q", b)
	}

	// Another user's prefix, and a key that is not under an identity at all.
	bob := newCreds(t, "bob")
	bobID, err := bob.IdentityID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if bobID == id {
		t.Fatal("two users share an identity id")
	}
	for _, k := range []string{client.PrivateKey(bobID, "x"), client.ProtectedKey(bobID, "x"), "public/x", "private/x"} {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &devStack.BucketName, Key: aws.String(k), Body: strings.NewReader("x")})
		if apiCode(err) != "AccessDenied" {
			t.Errorf("alice put %s: %v, want AccessDenied", k, err)
		}
	}
	// protected/ is readable by every signed-in user.
	pk := client.ProtectedKey(id, "avatar.txt")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &devStack.BucketName, Key: &pk, Body: strings.NewReader("me")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3Client(t, devStack, bob.Cache()).GetObject(ctx, &s3.GetObjectInput{Bucket: &devStack.BucketName, Key: &pk}); err != nil {
		t.Fatalf("bob reads alice's protected object: %v", err)
	}
}

func TestGoClientBasicFlowAndGuest(t *testing.T) {
	ready(t)
	ctx := ctxT(t)
	basic := newCreds(t, "carol", func(o *client.Options) { o.Flow = client.FlowBasic })
	id, err := basic.IdentityID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key := client.PrivateKey(id, "basic.txt")
	if _, err := s3Client(t, devStack, basic.Cache()).PutObject(ctx, &s3.PutObjectInput{Bucket: &devStack.BucketName, Key: &key, Body: strings.NewReader("b")}); err != nil {
		t.Fatalf("basic flow put: %v", err)
	}

	guest, err := client.New(devStack.TokenEndpoint(), nil, func(o *client.Options) {
		o.Guest = true
		o.Cognito = cognito(t, devStack)
	})
	if err != nil {
		t.Fatal(err)
	}
	gc := s3Client(t, devStack, guest.Cache())
	out, err := gc.GetObject(ctx, &s3.GetObjectInput{Bucket: &devStack.BucketName, Key: aws.String("public/hello.txt")})
	if err != nil {
		t.Fatalf("guest reads public/: %v", err)
	}
	out.Body.Close()
	gid, err := guest.IdentityID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = gc.PutObject(ctx, &s3.PutObjectInput{Bucket: &devStack.BucketName, Key: aws.String(client.PrivateKey(gid, "g.txt")), Body: strings.NewReader("g")})
	if apiCode(err) != "AccessDenied" {
		t.Fatalf("guest put: %v, want AccessDenied", err)
	}
}

// TestGoClientOneRefreshFor100Callers: 100 concurrent callers of a fresh
// provider cause one developer-token call and one GetCredentialsForIdentity.
func TestGoClientOneRefreshFor100Callers(t *testing.T) {
	ready(t)
	ctx := ctxT(t)
	creds := newCreds(t, "dave")
	devBefore := devStack.Cognito.Calls(standin.OpGetOpenIDTokenForDeveloperIdentity)
	gcfiBefore := devStack.Cognito.Calls(standin.OpGetCredentialsForIdentity)
	var wg sync.WaitGroup
	keys := make([]string, 100)
	errs := make([]error, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := creds.Cache().Retrieve(ctx)
			keys[i], errs[i] = c.AccessKeyID, err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
		if keys[i] != keys[0] {
			t.Fatalf("caller %d got other credentials", i)
		}
	}
	if n := devStack.Cognito.Calls(standin.OpGetOpenIDTokenForDeveloperIdentity) - devBefore; n != 1 {
		t.Errorf("developer-token calls: %d, want 1", n)
	}
	if n := devStack.Cognito.Calls(standin.OpGetCredentialsForIdentity) - gcfiBefore; n != 1 {
		t.Errorf("GetCredentialsForIdentity calls: %d, want 1", n)
	}
}

// TestExpiredCredentialsAreRefused: S3 refuses credentials past their
// expiration, so a client that does not refresh fails.
func TestExpiredCredentialsAreRefused(t *testing.T) {
	ready(t)
	ctx := ctxT(t)
	creds := newCreds(t, "erin")
	c, err := creds.Cache().Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sess, ok := devStack.Sessions.Lookup(c.AccessKeyID)
	if !ok {
		t.Fatal("the stand-ins did not issue these credentials")
	}
	sess.AccessKeyID = "ASIAEXPIREDE2ETEST01"
	sess.Expiration = time.Now().Add(-time.Minute)
	devStack.Sessions.Put(sess)
	stale := credentials.NewStaticCredentialsProvider(sess.AccessKeyID, sess.SecretAccessKey, sess.SessionToken)
	id, _ := creds.IdentityID(ctx)
	_, err = s3Client(t, devStack, stale).PutObject(ctx, &s3.PutObjectInput{Bucket: &devStack.BucketName, Key: aws.String(client.PrivateKey(id, "late.txt")), Body: bytes.NewReader([]byte("x"))})
	if apiCode(err) != "ExpiredToken" {
		t.Fatalf("expired credentials: %v, want ExpiredToken", err)
	}
}

// TestGoClientVendorRejection: a forged login surfaces as a typed error.
func TestGoClientVendorRejection(t *testing.T) {
	ready(t)
	login := func(context.Context) (string, string, error) { return devStack.HS256.Name, "not-a-jwt", nil }
	c, err := client.New(devStack.TokenEndpoint(), login, func(o *client.Options) { o.Cognito = cognito(t, devStack) })
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Cache().Retrieve(ctxT(t))
	var ve *client.VendorError
	if !errors.As(err, &ve) || ve.Status != 401 || ve.Code != "invalid_credential" {
		t.Fatalf("forged login: %v, want VendorError 401 invalid_credential", err)
	}
}

// TestGoClientSession: the Go client's Vendor.Session (POST /v1/session)
// answers identity id and credentials that write the caller's own prefix.
func TestGoClientSession(t *testing.T) {
	ready(t)
	ctx := ctxT(t)
	v, err := client.NewVendor(devStack.TokenEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	login, err := devStack.MintLogin("session-user", 0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := v.Session(ctx, devStack.HS256.Name, login)
	if err != nil {
		t.Fatal(err)
	}
	creds := staticCreds(r)
	key := client.PrivateKey(r.IdentityID, "session.txt")
	if _, err := s3Client(t, devStack, creds).PutObject(ctx, &s3.PutObjectInput{Bucket: &devStack.BucketName, Key: &key, Body: strings.NewReader("s")}); err != nil {
		t.Fatalf("put with /v1/session credentials: %v", err)
	}
}
