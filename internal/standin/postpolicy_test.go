package standin

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const postBucket = "s3vend-test-bucket"

type presignedPost struct {
	url    string
	fields map[string]string
}

// presignPost asks the real SDK for a POST policy for key under the given
// conditions (the client never talks to a server to presign).
func presignPost(t *testing.T, sess Session, key string, expires time.Duration, conditions ...any) presignedPost {
	t.Helper()
	c := s3.New(s3.Options{
		Region: testRegion, BaseEndpoint: aws.String("https://127.0.0.1:8443"), UsePathStyle: true,
		Credentials: credentials.StaticCredentialsProvider{Value: credsOf(sess)},
	})
	out, err := s3.NewPresignClient(c).PresignPostObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(postBucket), Key: aws.String(key)},
		func(o *s3.PresignPostOptions) { o.Expires = expires; o.Conditions = conditions })
	if err != nil {
		t.Fatal(err)
	}
	return presignedPost{out.URL, out.Values}
}

// postForm builds the multipart form a browser sends: fields (in the given
// order, then the rest), then the file last.
func (p presignedPost) request(t *testing.T, extra map[string]string, filename string, file []byte) *http.Request {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fields := map[string]string{}
	for k, v := range p.fields {
		fields[k] = v
	}
	for k, v := range extra {
		for f := range fields {
			if strings.EqualFold(f, k) {
				delete(fields, f)
			}
		}
		if v == "" {
			delete(fields, k)
		} else {
			fields[k] = v
		}
	}
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(file)
	mw.Close()
	r := httptest.NewRequest(http.MethodPost, p.url, &body)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	return r
}

// withPolicy replaces the policy document (as a client tampering with it would).
func (p presignedPost) withPolicy(t *testing.T, edit func(doc map[string]any)) presignedPost {
	t.Helper()
	raw, _ := base64.StdEncoding.DecodeString(p.fields["policy"])
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	b, _ := json.Marshal(doc)
	q := presignedPost{p.url, map[string]string{}}
	for k, v := range p.fields {
		q.fields[k] = v
	}
	q.fields["policy"] = base64.StdEncoding.EncodeToString(b)
	return q
}

func TestPostPolicyAccepts(t *testing.T) {
	sessions := &Sessions{}
	sess := sessions.Issue("arn:aws:iam::111122223333:role/Auth", "us-east-1:id", nil, time.Hour)
	p := presignPost(t, sess, "private/us-east-1:id/${filename}", time.Minute,
		[]any{"starts-with", "$key", "private/us-east-1:id/"},
		[]any{"starts-with", "$Content-Type", "image/"},
		[]any{"content-length-range", 1, 1024},
		map[string]string{"success_action_status": "201"},
	)
	if !strings.HasSuffix(p.url, "/"+postBucket) {
		t.Fatalf("path-style URL expected: %s", p.url)
	}
	r := p.request(t, map[string]string{"Content-Type": "image/png", "success_action_status": "201", "x-ignore-note": "free"}, "cat.png", []byte("png bytes"))
	up, err := VerifyPostObject(r, postBucket, testRegion, sessions, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if up.Key != "private/us-east-1:id/cat.png" || up.ContentType != "image/png" || string(up.Body) != "png bytes" ||
		up.SuccessActionStatus != 201 || up.Session.AccessKeyID != sess.AccessKeyID || up.Fields["x-ignore-note"] != "free" {
		t.Fatalf("upload: %+v", up)
	}
}

func TestPostPolicyRejects(t *testing.T) {
	sessions := &Sessions{}
	sess := sessions.Issue("arn:aws:iam::111122223333:role/Auth", "us-east-1:id", nil, time.Hour)
	expiredSess := Session{AccessKeyID: "ASIAOLD", SecretAccessKey: "old", SessionToken: "tok", Expiration: time.Now().Add(-time.Second)}
	sessions.Put(expiredSess)
	wrongSecret := sess
	wrongSecret.SecretAccessKey = "nope"
	const prefix = "private/us-east-1:id/"
	conds := []any{[]any{"starts-with", "$key", prefix}, []any{"content-length-range", 2, 16}}
	good := presignPost(t, sess, prefix+"a.txt", time.Minute, conds...)
	now := time.Now()
	file := []byte("hello")

	cases := []struct {
		name   string
		r      *http.Request
		now    time.Time
		status int
		code   string
		msg    string
	}{
		{"key outside the prefix", good.request(t, map[string]string{"key": "private/other/a.txt"}, "a", file), now, 403, "AccessDenied",
			`Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "private/us-east-1:id/"]`},
		{"widened key starts-with", good.withPolicy(t, func(doc map[string]any) {
			doc["conditions"] = append(doc["conditions"].([]any), []any{"starts-with", "$key", ""})
			for i, c := range doc["conditions"].([]any) {
				if a, ok := c.([]any); ok && a[1] == "$key" {
					doc["conditions"].([]any)[i] = []any{"starts-with", "$key", "private/"}
				}
			}
		}).request(t, map[string]string{"key": "private/other/a.txt"}, "a", file), now, 403, "SignatureDoesNotMatch", ""},
		{"extended expiration", good.withPolicy(t, func(doc map[string]any) {
			doc["expiration"] = now.Add(time.Hour).UTC().Format(time.RFC3339)
		}).request(t, nil, "a", file), now, 403, "SignatureDoesNotMatch", ""},
		{"expired policy", good.request(t, nil, "a", file), now.Add(2 * time.Minute), 403, "AccessDenied", "Invalid according to Policy: Policy expired."},
		{"too large", good.request(t, nil, "a", bytes.Repeat([]byte("x"), 17)), now, 400, "EntityTooLarge", ""},
		{"too small", good.request(t, nil, "a", []byte("x")), now, 400, "EntityTooSmall", ""},
		{"field not covered", good.request(t, map[string]string{"x-amz-meta-owner": "me"}, "a", file), now, 403, "AccessDenied",
			"Invalid according to Policy: Extra input fields: x-amz-meta-owner"},
		{"wrong token", good.request(t, map[string]string{"x-amz-security-token": "forged"}, "a", file), now, 403, "InvalidToken", ""},
		{"missing token", good.request(t, map[string]string{"x-amz-security-token": ""}, "a", file), now, 403, "InvalidToken", ""},
		{"missing signature", good.request(t, map[string]string{"x-amz-signature": ""}, "a", file), now, 400, "InvalidArgument",
			"Bucket POST must contain a field named 'x-amz-signature'.  If it is specified, please check the order of the fields."},
		{"wrong secret", presignPost(t, wrongSecret, prefix+"a", time.Minute, conds...).request(t, nil, "a", file), now, 403, "SignatureDoesNotMatch", ""},
		{"expired session", presignPost(t, expiredSess, prefix+"a", time.Minute, conds...).request(t, nil, "a", file), now, 400, "ExpiredToken", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyPostObject(tc.r, postBucket, testRegion, sessions, tc.now)
			if err == nil || err.Status != tc.status || err.Code != tc.code || tc.msg != "" && err.Message != tc.msg {
				t.Fatalf("got %v, want %d %s %s", err, tc.status, tc.code, tc.msg)
			}
		})
	}
	t.Run("other bucket", func(t *testing.T) {
		if _, err := VerifyPostObject(good.request(t, nil, "a", file), "other-bucket", testRegion, sessions, now); err == nil || err.Code != "AccessDenied" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("other region", func(t *testing.T) {
		if _, err := VerifyPostObject(good.request(t, nil, "a", file), postBucket, "eu-west-1", sessions, now); err == nil || err.Code != "InvalidArgument" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("not multipart", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/"+postBucket, strings.NewReader("key=a"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if _, err := VerifyPostObject(r, postBucket, testRegion, sessions, now); err == nil || err.Code != "PreconditionFailed" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("no file", func(t *testing.T) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("key", "a")
		mw.Close()
		r := httptest.NewRequest(http.MethodPost, "/"+postBucket, &body)
		r.Header.Set("Content-Type", mw.FormDataContentType())
		if _, err := VerifyPostObject(r, postBucket, testRegion, sessions, now); err == nil || err.Code != "InvalidArgument" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("field after the file is ignored", func(t *testing.T) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for k, v := range good.fields {
			mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("file", "a")
		fw.Write(file)
		mw.WriteField("x-amz-meta-late", "ignored")
		mw.Close()
		r := httptest.NewRequest(http.MethodPost, "/"+postBucket, &body)
		r.Header.Set("Content-Type", mw.FormDataContentType())
		up, err := VerifyPostObject(r, postBucket, testRegion, sessions, now)
		if err != nil || up.Fields["x-amz-meta-late"] != "" {
			t.Fatalf("got %+v %v", up, err)
		}
	})
}

func TestPostPolicyAnonymous(t *testing.T) {
	p := presignedPost{"https://127.0.0.1/" + postBucket, map[string]string{"key": "public/a"}}
	up, err := VerifyPostObject(p.request(t, nil, "a", []byte("x")), postBucket, testRegion, &Sessions{}, time.Now())
	if err != nil || up.Session.AccessKeyID != "" || up.Key != "public/a" || up.SuccessActionStatus != 204 || up.ContentType != "binary/octet-stream" {
		t.Fatalf("got %+v %v", up, err)
	}
}
