package standin

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// s3Upload is a multipart upload in progress.
type s3Upload struct {
	key          string
	contentType  string
	meta         http.Header
	storageClass string // "" for STANDARD
	initiated    time.Time
	algorithm    string // the checksum algorithm declared at creation, lower case; "" none
	checksumType string // COMPOSITE or FULL_OBJECT when algorithm is set
	parts        map[int]*s3Part
}

type s3Part struct {
	number    int
	body      []byte
	etag      string
	modified  time.Time
	checksums map[string]string
}

// minPartSize is S3's minimum size of every part but the last: 5 MiB
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html);
// maxPartNumber is its part-number range 1-10,000.
const (
	minPartSize   = 5 << 20
	maxPartNumber = 10000
)

func noSuchUpload() *AWSError {
	return &AWSError{http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."}
}

// upload finds the request's upload (uploadId) for its key; without one it
// answers NoSuchUpload and returns nil.
func (s *S3) upload(q *s3Request) (*s3Upload, string) {
	id := q.r.URL.Query().Get("uploadId")
	s.mu.Lock()
	u := s.uploads[id]
	s.mu.Unlock()
	if u == nil || u.key != q.key {
		s.fail(q, noSuchUpload())
		return nil, id
	}
	return u, id
}

// authorizedUpload is upload after the caller is allowed action on q's key;
// nil when either answered the request with an error.
func (s *S3) authorizedUpload(q *s3Request, action string) (*s3Upload, string) {
	if !s.authorize(q, action, q.key, nil) {
		return nil, ""
	}
	return s.upload(q)
}

type initiateResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Bucket   string
	Key      string
	UploadID string `xml:"UploadId"`
}

// createMultipartUpload: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html
// x-amz-checksum-algorithm picks the parts' checksum; x-amz-checksum-type
// COMPOSITE (the default, except for CRC64NVME) or FULL_OBJECT.
func (s *S3) createMultipartUpload(q *s3Request) {
	class, ok := s.authorizeWrite(q, q.key, writeHeaders(q.r))
	if !ok {
		return
	}
	u := &s3Upload{key: q.key, contentType: q.r.Header.Get("Content-Type"), meta: userMetadata(q.r.Header),
		storageClass: class, initiated: s.now().UTC(), parts: map[int]*s3Part{}}
	if u.contentType == "" {
		u.contentType = defaultContentType
	}
	if alg := strings.ToLower(q.r.Header.Get("x-amz-checksum-algorithm")); alg != "" {
		if checksumHash(alg) == nil {
			s.fail(q, &AWSError{http.StatusBadRequest, "InvalidRequest", "Checksum algorithm provided is unsupported."})
			return
		}
		u.algorithm, u.checksumType = alg, "COMPOSITE"
		if alg == "crc64nvme" {
			u.checksumType = "FULL_OBJECT"
		}
		switch t := q.r.Header.Get("x-amz-checksum-type"); t {
		case "":
		case "COMPOSITE", "FULL_OBJECT":
			u.checksumType = t
		default:
			s.fail(q, &AWSError{http.StatusBadRequest, "InvalidRequest", "Value for x-amz-checksum-type header is invalid."})
			return
		}
	}
	id := base64.RawURLEncoding.EncodeToString([]byte(requestID() + requestID()))
	s.mu.Lock()
	s.uploads[id] = u
	s.mu.Unlock()
	if u.algorithm != "" {
		q.w.Header().Set("x-amz-checksum-algorithm", strings.ToUpper(u.algorithm))
		q.w.Header().Set("x-amz-checksum-type", u.checksumType)
	}
	writeXML(q.w, http.StatusOK, initiateResult{Xmlns: s3Namespace, Bucket: s.model.BucketName(), Key: q.key, UploadID: id})
}

// uploadPart: https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html
// An UploadPartCopy (x-amz-copy-source) is authorized as S3 does, with
// s3:x-amz-copy-source, and refused by the roles' guardrail.
func (s *S3) uploadPart(q *s3Request) {
	if _, ok := s.authorizeWrite(q, q.key, writeHeaders(q.r)); !ok {
		return
	}
	n, err := strconv.Atoi(q.r.URL.Query().Get("partNumber"))
	if err != nil || n < 1 || n > maxPartNumber {
		s.fail(q, &AWSError{http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive"})
		return
	}
	u, _ := s.upload(q)
	if u == nil {
		return
	}
	body, sums, ok := s.bodyWithChecksums(q)
	if !ok {
		return
	}
	if u.algorithm != "" && sums[u.algorithm] == "" {
		s.fail(q, &AWSError{http.StatusBadRequest, "InvalidRequest", "The upload was created using a " + strings.ToUpper(u.algorithm) + " checksum. The part upload request did not include a checksum."})
		return
	}
	p := &s3Part{number: n, body: body, etag: md5ETag(body), modified: s.now().UTC().Truncate(time.Second), checksums: sums}
	s.mu.Lock()
	u.parts[n] = p
	s.mu.Unlock()
	q.w.Header().Set("ETag", p.etag)
	setChecksumHeaders(q.w.Header(), sums, "")
	q.w.WriteHeader(http.StatusOK)
}

type completeRequest struct {
	Parts []struct {
		PartNumber int
		ETag       string
		xmlChecksums
	} `xml:"Part"`
}

type completeResult struct {
	XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Location string
	Bucket   string
	Key      string
	ETag     string
	xmlChecksums
}

// completeMultipartUpload: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
// Parts must be listed in ascending order (InvalidPartOrder), each uploaded
// with that ETag (and checksum, when given) (InvalidPart), every part but the
// last at least 5 MiB (EntityTooSmall).
func (s *S3) completeMultipartUpload(q *s3Request) {
	u, id := s.authorizedUpload(q, "s3:PutObject")
	if u == nil {
		return
	}
	raw, aerr := readBody(q, 1<<20)
	if aerr != nil {
		s.fail(q, aerr)
		return
	}
	var req completeRequest
	if err := xml.Unmarshal(raw, &req); err != nil || len(req.Parts) == 0 {
		s.fail(q, &AWSError{http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"})
		return
	}
	s.mu.Lock()
	parts, aerr := u.chosenParts(req)
	if aerr == nil && s.uploads[id] != u {
		aerr = noSuchUpload() // completed or aborted meanwhile
	}
	if aerr == nil {
		delete(s.uploads, id)
	}
	s.mu.Unlock()
	if aerr != nil {
		s.fail(q, aerr)
		return
	}
	o := u.assemble(parts)
	if int64(len(o.body)) > s.maxBytes {
		s.fail(q, &AWSError{http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size."})
		return
	}
	s.store(q.key, o, "ObjectCreated:CompleteMultipartUpload")
	writeXML(q.w, http.StatusOK, completeResult{Xmlns: s3Namespace, Bucket: s.model.BucketName(), Key: q.key, ETag: o.etag,
		Location: "/" + s.model.BucketName() + "/" + q.key, xmlChecksums: toXMLChecksums(o.checksums, o.checksumType)})
}

// chosenParts checks the parts a Complete request lists; the caller holds mu.
func (u *s3Upload) chosenParts(req completeRequest) ([]*s3Part, *AWSError) {
	invalidPart := &AWSError{http.StatusBadRequest, "InvalidPart", "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."}
	var parts []*s3Part
	for i, rp := range req.Parts {
		if i > 0 && rp.PartNumber <= req.Parts[i-1].PartNumber {
			return nil, &AWSError{http.StatusBadRequest, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number."}
		}
		p := u.parts[rp.PartNumber]
		if p == nil || strings.Trim(rp.ETag, `"`) != strings.Trim(p.etag, `"`) {
			return nil, invalidPart
		}
		for alg, v := range rp.byAlgorithm() {
			if p.checksums[alg] != v {
				return nil, invalidPart
			}
		}
		parts = append(parts, p)
	}
	for _, p := range parts[:len(parts)-1] {
		if len(p.body) < minPartSize {
			return nil, &AWSError{http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size."}
		}
	}
	return parts, nil
}

// assemble joins the parts into the object. A COMPOSITE checksum is the
// checksum of the parts' raw checksums, "-" and the part count; FULL_OBJECT
// is the checksum of the whole body
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html#large-object-checksums).
func (u *s3Upload) assemble(parts []*s3Part) *s3Object {
	o := &s3Object{contentType: u.contentType, meta: u.meta, etag: multipartETag(parts), storageClass: u.storageClass}
	var raw []byte
	for _, p := range parts {
		o.body = append(o.body, p.body...)
		sum, _ := base64.StdEncoding.DecodeString(p.checksums[u.algorithm])
		raw = append(raw, sum...)
	}
	if u.algorithm != "" {
		o.checksumType = u.checksumType
		v := checksum(u.algorithm, o.body)
		if u.checksumType == "COMPOSITE" {
			v = checksum(u.algorithm, raw) + "-" + strconv.Itoa(len(parts))
		}
		o.checksums = map[string]string{u.algorithm: v}
	}
	return o
}

// abortMultipartUpload: https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html
func (s *S3) abortMultipartUpload(q *s3Request) {
	u, id := s.authorizedUpload(q, "s3:AbortMultipartUpload")
	if u == nil {
		return
	}
	s.mu.Lock()
	delete(s.uploads, id)
	s.mu.Unlock()
	q.w.WriteHeader(http.StatusNoContent)
}

type listPartsResult struct {
	XMLName              xml.Name `xml:"ListPartsResult"`
	Xmlns                string   `xml:"xmlns,attr"`
	Bucket               string
	Key                  string
	UploadID             string `xml:"UploadId"`
	PartNumberMarker     int
	NextPartNumberMarker int
	MaxParts             int
	IsTruncated          bool
	ChecksumAlgorithm    string `xml:",omitempty"`
	ChecksumType         string `xml:",omitempty"`
	StorageClass         string
	Parts                []listedPart `xml:"Part"`
}

type listedPart struct {
	PartNumber   int
	LastModified string
	ETag         string
	Size         int
	xmlChecksums
}

// listParts: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html
// (max-parts at most 1000, part-number-marker).
func (s *S3) listParts(q *s3Request) {
	u, id := s.authorizedUpload(q, "s3:ListMultipartUploadParts")
	if u == nil {
		return
	}
	p := q.r.URL.Query()
	res := listPartsResult{Xmlns: s3Namespace, Bucket: s.model.BucketName(), Key: q.key, UploadID: id, MaxParts: 1000,
		StorageClass: "STANDARD", ChecksumAlgorithm: strings.ToUpper(u.algorithm), ChecksumType: u.checksumType}
	for name, dst := range map[string]*int{"max-parts": &res.MaxParts, "part-number-marker": &res.PartNumberMarker} {
		if v := p.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				s.fail(q, &AWSError{http.StatusBadRequest, "InvalidArgument", "Provided " + name + " not an integer or within integer range"})
				return
			}
			*dst = n
		}
	}
	res.MaxParts = min(res.MaxParts, 1000)
	s.mu.Lock()
	var numbers []int
	for n := range u.parts {
		if n > res.PartNumberMarker {
			numbers = append(numbers, n)
		}
	}
	slices.Sort(numbers)
	for _, n := range numbers {
		if len(res.Parts) == res.MaxParts {
			res.IsTruncated = true
			break
		}
		pt := u.parts[n]
		res.Parts = append(res.Parts, listedPart{PartNumber: n, LastModified: pt.modified.Format(time.RFC3339Nano),
			ETag: pt.etag, Size: len(pt.body), xmlChecksums: toXMLChecksums(pt.checksums, "")})
		res.NextPartNumberMarker = n
	}
	s.mu.Unlock()
	writeXML(q.w, http.StatusOK, res)
}

// postObject stores a browser-form upload (POST Object with a signed POST
// policy, https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html):
// VerifyPostObject checks the form and policy, then the policy's session
// needs s3:PutObject on the key. success_action_status 200 and 201 (with a
// PostResponse document) are honoured; anything else is 204.
func (s *S3) postObject(q *s3Request) {
	up, aerr := VerifyPostObject(q.r, s.model.BucketName(), s.model.Region(), s.sessions, s.now())
	if aerr != nil {
		s.fail(q, aerr)
		return
	}
	// A form without policy and signature is anonymous (Session zero).
	q.key, q.sess, q.anon = up.Key, up.Session, up.Session.AccessKeyID == ""
	class, ok := s.authorizeWrite(q, up.Key, formHeaders(up.Fields))
	if !ok {
		return
	}
	if int64(len(up.Body)) > s.maxBytes {
		s.fail(q, &AWSError{http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size."})
		return
	}
	o := &s3Object{body: up.Body, contentType: up.ContentType, storageClass: class}
	if o.contentType == "" {
		o.contentType = defaultContentType
	}
	s.store(up.Key, o, "ObjectCreated:Post")
	location := "https://" + q.r.Host + "/" + s.model.BucketName() + "/" + up.Key
	h := q.w.Header()
	h.Set("ETag", o.etag)
	h.Set("Location", location)
	switch up.SuccessActionStatus {
	case http.StatusOK:
		q.w.WriteHeader(http.StatusOK)
	case http.StatusCreated:
		writeXML(q.w, http.StatusCreated, struct {
			XMLName  xml.Name `xml:"PostResponse"`
			Location string
			Bucket   string
			Key      string
			ETag     string
		}{Location: location, Bucket: s.model.BucketName(), Key: up.Key, ETag: o.etag})
	default:
		q.w.WriteHeader(http.StatusNoContent)
	}
}
