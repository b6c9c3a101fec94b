package standin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/s3vend/s3vend/internal/accessmatrix"
	"github.com/s3vend/s3vend/internal/platform/platformtest"
)

// s3Fixture is one S3 stand-in (one Node evaluator) shared by the tests.
type s3Fixture struct {
	s3       *S3
	srv      *httptest.Server // TLS
	plain    *httptest.Server
	sessions *Sessions
	model    *accessmatrix.Model
}

var (
	s3Once    sync.Once
	s3Shared  *s3Fixture
	s3OnceErr error
)

const (
	idA = ":aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	idB = ":bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
	idG = ":cccccccc-cccc-4ccc-8ccc-cccccccccccc"
)

// nodeForTests is Node 24 for the S3 stand-in's IAM evaluator: $NODE24, else
// this platform's pinned one.
func nodeForTests(t *testing.T) string {
	return platformtest.NeedNode24(t, "../..")
}

func s3Setup(t *testing.T) *s3Fixture {
	t.Helper()
	node := nodeForTests(t)
	s3Once.Do(func() {
		b, err := os.ReadFile("../../test/testdata/snapshots/S3Vend-dev.template.json")
		if err != nil {
			s3OnceErr = err
			return
		}
		var tmpl map[string]any
		if err := json.Unmarshal(b, &tmpl); err != nil {
			s3OnceErr = err
			return
		}
		m, err := accessmatrix.Load(tmpl)
		if err != nil {
			s3OnceErr = err
			return
		}
		f := &s3Fixture{sessions: &Sessions{}, model: m}
		if f.s3, err = NewS3(S3Options{Model: m, Sessions: f.sessions, Node: node}); err != nil {
			s3OnceErr = err
			return
		}
		f.srv = httptest.NewTLSServer(f.s3)
		f.plain = httptest.NewServer(f.s3)
		s3Shared = f
	})
	if s3OnceErr != nil {
		t.Fatal(s3OnceErr)
	}
	return s3Shared
}

func TestMain(m *testing.M) {
	code := m.Run()
	if s3Shared != nil {
		s3Shared.srv.Close()
		s3Shared.plain.Close()
		_ = s3Shared.s3.Close()
	}
	os.Exit(code)
}

// user issues a session of the authenticated role for identity id.
func (f *s3Fixture) user(id string) Session {
	return f.sessions.Issue(f.model.RoleARN("authenticated"), f.model.Region()+id, []string{"authenticated", "login.s3vend.dev"}, time.Hour)
}

// client is the real SDK's S3 client for sess against srv.
func (f *s3Fixture) client(srv *httptest.Server, sess Session) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		HTTPClient:   srv.Client(),
		Region:       f.model.Region(),
		Credentials:  credentials.NewStaticCredentialsProvider(sess.AccessKeyID, sess.SecretAccessKey, sess.SessionToken),
		// Keep the tests fast: a refused request is not retried.
		RetryMaxAttempts: 1,
		// What config.LoadDefaultConfig sets when nothing overrides it
		// (config/resolve.go, resolveRequestChecksumCalculation and
		// resolveResponseChecksumValidation); s3.New alone leaves them
		// unset, which sends no checksum.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	})
}

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := errCode(err); got != code {
		t.Errorf("%s: got error %v (code %q), want %s", what, err, got, code)
	}
}

func put(ctx context.Context, c *s3.Client, f *s3Fixture, key, body string) error {
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(f.model.BucketName()), Key: aws.String(key),
		Body: strings.NewReader(body), ContentType: aws.String("text/plain")})
	return err
}

func TestS3OwnPrefixes(t *testing.T) {
	f := s3Setup(t)
	ctx := context.Background()
	a := f.client(f.srv, f.user(idA))
	bucket := aws.String(f.model.BucketName())
	ownA, protA := "private/"+f.model.Region()+idA+"/", "protected/"+f.model.Region()+idA+"/"
	for _, prefix := range []string{ownA, protA} {
		key := prefix + "notes/hello.txt"
		out, err := a.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key),
			Body: strings.NewReader("hello " + prefix), ContentType: aws.String("text/plain")})
		if err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
		// The SDK's default checksum (CRC32, sent in an aws-chunked trailer
		// over TLS) is stored and echoed.
		if out.ChecksumCRC32 == nil || *out.ChecksumCRC32 != checksum("crc32", []byte("hello "+prefix)) {
			t.Errorf("put %s: ChecksumCRC32 %v", key, aws.ToString(out.ChecksumCRC32))
		}
		got, err := a.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key), ChecksumMode: s3types.ChecksumModeEnabled})
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		b, err := io.ReadAll(got.Body) // the SDK validates the CRC32 at EOF
		if err != nil || string(b) != "hello "+prefix || aws.ToString(got.ContentType) != "text/plain" {
			t.Errorf("get %s: %q %v %v", key, b, aws.ToString(got.ContentType), err)
		}
		if aws.ToString(got.ETag) != md5ETag(b) || got.LastModified == nil {
			t.Errorf("get %s: ETag %v LastModified %v", key, aws.ToString(got.ETag), got.LastModified)
		}
		rng, err := a.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key), Range: aws.String("bytes=1-4")})
		if err != nil {
			t.Fatalf("ranged get: %v", err)
		}
		if b, _ := io.ReadAll(rng.Body); string(b) != "ello" || aws.ToString(rng.ContentRange) == "" {
			t.Errorf("ranged get: %q, Content-Range %q", b, aws.ToString(rng.ContentRange))
		}
		list, err := a.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String(prefix), Delimiter: aws.String("/")})
		if err != nil {
			t.Fatalf("list %s: %v", prefix, err)
		}
		if len(list.CommonPrefixes) != 1 || aws.ToString(list.CommonPrefixes[0].Prefix) != prefix+"notes/" || len(list.Contents) != 0 {
			t.Errorf("list %s: %+v", prefix, list)
		}
		if _, err := a.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String(key)}); err != nil {
			t.Fatalf("delete %s: %v", key, err)
		}
		if _, _, ok := f.s3.Object(key); ok {
			t.Errorf("%s still stored after delete", key)
		}
	}
	// A missing own key is 404 only with s3:ListBucket, which S3 checks
	// without s3:prefix: the policy's prefix-bound ListBucket does not give
	// it, so the owner too sees 403.
	_, err := a.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String(ownA + "missing")})
	wantCode(t, "head of a missing own key", err, "Forbidden")
}

func TestS3OtherUsersAndRoles(t *testing.T) {
	f := s3Setup(t)
	ctx := context.Background()
	bucket := aws.String(f.model.BucketName())
	a := f.client(f.srv, f.user(idA))
	privB := "private/" + f.model.Region() + idB + "/"
	wantCode(t, "A writes B's private prefix", put(ctx, a, f, privB+"x", "x"), "AccessDenied")
	_, err := a.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String(privB)})
	wantCode(t, "A lists B's private prefix", err, "AccessDenied")
	wantCode(t, "A writes public/", put(ctx, a, f, "public/x", "x"), "AccessDenied")

	guest := f.client(f.srv, f.sessions.Issue(f.model.RoleARN("unauthenticated"), f.model.Region()+idG, []string{"unauthenticated"}, time.Hour))
	f.s3.PutObject("public/hello.txt", []byte("hi all"), "text/plain")
	got, err := guest.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("public/hello.txt")})
	if err != nil {
		t.Fatalf("guest reads public/: %v", err)
	}
	if b, _ := io.ReadAll(got.Body); string(b) != "hi all" {
		t.Errorf("guest read %q", b)
	}
	wantCode(t, "guest writes public/", put(ctx, guest, f, "public/y", "y"), "AccessDenied")

	// The vendor's static developer credentials: no role, so no S3 access.
	static := Session{AccessKeyID: "AKIASTANDINDEVELOPER", SecretAccessKey: "static-secret"}
	f.sessions.Put(static)
	_, err = f.client(f.srv, static).GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("public/hello.txt")})
	wantCode(t, "static credentials read public/", err, "AccessDenied")

	expired := f.user(idA)
	expired.AccessKeyID, expired.Expiration = "ASIAEXPIREDSESSION01", time.Now().Add(-time.Minute)
	f.sessions.Put(expired)
	wantCode(t, "expired session", put(ctx, f.client(f.srv, expired), f, "private/"+f.model.Region()+idA+"/x", "x"), "ExpiredToken")

	// Plain HTTP: the bucket policy's aws:SecureTransport deny refuses it.
	own := "private/" + f.model.Region() + idA + "/x"
	wantCode(t, "put over plain HTTP", put(ctx, f.client(f.plain, f.user(idA)), f, own, "x"), "AccessDenied")
	if _, _, ok := f.s3.Object(own); ok {
		t.Error("a plain-HTTP put was stored")
	}
}

func TestS3Anonymous(t *testing.T) {
	f := s3Setup(t)
	f.s3.PutObject("public/anon.txt", []byte("open"), "")
	c := f.srv.Client()
	base := f.srv.URL + "/" + f.model.BucketName() + "/"
	resp, err := c.Get(base + "public/anon.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "open" || resp.Header.Get("Content-Type") != defaultContentType {
		t.Errorf("anonymous GET public/: %d %q %q", resp.StatusCode, b, resp.Header.Get("Content-Type"))
	}
	for _, c := range []struct {
		name, method, url, code string
		status                  int
	}{
		{"anonymous PUT public/", http.MethodPut, base + "public/x", "AccessDenied", 403},
		{"anonymous GET private/", http.MethodGet, base + "private/x/y", "AccessDenied", 403},
		{"anonymous list", http.MethodGet, base + "?list-type=2&prefix=public/", "AccessDenied", 403},
		{"another bucket", http.MethodGet, f.srv.URL + "/other-bucket/public/anon.txt", "NoSuchBucket", 404},
		{"anonymous GET public/ over HTTP", http.MethodGet, f.plain.URL + "/" + f.model.BucketName() + "/public/anon.txt", "AccessDenied", 403},
	} {
		req, _ := http.NewRequest(c.method, c.url, strings.NewReader("x"))
		client := f.srv.Client()
		if strings.HasPrefix(c.url, f.plain.URL) {
			client = f.plain.Client()
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !bytes.Contains(b, []byte("<Code>"+c.code+"</Code>")) ||
			!bytes.Contains(b, []byte("<RequestId>"+resp.Header.Get("x-amz-request-id")+"</RequestId>")) {
			t.Errorf("%s: %d %s", c.name, resp.StatusCode, b)
		}
	}
	if _, _, ok := f.s3.Object("public/x"); ok {
		t.Error("an anonymous PUT was stored")
	}
}

func TestS3MultipartTransferManager(t *testing.T) {
	f := s3Setup(t)
	ctx := context.Background()
	a := f.client(f.srv, f.user(idA))
	body := make([]byte, 12<<20+12345)
	for i := range body {
		body[i] = byte(i * 7 % 251)
	}
	key := "private/" + f.model.Region() + idA + "/big.bin"
	// 5 MiB parts, the S3 minimum, and a threshold below the body: 3 parts.
	tm := transfermanager.New(a, func(o *transfermanager.Options) {
		o.PartSizeBytes, o.MultipartUploadThreshold = 5<<20, 8<<20
	})
	start := time.Now()
	out, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: aws.String(f.model.BucketName()), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentType: aws.String("application/octet-stream")})
	if err != nil {
		t.Fatalf("multipart upload: %v", err)
	}
	t.Logf("12 MiB multipart upload: %v, ETag %s", time.Since(start), aws.ToString(out.ETag))
	got, ct, ok := f.s3.Object(key)
	if !ok || !bytes.Equal(got, body) || ct != "application/octet-stream" {
		t.Fatalf("stored object: ok %v, %d bytes (want %d), equal %v, %q", ok, len(got), len(body), bytes.Equal(got, body), ct)
	}
	if !strings.HasSuffix(aws.ToString(out.ETag), `-3"`) {
		t.Errorf("multipart ETag %s, want the md5-of-md5s with -3", aws.ToString(out.ETag))
	}
	// Reading it back through the SDK validates the stored checksum, if any.
	resp, err := a.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(f.model.BucketName()), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(back, body) {
		t.Errorf("read back: %d bytes, %v", len(back), err)
	}
}

func TestS3MultipartRules(t *testing.T) {
	f := s3Setup(t)
	ctx := context.Background()
	a := f.client(f.srv, f.user(idA))
	bucket, key := aws.String(f.model.BucketName()), aws.String("private/"+f.model.Region()+idA+"/parts.bin")
	up, err := a.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	var parts []s3types.CompletedPart
	for n := int32(1); n <= 2; n++ {
		p, err := a.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: up.UploadId, PartNumber: aws.Int32(n),
			Body: bytes.NewReader(bytes.Repeat([]byte{byte(n)}, 1024))})
		if err != nil {
			t.Fatalf("part %d: %v", n, err)
		}
		parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(n), ETag: p.ETag, ChecksumCRC32: p.ChecksumCRC32})
	}
	lp, err := a.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: key, UploadId: up.UploadId})
	if err != nil || len(lp.Parts) != 2 || aws.ToInt64(lp.Parts[1].Size) != 1024 {
		t.Fatalf("list parts: %+v %v", lp, err)
	}
	complete := func(ps ...s3types.CompletedPart) error {
		_, err := a.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: key, UploadId: up.UploadId,
			MultipartUpload: &s3types.CompletedMultipartUpload{Parts: ps}})
		return err
	}
	wantCode(t, "parts out of order", complete(parts[1], parts[0]), "InvalidPartOrder")
	wrong := parts[0]
	wrong.ETag = aws.String(`"00000000000000000000000000000000"`)
	wantCode(t, "wrong part ETag", complete(wrong, parts[1]), "InvalidPart")
	wantCode(t, "small first part", complete(parts...), "EntityTooSmall")
	if _, err := a.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: key, UploadId: up.UploadId}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "complete after abort", complete(parts[1]), "NoSuchUpload")

	// B may not upload parts into A's prefix.
	b := f.client(f.srv, f.user(idB))
	_, err = b.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key})
	wantCode(t, "B starts an upload under A's prefix", err, "AccessDenied")
}

func TestS3ContentMD5AndList(t *testing.T) {
	f := s3Setup(t)
	ctx := context.Background()
	a := f.client(f.srv, f.user(idA))
	bucket := aws.String(f.model.BucketName())
	prefix := "protected/" + f.model.Region() + idA + "/list/"
	_, err := a.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(prefix + "bad"), Body: strings.NewReader("abc"),
		ContentMD5: aws.String("1B2M2Y8AsgTpgAmY7PhCfg==")}) // the MD5 of ""
	wantCode(t, "wrong Content-MD5", err, "BadDigest")
	for _, k := range []string{"a", "b", "c/1", "c/2", "d"} {
		if err := put(ctx, a, f, prefix+k, k); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	p := s3.NewListObjectsV2Paginator(a, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String(prefix), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range page.Contents {
			got = append(got, strings.TrimPrefix(aws.ToString(o.Key), prefix))
		}
		for _, cp := range page.CommonPrefixes {
			got = append(got, strings.TrimPrefix(aws.ToString(cp.Prefix), prefix))
		}
	}
	slices.Sort(got)
	if strings.Join(got, " ") != "a b c/ d" || pages != 2 {
		t.Errorf("paged list: %v in %d pages, want a b c/ d in 2", got, pages)
	}
}

// TestS3PostObject sends browser-form uploads with policies the real SDK
// presigned (presignPost, postpolicy_test.go).
func TestS3PostObject(t *testing.T) {
	f := s3Setup(t)
	if f.model.Region() != testRegion {
		t.Fatalf("model region %s, presignPost signs for %s", f.model.Region(), testRegion)
	}
	sess := f.user(idA)
	own := "private/" + f.model.Region() + idA + "/form.txt"
	for _, c := range []struct {
		name, key, status string
		want              int
		code              string
	}{
		{"own prefix, 201", own, "201", http.StatusCreated, ""},
		{"own prefix, default 204", own, "", http.StatusNoContent, ""},
		{"B's prefix", "private/" + f.model.Region() + idB + "/form.txt", "", http.StatusForbidden, "AccessDenied"},
	} {
		var conds []any
		extra := map[string]string{}
		if c.status != "" {
			conds = append(conds, map[string]string{"success_action_status": c.status})
			extra["success_action_status"] = c.status
		}
		p := presignPost(t, sess, c.key, time.Minute, conds...)
		r := p.request(t, extra, "form.txt", []byte("from a form"))
		r.Header.Set("Origin", "http://localhost:3000")
		w := httptest.NewRecorder()
		f.s3.ServeHTTP(w, r)
		if w.Code != c.want || (c.code != "" && !strings.Contains(w.Body.String(), "<Code>"+c.code+"</Code>")) {
			t.Errorf("%s: %d %s", c.name, w.Code, w.Body)
			continue
		}
		if c.want == http.StatusCreated && !strings.Contains(w.Body.String(), "<Key>"+own+"</Key>") {
			t.Errorf("%s: PostResponse %s", c.name, w.Body)
		}
	}
	if b, _, ok := f.s3.Object(own); !ok || string(b) != "from a form" {
		t.Errorf("stored form upload: %q %v", b, ok)
	}
}

// TestS3RefusalBeforeExpectContinue: botocore (the AWS CLI, boto3) sends
// "Expect: 100-continue" on PUT and waits for the server before sending the
// body. A refusal must reach it without the body: a handler that drained the
// unread body before answering deadlocked here.
func TestS3RefusalBeforeExpectContinue(t *testing.T) {
	f := s3Setup(t)
	sess := f.user(idA)
	key := "private/" + f.model.Region() + idB + "/x.txt"
	req, err := http.NewRequest(http.MethodPut, f.srv.URL+"/"+f.model.BucketName()+"/"+key, strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	req.Header.Set("X-Amz-Security-Token", sess.SessionToken)
	req.Header.Set("Expect", "100-continue")
	signer := v4.NewSigner()
	if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: sess.AccessKeyID, SecretAccessKey: sess.SecretAccessKey, SessionToken: sess.SessionToken},
		req, "UNSIGNED-PAYLOAD", "s3", f.model.Region(), time.Now()); err != nil {
		t.Fatal(err)
	}
	// A transport that, like botocore, waits (here up to a minute) for the
	// server's interim or final answer before sending the body.
	tr := f.srv.Client().Transport.(*http.Transport).Clone()
	tr.ExpectContinueTimeout = time.Minute
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("refused PUT with Expect: 100-continue: %v (the stand-in did not answer before the body)", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403", resp.StatusCode)
	}
}

// TestS3CopyObject: the roles' guardrail refuses every server-side copy
// (s3:x-amz-copy-source, docs/security.md "Storage guardrails"), even of a
// user's own object into their own prefix, and nothing is stored; sharing a
// private object means uploading it again.
func TestS3CopyObject(t *testing.T) {
	f := s3Setup(t)
	ctx := context.Background()
	bucket := aws.String(f.model.BucketName())
	a := f.client(f.srv, f.user(idA))
	privA, protA := "private/"+f.model.Region()+idA+"/", "protected/"+f.model.Region()+idA+"/"
	if err := put(ctx, a, f, privA+"doc 1.txt", "shared words"); err != nil {
		t.Fatal(err)
	}
	for _, dst := range []string{protA + "doc 1.txt", privA + "doc 2.txt"} {
		_, err := a.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: aws.String(dst),
			CopySource: aws.String(url.PathEscape(f.model.BucketName() + "/" + privA + "doc 1.txt"))})
		wantCode(t, "copy to "+dst, err, "AccessDenied")
		if _, _, ok := f.s3.Object(dst); ok {
			t.Errorf("SECURITY: a refused copy stored %s", dst)
		}
	}
}

// TestS3CopyObjectSemantics: with the guardrail taken out of the template,
// the stand-in's CopyObject needs s3:GetObject on the source and
// s3:PutObject on the destination, as S3 does, and applies the metadata
// directive (a second stand-in, on the mutated template).
func TestS3CopyObjectSemantics(t *testing.T) {
	node := nodeForTests(t)
	b, err := os.ReadFile("../../test/testdata/snapshots/S3Vend-dev.template.json")
	if err != nil {
		t.Fatal(err)
	}
	var shipped map[string]any
	if err := json.Unmarshal(b, &shipped); err != nil {
		t.Fatal(err)
	}
	tmpl, removed, err := accessmatrix.WithoutStatements(shipped, func(st map[string]any) bool { return st["Sid"] == "DenyServerSideCopy" })
	if err != nil {
		t.Fatal(err)
	}
	if removed != 1 {
		t.Fatalf("removed %d DenyServerSideCopy statements, want 1", removed)
	}
	m, err := accessmatrix.Load(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	f := &s3Fixture{sessions: &Sessions{}, model: m}
	if f.s3, err = NewS3(S3Options{Model: m, Sessions: f.sessions, Node: node}); err != nil {
		t.Fatal(err)
	}
	defer f.s3.Close()
	f.srv = httptest.NewTLSServer(f.s3)
	defer f.srv.Close()
	ctx := context.Background()
	bucket := aws.String(f.model.BucketName())
	a, b2 := f.client(f.srv, f.user(idA)), f.client(f.srv, f.user(idB))
	privA, protA := "private/"+f.model.Region()+idA+"/", "protected/"+f.model.Region()+idA+"/"
	privB, protB := "private/"+f.model.Region()+idB+"/", "protected/"+f.model.Region()+idB+"/"
	if err := put(ctx, a, f, privA+"doc 1.txt", "shared words"); err != nil {
		t.Fatal(err)
	}
	if err := put(ctx, b2, f, privB+"b.txt", "b's"); err != nil {
		t.Fatal(err)
	}
	cp := func(c *s3.Client, src, dst string, optFns ...func(*s3.CopyObjectInput)) error {
		in := &s3.CopyObjectInput{Bucket: bucket, Key: aws.String(dst), CopySource: aws.String(url.PathEscape(f.model.BucketName() + "/" + src))}
		for _, fn := range optFns {
			fn(in)
		}
		_, err := c.CopyObject(ctx, in)
		return err
	}
	if err := cp(a, privA+"doc 1.txt", protA+"doc 1.txt"); err != nil {
		t.Fatalf("A shares a private object: %v", err)
	}
	got, err := b2.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(protA + "doc 1.txt")})
	if err != nil {
		t.Fatalf("B reads A's protected copy: %v", err)
	}
	if body, _ := io.ReadAll(got.Body); string(body) != "shared words" || aws.ToString(got.ContentType) != "text/plain" {
		t.Errorf("copy: %q %s", body, aws.ToString(got.ContentType))
	}
	wantCode(t, "A copies B's private object", cp(a, privB+"b.txt", protA+"stolen"), "AccessDenied")
	wantCode(t, "A copies into B's protected prefix", cp(a, privA+"doc 1.txt", protB+"planted"), "AccessDenied")
	wantCode(t, "A copies a missing object", cp(a, privA+"missing", protA+"missing"), "AccessDenied")
	if err := cp(b2, protA+"doc 1.txt", privB+"mine.txt", func(in *s3.CopyObjectInput) {
		in.MetadataDirective, in.ContentType = s3types.MetadataDirectiveReplace, aws.String("text/markdown")
	}); err != nil {
		t.Fatalf("B copies A's protected object into B's own prefix: %v", err)
	}
	if _, ct, ok := f.s3.Object(privB + "mine.txt"); !ok || ct != "text/markdown" {
		t.Errorf("REPLACE copy: stored %v, content type %q", ok, ct)
	}
	for _, k := range []string{protA + "stolen", protB + "planted"} {
		if _, _, ok := f.s3.Object(k); ok {
			t.Errorf("refused copy stored %s", k)
		}
	}
}

// TestS3ClockSkewAnswer: a request signed 20 minutes in the past is refused
// as S3 refuses it (403 RequestTimeTooSkewed with RequestTime, ServerTime
// and MaxAllowedSkewMilliseconds), and every answer carries S3's Date, from
// which clients correct their clock (the mini-program SDK, the AWS SDKs).
func TestS3ClockSkewAnswer(t *testing.T) {
	f := s3Setup(t)
	sess := f.user(idA)
	signed := time.Now().Add(-20 * time.Minute).UTC()
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+"/"+f.model.BucketName()+"/private/"+f.model.Region()+idA+"/x.txt", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: sess.AccessKeyID, SecretAccessKey: sess.SecretAccessKey, SessionToken: sess.SessionToken},
		req, emptySHA256, "s3", f.model.Region(), signed); err != nil {
		t.Fatal(err)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d %s, want 403", resp.StatusCode, body)
	}
	for _, want := range []string{
		"<Code>RequestTimeTooSkewed</Code>",
		"<RequestTime>" + signed.Format(amzDateFormat) + "</RequestTime>",
		"<ServerTime>",
		"<MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("body lacks %s:\n%s", want, body)
		}
	}
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil || time.Since(date).Abs() > time.Minute {
		t.Errorf("Date %q: %v", resp.Header.Get("Date"), err)
	}
}
