package standin

// Browser-based uploads (S3 POST Object) with a POST policy, verified as S3
// does. References:
//
//   - "Browser-Based Uploads Using POST (AWS Signature Version 4)":
//     https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-UsingHTTPPOST.html
//     (the file field must be the last; fields after it are ignored; field
//     names are case-insensitive)
//   - "Creating a POST policy":
//     https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
//     (expiration; conditions as {"f": v}, ["eq", "$f", v],
//     ["starts-with", "$f", p], ["content-length-range", min, max]; "Each
//     form field that you specify in a form (except x-amz-signature, file,
//     policy, and field names that have an x-ignore- prefix) must appear in
//     the list of conditions")
//   - "Calculating a signature" for POST: the string to sign is the base64
//     policy, signed with the SigV4 signing key of the credential scope:
//     https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-authentication-HTTPPOST.html
//   - the form fields: https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	// maxPostObjectBody bounds the file a stand-in POST accepts (S3's own
	// limit is 5 GB); a larger one is EntityTooLarge.
	maxPostObjectBody = 64 << 20
	// maxPostField bounds each non-file form field (the policy included).
	maxPostField = 64 << 10
	maxPostForm  = 1 << 20
)

// PostUpload is an accepted browser-form upload: who signed it (zero for an
// anonymous form without policy), the object key with ${filename}
// substituted, the object's Content-Type (the form's content-type field,
// else binary/octet-stream as S3 stores), the file, the success_action_status
// to answer (200, 201 or the default 204) and every non-file field, with
// lower-case names.
type PostUpload struct {
	Session             Session
	Key, ContentType    string
	Body                []byte
	SuccessActionStatus int
	Fields              map[string]string
}

// VerifyPostObject parses a browser-form POST to bucket (multipart/form-data)
// and checks its POST policy and signature as S3 does. A form without policy
// and signature is anonymous (PostUpload.Session is zero): the caller then
// authorizes it as an anonymous PutObject.
func VerifyPostObject(r *http.Request, bucket, region string, sessions *Sessions, now time.Time) (PostUpload, *AWSError) {
	form, aerr := readPostForm(r)
	if aerr != nil {
		return PostUpload{}, aerr
	}
	up := PostUpload{Key: form.fields["key"], ContentType: form.fields["content-type"], Body: form.file, Fields: form.fields, SuccessActionStatus: http.StatusNoContent}
	if up.Key == "" {
		return PostUpload{}, errMissingPostField("key")
	}
	up.Key = strings.ReplaceAll(up.Key, "${filename}", form.filename)
	if up.ContentType == "" {
		up.ContentType = "binary/octet-stream"
	}
	if s, err := strconv.Atoi(form.fields["success_action_status"]); err == nil && (s == 200 || s == 201) {
		up.SuccessActionStatus = s
	}
	if form.fields["policy"] == "" && form.fields["x-amz-signature"] == "" && form.fields["x-amz-credential"] == "" {
		return up, nil
	}
	sess, aerr := verifyPostSignature(form.fields, region, sessions)
	if aerr != nil {
		return PostUpload{}, aerr
	}
	if aerr := checkPostPolicy(form, bucket, now); aerr != nil {
		return PostUpload{}, aerr
	}
	up.Session = sess
	return up, nil
}

type postForm struct {
	fields   map[string]string
	file     []byte
	filename string
}

func errMissingPostField(name string) *AWSError {
	return &AWSError{http.StatusBadRequest, "InvalidArgument", "Bucket POST must contain a field named '" + name + "'.  If it is specified, please check the order of the fields."}
}

func readPostForm(r *http.Request) (postForm, *AWSError) {
	f := postForm{fields: map[string]string{}}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return f, &AWSError{http.StatusPreconditionFailed, "PreconditionFailed", "Bucket POST must be of the enclosure-type multipart/form-data"}
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	formBytes := 0
	for {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return f, &AWSError{http.StatusBadRequest, "InvalidArgument", "POST requires exactly one file upload per request."}
		}
		if err != nil {
			return f, &AWSError{http.StatusBadRequest, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data."}
		}
		name := strings.ToLower(part.FormName())
		if name == "" {
			return f, &AWSError{http.StatusBadRequest, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data."}
		}
		if name == "file" {
			// the file is the last field; anything after it is ignored
			b, err := io.ReadAll(io.LimitReader(part, maxPostObjectBody+1))
			if err != nil {
				return f, &AWSError{http.StatusBadRequest, "IncompleteBody", "The request body terminated unexpectedly"}
			}
			if len(b) > maxPostObjectBody {
				return f, &AWSError{http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"}
			}
			f.file, f.filename = b, part.FileName()
			return f, nil
		}
		b, err := io.ReadAll(io.LimitReader(part, maxPostField+1))
		formBytes += len(b)
		if err != nil || len(b) > maxPostField || formBytes > maxPostForm {
			return f, &AWSError{http.StatusBadRequest, "MaxPostPreDataLengthExceededError", "Your POST request fields preceding the upload file were too large."}
		}
		if _, dup := f.fields[name]; dup {
			return f, &AWSError{http.StatusBadRequest, "InvalidArgument", "Bucket POST can only contain one field named '" + name + "'"}
		}
		f.fields[name] = string(b)
	}
}

// verifyPostSignature checks the algorithm, the credential scope, the
// session and token, and the signature of the base64 policy.
func verifyPostSignature(fields map[string]string, region string, sessions *Sessions) (Session, *AWSError) {
	for _, name := range []string{"policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"} {
		if fields[name] == "" {
			return Session{}, errMissingPostField(name)
		}
	}
	if fields["x-amz-algorithm"] != sigV4Algorithm {
		return Session{}, &AWSError{http.StatusBadRequest, "InvalidArgument", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""}
	}
	var a sigV4Auth
	if !parseCredential(&a, fields["x-amz-credential"]) {
		return Session{}, &AWSError{http.StatusBadRequest, "InvalidArgument", "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."}
	}
	if a.scopeRegion != region {
		return Session{}, &AWSError{http.StatusBadRequest, "InvalidArgument", "Error parsing the X-Amz-Credential parameter; the region '" + a.scopeRegion + "' is wrong; expecting '" + region + "'"}
	}
	if a.scopeService != "s3" {
		return Session{}, &AWSError{http.StatusBadRequest, "InvalidArgument", "Error parsing the X-Amz-Credential parameter; incorrect service '" + a.scopeService + "'. This endpoint belongs to 's3'."}
	}
	if _, err := time.Parse(amzDateFormat, fields["x-amz-date"]); err != nil || fields["x-amz-date"][:8] != a.scopeDate {
		return Session{}, &AWSError{http.StatusBadRequest, "InvalidArgument", "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\" and on the credential's date"}
	}
	sess, ok := sessions.Lookup(a.accessKeyID)
	if !ok {
		return Session{}, &AWSError{http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."}
	}
	if !hmac.Equal([]byte(fields["x-amz-security-token"]), []byte(sess.SessionToken)) {
		return Session{}, &AWSError{http.StatusForbidden, "InvalidToken", "The provided token is malformed or otherwise invalid."}
	}
	if sessions.Expired(sess) {
		return Session{}, &AWSError{http.StatusBadRequest, "ExpiredToken", "The provided token has expired."}
	}
	key := signingKey(sess.SecretAccessKey, a.scopeDate, a.scopeRegion, "s3")
	want := hex.EncodeToString(hmacSHA256(key, []byte(fields["policy"])))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(fields["x-amz-signature"]))) {
		return Session{}, errSignatureDoesNotMatch()
	}
	return sess, nil
}

func errPolicy(why string) *AWSError {
	return &AWSError{http.StatusForbidden, "AccessDenied", "Invalid according to Policy: " + why}
}

func errInvalidPolicy(why string) *AWSError {
	return &AWSError{http.StatusBadRequest, "InvalidPolicyDocument", "Invalid Policy: " + why}
}

// checkPostPolicy decodes the policy and checks its expiration, every
// condition and that every form field is covered by one.
func checkPostPolicy(f postForm, bucket string, now time.Time) *AWSError {
	raw, err := base64.StdEncoding.DecodeString(f.fields["policy"])
	if err != nil {
		return errInvalidPolicy("Invalid Base64 encoding.")
	}
	var doc struct {
		Expiration *string `json:"expiration"`
		Conditions []any   `json:"conditions"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return errInvalidPolicy("Invalid JSON.")
	}
	if doc.Expiration == nil {
		return errInvalidPolicy("Policy missing expiration.")
	}
	exp, err := time.Parse(time.RFC3339Nano, *doc.Expiration)
	if err != nil {
		return errInvalidPolicy("Invalid 'expiration' value: '" + *doc.Expiration + "'")
	}
	if !now.Before(exp) {
		return errPolicy("Policy expired.")
	}
	if doc.Conditions == nil {
		return errInvalidPolicy("Policy missing conditions.")
	}
	value := func(name string) string {
		if name == "bucket" {
			return bucket
		}
		return f.fields[name]
	}
	covered := map[string]bool{}
	for _, c := range doc.Conditions {
		name, aerr := checkCondition(c, value, int64(len(f.file)))
		if aerr != nil {
			return aerr
		}
		covered[name] = true
	}
	var extra []string
	for name := range f.fields {
		if name == "x-amz-signature" || name == "policy" || strings.HasPrefix(name, "x-ignore-") || covered[name] {
			continue
		}
		extra = append(extra, name)
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return errPolicy("Extra input fields: " + strings.Join(extra, ", "))
	}
	return nil
}

// checkCondition checks one policy condition and returns the (lower-case)
// field it covers.
func checkCondition(c any, value func(string) string, size int64) (string, *AWSError) {
	failed := func() (string, *AWSError) {
		b, _ := json.Marshal(c)
		return "", errPolicy("Policy Condition failed: " + strings.ReplaceAll(string(b), `","`, `", "`))
	}
	switch c := c.(type) {
	case map[string]any:
		if len(c) != 1 {
			return "", errInvalidPolicy("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.")
		}
		for k, v := range c {
			s, ok := v.(string)
			if !ok {
				return "", errInvalidPolicy("Invalid Simple-Condition: value must be a string.")
			}
			name := strings.ToLower(k)
			if value(name) != s {
				return failed()
			}
			return name, nil
		}
	case []any:
		if len(c) != 3 {
			return "", errInvalidPolicy("Invalid Policy Condition: wrong number of arguments.")
		}
		op, _ := c[0].(string)
		switch strings.ToLower(op) {
		case "content-length-range":
			lo, e1 := conditionInt(c[1])
			hi, e2 := conditionInt(c[2])
			if e1 != nil || e2 != nil {
				return "", errInvalidPolicy("Invalid content-length-range: the bounds must be integers.")
			}
			if size > hi {
				return "", &AWSError{http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"}
			}
			if size < lo {
				return "", &AWSError{http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"}
			}
			return "", nil
		case "eq", "starts-with":
			field, ok1 := c[1].(string)
			want, ok2 := c[2].(string)
			if !ok1 || !ok2 || !strings.HasPrefix(field, "$") {
				return "", errInvalidPolicy("Invalid Policy Condition: expecting [\"" + op + "\", \"$field\", \"value\"].")
			}
			name := strings.ToLower(field[1:])
			got := value(name)
			if op == "eq" && got != want || op != "eq" && !strings.HasPrefix(got, want) {
				return failed()
			}
			return name, nil
		}
		return "", errInvalidPolicy(fmt.Sprintf("Invalid Policy Condition operator: %q.", op))
	}
	return "", errInvalidPolicy("Invalid Policy Condition: must be an object or an array.")
}

func conditionInt(v any) (int64, error) {
	switch v := v.(type) {
	case json.Number:
		return v.Int64()
	case string:
		return strconv.ParseInt(v, 10, 64)
	}
	return 0, errors.New("not an integer")
}
