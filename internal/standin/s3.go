package standin

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/s3vend/s3vend/internal/accessmatrix"
)

// S3Options configures the S3 stand-in.
type S3Options struct {
	Model    *accessmatrix.Model // bucket, policies, CORS rules, region
	Sessions *Sessions           // credentials the requests are signed with
	Node     string              // Node 24 binary, for the IAM evaluator
	Now      func() time.Time    // default time.Now
	// MaxObjectBytes bounds one object (default 64 MiB); larger uploads get
	// EntityTooLarge.
	MaxObjectBytes int64
	// SendEvent delivers an event notification to a queue (by logical id)
	// for the template's bucket notifications (s3_notify.go); nil sends none.
	SendEvent func(queue string, body []byte) error
	// Attached returns the policies attached to a role outside the
	// template (IAMPolicies.Attached); nil: none.
	Attached func(roleARN string) (map[string]any, error)
}

// S3 is an in-memory, path-style S3 endpoint for the model's one bucket
// (https://host/<bucket>/<key>). Every request is authenticated by SigV4
// against Sessions (or is anonymous) and authorized by a real IAM evaluator
// with the template's bucket policy and the Cognito roles' policies, so a
// client writing outside its prefix, or over plain HTTP, is refused as AWS
// would refuse it.
type S3 struct {
	model    *accessmatrix.Model
	sessions *Sessions
	az       *accessmatrix.Authorizer
	cors     CORSRules
	now      func() time.Time
	maxBytes int64

	notifications []QueueNotification
	sendEvent     func(queue string, body []byte) error
	attached      func(roleARN string) (map[string]any, error)

	mu      sync.Mutex
	objects map[string]*s3Object
	uploads map[string]*s3Upload // by upload id
	seq     uint64               // the bucket's change counter (sequencers)
}

var _ http.Handler = (*S3)(nil)

// s3Object is a stored object.
type s3Object struct {
	body         []byte
	contentType  string
	etag         string // quoted
	modified     time.Time
	meta         http.Header       // x-amz-meta-*
	checksums    map[string]string // algorithm (CRC32, SHA256, ...) -> base64 value
	checksumType string            // FULL_OBJECT or COMPOSITE, with checksums
	storageClass string            // "" for STANDARD
}

// defaultMaxObjectBytes is S3Options.MaxObjectBytes' default.
const defaultMaxObjectBytes = 64 << 20

// NewS3 starts the stand-in's IAM evaluator; Close stops it.
func NewS3(opts S3Options) (*S3, error) {
	if opts.Model == nil || opts.Sessions == nil {
		return nil, errors.New("standin: S3Options needs Model and Sessions")
	}
	if opts.Node == "" {
		return nil, errors.New("standin: S3Options.Node (a Node 24 binary) is required for the IAM evaluator")
	}
	cors, err := S3CORSRules(opts.Model.Template())
	if err != nil {
		return nil, fmt.Errorf("standin: bucket CORS rules: %w", err)
	}
	az, err := opts.Model.NewAuthorizer(opts.Node)
	if err != nil {
		return nil, fmt.Errorf("standin: IAM evaluator: %w", err)
	}
	s := &S3{
		model: opts.Model, sessions: opts.Sessions, az: az, cors: cors,
		now: opts.Now, maxBytes: opts.MaxObjectBytes,
		objects: map[string]*s3Object{}, uploads: map[string]*s3Upload{},
		sendEvent: opts.SendEvent, attached: opts.Attached,
	}
	if opts.SendEvent != nil {
		s.notifications = S3NotificationsFromTemplate(opts.Model.Template(), opts.Model.BucketLogicalID())
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxBytes <= 0 {
		s.maxBytes = defaultMaxObjectBytes
	}
	return s, nil
}

// Trust is the stand-in's IAM evaluator as a TrustChecker, for the Cognito
// and STS stand-ins.
func (s *S3) Trust() TrustChecker { return s.az }

// Close stops the IAM evaluator's Node process.
func (s *S3) Close() error { return s.az.Close() }

// PutObject stores an object directly, bypassing authentication and
// authorization (seed data, such as a public/ file written by the owner).
func (s *S3) PutObject(key string, body []byte, contentType string) {
	if contentType == "" {
		contentType = defaultContentType
	}
	s.store(key, &s3Object{body: append([]byte(nil), body...), contentType: contentType}, "")
}

// Object returns a stored object's bytes and content type.
func (s *S3) Object(key string) (body []byte, contentType string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[key]
	if !ok {
		return nil, "", false
	}
	return append([]byte(nil), o.body...), o.contentType, true
}

// Uploads lists the keys of the multipart uploads in progress (tests:
// an aborted upload leaves none).
func (s *S3) Uploads() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for _, u := range s.uploads {
		keys = append(keys, u.key)
	}
	slices.Sort(keys)
	return keys
}

// Keys lists the stored keys in S3's order (UTF-8 binary).
func (s *S3) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sortedKeysLocked()
}

// defaultContentType is what S3 stores when a PUT carries no Content-Type.
const defaultContentType = "binary/octet-stream"

// PendingUploads is the number of multipart uploads created and neither
// completed nor aborted (a client that cancels must leave none).
func (s *S3) PendingUploads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.uploads)
}

// store saves o under key; a client write (eventName such as
// "ObjectCreated:Put", "" for seed data) is notified.
func (s *S3) store(key string, o *s3Object, eventName string) {
	if o.etag == "" {
		o.etag = md5ETag(o.body)
	}
	if o.modified.IsZero() {
		o.modified = s.now().UTC().Truncate(time.Second)
	}
	s.mu.Lock()
	s.objects[key] = o
	seq := s.nextSequencerLocked()
	s.mu.Unlock()
	if eventName != "" {
		s.notify(s3Change{eventName: eventName, key: key, size: int64(len(o.body)), etag: o.etag, sequencer: seq})
	}
}

// s3Request is one request being served.
type s3Request struct {
	w      http.ResponseWriter
	r      *http.Request
	id     string
	key    string // object key; "" for the bucket
	sess   Session
	anon   bool
	body   io.ReadCloser
	isHEAD bool
}

// ServeHTTP answers a path-style S3 request.
func (s *S3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := &s3Request{w: w, r: r, id: requestID(), isHEAD: r.Method == http.MethodHead}
	h := w.Header()
	h.Set("x-amz-request-id", q.id)
	h.Set("x-amz-id-2", base64.StdEncoding.EncodeToString([]byte(q.id+q.id)))
	h.Set("Server", "AmazonS3")
	// S3's own time (clients correct their clock skew from it; net/http
	// would write the wall clock, not the injected one).
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))
	if r.Header.Get("Origin") != "" && r.Method != http.MethodOptions {
		// S3 adds the matching rule's CORS headers to every response, errors
		// included, so browsers can read error bodies.
		for k, v := range s.cors.Actual(r) {
			h[k] = v
		}
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	q.key = key
	switch {
	case bucket == "":
		s.fail(q, &AWSError{http.StatusNotImplemented, "NotImplemented", "This stand-in serves one bucket, path-style: /<bucket>/<key>."})
		return
	case bucket != s.model.BucketName():
		s.fail(q, &AWSError{http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist"})
		return
	case r.Method == http.MethodOptions:
		s.preflight(q)
		return
	case r.Method == http.MethodPost && key == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data"):
		s.postObject(q)
		return
	}
	sess, anon, body, err := VerifySigV4(r, "s3", s.model.Region(), s.sessions, s.now())
	if err != nil {
		s.fail(q, err)
		return
	}
	q.sess, q.anon, q.body = sess, anon, body
	// The body is deliberately not closed here: closing an unread request
	// body drains it, and a client that sent "Expect: 100-continue" (botocore
	// does on every PUT) waits for our answer before it sends the body, so a
	// refusal written before the drain would never be flushed. net/http
	// closes the body after the response, and drops the connection when the
	// body went unread.
	s.route(q)
}

// preflight answers a CORS preflight (OPTIONS) from the bucket's CORS rules.
func (s *S3) preflight(q *s3Request) {
	h, err := s.cors.Preflight(q.r)
	if err != nil {
		s.fail(q, err)
		return
	}
	for k, v := range h {
		q.w.Header()[k] = v
	}
	q.w.WriteHeader(http.StatusOK)
}

// route dispatches by method, key and subresource. The operations and the
// IAM action each needs follow "Required permissions for Amazon S3 API
// operations" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations.html,
// each operation's Permissions section) and "Actions, resources, and
// condition keys for Amazon S3" (service authorization reference):
// HeadObject needs s3:GetObject; CreateMultipartUpload, UploadPart and
// CompleteMultipartUpload need s3:PutObject; AbortMultipartUpload needs
// s3:AbortMultipartUpload; ListParts needs s3:ListMultipartUploadParts;
// ListObjectsV2 and HeadBucket need s3:ListBucket (s3:prefix is the prefix
// parameter).
func (s *S3) route(q *s3Request) {
	if !supportedQuery(q.r, q.key == "") {
		s.fail(q, notImplemented(q.r))
		return
	}
	switch {
	case q.key == "":
		s.routeBucket(q)
	case q.r.Header.Get("x-amz-copy-source") != "":
		s.routeCopy(q)
	default:
		s.routeObject(q)
	}
}

// routeBucket serves the bucket's own operations: ListObjectsV2 and
// HeadBucket.
func (s *S3) routeBucket(q *s3Request) {
	query := q.r.URL.Query()
	switch {
	case q.r.Method == http.MethodGet && query.Get("list-type") == "2":
		s.listObjectsV2(q)
	case q.r.Method == http.MethodHead && len(query) == 0:
		if s.authorize(q, "s3:ListBucket", "", nil) {
			q.w.WriteHeader(http.StatusOK)
		}
	default:
		s.fail(q, notImplemented(q.r))
	}
}

// routeCopy serves a request with a copy source: CopyObject, and
// UploadPartCopy authorized as S3 does (s3:x-amz-copy-source, which the
// roles' guardrail refuses), not implemented beyond.
func (s *S3) routeCopy(q *s3Request) {
	if _, hasUploadID := q.r.URL.Query()["uploadId"]; q.r.Method == http.MethodPut && !hasUploadID {
		s.copyObject(q)
	} else if _, ok := s.authorizeWrite(q, q.key, writeHeaders(q.r)); ok {
		s.fail(q, notImplemented(q.r))
	}
}

// routeObject serves the object operations, single-part and multipart, by
// method and query.
func (s *S3) routeObject(q *s3Request) {
	query := q.r.URL.Query()
	_, hasUploadID := query["uploadId"]
	switch q.r.Method {
	case http.MethodPut:
		if hasUploadID {
			s.uploadPart(q)
		} else {
			s.putObject(q)
		}
	case http.MethodGet, http.MethodHead:
		switch {
		case hasUploadID && q.r.Method == http.MethodGet:
			s.listParts(q)
		case query.Get("partNumber") != "":
			s.fail(q, notImplemented(q.r))
		default:
			s.getObject(q)
		}
	case http.MethodDelete:
		if hasUploadID {
			s.abortMultipartUpload(q)
		} else {
			s.deleteObject(q)
		}
	case http.MethodPost:
		_, create := query["uploads"]
		switch {
		case create:
			s.createMultipartUpload(q)
		case hasUploadID:
			s.completeMultipartUpload(q)
		default:
			s.fail(q, notImplemented(q.r))
		}
	default:
		s.fail(q, &AWSError{http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource."})
	}
}

func notImplemented(r *http.Request) *AWSError {
	return &AWSError{http.StatusNotImplemented, "NotImplemented",
		fmt.Sprintf("The stand-in does not implement %s %s?%s.", r.Method, r.URL.Path, r.URL.RawQuery)}
}

// authorize asks the IAM evaluator whether the request's caller may do
// action on key (or the bucket), and answers 403 AccessDenied when not. The
// bucket policy's TLS-only statement sees aws:SecureTransport false for
// plain-HTTP requests, as in AWS: nothing here special-cases TLS.
func (s *S3) authorize(q *s3Request, action, key string, prefix *string) bool {
	ok, err := s.allowed(q.r, q.sess, q.anon, action, key, prefix)
	if err != nil {
		s.fail(q, internalError())
		return false
	}
	if !ok {
		s.fail(q, accessDenied())
	}
	return ok
}

func (s *S3) allowed(r *http.Request, sess Session, anon bool, action, key string, prefix *string) (bool, error) {
	return s.allowedWith(r, sess, anon, action, key, prefix, nil)
}

// allowedWith is allowed with the request's other condition keys
// (accessmatrix.S3ConditionKeys).
func (s *S3) allowedWith(r *http.Request, sess Session, anon bool, action, key string, prefix *string, context map[string]any) (bool, error) {
	var attached map[string]any
	if !anon && sess.RoleARN == "" && sess.Principal != "" {
		attached = sess.Policies
	}
	if s.attached != nil && !anon && sess.RoleARN != "" {
		var err error
		if attached, err = s.attached(sess.RoleARN); err != nil {
			return false, err
		}
	}
	return s.az.Authorize(accessmatrix.Access{
		Anonymous: anon, RoleARN: sess.RoleARN, Principal: sess.Principal, IdentityID: sess.IdentityID, Amr: sess.Amr,
		Action: action, Key: key, Prefix: prefix, TLSVersion: tlsVersion(r), Tags: sess.Tags, Context: context,
		Attached: attached,
	})
}

func accessDenied() *AWSError {
	return &AWSError{http.StatusForbidden, "AccessDenied", "Access Denied"}
}

// tlsVersion is the request's TLS version as s3:TlsVersion spells it
// ("1.2"), "" without TLS.
func tlsVersion(r *http.Request) string {
	if r.TLS == nil {
		return ""
	}
	v := r.TLS.Version - 0x0301 // TLS 1.0 is 0x0301
	return fmt.Sprintf("1.%d", v)
}

// fail writes err in S3's XML error shape (no body for HEAD), see
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#RESTErrorResponses.
func (s *S3) fail(q *s3Request, err *AWSError) {
	h := q.w.Header()
	for _, k := range []string{"ETag", "Last-Modified", "Content-Length", "Content-Range", "Accept-Ranges"} {
		h.Del(k)
	}
	if q.isHEAD {
		q.w.WriteHeader(err.Status)
		return
	}
	e := s3Error{Code: err.Code, Message: err.Message, RequestID: q.id, HostID: h.Get("x-amz-id-2")}
	if err.Code == "RequestTimeTooSkewed" {
		e.RequestTime = q.r.Header.Get("X-Amz-Date")
		e.ServerTime = s.now().UTC().Format(time.RFC3339)
		e.MaxAllowedSkewMilliseconds = maxClockSkew.Milliseconds()
	}
	body := xmlBody(e)
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", fmt.Sprint(len(body)))
	q.w.WriteHeader(err.Status)
	_, _ = q.w.Write(body)
}

func requestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}
