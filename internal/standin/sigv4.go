package standin

// AWS Signature Version 4 verification, as S3 and the JSON-protocol services
// (Cognito Identity) perform it. The references:
//
//   - Canonical request, string to sign, signing key:
//     https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
//     and the SDK signer this file mirrors,
//     github.com/aws/aws-sdk-go-v2/aws/signer/v4 (v4.go: Build,
//     buildCanonicalHeaders; internal/v4/util.go: EncodeQuery).
//   - S3 header auth, x-amz-content-sha256 modes:
//     https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html
//   - S3 presigned URLs (X-Amz-Expires at most 604800 s):
//     https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
//   - aws-chunked signed chunks (seed signature, chunk string to sign, 8 KiB
//     minimum chunk size except the last):
//     https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
//   - trailing headers (AWS4-HMAC-SHA256-TRAILER, x-amz-trailer-signature):
//     https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
//   - S3 error codes and statuses:
//     https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	sigV4Algorithm = "AWS4-HMAC-SHA256"
	amzDateFormat  = "20060102T150405Z"
	// maxClockSkew is S3's RequestTimeTooSkewed threshold (ErrorResponses:
	// "The difference between the request time and the server's time is too
	// large"; the allowed skew is 15 minutes).
	maxClockSkew = 15 * time.Minute
	// maxPresignExpires is the longest X-Amz-Expires S3 accepts (one week;
	// sigv4-query-string-auth.html).
	maxPresignExpires = 604800
	// maxSignedBody bounds the body a non-S3 (JSON protocol) request may
	// carry; it is read whole to hash it.
	maxSignedBody = 1 << 20

	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	emptySHA256              = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// sigV4Auth is what a request carries to authenticate: from the
// Authorization header or from the presigned query string.
type sigV4Auth struct {
	presigned     bool
	accessKeyID   string
	scopeDate     string // yyyymmdd
	scopeRegion   string
	scopeService  string
	signedHeaders []string
	signature     string
	amzDate       string
	date          time.Time
	expires       time.Duration // presigned only
	token         string
}

func (a sigV4Auth) scope() string {
	return a.scopeDate + "/" + a.scopeRegion + "/" + a.scopeService + "/aws4_request"
}

// VerifySigV4 authenticates r by AWS Signature Version 4, from the
// Authorization header or a presigned query string, for service ("s3",
// "cognito-identity") and region, against sessions. anonymous is true when
// the request carries no signature at all (then sess is zero and err nil).
//
// For "s3" the errors are S3's (ErrorResponses.html): unknown key 403
// InvalidAccessKeyId; wrong or missing x-amz-security-token 403 InvalidToken;
// expired session 400 ExpiredToken; bad signature or another service in the
// scope 403 SignatureDoesNotMatch; clock skew over 15 minutes 403
// RequestTimeTooSkewed; a presigned URL past X-Amz-Date+X-Amz-Expires 403
// AccessDenied "Request has expired"; another region or date in the scope
// 400 AuthorizationHeaderMalformed (AuthorizationQueryParametersError when
// presigned: S3 answers both with 400, not 403). For the JSON-protocol
// services the same failures carry those services' codes (see
// jsonServiceError).
//
// The returned body yields the decoded payload and checks it as it is read
// (x-amz-content-sha256 digest, aws-chunked chunk and trailer signatures,
// x-amz-checksum-* headers and trailers); Read returns a *AWSError on a
// mismatch, at the latest at EOF, so a caller must read to EOF without
// error before it keeps the data.
func VerifySigV4(r *http.Request, service, region string, sessions *Sessions, now time.Time) (sess Session, anonymous bool, body io.ReadCloser, err *AWSError) {
	sess, anonymous, body, err = verifySigV4(r, service, region, sessions, now)
	if err != nil && service != "s3" {
		err = jsonServiceError(err)
	}
	return sess, anonymous, body, err
}

func verifySigV4(r *http.Request, service, region string, sessions *Sessions, now time.Time) (Session, bool, io.ReadCloser, *AWSError) {
	auth, present, aerr := parseSigV4Auth(r)
	if aerr != nil {
		return Session{}, false, nil, aerr
	}
	if !present {
		if service != "s3" {
			return Session{}, true, r.Body, nil
		}
		body, aerr := s3PayloadReader(r, unsignedPayload, nil)
		return Session{}, true, body, aerr
	}
	if aerr := checkSigV4Time(auth, now); aerr != nil {
		return Session{}, false, nil, aerr
	}
	if aerr := checkSigV4Scope(auth, service, region); aerr != nil {
		return Session{}, false, nil, aerr
	}
	sess, ok := sessions.Lookup(auth.accessKeyID)
	if !ok {
		return Session{}, false, nil, &AWSError{http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."}
	}
	if !hmac.Equal([]byte(auth.token), []byte(sess.SessionToken)) {
		return Session{}, false, nil, &AWSError{http.StatusForbidden, "InvalidToken", "The provided token is malformed or otherwise invalid."}
	}
	if sessions.Expired(sess) {
		return Session{}, false, nil, &AWSError{http.StatusBadRequest, "ExpiredToken", "The provided token has expired."}
	}

	payloadHash, rawBody, aerr := sigV4PayloadHash(r, auth, service)
	if aerr != nil {
		return Session{}, false, nil, aerr
	}
	canonical := canonicalRequest(r, auth, service, payloadHash)
	key := signingKey(sess.SecretAccessKey, auth.scopeDate, auth.scopeRegion, auth.scopeService)
	want := hmacSHA256(key, stringToSign(auth.amzDate, auth.scope(), canonical))
	if !hmac.Equal([]byte(hex.EncodeToString(want)), []byte(strings.ToLower(auth.signature))) {
		return Session{}, false, nil, errSignatureDoesNotMatch()
	}
	if service != "s3" {
		return sess, false, io.NopCloser(bytes.NewReader(rawBody)), nil
	}
	chain := &chunkSigner{key: key, amzDate: auth.amzDate, scope: auth.scope(), prev: auth.signature}
	body, aerr := s3PayloadReader(r, payloadHash, chain)
	if aerr != nil {
		return Session{}, false, nil, aerr
	}
	return sess, false, body, nil
}

func errSignatureDoesNotMatch() *AWSError {
	return &AWSError{http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
}

// parseSigV4Auth reads the authentication parameters; present is false for
// an anonymous request.
func parseSigV4Auth(r *http.Request) (a sigV4Auth, present bool, err *AWSError) {
	header := r.Header.Get("Authorization")
	q := r.URL.Query()
	inQuery := q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Credential") || q.Has("X-Amz-Signature")
	switch {
	case header == "" && !inQuery:
		return a, false, nil
	case header != "" && inQuery:
		return a, true, &AWSError{http.StatusBadRequest, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"}
	case inQuery:
		a, err = parsePresigned(q)
	default:
		a, err = parseAuthorizationHeader(header)
		if err == nil {
			a.amzDate = r.Header.Get("X-Amz-Date")
			a.token = r.Header.Get("X-Amz-Security-Token")
			if a.amzDate == "" {
				return a, true, &AWSError{http.StatusForbidden, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header"}
			}
		}
	}
	if err != nil {
		return a, true, err
	}
	d, perr := time.Parse(amzDateFormat, a.amzDate)
	if perr != nil {
		if a.presigned {
			return a, true, &AWSError{http.StatusBadRequest, "AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""}
		}
		return a, true, &AWSError{http.StatusForbidden, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header"}
	}
	a.date = d
	return a, true, nil
}

func parseAuthorizationHeader(h string) (sigV4Auth, *AWSError) {
	var a sigV4Auth
	malformed := func(why string) (sigV4Auth, *AWSError) {
		return a, &AWSError{http.StatusBadRequest, "AuthorizationHeaderMalformed", "The authorization header is malformed; " + why}
	}
	alg, rest, _ := strings.Cut(h, " ")
	if alg != sigV4Algorithm {
		return a, &AWSError{http.StatusBadRequest, "InvalidArgument", "Unsupported Authorization Type"}
	}
	var cred, signed string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			a.signature = v
		}
	}
	if cred == "" || signed == "" || a.signature == "" {
		return malformed("the Credential, SignedHeaders and Signature components are required.")
	}
	if !parseCredential(&a, cred) {
		return malformed("the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
	}
	a.signedHeaders = strings.Split(signed, ";")
	return a, nil
}

func parsePresigned(q url.Values) (sigV4Auth, *AWSError) {
	a := sigV4Auth{presigned: true}
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"} {
		if q.Get(k) == "" {
			return a, &AWSError{http.StatusBadRequest, "AuthorizationQueryParametersError", "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."}
		}
	}
	if q.Get("X-Amz-Algorithm") != sigV4Algorithm {
		return a, &AWSError{http.StatusBadRequest, "AuthorizationQueryParametersError", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""}
	}
	if !parseCredential(&a, q.Get("X-Amz-Credential")) {
		return a, &AWSError{http.StatusBadRequest, "AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."}
	}
	exp, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || exp < 0 {
		return a, &AWSError{http.StatusBadRequest, "AuthorizationQueryParametersError", "X-Amz-Expires should be a number"}
	}
	if exp > maxPresignExpires {
		return a, &AWSError{http.StatusBadRequest, "AuthorizationQueryParametersError", "X-Amz-Expires must be less than a week (in seconds) that is 604800"}
	}
	a.expires = time.Duration(exp) * time.Second
	a.signature = q.Get("X-Amz-Signature")
	a.signedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	a.amzDate = q.Get("X-Amz-Date")
	a.token = q.Get("X-Amz-Security-Token")
	return a, nil
}

// parseCredential splits AKID/yyyymmdd/region/service/aws4_request.
func parseCredential(a *sigV4Auth, cred string) bool {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || len(parts[1]) != 8 || parts[2] == "" || parts[3] == "" || parts[4] != "aws4_request" {
		return false
	}
	a.accessKeyID, a.scopeDate, a.scopeRegion, a.scopeService = parts[0], parts[1], parts[2], parts[3]
	return true
}

func checkSigV4Time(a sigV4Auth, now time.Time) *AWSError {
	if a.presigned {
		if a.date.Sub(now) > maxClockSkew {
			return &AWSError{http.StatusForbidden, "AccessDenied", "Request is not valid yet"}
		}
		if !now.Before(a.date.Add(a.expires)) {
			return &AWSError{http.StatusForbidden, "AccessDenied", "Request has expired"}
		}
		return nil
	}
	if d := now.Sub(a.date); d > maxClockSkew || d < -maxClockSkew {
		return &AWSError{http.StatusForbidden, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."}
	}
	return nil
}

func checkSigV4Scope(a sigV4Auth, service, region string) *AWSError {
	code, prefix := "AuthorizationHeaderMalformed", "The authorization header is malformed; "
	if a.presigned {
		code, prefix = "AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential parameter; "
	}
	if a.scopeDate != a.amzDate[:8] {
		return &AWSError{http.StatusBadRequest, code, prefix + "Invalid credential date. Date is not the same as X-Amz-Date."}
	}
	if a.scopeRegion != region {
		return &AWSError{http.StatusBadRequest, code, prefix + "the region '" + a.scopeRegion + "' is wrong; expecting '" + region + "'"}
	}
	if a.scopeService != service {
		return errSignatureDoesNotMatch()
	}
	if !containsFold(a.signedHeaders, "host") {
		return &AWSError{http.StatusBadRequest, code, prefix + "the host header must be signed."}
	}
	return nil
}

// sigV4PayloadHash is the last line of the canonical request. For S3 it is
// x-amz-content-sha256 (required with header auth; UNSIGNED-PAYLOAD when a
// presigned URL has none). The JSON services sign the hash of the body
// itself, so the body is read (bounded) and returned.
func sigV4PayloadHash(r *http.Request, a sigV4Auth, service string) (string, []byte, *AWSError) {
	if service != "s3" {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxSignedBody+1))
		if err != nil {
			return "", nil, &AWSError{http.StatusBadRequest, "IncompleteBody", "The request body could not be read."}
		}
		if len(b) > maxSignedBody {
			return "", nil, &AWSError{http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is too large."}
		}
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:]), b, nil
	}
	h := r.Header.Get("X-Amz-Content-Sha256")
	if h == "" && a.presigned {
		h = r.URL.Query().Get("X-Amz-Content-Sha256")
	}
	switch {
	case h == "" && a.presigned:
		return unsignedPayload, nil, nil
	case h == "":
		return "", nil, &AWSError{http.StatusBadRequest, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"}
	case h == unsignedPayload, h == streamingSigned, h == streamingSignedTrailer, h == streamingUnsignedTrailer:
		if a.presigned && h != unsignedPayload {
			return "", nil, &AWSError{http.StatusBadRequest, "InvalidRequest", "Chunked uploads are not supported with query-string authentication."}
		}
		return h, nil, nil
	case isHexSHA256(h):
		return strings.ToLower(h), nil, nil
	}
	return "", nil, &AWSError{http.StatusBadRequest, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value."}
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// canonicalRequest builds the SigV4 canonical request (create-signed-request.html, step 1).
func canonicalRequest(r *http.Request, a sigV4Auth, service, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL.EscapedPath(), service == "s3"))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery))
	b.WriteByte('\n')
	for _, name := range a.signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(a.signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// canonicalURI URI-encodes each path segment once (S3: "Do not normalize URI
// paths"; the SDK sets DisableURIPathEscaping for s3 and signs the path as
// sent) or twice with the path normalized (every other service).
func canonicalURI(escapedPath string, s3 bool) string {
	if escapedPath == "" {
		return "/"
	}
	segs := strings.Split(escapedPath, "/")
	for i, seg := range segs {
		dec, err := url.PathUnescape(seg)
		if err != nil {
			dec = seg
		}
		segs[i] = awsURIEncode(dec)
		if !s3 {
			segs[i] = awsURIEncode(segs[i])
		}
	}
	p := strings.Join(segs, "/")
	if !s3 {
		clean := cleanPath(p)
		if strings.HasSuffix(p, "/") && clean != "/" {
			clean += "/"
		}
		p = clean
	}
	return p
}

func cleanPath(p string) string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	return "/" + strings.Join(out, "/")
}

// canonicalQuery encodes every name and value (RFC 3986 unreserved kept,
// space as %20), sorts the encoded pairs, and leaves out X-Amz-Signature
// (create-signed-request.html; the SDK's internal/v4 EncodeQuery).
func canonicalQuery(raw string) string {
	type pair struct{ k, v string }
	var ps []pair
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		dk, err := url.QueryUnescape(k)
		if err != nil {
			dk = k
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			dv = v
		}
		if dk == "X-Amz-Signature" {
			continue
		}
		ps = append(ps, pair{awsURIEncode(dk), awsURIEncode(dv)})
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].k != ps[j].k {
			return ps[i].k < ps[j].k
		}
		return ps[i].v < ps[j].v
	})
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// awsURIEncode percent-encodes every byte but A-Z a-z 0-9 - _ . ~ (and '/'
// is encoded too: callers split paths first), with upper-case hex.
func awsURIEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// canonicalHeaderValue joins a header's values with ',' after trimming and
// collapsing inner spaces. Go's server moves Host and Transfer-Encoding out
// of r.Header.
func canonicalHeaderValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "transfer-encoding":
		vals = r.TransferEncoding
	default:
		vals = r.Header.Values(name)
		if name == "content-length" && len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

func stringToSign(amzDate, scope, canonical string) []byte {
	sum := sha256.Sum256([]byte(canonical))
	return []byte(sigV4Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:]))
}

// signingKey derives kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte("aws4_request"))
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// jsonServiceError translates an S3-style authentication error into what
// the JSON-protocol services (Cognito Identity, STS's query protocol uses
// the same codes) answer, per "Common Errors"
// (https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/CommonErrors.html)
// and the codes those services return in practice (UnrecognizedClientException,
// InvalidSignatureException, ExpiredTokenException).
func jsonServiceError(e *AWSError) *AWSError {
	switch e.Code {
	case "InvalidAccessKeyId", "InvalidToken":
		return &AWSError{http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid."}
	case "ExpiredToken":
		return &AWSError{http.StatusBadRequest, "ExpiredTokenException", "The security token included in the request is expired"}
	case "SignatureDoesNotMatch", "AuthorizationHeaderMalformed", "AuthorizationQueryParametersError":
		return &AWSError{http.StatusBadRequest, "InvalidSignatureException", e.Message}
	case "RequestTimeTooSkewed":
		return &AWSError{http.StatusBadRequest, "InvalidSignatureException", "Signature expired: the request time is more than 15 minutes from the current time."}
	case "AccessDenied":
		return &AWSError{http.StatusBadRequest, "IncompleteSignatureException", e.Message}
	}
	return e
}

// chunkSigner verifies the chain of aws-chunked chunk signatures; each
// signs the previous one, starting from the request's (the seed).
type chunkSigner struct {
	key     []byte
	amzDate string
	scope   string
	prev    string
}

// verifyChunk checks a chunk's signature (sigv4-streaming.html: string to
// sign "AWS4-HMAC-SHA256-PAYLOAD" \n date \n scope \n previous signature \n
// hash("") \n hash(chunk data)).
func (c *chunkSigner) verifyChunk(sig string, dataSHA256 []byte) bool {
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + c.amzDate + "\n" + c.scope + "\n" + c.prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(dataSHA256)
	return c.check(sig, sts)
}

// verifyTrailer checks x-amz-trailer-signature (sigv4-streaming-trailers.html:
// "AWS4-HMAC-SHA256-TRAILER" \n date \n scope \n previous signature \n
// hash of the trailing headers, each "name:value\n").
func (c *chunkSigner) verifyTrailer(sig string, canonicalTrailers string) bool {
	sum := sha256.Sum256([]byte(canonicalTrailers))
	sts := "AWS4-HMAC-SHA256-TRAILER\n" + c.amzDate + "\n" + c.scope + "\n" + c.prev + "\n" + hex.EncodeToString(sum[:])
	return c.check(sig, sts)
}

func (c *chunkSigner) check(sig, sts string) bool {
	want := hex.EncodeToString(hmacSHA256(c.key, []byte(sts)))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(sig))) {
		return false
	}
	c.prev = want
	return true
}

// payloadChecksums are the x-amz-checksum-* algorithms S3 accepts, with
// the name its BadDigest message uses. Values are the base64 of the
// big-endian digest; CRC64NVME is the reflected polynomial
// 0x9a6c9329ac4bc9b5 (as the SDK computes it:
// service/internal/checksum/algorithms.go).
var payloadChecksums = []struct {
	header, name string
	size         int
	new          func() hash.Hash
}{
	{"x-amz-checksum-crc32", "CRC32", 4, func() hash.Hash { return crc32.NewIEEE() }},
	{"x-amz-checksum-crc32c", "CRC32C", 4, func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }},
	{"x-amz-checksum-crc64nvme", "CRC64NVME", 8, func() hash.Hash { return crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5)) }},
	{"x-amz-checksum-sha1", "SHA1", 20, sha1.New},
	{"x-amz-checksum-sha256", "SHA256", 32, sha256.New},
}

// expectedChecksum is one x-amz-checksum-* to match against the decoded body.
type expectedChecksum struct {
	header, name string
	size         int
	h            hash.Hash
	value        string // from the header; filled from the trailer at EOF otherwise
	trailer      bool
}

func validChecksumValue(v string, size int) bool {
	b, err := base64.StdEncoding.DecodeString(v)
	return err == nil && len(b) == size
}

// s3PayloadReader decodes and checks an S3 request body according to its
// x-amz-content-sha256 mode. chain is nil for an anonymous request.
func s3PayloadReader(r *http.Request, mode string, chain *chunkSigner) (io.ReadCloser, *AWSError) {
	if chain == nil {
		// anonymous: the body is described by the unsigned header, if any
		if m := r.Header.Get("X-Amz-Content-Sha256"); m == streamingUnsignedTrailer || isHexSHA256(m) {
			mode = m
		} else if m == streamingSigned || m == streamingSignedTrailer {
			return nil, &AWSError{http.StatusBadRequest, "InvalidRequest", "A signed streaming payload requires a signed request."}
		}
	}
	sums, aerr := expectedChecksums(r, mode)
	if aerr != nil {
		return nil, aerr
	}
	p := &payloadReader{src: r.Body, closer: r.Body, sums: sums, decodedLen: -1}
	if isHexSHA256(mode) {
		p.sha, p.wantSHA = sha256.New(), strings.ToLower(mode)
	}
	if strings.HasPrefix(mode, "STREAMING-") {
		n, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64)
		if err != nil || n < 0 {
			return nil, &AWSError{http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header (x-amz-decoded-content-length for aws-chunked)."}
		}
		p.decodedLen = n
		d := &chunkDecoder{br: bufio.NewReaderSize(r.Body, 4096), trailer: strings.HasSuffix(mode, "-TRAILER")}
		if mode != streamingUnsignedTrailer {
			d.chain = chain
		}
		for _, s := range sums {
			if s.trailer {
				d.declared = append(d.declared, s.header)
			}
		}
		p.src, p.dec = d, d
	}
	return p, nil
}

// expectedChecksums reads the x-amz-checksum-* header or the one declared
// by x-amz-trailer; S3 accepts at most one.
func expectedChecksums(r *http.Request, mode string) ([]*expectedChecksum, *AWSError) {
	var out []*expectedChecksum
	trailers := map[string]bool{}
	for _, t := range r.Header.Values("X-Amz-Trailer") {
		for _, name := range strings.Split(t, ",") {
			if name = strings.ToLower(strings.TrimSpace(name)); name != "" {
				trailers[name] = true
			}
		}
	}
	if len(trailers) > 0 && !strings.HasSuffix(mode, "-TRAILER") {
		return nil, &AWSError{http.StatusBadRequest, "InvalidRequest", "x-amz-trailer requires x-amz-content-sha256 " + streamingUnsignedTrailer + " or " + streamingSignedTrailer + "."}
	}
	for _, a := range payloadChecksums {
		if v := r.Header.Get(a.header); v != "" {
			if !validChecksumValue(v, a.size) {
				return nil, &AWSError{http.StatusBadRequest, "InvalidRequest", "Value for " + a.header + " header is invalid."}
			}
			out = append(out, &expectedChecksum{header: a.header, name: a.name, size: a.size, h: a.new(), value: v})
		}
		if trailers[a.header] {
			delete(trailers, a.header)
			out = append(out, &expectedChecksum{header: a.header, name: a.name, size: a.size, h: a.new(), trailer: true})
		}
	}
	for name := range trailers {
		return nil, &AWSError{http.StatusBadRequest, "InvalidRequest", "The value specified in the x-amz-trailer header is not supported: " + name}
	}
	if len(out) > 1 {
		return nil, &AWSError{http.StatusBadRequest, "InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."}
	}
	return out, nil
}

// payloadReader yields the decoded body and checks, at EOF, its length,
// x-amz-content-sha256 digest and x-amz-checksum-*.
type payloadReader struct {
	src        io.Reader
	closer     io.Closer
	dec        *chunkDecoder
	sha        hash.Hash
	wantSHA    string
	sums       []*expectedChecksum
	n          int64
	decodedLen int64
	err        error
}

func (p *payloadReader) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.src.Read(b)
	p.n += int64(n)
	if p.sha != nil {
		p.sha.Write(b[:n])
	}
	for _, s := range p.sums {
		s.h.Write(b[:n])
	}
	if err == io.EOF {
		if aerr := p.finish(); aerr != nil {
			err = aerr
		}
	} else if err != nil {
		if _, ok := err.(*AWSError); !ok {
			err = &AWSError{http.StatusBadRequest, "IncompleteBody", "The request body terminated unexpectedly"}
		}
	}
	if err != nil {
		p.err = err
	}
	return n, err
}

func (p *payloadReader) Close() error { return p.closer.Close() }

func (p *payloadReader) finish() *AWSError {
	if p.decodedLen >= 0 && p.n != p.decodedLen {
		return &AWSError{http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header"}
	}
	if p.sha != nil && hex.EncodeToString(p.sha.Sum(nil)) != p.wantSHA {
		return &AWSError{http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."}
	}
	for _, s := range p.sums {
		v := s.value
		if s.trailer {
			v = p.dec.trailers[s.header]
			if v == "" {
				return &AWSError{http.StatusBadRequest, "MalformedTrailerError", "The request contained trailing data that was not well-formed or did not conform to our published schema: missing " + s.header + "."}
			}
			if !validChecksumValue(v, s.size) {
				return &AWSError{http.StatusBadRequest, "InvalidRequest", "Value for " + s.header + " trailing header is invalid."}
			}
		}
		if base64.StdEncoding.EncodeToString(s.h.Sum(nil)) != v {
			return &AWSError{http.StatusBadRequest, "BadDigest", "The " + s.name + " you specified did not match the calculated checksum."}
		}
	}
	return nil
}

// minChunkSize: "Only the last chunk is allowed to have a size less than
// 8192 bytes" (S3's InvalidChunkSizeError; sigv4-streaming.html).
const minChunkSize = 8192

// chunkDecoder decodes aws-chunked content encoding:
//
//	hex-size[;chunk-signature=sig]\r\n data \r\n ... 0[;chunk-signature=sig]\r\n
//	[name:value\r\n ... [x-amz-trailer-signature:sig\r\n]] \r\n
//
// verifying every chunk signature when chain is set. The data of a chunk is
// passed on as it is read and its signature checked at the chunk's end.
type chunkDecoder struct {
	br        *bufio.Reader
	chain     *chunkSigner
	trailer   bool
	declared  []string
	remaining int64
	inChunk   bool
	sig       string
	h         hash.Hash
	small     bool
	done      bool
	trailers  map[string]string
}

func errChunk(why string) *AWSError {
	return &AWSError{http.StatusBadRequest, "IncompleteBody", "The aws-chunked body is malformed: " + why}
}

func (d *chunkDecoder) Read(p []byte) (int, error) {
	for d.remaining == 0 && !d.done {
		if err := d.next(); err != nil {
			return 0, err
		}
	}
	if d.done {
		return 0, io.EOF
	}
	if int64(len(p)) > d.remaining {
		p = p[:d.remaining]
	}
	n, err := d.br.Read(p)
	d.h.Write(p[:n])
	d.remaining -= int64(n)
	if err == io.EOF {
		return n, errChunk("the body ended inside a chunk")
	}
	return n, err
}

// next ends the current chunk and reads the next chunk header (or the
// final chunk and the trailers).
func (d *chunkDecoder) next() *AWSError {
	if d.inChunk {
		if err := d.expectCRLF(); err != nil {
			return err
		}
		if err := d.verifyChunk(); err != nil {
			return err
		}
		d.inChunk = false
	}
	line, err := d.line()
	if err != nil {
		return err
	}
	sizeHex, ext, _ := strings.Cut(line, ";")
	size, perr := strconv.ParseUint(sizeHex, 16, 40)
	if perr != nil {
		return errChunk("bad chunk size " + strconv.Quote(sizeHex))
	}
	d.sig = ""
	if sig, ok := strings.CutPrefix(ext, "chunk-signature="); ok {
		d.sig = sig
	}
	if d.chain != nil && d.sig == "" {
		return errSignatureDoesNotMatch()
	}
	if size > 0 && d.small {
		return &AWSError{http.StatusForbidden, "InvalidChunkSizeError", "Only the last chunk is allowed to have a size less than 8192 bytes"}
	}
	d.small = size < minChunkSize
	d.h = sha256.New()
	if size > 0 {
		d.remaining, d.inChunk = int64(size), true
		return nil
	}
	if err := d.verifyChunk(); err != nil {
		return err
	}
	if d.trailer {
		if err := d.readTrailers(); err != nil {
			return err
		}
	} else if err := d.expectCRLF(); err != nil {
		return err
	}
	d.done = true
	return nil
}

func (d *chunkDecoder) verifyChunk() *AWSError {
	if d.chain != nil && !d.chain.verifyChunk(d.sig, d.h.Sum(nil)) {
		return errSignatureDoesNotMatch()
	}
	return nil
}

func (d *chunkDecoder) expectCRLF() *AWSError {
	var b [2]byte
	if _, err := io.ReadFull(d.br, b[:]); err != nil || b != [2]byte{'\r', '\n'} {
		return errChunk("expected CRLF after chunk data")
	}
	return nil
}

// line reads one CRLF-terminated line (at most the reader's 4 KiB buffer).
func (d *chunkDecoder) line() (string, *AWSError) {
	b, err := d.br.ReadSlice('\n')
	if err != nil {
		return "", errChunk("truncated or over-long chunk header")
	}
	s, ok := strings.CutSuffix(string(b), "\r\n")
	if !ok {
		return "", errChunk("chunk header not terminated by CRLF")
	}
	return s, nil
}

func (d *chunkDecoder) readTrailers() *AWSError {
	malformed := &AWSError{http.StatusBadRequest, "MalformedTrailerError", "The request contained trailing data that was not well-formed or did not conform to our published schema."}
	d.trailers = map[string]string{}
	var sig string
	for i := 0; ; i++ {
		line, err := d.line()
		if err != nil || i > len(d.declared)+1 {
			return malformed
		}
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		switch {
		case !ok:
			return malformed
		case name == "x-amz-trailer-signature":
			sig = value
		case !containsFold(d.declared, name):
			return malformed
		default:
			d.trailers[name] = value
		}
	}
	if d.chain == nil {
		return nil
	}
	names := make([]string, 0, len(d.trailers))
	for n := range d.trailers {
		names = append(names, n)
	}
	sort.Strings(names)
	var canon strings.Builder
	for _, n := range names {
		canon.WriteString(n + ":" + d.trailers[n] + "\n")
	}
	if sig == "" || !d.chain.verifyTrailer(sig, canon.String()) {
		return errSignatureDoesNotMatch()
	}
	return nil
}
