package standin

import (
	"cmp"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// readBody reads the (already de-chunked and signature-checked) payload,
// at most limit bytes, and checks Content-MD5. A payload VerifySigV4 found
// not to match its x-amz-content-sha256 or checksum arrives as an *AWSError.
func readBody(q *s3Request, limit int64) ([]byte, *AWSError) {
	if q.r.ContentLength < 0 && !strings.Contains(q.r.Header.Get("Content-Encoding"), "aws-chunked") {
		// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html: 411 MissingContentLength
		return nil, &AWSError{http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header."}
	}
	b, err := io.ReadAll(io.LimitReader(q.body, limit+1))
	if err != nil {
		var aerr *AWSError
		if errors.As(err, &aerr) {
			return nil, aerr
		}
		return nil, &AWSError{http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header."}
	}
	if int64(len(b)) > limit {
		return nil, &AWSError{http.StatusBadRequest, "EntityTooLarge", fmt.Sprintf("Your proposed upload exceeds the maximum allowed size (%d bytes in this stand-in).", limit)}
	}
	if aerr := contentMD5(q.r.Header, b); aerr != nil {
		return nil, aerr
	}
	return b, nil
}

// bodyWithChecksums reads the body and checks and computes the additional
// checksums it declares.
func (s *S3) bodyWithChecksums(q *s3Request) ([]byte, map[string]string, bool) {
	body, aerr := readBody(q, s.maxBytes)
	var sums map[string]string
	if aerr == nil {
		if sums, aerr = verifyChecksums(requestChecksums(q.r.Header), body); aerr == nil {
			return body, sums, true
		}
	}
	s.fail(q, aerr)
	return nil, nil, false
}

func userMetadata(h http.Header) http.Header {
	meta := http.Header{}
	for k, v := range h {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-meta-") {
			meta[k] = v
		}
	}
	return meta
}

// putObject: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
func (s *S3) putObject(q *s3Request) {
	class, ok := s.authorizeWrite(q, q.key, writeHeaders(q.r))
	if !ok {
		return
	}
	body, sums, ok := s.bodyWithChecksums(q)
	if !ok {
		return
	}
	o := &s3Object{body: body, contentType: q.r.Header.Get("Content-Type"), meta: userMetadata(q.r.Header), checksums: sums, storageClass: class}
	if o.contentType == "" {
		o.contentType = defaultContentType
	}
	if len(sums) > 0 {
		o.checksumType = "FULL_OBJECT"
	}
	s.store(q.key, o, "ObjectCreated:Put")
	h := q.w.Header()
	h.Set("ETag", o.etag)
	setChecksumHeaders(h, sums, o.checksumType)
	q.w.WriteHeader(http.StatusOK)
}

// copyObjectResult is CopyObject's answer body.
type copyObjectResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	ETag         string
	LastModified string
}

// copyObject: PUT with x-amz-copy-source "<bucket>/<key>" (URL-encoded, a
// leading "/" allowed), https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html.
// The caller needs s3:GetObject on the source and s3:PutObject on the
// destination ("Permissions" on that page); the metadata is copied unless
// x-amz-metadata-directive is REPLACE. Versioned sources (?versionId=) and
// other buckets are outside this stand-in.
func (s *S3) copyObject(q *s3Request) {
	raw, err := url.PathUnescape(strings.TrimPrefix(q.r.Header.Get("x-amz-copy-source"), "/"))
	bucket, key, _ := strings.Cut(raw, "/")
	switch {
	case err != nil || key == "":
		s.fail(q, &AWSError{http.StatusBadRequest, "InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey"})
		return
	case strings.Contains(key, "?"):
		s.fail(q, notImplemented(q.r))
		return
	case bucket != s.model.BucketName():
		s.fail(q, accessDenied())
		return
	}
	directive := q.r.Header.Get("x-amz-metadata-directive")
	if directive != "" && directive != "COPY" && directive != "REPLACE" {
		s.fail(q, &AWSError{http.StatusBadRequest, "InvalidArgument", "Unknown metadata directive."})
		return
	}
	if !s.authorize(q, "s3:GetObject", key, nil) {
		return
	}
	// The destination is a write like any other: s3:PutObject with the
	// request's condition keys, s3:x-amz-copy-source among them, which the
	// roles' guardrail refuses (docs/security.md, "Storage guardrails").
	class, ok := s.authorizeWrite(q, q.key, writeHeaders(q.r))
	if !ok {
		return
	}
	s.mu.Lock()
	src, found := s.objects[key]
	s.mu.Unlock()
	if !found {
		s.noSuchKey(q)
		return
	}
	o := &s3Object{body: src.body, contentType: src.contentType, meta: src.meta, etag: src.etag,
		checksums: src.checksums, checksumType: src.checksumType, storageClass: class}
	if directive == "REPLACE" {
		o.contentType, o.meta = q.r.Header.Get("Content-Type"), userMetadata(q.r.Header)
		if o.contentType == "" {
			o.contentType = defaultContentType
		}
	}
	s.store(q.key, o, "ObjectCreated:Copy")
	writeXML(q.w, http.StatusOK, copyObjectResult{Xmlns: s3Namespace, ETag: o.etag, LastModified: o.modified.Format(time.RFC3339Nano)})
}

// getObject serves GetObject and HeadObject (s3:GetObject both:
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html). A
// missing key is 404 NoSuchKey only to callers who may s3:ListBucket;
// others get 403 AccessDenied, as the GetObject page's Permissions section
// describes.
func (s *S3) getObject(q *s3Request) {
	if !s.authorize(q, "s3:GetObject", q.key, nil) {
		return
	}
	s.mu.Lock()
	o, found := s.objects[q.key]
	s.mu.Unlock()
	if !found {
		s.noSuchKey(q)
		return
	}
	h := q.w.Header()
	h.Set("ETag", o.etag)
	h.Set("Last-Modified", o.modified.Format(http.TimeFormat))
	h.Set("Content-Type", o.contentType)
	h.Set("Accept-Ranges", "bytes")
	if o.storageClass != "" {
		h.Set("x-amz-storage-class", o.storageClass) // S3 omits it for STANDARD
	}
	for k, v := range o.meta {
		h[k] = v
	}
	if aerr := applyResponseOverrides(q, h); aerr != nil {
		s.fail(q, aerr)
		return
	}
	body, status := o.body, http.StatusOK
	if rng := q.r.Header.Get("Range"); rng != "" {
		start, end, aerr := parseRange(rng, int64(len(o.body)))
		if aerr != nil {
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", len(o.body)))
			s.fail(q, aerr)
			return
		}
		if start >= 0 {
			body, status = o.body[start:end+1], http.StatusPartialContent
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(o.body)))
		}
	}
	// Checksums describe the whole object, so S3 returns them for full
	// GETs only, when asked with x-amz-checksum-mode: ENABLED
	// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax).
	if status == http.StatusOK && strings.EqualFold(q.r.Header.Get("x-amz-checksum-mode"), "ENABLED") {
		setChecksumHeaders(h, o.checksums, o.checksumType)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	q.w.WriteHeader(status)
	if !q.isHEAD {
		_, _ = q.w.Write(body)
	}
}

// noSuchKey answers a missing key: 404 NoSuchKey to callers who may
// s3:ListBucket, 403 AccessDenied to others.
func (s *S3) noSuchKey(q *s3Request) {
	if ok, err := s.allowed(q.r, q.sess, q.anon, "s3:ListBucket", "", nil); err != nil || !ok {
		s.fail(q, accessDenied())
		return
	}
	s.fail(q, &AWSError{http.StatusNotFound, "NoSuchKey", "The specified key does not exist."})
}

// parseRange reads one HTTP byte range (RFC 9110 section 14.1.2; S3 serves
// one range per request). An unsatisfiable range is 416 InvalidRange; a
// syntactically invalid one is ignored (start -1), as S3 then returns the
// whole object.
func parseRange(v string, size int64) (start, end int64, err *AWSError) {
	spec, ok := strings.CutPrefix(v, "bytes=")
	first, last, dash := strings.Cut(spec, "-")
	if !ok || !dash || strings.Contains(spec, ",") {
		return -1, -1, nil
	}
	invalid := &AWSError{http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable"}
	if first == "" { // suffix: the last N bytes
		n, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil || n < 0 {
			return -1, -1, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, invalid
		}
		return max(size-n, 0), size - 1, nil
	}
	a, perr := strconv.ParseInt(first, 10, 64)
	if perr != nil || a < 0 {
		return -1, -1, nil
	}
	b := size - 1
	if last != "" {
		if b, perr = strconv.ParseInt(last, 10, 64); perr != nil || b < a {
			return -1, -1, nil
		}
	}
	if a >= size {
		return 0, 0, invalid
	}
	return a, min(b, size-1), nil
}

// deleteObject answers 204 whether or not the key existed, as S3 does for
// unversioned buckets.
func (s *S3) deleteObject(q *s3Request) {
	if !s.authorize(q, "s3:DeleteObject", q.key, nil) {
		return
	}
	s.mu.Lock()
	delete(s.objects, q.key)
	seq := s.nextSequencerLocked()
	s.mu.Unlock()
	// S3 notifies a delete whether or not the key existed.
	s.notify(s3Change{eventName: "ObjectRemoved:Delete", key: q.key, sequencer: seq})
	q.w.WriteHeader(http.StatusNoContent)
}

func (s *S3) sortedKeysLocked() []string {
	keys := make([]string, 0, len(s.objects))
	for k := range s.objects {
		keys = append(keys, k)
	}
	slices.Sort(keys) // Go compares strings bytewise: S3's UTF-8 binary order
	return keys
}

type listBucketResult struct {
	XMLName               xml.Name `xml:"ListBucketResult"`
	Xmlns                 string   `xml:"xmlns,attr"`
	Name                  string
	Prefix                string
	Delimiter             string `xml:",omitempty"`
	MaxKeys               int
	KeyCount              int
	IsTruncated           bool
	EncodingType          string `xml:",omitempty"`
	ContinuationToken     string `xml:",omitempty"`
	NextContinuationToken string `xml:",omitempty"`
	StartAfter            string `xml:",omitempty"`
	Contents              []listEntry
	CommonPrefixes        []commonPrefix
}

type listEntry struct {
	Key               string
	LastModified      string
	ETag              string
	ChecksumAlgorithm []string `xml:",omitempty"`
	ChecksumType      string   `xml:",omitempty"`
	Size              int
	StorageClass      string
}

type commonPrefix struct{ Prefix string }

// listObjectsV2: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
// (max-keys at most 1000; keys and common prefixes together count against
// it; the continuation token is opaque, here the base64 of the last key or
// prefix returned).
func (s *S3) listObjectsV2(q *s3Request) {
	p := q.r.URL.Query()
	prefix, delim := p.Get("prefix"), p.Get("delimiter")
	if !s.authorize(q, "s3:ListBucket", "", &prefix) {
		return
	}
	res := listBucketResult{Xmlns: s3Namespace, Name: s.model.BucketName(), Prefix: prefix, Delimiter: delim,
		MaxKeys: 1000, ContinuationToken: p.Get("continuation-token"), StartAfter: p.Get("start-after")}
	if v := p.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.fail(q, &AWSError{http.StatusBadRequest, "InvalidArgument", "Provided max-keys not an integer or within integer range"})
			return
		}
		res.MaxKeys = min(n, 1000)
	}
	switch et := p.Get("encoding-type"); et {
	case "", "url":
		res.EncodingType = et
	default:
		s.fail(q, &AWSError{http.StatusBadRequest, "InvalidArgument", "Invalid Encoding Method specified in Request"})
		return
	}
	after := res.StartAfter
	if res.ContinuationToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(res.ContinuationToken)
		if err != nil {
			s.fail(q, &AWSError{http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect"})
			return
		}
		after = string(b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fillList(&res, after)
	if res.EncodingType == "url" {
		res.Prefix, res.Delimiter, res.StartAfter = url.QueryEscape(res.Prefix), url.QueryEscape(res.Delimiter), url.QueryEscape(res.StartAfter)
		for i := range res.Contents {
			res.Contents[i].Key = url.QueryEscape(res.Contents[i].Key)
		}
		for i := range res.CommonPrefixes {
			res.CommonPrefixes[i].Prefix = url.QueryEscape(res.CommonPrefixes[i].Prefix)
		}
	}
	writeXML(q.w, http.StatusOK, res)
}

// fillList pages through the keys after `after`; the caller holds mu.
func (s *S3) fillList(res *listBucketResult, after string) {
	last, lastIsPrefix := "", false
	for _, k := range s.sortedKeysLocked() {
		if !strings.HasPrefix(k, res.Prefix) || k <= after {
			continue
		}
		cp := ""
		if res.Delimiter != "" {
			if i := strings.Index(k[len(res.Prefix):], res.Delimiter); i >= 0 {
				cp = k[:len(res.Prefix)+i+len(res.Delimiter)]
			}
		}
		if cp != "" && cp == last {
			continue // this common prefix is already listed
		}
		if res.KeyCount == res.MaxKeys {
			res.IsTruncated = true
			break
		}
		res.KeyCount++
		if cp != "" {
			res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{cp})
			last, lastIsPrefix = cp, true
			continue
		}
		o := s.objects[k]
		e := listEntry{Key: k, LastModified: o.modified.Format(time.RFC3339Nano), ETag: o.etag, Size: len(o.body), StorageClass: cmp.Or(o.storageClass, "STANDARD")}
		for alg := range o.checksums {
			e.ChecksumAlgorithm = append(e.ChecksumAlgorithm, strings.ToUpper(alg))
			e.ChecksumType = o.checksumType
		}
		res.Contents = append(res.Contents, e)
		last, lastIsPrefix = k, false
	}
	if res.IsTruncated {
		if lastIsPrefix {
			// Resume past every key under the prefix: U+10FFFF (F4 8F BF BF)
			// sorts after any valid UTF-8 continuation of it.
			last += "\U0010FFFF"
		}
		res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(last))
	}
}
