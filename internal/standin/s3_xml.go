package standin

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"hash"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// s3Namespace is the XML namespace of S3's REST responses.
const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// s3Error is S3's REST error body:
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#RESTErrorResponses
type s3Error struct {
	XMLName xml.Name `xml:"Error"`
	Code    string
	Message string
	// RequestTimeTooSkewed only: the request's X-Amz-Date, S3's time and
	// the allowed skew, as S3 answers it, e.g. "<RequestTime>20150604T232559Z
	// </RequestTime><ServerTime>2015-06-04T22:26:16Z</ServerTime>
	// <MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>"
	// (quoted in aws/aws-sdk-php#612 and versity/versitygw#1514).
	RequestTime                string `xml:",omitempty"`
	ServerTime                 string `xml:",omitempty"`
	MaxAllowedSkewMilliseconds int64  `xml:",omitempty"`
	RequestID                  string `xml:"RequestId"`
	HostID                     string `xml:"HostId"`
}

// xmlBody marshals v with the XML declaration S3 writes.
func xmlBody(v any) []byte {
	b, err := xml.Marshal(v)
	if err != nil {
		// Only the fixed response types above are marshalled; they always encode.
		panic("standin: xml: " + err.Error())
	}
	return append([]byte(xml.Header), b...)
}

// writeXML answers 200 with an XML document.
func writeXML(w http.ResponseWriter, status int, v any) {
	body := xmlBody(v)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// md5ETag is a single-part object's ETag: the quoted hex MD5 of its bytes
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html, ETag).
func md5ETag(b []byte) string {
	sum := md5.Sum(b)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// multipartETag is a multipart object's ETag: the MD5 of the parts' binary
// MD5s, "-" and the part count (not documented as a format, but what S3 has
// always returned and what tools such as the AWS CLI's docs describe).
func multipartETag(parts []*s3Part) string {
	h := md5.New()
	for _, p := range parts {
		raw, _ := hex.DecodeString(strings.Trim(p.etag, `"`))
		h.Write(raw)
	}
	return `"` + hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(parts)) + `"`
}

// checksumHash is the hash of an additional checksum algorithm, by the
// suffix of its x-amz-checksum-<algorithm> header (crc32, sha256, ...),
// from the table VerifySigV4 checks payloads with; nil when S3 has no
// such algorithm.
func checksumHash(algorithm string) hash.Hash {
	for _, a := range payloadChecksums {
		if a.header == "x-amz-checksum-"+algorithm {
			return a.new()
		}
	}
	return nil
}

// checksum is the base64 checksum of b by algorithm.
func checksum(algorithm string, b []byte) string {
	h := checksumHash(algorithm)
	h.Write(b)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// requestChecksums finds the algorithm a request carries a checksum for
// (VerifySigV4 has refused unknown or several): an x-amz-checksum-<algorithm>
// header with its value, or an x-amz-trailer naming one with "" (aws-chunked
// bodies send the value in the trailer, already checked against the body).
func requestChecksums(h http.Header) map[string]string {
	out := map[string]string{}
	trailers := strings.ToLower(strings.Join(h.Values("X-Amz-Trailer"), ","))
	for _, a := range payloadChecksums {
		alg := strings.TrimPrefix(a.header, "x-amz-checksum-")
		if v := h.Get(a.header); v != "" {
			out[alg] = v
		} else if slices.Contains(strings.Split(strings.ReplaceAll(trailers, " ", ""), ","), a.header) {
			out[alg] = ""
		}
	}
	return out
}

// verifyChecksums computes the declared checksums of body; a declared value
// that differs is BadDigest. It returns the values to store.
func verifyChecksums(declared map[string]string, body []byte) (map[string]string, *AWSError) {
	if len(declared) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for alg, want := range declared {
		got := checksum(alg, body)
		if want != "" && want != got {
			return nil, &AWSError{400, "BadDigest", "The " + strings.ToUpper(alg) + " you specified did not match the calculated checksum."}
		}
		out[alg] = got
	}
	return out, nil
}

// setChecksumHeaders writes stored checksums as x-amz-checksum-* headers.
func setChecksumHeaders(h http.Header, sums map[string]string, checksumType string) {
	for _, alg := range slices.Sorted(maps.Keys(sums)) {
		h.Set("x-amz-checksum-"+alg, sums[alg])
	}
	if len(sums) > 0 && checksumType != "" {
		h.Set("x-amz-checksum-type", checksumType)
	}
}

// xmlChecksums is the checksum elements S3 puts in part and object XML.
type xmlChecksums struct {
	ChecksumCRC32     string `xml:",omitempty"`
	ChecksumCRC32C    string `xml:",omitempty"`
	ChecksumCRC64NVME string `xml:",omitempty"`
	ChecksumSHA1      string `xml:",omitempty"`
	ChecksumSHA256    string `xml:",omitempty"`
	ChecksumType      string `xml:",omitempty"`
}

func (c xmlChecksums) byAlgorithm() map[string]string {
	out := map[string]string{}
	for alg, v := range map[string]string{"crc32": c.ChecksumCRC32, "crc32c": c.ChecksumCRC32C,
		"crc64nvme": c.ChecksumCRC64NVME, "sha1": c.ChecksumSHA1, "sha256": c.ChecksumSHA256} {
		if v != "" {
			out[alg] = v
		}
	}
	return out
}

func toXMLChecksums(sums map[string]string, checksumType string) xmlChecksums {
	c := xmlChecksums{ChecksumCRC32: sums["crc32"], ChecksumCRC32C: sums["crc32c"],
		ChecksumCRC64NVME: sums["crc64nvme"], ChecksumSHA1: sums["sha1"], ChecksumSHA256: sums["sha256"]}
	if len(sums) > 0 {
		c.ChecksumType = checksumType
	}
	return c
}

// contentMD5 checks a Content-MD5 header against body: InvalidDigest when
// it is not a base64 MD5, BadDigest when it differs
// (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList).
func contentMD5(h http.Header, body []byte) *AWSError {
	v := h.Get("Content-MD5")
	if v == "" {
		return nil
	}
	want, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(want) != md5.Size {
		return &AWSError{400, "InvalidDigest", "The Content-MD5 you specified is not valid."}
	}
	if got := md5.Sum(body); !bytes.Equal(got[:], want) {
		return &AWSError{400, "BadDigest", "The Content-MD5 you specified did not match what we received."}
	}
	return nil
}
