package standin

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

const testRegion = "us-east-1"

// sigServer is a TLS stand-in whose handler authenticates every request
// with VerifySigV4 and records what it decoded.
type sigServer struct {
	*httptest.Server
	sessions *Sessions
	service  string

	mu      sync.Mutex
	now     time.Time // zero: time.Now
	bodies  [][]byte
	headers []http.Header
	sess    []Session
	anon    []bool
}

func newSigServer(t *testing.T, service string) *sigServer {
	t.Helper()
	s := &sigServer{sessions: &Sessions{}, service: service}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *sigServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	now := s.now
	s.mu.Unlock()
	if now.IsZero() {
		now = time.Now()
	}
	sess, anon, body, aerr := VerifySigV4(r, s.service, testRegion, s.sessions, now)
	if aerr == nil {
		b, err := io.ReadAll(body)
		if err != nil {
			if !errors.As(err, &aerr) {
				aerr = &AWSError{500, "InternalError", err.Error()}
			}
		} else {
			s.mu.Lock()
			s.bodies = append(s.bodies, b)
			s.headers = append(s.headers, r.Header.Clone())
			s.sess = append(s.sess, sess)
			s.anon = append(s.anon, anon)
			s.mu.Unlock()
		}
	}
	if aerr != nil {
		if s.service == "s3" {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(aerr.Status)
			fmt.Fprintf(w, "<Error><Code>%s</Code><Message>%s</Message></Error>", aerr.Code, aerr.Message)
		} else {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(aerr.Status)
			fmt.Fprintf(w, `{"__type":%q,"message":%q}`, aerr.Code, aerr.Message)
		}
		return
	}
	if s.service == "s3" {
		w.Header().Set("ETag", `"etag"`)
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte("object data"))
		}
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write([]byte(`{"IdentityId":"us-east-1:00000000-0000-4000-8000-000000000000"}`))
}

func (s *sigServer) last(t *testing.T) ([]byte, http.Header) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bodies) == 0 {
		t.Fatal("the server accepted no request")
	}
	return s.bodies[len(s.bodies)-1], s.headers[len(s.headers)-1]
}

func (s *sigServer) s3Client(creds aws.Credentials, region string, opt ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region:           region,
		BaseEndpoint:     aws.String(s.URL),
		UsePathStyle:     true,
		HTTPClient:       s.Client(),
		Credentials:      credentials.StaticCredentialsProvider{Value: creds},
		RetryMaxAttempts: 1,
		// config.LoadDefaultConfig's default; s3.New alone leaves it unset
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
	}, opt...)
}

func credsOf(sess Session) aws.Credentials {
	return aws.Credentials{AccessKeyID: sess.AccessKeyID, SecretAccessKey: sess.SecretAccessKey, SessionToken: sess.SessionToken}
}

func apiErrorCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an API error, got %v", err)
	}
	return ae.ErrorCode()
}

func TestSigV4S3ClientPutObjectAndUploadPart(t *testing.T) {
	srv := newSigServer(t, "s3")
	sess := srv.sessions.Issue("arn:aws:iam::111122223333:role/Auth", "us-east-1:id", []string{"authenticated"}, time.Hour)
	c := srv.s3Client(credsOf(sess), testRegion)
	ctx := context.Background()

	big := bytes.Repeat([]byte("0123456789abcdef"), 200*1024/16) // 200 KiB: several 64 KiB aws-chunks
	cases := []struct {
		name string
		alg  s3types.ChecksumAlgorithm
		body []byte
	}{
		{"default crc32 small", "", []byte("hello, stand-in")},
		{"default crc32 multi-chunk", "", big},
		{"crc32c", s3types.ChecksumAlgorithmCrc32c, big},
		{"sha1", s3types.ChecksumAlgorithmSha1, []byte("x")},
		{"sha256", s3types.ChecksumAlgorithmSha256, big},
		{"crc64nvme", s3types.ChecksumAlgorithmCrc64nvme, big},
		{"empty", "", []byte{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String("s3vend-test-bucket"), Key: aws.String("private/us-east-1:id/a b+c.txt"),
				Body: bytes.NewReader(tc.body), ChecksumAlgorithm: tc.alg, ContentType: aws.String("text/plain"),
			})
			if err != nil {
				t.Fatal(err)
			}
			got, h := srv.last(t)
			if !bytes.Equal(got, tc.body) {
				t.Fatalf("decoded body: got %d bytes, want %d", len(got), len(tc.body))
			}
			t.Logf("x-amz-content-sha256=%s x-amz-trailer=%s", h.Get("X-Amz-Content-Sha256"), h.Get("X-Amz-Trailer"))
		})
	}
	t.Run("upload part", func(t *testing.T) {
		_, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String("s3vend-test-bucket"), Key: aws.String("private/us-east-1:id/big"),
			UploadId: aws.String("up/1"), PartNumber: aws.Int32(1), Body: bytes.NewReader(big),
		})
		if err != nil {
			t.Fatal(err)
		}
		got, h := srv.last(t)
		if !bytes.Equal(got, big) {
			t.Fatal("decoded part differs")
		}
		if h.Get("X-Amz-Content-Sha256") != streamingUnsignedTrailer || h.Get("X-Amz-Trailer") != "x-amz-checksum-crc32" {
			t.Fatalf("the SDK's default changed: %v", h)
		}
	})
	t.Run("get object", func(t *testing.T) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("s3vend-test-bucket"), Key: aws.String("public/x")})
		if err != nil {
			t.Fatal(err)
		}
		out.Body.Close()
	})
}

// tamperTransport flips one byte of every request body on the wire.
type tamperTransport struct{ base http.RoundTripper }

func (t tamperTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.ContentLength > 0 {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		i := bytes.Index(b, []byte("secret payload"))
		if i >= 0 {
			b[i] ^= 1
		}
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	return t.base.RoundTrip(r)
}

func TestSigV4S3ClientRejections(t *testing.T) {
	srv := newSigServer(t, "s3")
	sess := srv.sessions.Issue("arn:aws:iam::111122223333:role/Auth", "us-east-1:id", nil, time.Hour)
	expired := Session{AccessKeyID: "ASIAEXPIRED", SecretAccessKey: "s", SessionToken: "t", Expiration: time.Now().Add(-time.Minute)}
	srv.sessions.Put(expired)
	ctx := context.Background()
	put := func(c *s3.Client, alg s3types.ChecksumAlgorithm) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: strings.NewReader("a secret payload"), ChecksumAlgorithm: alg})
		return err
	}
	wrongSecret, wrongToken, unknown, noToken := credsOf(sess), credsOf(sess), credsOf(sess), credsOf(sess)
	wrongSecret.SecretAccessKey += "x"
	wrongToken.SessionToken += "x"
	unknown.AccessKeyID = "ASIAUNKNOWN"
	noToken.SessionToken = ""
	tampered := func(o *s3.Options) { o.HTTPClient = &http.Client{Transport: tamperTransport{srv.Client().Transport}} }
	cases := []struct {
		name   string
		client *s3.Client
		alg    s3types.ChecksumAlgorithm
		code   string
	}{
		{"wrong secret", srv.s3Client(wrongSecret, testRegion), "", "SignatureDoesNotMatch"},
		{"wrong token", srv.s3Client(wrongToken, testRegion), "", "InvalidToken"},
		{"missing token", srv.s3Client(noToken, testRegion), "", "InvalidToken"},
		{"unknown key", srv.s3Client(unknown, testRegion), "", "InvalidAccessKeyId"},
		{"expired session", srv.s3Client(credsOf(expired), testRegion), "", "ExpiredToken"},
		{"other region", srv.s3Client(credsOf(sess), "eu-west-1"), "", "AuthorizationHeaderMalformed"},
		{"tampered body crc32 trailer", srv.s3Client(credsOf(sess), testRegion, tampered), "", "BadDigest"},
		{"tampered body sha256 trailer", srv.s3Client(credsOf(sess), testRegion, tampered), s3types.ChecksumAlgorithmSha256, "BadDigest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if code := apiErrorCode(t, put(tc.client, tc.alg)); code != tc.code {
				t.Fatalf("got %s, want %s", code, tc.code)
			}
		})
	}
	t.Run("clock skew", func(t *testing.T) {
		srv.mu.Lock()
		srv.now = time.Now().Add(16 * time.Minute)
		srv.mu.Unlock()
		defer func() { srv.mu.Lock(); srv.now = time.Time{}; srv.mu.Unlock() }()
		if code := apiErrorCode(t, put(srv.s3Client(credsOf(sess), testRegion), "")); code != "RequestTimeTooSkewed" {
			t.Fatal(code)
		}
	})
}

func TestSigV4Presigned(t *testing.T) {
	srv := newSigServer(t, "s3")
	sess := srv.sessions.Issue("arn:aws:iam::111122223333:role/Auth", "us-east-1:id", nil, time.Hour)
	pc := s3.NewPresignClient(srv.s3Client(credsOf(sess), testRegion))
	ctx := context.Background()
	req, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("s3vend-test-bucket"), Key: aws.String("protected/us-east-1:id/pic 1.png")}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	get := func(u string) (int, string) {
		resp, err := srv.Client().Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(req.URL); code != 200 {
		t.Fatalf("presigned GET: %d %s", code, body)
	}
	if code, body := get(strings.Replace(req.URL, "pic%201", "pic%202", 1)); code != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Fatalf("tampered key: %d %s", code, body)
	}
	if code, body := get(strings.Replace(req.URL, "X-Amz-Expires=60", "X-Amz-Expires=6000", 1)); code != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Fatalf("widened expiry: %d %s", code, body)
	}
	srv.mu.Lock()
	srv.now = time.Now().Add(61 * time.Second)
	srv.mu.Unlock()
	if code, body := get(req.URL); code != 403 || !strings.Contains(body, "Request has expired") {
		t.Fatalf("expired URL: %d %s", code, body)
	}

	// a presigned PUT carries UNSIGNED-PAYLOAD
	srv.mu.Lock()
	srv.now = time.Time{}
	srv.mu.Unlock()
	put, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("private/x")})
	if err != nil {
		t.Fatal(err)
	}
	hr, _ := http.NewRequest(put.Method, put.URL, strings.NewReader("put via URL"))
	for k, v := range put.SignedHeader {
		hr.Header[k] = v
	}
	resp, err := srv.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, _ := srv.last(t); resp.StatusCode != 200 || string(got) != "put via URL" {
		t.Fatalf("presigned PUT: %d %q", resp.StatusCode, got)
	}
}

func TestSigV4Anonymous(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "https://127.0.0.1/b/public/x", nil)
	sess, anon, body, err := VerifySigV4(r, "s3", testRegion, &Sessions{}, time.Now())
	if err != nil || !anon || sess.AccessKeyID != "" || body == nil {
		t.Fatalf("anonymous: %v %v %v", sess, anon, err)
	}
	r.Header.Set("Authorization", "AWS AKIA:sig")
	if _, _, _, err := VerifySigV4(r, "s3", testRegion, &Sessions{}, time.Now()); err == nil || err.Code != "InvalidArgument" {
		t.Fatalf("SigV2: %v", err)
	}
}

// overTheWire sends req through its HTTP/1.1 serialization and parses it back as a
// server would.
func overTheWire(t *testing.T, req *http.Request) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSigV4SignHTTPPayloadHash(t *testing.T) {
	sessions := &Sessions{}
	sess := sessions.Issue("", "", nil, time.Hour)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	payload := []byte("exact payload")
	sum := sha256.Sum256(payload)
	sign := func(body []byte, hash string) *http.Request {
		req, _ := http.NewRequest(http.MethodPut, "https://127.0.0.1:8443/bucket/private/k%2Fslash?tagging=&x-id=PutObject", bytes.NewReader(body))
		req.Header.Set("X-Amz-Content-Sha256", hash)
		req.Header.Set("X-Amz-Meta-Note", "a  b   c")
		if err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).SignHTTP(context.Background(), credsOf(sess), req, hash, "s3", testRegion, now); err != nil {
			t.Fatal(err)
		}
		return req
	}
	read := func(r *http.Request) ([]byte, *AWSError) {
		_, _, body, aerr := VerifySigV4(overTheWire(t, r), "s3", testRegion, sessions, now)
		if aerr != nil {
			return nil, aerr
		}
		b, err := io.ReadAll(body)
		var ae *AWSError
		if errors.As(err, &ae) {
			return b, ae
		} else if err != nil {
			t.Fatal(err)
		}
		return b, nil
	}
	if b, err := read(sign(payload, hex.EncodeToString(sum[:]))); err != nil || !bytes.Equal(b, payload) {
		t.Fatalf("signed payload: %q %v", b, err)
	}
	// changed byte of body, same header hash
	req := sign(payload, hex.EncodeToString(sum[:]))
	req.Body = io.NopCloser(bytes.NewReader([]byte("exact paylOad")))
	if _, err := read(req); err == nil || err.Code != "XAmzContentSHA256Mismatch" {
		t.Fatalf("tampered payload: %v", err)
	}
	// a signed header changed after signing
	req = sign(payload, unsignedPayload)
	req.Header.Set("X-Amz-Meta-Note", "other")
	if _, err := read(req); err == nil || err.Code != "SignatureDoesNotMatch" {
		t.Fatalf("tampered header: %v", err)
	}
	// a checksum header that does not match
	req = sign(payload, unsignedPayload)
	req.Header.Set("X-Amz-Checksum-Crc32", "AAAAAA==")
	if _, err := read(req); err == nil || err.Code != "BadDigest" {
		t.Fatalf("checksum header: %v", err)
	}
	req = sign(payload, "not-a-hash")
	if _, err := read(req); err == nil || err.Code != "InvalidArgument" {
		t.Fatalf("bad x-amz-content-sha256: %v", err)
	}
	// the credential date must be the request's
	req = sign(payload, unsignedPayload)
	req.Header.Set("X-Amz-Date", now.Add(24*time.Hour).Format(amzDateFormat))
	if _, _, _, err := VerifySigV4(overTheWire(t, req), "s3", testRegion, sessions, now.Add(24*time.Hour)); err == nil || err.Code != "AuthorizationHeaderMalformed" {
		t.Fatalf("credential date: %v", err)
	}
	// another service in the scope
	req, _ = http.NewRequest(http.MethodGet, "https://127.0.0.1:8443/bucket/k", nil)
	req.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
	_ = v4.NewSigner().SignHTTP(context.Background(), credsOf(sess), req, unsignedPayload, "s3-object-lambda", testRegion, now)
	if _, _, _, err := VerifySigV4(overTheWire(t, req), "s3", testRegion, sessions, now); err == nil || err.Code != "SignatureDoesNotMatch" {
		t.Fatalf("service scope: %v", err)
	}
}

// TestSigV4StreamingDocExample checks the signed aws-chunked example of
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
// (66560 bytes of 'a' in a 64 KiB and a 1 KiB chunk), signatures and all.
func TestSigV4StreamingDocExample(t *testing.T) {
	sessions := &Sessions{}
	sessions.Put(Session{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})
	now := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	const (
		seed   = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
		chunk1 = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
		chunk2 = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
		final  = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
	)
	build := func(sig1 string, data2 []byte) *http.Request {
		var body bytes.Buffer
		fmt.Fprintf(&body, "10000;chunk-signature=%s\r\n%s\r\n", sig1, bytes.Repeat([]byte("a"), 65536))
		fmt.Fprintf(&body, "400;chunk-signature=%s\r\n%s\r\n", chunk2, data2)
		fmt.Fprintf(&body, "0;chunk-signature=%s\r\n\r\n", final)
		r := httptest.NewRequest(http.MethodPut, "/examplebucket/chunkObject.txt", bytes.NewReader(body.Bytes()))
		r.Host = "s3.amazonaws.com"
		r.Header.Set("X-Amz-Date", "20130524T000000Z")
		r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
		r.Header.Set("X-Amz-Content-Sha256", streamingSigned)
		r.Header.Set("Content-Encoding", "aws-chunked")
		r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
		r.Header.Set("Content-Length", strconv.Itoa(body.Len()))
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature="+seed)
		return r
	}
	readAll := func(r *http.Request) ([]byte, error) {
		_, _, body, aerr := VerifySigV4(r, "s3", "us-east-1", sessions, now)
		if aerr != nil {
			return nil, aerr
		}
		return io.ReadAll(body)
	}
	b, err := readAll(build(chunk1, bytes.Repeat([]byte("a"), 1024)))
	if err != nil || len(b) != 66560 {
		t.Fatalf("doc example: %d bytes, %v", len(b), err)
	}
	var ae *AWSError
	if _, err := readAll(build(chunk1, append(bytes.Repeat([]byte("a"), 1023), 'b'))); !errors.As(err, &ae) || ae.Code != "SignatureDoesNotMatch" {
		t.Fatalf("tampered chunk: %v", err)
	}
	if _, err := readAll(build(chunk2, bytes.Repeat([]byte("a"), 1024))); !errors.As(err, &ae) || ae.Code != "SignatureDoesNotMatch" {
		t.Fatalf("wrong chunk signature: %v", err)
	}
}

// TestSigV4StreamingSignedTrailer builds a STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
// body (the SDK for Go has no encoder for it) per sigv4-streaming-trailers.html.
func TestSigV4StreamingSignedTrailer(t *testing.T) {
	sessions := &Sessions{}
	sess := sessions.Issue("", "", nil, time.Hour)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	data := bytes.Repeat([]byte("z"), 9000)
	build := func(crc string, tamperTrailerSig bool, chunks ...[]byte) *http.Request {
		req, _ := http.NewRequest(http.MethodPut, "https://127.0.0.1:9/b/k", nil)
		req.Header.Set("X-Amz-Content-Sha256", streamingSignedTrailer)
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
		req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)))
		if err := v4.NewSigner().SignHTTP(context.Background(), credsOf(sess), req, streamingSignedTrailer, "s3", testRegion, now); err != nil {
			t.Fatal(err)
		}
		seed := req.Header.Get("Authorization")[strings.LastIndex(req.Header.Get("Authorization"), "=")+1:]
		c := &chunkSigner{key: signingKey(sess.SecretAccessKey, "20260301", testRegion, "s3"), amzDate: now.Format(amzDateFormat), scope: "20260301/us-east-1/s3/aws4_request", prev: seed}
		sign := func(sts string) string {
			s := hex.EncodeToString(hmacSHA256(c.key, []byte(sts)))
			c.prev = s
			return s
		}
		var body bytes.Buffer
		for _, ch := range append(chunks, nil) {
			h := sha256.Sum256(ch)
			sig := sign("AWS4-HMAC-SHA256-PAYLOAD\n" + c.amzDate + "\n" + c.scope + "\n" + c.prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(h[:]))
			fmt.Fprintf(&body, "%x;chunk-signature=%s\r\n", len(ch), sig)
			if len(ch) > 0 {
				body.Write(ch)
				body.WriteString("\r\n")
			}
		}
		th := sha256.Sum256([]byte("x-amz-checksum-crc32:" + crc + "\n"))
		tsig := sign("AWS4-HMAC-SHA256-TRAILER\n" + c.amzDate + "\n" + c.scope + "\n" + c.prev + "\n" + hex.EncodeToString(th[:]))
		if tamperTrailerSig {
			tsig = strings.Repeat("0", 64)
		}
		fmt.Fprintf(&body, "x-amz-checksum-crc32:%s\r\nx-amz-trailer-signature:%s\r\n\r\n", crc, tsig)
		req.Body = io.NopCloser(&body)
		req.ContentLength = int64(body.Len())
		return overTheWire(t, req)
	}
	readAll := func(r *http.Request) ([]byte, error) {
		_, _, body, aerr := VerifySigV4(r, "s3", testRegion, sessions, now)
		if aerr != nil {
			return nil, aerr
		}
		return io.ReadAll(body)
	}
	good := checksumOf("x-amz-checksum-crc32", data)
	if b, err := readAll(build(good, false, data[:8192], data[8192:])); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("signed trailer: %v", err)
	}
	var ae *AWSError
	for name, tc := range map[string]struct {
		r    *http.Request
		code string
	}{
		"trailer checksum":  {build("AAAAAA==", false, data[:8192], data[8192:]), "BadDigest"},
		"trailer signature": {build(good, true, data[:8192], data[8192:]), "SignatureDoesNotMatch"},
		"small chunk":       {build(good, false, data[:100], data[100:]), "InvalidChunkSizeError"},
	} {
		if _, err := readAll(tc.r); !errors.As(err, &ae) || ae.Code != tc.code {
			t.Errorf("%s: got %v, want %s", name, err, tc.code)
		}
	}
}

func checksumOf(header string, data []byte) string {
	for _, a := range payloadChecksums {
		if a.header == header {
			h := a.new()
			h.Write(data)
			return base64Std(h.Sum(nil))
		}
	}
	panic(header)
}

func TestSigV4CognitoJSON(t *testing.T) {
	srv := newSigServer(t, "cognito-identity")
	sess := srv.sessions.Issue("", "", nil, time.Hour)
	client := func(creds aws.Credentials) *cognitoidentity.Client {
		return cognitoidentity.New(cognitoidentity.Options{
			Region: testRegion, BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(),
			Credentials: credentials.StaticCredentialsProvider{Value: creds}, RetryMaxAttempts: 1,
		})
	}
	in := &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{IdentityPoolId: aws.String("us-east-1:pool"), Logins: map[string]string{"backend": "user-1"}}
	if _, err := client(credsOf(sess)).GetOpenIdTokenForDeveloperIdentity(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if b, _ := srv.last(t); !strings.Contains(string(b), `"user-1"`) {
		t.Fatalf("body not passed on: %s", b)
	}
	bad := credsOf(sess)
	bad.SecretAccessKey = "nope"
	_, err := client(bad).GetOpenIdTokenForDeveloperIdentity(context.Background(), in)
	if code := apiErrorCode(t, err); code != "InvalidSignatureException" {
		t.Fatal(code)
	}
	bad = credsOf(sess)
	bad.AccessKeyID = "AKIANOPE"
	_, err = client(bad).GetOpenIdTokenForDeveloperIdentity(context.Background(), in)
	if code := apiErrorCode(t, err); code != "UnrecognizedClientException" {
		t.Fatal(code)
	}
}

func TestSigV4MalformedInputs(t *testing.T) {
	sessions := &Sessions{}
	now := time.Now()
	for _, tc := range []struct{ auth, query, code string }{
		{"AWS4-HMAC-SHA256 Credential=AKIA/2026/us-east-1/s3/aws4_request", "", "AuthorizationHeaderMalformed"},
		{"AWS4-HMAC-SHA256 garbage", "", "AuthorizationHeaderMalformed"},
		{"AWS4-HMAC-SHA256", "", "AuthorizationHeaderMalformed"},
		{"", "X-Amz-Algorithm=AWS4-HMAC-SHA256", "AuthorizationQueryParametersError"},
		{"", "X-Amz-Algorithm=HMAC&X-Amz-Credential=a&X-Amz-Signature=b&X-Amz-Date=c&X-Amz-SignedHeaders=host&X-Amz-Expires=1", "AuthorizationQueryParametersError"},
		{"", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=b&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=604801", "AuthorizationQueryParametersError"},
		{"AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/s3/aws4_request", "X-Amz-Signature=x", "InvalidArgument"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/b/k?"+tc.query, nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
			r.Header.Set("X-Amz-Date", now.UTC().Format(amzDateFormat))
		}
		if _, _, _, err := VerifySigV4(r, "s3", testRegion, sessions, now); err == nil || err.Code != tc.code {
			t.Errorf("%q %q: got %v, want %s", tc.auth, tc.query, err, tc.code)
		}
	}
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
